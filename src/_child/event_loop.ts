// When a Process child's event loop has drained: a child ends once its
// target has returned AND its pending timers and I/O are done, as a Deno
// program does (and as CPython's child waits for its non-daemonic threads).
//
// Deno has no public API for this. A worker's event loop never drains by
// itself: the runtime keeps a referenced "receive the next message" op
// pending for as long as the worker lives. What 2.9.6 offers, found by
// shape on Deno's internal core object (with a fallback where it is
// missing: the child then ends as soon as its target returns):
//
//  - setPromiseHooks(): while the run message is dispatched we record the
//    promises created; the runtime creates its next message-receive op just
//    after our handler returns, so it is the last op promise (one with a
//    promise id) before the first microtask.
//  - unrefOpPromise(): once the target has returned, that op stops counting.
//  - eventLoopHasMoreWork(): then true only for the program's own work.
//
// The loop must never drain while unreferenced (Deno 2.9.6 panics: "either
// js is polling or the worker is terminated"), so a referenced interval
// keeps it up while we look, and is cleared inside its own callback just
// before looking (a firing setTimeout would still count as work; a cleared
// interval does not). When nothing is left, the caller ends the worker at
// once, in that same callback.
//
// Tier 4 (child start-up).

interface Core {
  setPromiseHooks(
    init: ((promise: Promise<unknown>) => void) | null,
    before: null,
    after: null,
    resolve: null,
  ): void;
  unrefOpPromise(promise: Promise<unknown>): void;
  eventLoopHasMoreWork(): boolean;
  promiseIdSymbol: symbol;
}

/** Longest pause between two looks at a busy event loop, in ms. */
const kMaxPollMs = 50;

function findCore(): Core | undefined {
  const deno = Deno as unknown as Record<symbol, { core?: Partial<Core> }>;
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  const core = internal === undefined ? undefined : deno[internal]?.core;
  if (
    typeof core?.setPromiseHooks === "function" &&
    typeof core.unrefOpPromise === "function" &&
    typeof core.eventLoopHasMoreWork === "function" &&
    typeof core.promiseIdSymbol === "symbol"
  ) return core as Core;
  return undefined;
}

/** What the first handler of a worker keeps (see earlyMessages()). */
export interface EarlyMessages {
  /** Messages that arrived before the child's entry was ready. */
  events: MessageEvent[];
  /** The runtime's message-receive op pending since the last real dispatch. */
  receive: Promise<unknown> | undefined;
  /** Records the op the runtime creates right after the current dispatch. */
  watch(): void;
}

/**
 * Installs, once per worker, the handler that holds every message until the
 * child's entry is ready, and returns what it keeps. After each real
 * dispatch it records the message-receive op the runtime creates next
 * (`watch`). A worker is sent messages while its modules still load, and
 * Deno drops those that find no handler, so this must run before the first
 * `await` of the worker's entry: it is self-contained, and src/_child/spawn.ts
 * puts its source at the top of an entry that imports dynamically.
 */
export function earlyMessages(): EarlyMessages {
  const key = Symbol.for("dmp.multiprocessing.earlyMessages");
  const scope = globalThis as unknown as Record<symbol, EarlyMessages>;
  if (scope[key] !== undefined) return scope[key];
  const deno = Deno as unknown as Record<symbol, { core?: Partial<Core> }>;
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  const core = internal === undefined ? undefined : deno[internal]?.core;
  const kept: EarlyMessages = {
    events: [],
    receive: undefined,
    watch() {
      if (
        typeof core?.setPromiseHooks !== "function" ||
        typeof core.promiseIdSymbol !== "symbol"
      ) return;
      const id = core.promiseIdSymbol;
      let created: Promise<unknown>[] | null = [];
      core.setPromiseHooks((p) => created?.push(p), null, null, null);
      queueMicrotask(() => {
        core.setPromiseHooks!(null, null, null, null);
        const ops = created!.filter((p) =>
          (p as unknown as Record<symbol, unknown>)[id] !== undefined
        );
        created = null;
        kept.receive = ops.at(-1);
      });
    },
  };
  scope[key] = kept;
  (globalThis as unknown as { onmessage: unknown }).onmessage = (
    event: MessageEvent,
  ) => {
    kept.watch();
    kept.events.push(event);
  };
  return kept;
}

/**
 * Call first thing in the handler of the child's run message (when the
 * runtime dispatched it): finds the message-receive op the runtime creates
 * right after the handler.
 */
export function watchMessagePoll(): void {
  earlyMessages().watch();
}

/**
 * Calls `then` (synchronously, inside a timer callback) once the event loop
 * has nothing left but its message port; at once when that cannot be seen.
 */
export function whenDrained(then: () => void): void {
  const core = findCore();
  const receive = earlyMessages().receive;
  if (core === undefined || receive === undefined) return then();
  core.unrefOpPromise(receive);
  if (!core.eventLoopHasMoreWork()) return then();
  let pause = 1;
  const look = () => {
    const keeper = setInterval(() => {
      clearInterval(keeper);
      if (!core.eventLoopHasMoreWork()) return then();
      pause = Math.min(pause * 2, kMaxPollMs);
      look();
    }, pause);
  };
  look();
}
