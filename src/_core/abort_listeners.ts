// One "abort" listener per AbortSignal, whatever the number of calls that
// wait on it. Programs pass one signal to every call (the stand-in for
// Ctrl-C); a listener each made 40 000 applies in flight take 10–31 s
// instead of under a second, as Deno's addEventListener() looks through
// the listeners it holds (bare Deno: 10 000, 20 000, 40 000 adds took 0.6,
// 1.5, 10 s). So the calls' callbacks sit in a Set behind one listener,
// which goes once the last callback has.
//
// Tier 1: imports nothing.

const waiting = new WeakMap<AbortSignal, Set<() => void>>();

function fire(this: AbortSignal): void {
  const callbacks = waiting.get(this);
  waiting.delete(this);
  for (const callback of callbacks ?? []) callback();
}

/**
 * Calls `callback` once when `signal` aborts (at once when it has), and
 * returns what undoes that; the signal holds nothing once every callback
 * has been undone or called. No signal: nothing to undo.
 */
export function onAbort(
  signal: AbortSignal | undefined,
  callback: () => void,
): () => void {
  if (signal === undefined) return () => {};
  if (signal.aborted) {
    callback();
    return () => {};
  }
  let callbacks = waiting.get(signal);
  if (callbacks === undefined) {
    waiting.set(signal, callbacks = new Set());
    signal.addEventListener("abort", fire, { once: true });
  }
  // A Set holds a function once: each call gets a callback of its own.
  const own = () => callback();
  callbacks.add(own);
  return () => {
    if (!callbacks.delete(own) || callbacks.size > 0) return;
    if (waiting.get(signal) === callbacks) {
      waiting.delete(signal);
      signal.removeEventListener("abort", fire);
    }
  };
}
