// One wait on a Condition, from taking a waiter slot to getting the lock
// back, written for both forms (the slots themselves: _condition_slots.ts).
//
// Why slots: CPython's Condition counts sleepers with semaphores and makes
// notify() *block* until the woken sleepers confirm; a notify() that blocks
// would deadlock a main thread whose waiters are its own async tasks. Here
// each waiter registers in a slot with its own futex word; notify(n) marks
// the n oldest waiting slots and wakes each one directly. A waiter whose
// slot was marked returns true even if its timeout expired meanwhile, so a
// notification is never spent on nobody and never lost. Registration and
// marking happen under the condition's lock; a waiter that unwinds while
// asleep abandons its slot with a compare-and-swap, and notify skips it; one
// killed outright is passed over once its parent has seen it end
// (_condition_slots.ts).

import { waitAsync, waitSync } from "../_memory/atomics.ts";
import { kWaiterWaiting as kWaiting } from "../_wire/layouts.ts";
import type { ConditionLock } from "./_sync.ts";
import { abandonSlot, enterSlot, leaveSlot } from "./_condition_slots.ts";

/** A registered waiter that has released the condition's lock. */
export interface Waiting {
  /** The condition's memory. */
  a: Int32Array;
  /** The index of the waiter's slot word. */
  i: number;
  /** The lock, to take back. */
  lock: ConditionLock;
  /** What the lock is restored to (an RLock's depth). */
  depth: number;
  /** When to stop waiting (performance.now() ms, Infinity for never). */
  deadline: number;
}

/** Takes a slot and releases the lock; the caller holds the lock. */
export function enterWait(
  a: Int32Array,
  lock: ConditionLock,
  deadline: number,
): Waiting {
  const i = enterSlot(a);
  return { a, i, lock, depth: lock.releaseSave(), deadline };
}

/**
 * Sleeps until notified or the deadline passes, then takes the lock back
 * and frees the slot, without blocking the thread.
 *
 * @returns Whether the waiter was notified.
 */
export async function notified(w: Waiting): Promise<boolean> {
  const { a, i, deadline } = w;
  while (Atomics.load(a, i) === kWaiting) {
    if (await waitAsync(a, i, kWaiting, deadline) === "timed-out") break;
  }
  await w.lock.acquireRestore(w.depth);
  return leaveSlot(a, i);
}

/**
 * The blocking twin of {@linkcode notified}; a waiter that cannot take the
 * lock back (its process is ending) abandons its slot.
 *
 * @returns Whether the waiter was notified.
 * @throws {ExitSignal} When this child is terminated while it sleeps.
 */
export function notifiedSync(w: Waiting): boolean {
  const { a, i, deadline } = w;
  try {
    while (Atomics.load(a, i) === kWaiting) {
      if (waitSync(a, i, kWaiting, deadline) === "timed-out") break;
    }
    w.lock.acquireRestoreSync(w.depth);
  } catch (error) {
    abandonSlot(a, i);
    throw error;
  }
  return leaveSlot(a, i);
}
