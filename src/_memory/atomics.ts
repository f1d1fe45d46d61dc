// Blocking on a SharedArrayBuffer word, in the two forms every blocking call
// of the library has:
//
//   waitSync()  for worker code: spin briefly, then Atomics.wait in slices.
//   waitAsync() for the main thread: spin briefly, then Atomics.waitAsync.
//
// Why spin first: a futex wake-up costs 13–65 µs on these machines, while the
// other side usually answers within a microsecond or two; spinning ~2 000
// loads wins 20–60× on hot paths (DESIGN.md, measured on Deno 2.9.6). How
// long to spin is learned per waiter (./spin.ts): on a machine whose cores
// are all busy a spin takes the core the other side needs.
//
// Why slices: Deno cannot interrupt an untimed Atomics.wait, so terminate()
// would leave the thread (and the program) stuck. Sync waits wake at least
// every kSliceMs to look at the stop flag the parent sets on terminate().
//
// Why a keep-alive timer: a pending Atomics.waitAsync does not keep Deno's
// event loop alive (verified: "Top-level await promise never resolved"), so
// async waits hold a ref'd timer until they settle.

import { ExitSignal, stopRequested } from "../_core/state.ts";
import { asyncSpin, type Spin, syncSpin } from "./spin.ts";

// This thread's waits on plain words (Event, Condition, …) without a spin of
// their own.
const syncWaits = syncSpin();
const asyncWaits = asyncSpin();
/** Longest uninterrupted sleep of a sync wait, in milliseconds. */
export const kSliceMs = 50;

/** How a wait ended. */
export type WaitResult = "ok" | "not-equal" | "timed-out";

/**
 * Blocks this thread while `array[index] === expected`, at most until
 * `deadline` (a performance.now() value; Infinity for none).
 *
 * @throws {ExitSignal} When the parent terminated this child meanwhile.
 */
export function waitSync(
  array: Int32Array,
  index: number,
  expected: number,
  deadline = Infinity,
  spin: Spin = syncWaits,
): WaitResult {
  if (changes(array, index, expected, spin)) return "not-equal";
  while (true) {
    const left = deadline - performance.now();
    if (left <= 0) return "timed-out";
    const result = Atomics.wait(
      array,
      index,
      expected,
      Math.min(left, kSliceMs),
    );
    if (result !== "timed-out") return woke(spin, result);
    if (stopRequested()) throw new ExitSignal(-15);
  }
}

// The spin phase of both waits: the other side usually answers within a
// microsecond or two, far sooner than a futex wake-up.
function changes(
  array: Int32Array,
  index: number,
  expected: number,
  spin: Spin,
): boolean {
  return spin.until(() => Atomics.load(array, index) !== expected);
}

// A wait that ended because the word changed: the spin learns whether
// spinning on would have caught it (see spin.ts).
function woke(spin: Spin, result: WaitResult): WaitResult {
  spin.woke();
  return result;
}

let holders = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

/** Keeps the event loop alive while an async wait is pending. */
export function holdLoop(): void {
  if (holders++ === 0) keepAlive = setInterval(() => {}, 1 << 30);
}

/** Releases one holdLoop(). */
export function releaseLoop(): void {
  if (--holders === 0) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/** Keeps the event loop alive until `promise` settles; returns it. */
export function holdLoopUntil<T>(promise: Promise<T>): Promise<T> {
  holdLoop();
  return promise.finally(releaseLoop);
}

/**
 * Waits without blocking the thread while `array[index] === expected`, at
 * most until `deadline`.
 */
export async function waitAsync(
  array: Int32Array,
  index: number,
  expected: number,
  deadline = Infinity,
  spin: Spin = asyncWaits,
): Promise<WaitResult> {
  if (changes(array, index, expected, spin)) return "not-equal";
  const left = deadline - performance.now();
  if (left <= 0) return "timed-out";
  const waiter = Atomics.waitAsync(
    array,
    index,
    expected,
    left === Infinity ? undefined : left,
  );
  if (!waiter.async) return waiter.value;
  holdLoop();
  try {
    const result = await waiter.value;
    return result === "timed-out" ? result : woke(spin, result);
  } finally {
    releaseLoop();
  }
}

/** True where a blocking Atomics.wait is allowed on this thread. */
export function canBlock(): boolean {
  // Deno allows Atomics.wait on the main thread too, but it freezes the event
  // loop there; the library uses it only in workers.
  return typeof (globalThis as { WorkerGlobalScope?: unknown })
    .WorkerGlobalScope !==
    "undefined";
}
