// The waiter slots of a Condition (the Condition block of
// src/_wire/layouts.ts): registering a waiter, leaving or abandoning its
// slot, and marking the oldest waiters notified. Registration and marking
// happen under the condition's lock; abandoning does not need it.

import { ProcessError } from "../errors.ts";
import {
  kConditionActive as kActive,
  kConditionHeader as kHeader,
  kConditionHigh as kHigh,
  kConditionTicket as kTicket,
  kConditionWaiters as kConditionSlots,
  kWaiterAbandoned as kAbandoned,
  kWaiterFree as kFree,
  kWaiterNotified as kNotified,
  kWaiterWaiting as kWaiting,
} from "../_wire/layouts.ts";

/** The Int32 index of waiter slot `slot`'s state (its ticket follows). */
export function slotIndex(slot: number): number {
  return kHeader + 2 * slot;
}

/** Registers a waiter; the caller holds the lock. */
export function enterSlot(a: Int32Array): number {
  const high = a[kHigh];
  let slot = -1;
  for (let s = 0; s < kConditionSlots; s++) {
    const st = Atomics.load(a, slotIndex(s));
    if (st === kFree || st === kAbandoned) {
      slot = s;
      break;
    }
  }
  if (slot < 0) {
    throw new ProcessError(
      `Cannot wait on condition as all ${kConditionSlots} waiter slots are taken`,
    );
  }
  const i = slotIndex(slot);
  if (Atomics.load(a, i) === kFree) a[kActive]++;
  if (slot >= high) a[kHigh] = slot + 1;
  a[i + 1] = a[kTicket];
  a[kTicket] = (a[kTicket] + 1) | 0;
  Atomics.store(a, i, kWaiting);
  return i;
}

/** Frees the slot; the caller holds the lock again. True when notified. */
export function leaveSlot(a: Int32Array, i: number): boolean {
  const notified = Atomics.exchange(a, i, kFree) === kNotified;
  a[kActive]--;
  return notified;
}

// The waiter could not take the lock back (its process is ending): give
// the slot up without the lock; the next #enter() reuses it.
export function abandonSlot(a: Int32Array, i: number): void {
  if (Atomics.compareExchange(a, i, kWaiting, kAbandoned) !== kWaiting) {
    Atomics.store(a, i, kAbandoned);
  }
}

/** Marks up to `n` of the oldest waiting slots notified and wakes them. */
export function notifyOldest(a: Int32Array, n: number): void {
  while (n > 0 && a[kActive] > 0) {
    // The oldest waiting slot: tickets wrap, so compare differences.
    const high = a[kHigh];
    let best = -1;
    for (let s = 0; s < high; s++) {
      const i = slotIndex(s);
      if (
        Atomics.load(a, i) === kWaiting &&
        (best < 0 || ((a[i + 1] - a[best + 1]) | 0) < 0)
      ) best = i;
    }
    if (best < 0) return;
    // A dying waiter may have abandoned the slot meanwhile: look again.
    if (
      Atomics.compareExchange(a, best, kWaiting, kNotified) === kWaiting
    ) {
      Atomics.notify(a, best, 1);
      n--;
    }
  }
}

/** How many waiters wait right now (for `console.log`). */
export function countWaiting(a: Int32Array): number {
  let waiting = 0;
  for (let s = 0; s < a[kHigh]; s++) {
    if (Atomics.load(a, slotIndex(s)) === kWaiting) waiting++;
  }
  return waiting;
}

/**
 * The seconds left until `deadline` (performance.now() ms), as the
 * `timeout` of one more wait: `undefined` for none, `null` once passed.
 */
export function secondsLeft(deadline: number): number | undefined | null {
  if (deadline === Infinity) return undefined;
  const left = deadline - performance.now();
  return left <= 0 ? null : left / 1000;
}
