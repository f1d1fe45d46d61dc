// The one mutex of the library, and the spin-then-sleep loop it is built on.
// A mutex is two Int32 words of a SharedArrayBuffer (see layouts.ts):
//
//   [ state | sleepers ]   state: 0 free, 1 held; sleepers: threads asleep
//                          (or about to be) waiting for the state to change
//
// Lock and RLock are such a mutex; so are the MPMC ring's lock and a pipe's
// handle-table lock, which only guard short synchronous sections.
//
// Why a sleeper count: an unlock must wake a sleeper, but Atomics.notify
// costs ~45 ns even with nobody to wake; counting sleepers lets the
// uncontended unlock skip it.

import { waitAsync, waitSync } from "./atomics.ts";
import { asyncSpin, kNoSpin, type Spin, syncSpin } from "./spin.ts";

// This thread's mutex and semaphore waits, learning one budget per form.
const syncBlocks = syncSpin();
const asyncBlocks = asyncSpin();

/**
 * What a blocked caller waits for: `take()` to succeed. It sleeps on
 * `a[i]` while that word holds `busy`; `a[i + 1]` counts the sleepers so
 * that releasers notify only when someone sleeps.
 */
export interface Gate {
  /** The memory. */
  readonly a: Int32Array;
  /** The word to sleep on; the next one counts the sleepers. */
  readonly i: number;
  /** The value of `a[i]` that means "not yet". */
  readonly busy: number;
  /** One attempt. */
  readonly take: () => boolean;
}

/**
 * Waits until the gate's `take()` succeeds, spinning briefly, then
 * sleeping.
 *
 * Why this order is safe: a sleeper increments the counter *before* its
 * last try and its wait, and a releaser changes `a[i]` *before* it reads
 * the counter; with sequentially consistent atomics either the releaser
 * sees the sleeper and notifies, or the sleeper's wait sees the new value.
 *
 * @returns Whether `take()` succeeded before the deadline.
 * @throws {ExitSignal} When this child is terminated while it sleeps.
 */
export function blockSync(
  gate: Gate,
  deadline: number,
  spin: Spin = syncBlocks,
): boolean {
  const { a, i, busy, take } = gate;
  if (spun(gate, spin)) return true;
  Atomics.add(a, i + 1, 1);
  try {
    while (!take()) {
      if (waitSync(a, i, busy, deadline, kNoSpin) === "timed-out") {
        return take();
      }
    }
    spin.woke();
    return true;
  } finally {
    Atomics.sub(a, i + 1, 1);
  }
}

/** The async twin of {@linkcode blockSync}: never blocks the thread. */
export function blockAsync(
  gate: Gate,
  deadline: number,
  spin: Spin = asyncBlocks,
): Promise<boolean> {
  if (spun(gate, spin)) return Promise.resolve(true);
  Atomics.add(gate.a, gate.i + 1, 1);
  return sleepAsync(gate, deadline)
    .then((taken) => (taken && spin.woke(), taken))
    .finally(() => Atomics.sub(gate.a, gate.i + 1, 1));
}

// The spin phase of both: a brief busy wait beats a sleep and its wake-up
// when the holder is about to release.
function spun({ a, i, busy, take }: Gate, spin: Spin): boolean {
  return spin.until(() => Atomics.load(a, i) !== busy && take());
}

// The sleep phase of blockAsync; the caller counts this sleeper.
async function sleepAsync(
  { a, i, busy, take }: Gate,
  deadline: number,
): Promise<boolean> {
  while (!take()) {
    if (await waitAsync(a, i, busy, deadline, kNoSpin) === "timed-out") {
      return take();
    }
  }
  return true;
}

/** Wakes one sleeper of a {@linkcode blockSync} word, if any sleeps. */
export function wakeOne(a: Int32Array, i: number): void {
  if (Atomics.load(a, i + 1) > 0) Atomics.notify(a, i, 1);
}

/** One attempt to take the mutex at `a[i]`. */
export function tryLock(a: Int32Array, i: number): boolean {
  return Atomics.compareExchange(a, i, 0, 1) === 0;
}

/**
 * Takes the mutex at `a[i]`, blocking the thread (the main thread too, so
 * only for sections that never wait while held).
 *
 * @returns Whether it was taken before `deadline`.
 */
export function lockSync(
  a: Int32Array,
  i: number,
  deadline = Infinity,
  spin: Spin = syncBlocks,
): boolean {
  return tryLock(a, i) ||
    blockSync({ a, i, busy: 1, take: () => tryLock(a, i) }, deadline, spin);
}

/** The async twin of {@linkcode lockSync}. */
export function lockAsync(
  a: Int32Array,
  i: number,
  deadline = Infinity,
  spin: Spin = asyncBlocks,
): Promise<boolean> {
  if (tryLock(a, i)) return Promise.resolve(true);
  return blockAsync(
    { a, i, busy: 1, take: () => tryLock(a, i) },
    deadline,
    spin,
  );
}

/**
 * Releases the mutex at `a[i]` and wakes one sleeper.
 *
 * @returns False, changing nothing, when it was not held.
 */
export function unlock(a: Int32Array, i: number): boolean {
  if (Atomics.compareExchange(a, i, 1, 0) !== 1) return false;
  wakeOne(a, i);
  return true;
}
