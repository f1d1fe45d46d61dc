// How a pool worker applies a function to a task's payload, by TaskMode:
// the argument list of one call (apply), or a chunk of items (map, starmap).
// A promise (or any thenable, as `await` takes it) that a call returns is
// awaited before the next item runs, so a chunk of async calls runs one at a
// time, as CPython's worker does; a plain value skips the microtask.
//
// Tier 6 (the pool engine), the worker's side.

import { TaskMode } from "../_wire/protocol.ts";

/** A task's function, as the worker imported it. */
export type Fn = (...args: unknown[]) => unknown;

// What `await` would wait for: a promise or any other thenable.
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Applies `fn` to `payload` as `mode` says; a chunk gives its results. */
export async function apply(
  fn: Fn,
  mode: TaskMode,
  payload: unknown,
): Promise<unknown> {
  if (mode === TaskMode.Apply) {
    const result = fn(...(payload as unknown[]));
    return isThenable(result) ? await result : result;
  }
  const items = payload as unknown[];
  const out = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    let result = mode === TaskMode.Map
      ? fn(items[i])
      : fn(...(items[i] as unknown[]));
    if (isThenable(result)) result = await result;
    out[i] = result;
  }
  return out;
}
