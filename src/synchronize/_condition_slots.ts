// The waiter slots of a Condition (the Condition block of
// src/_wire/layouts.ts): registering a waiter, leaving or abandoning its
// slot, and marking the oldest waiters notified. Registration and marking
// happen under the condition's lock; abandoning does not need it.
//
// Why each slot records its waiter's life word and pid: a waiter killed
// while it sleeps (a terminated Web Worker, a subprocess child's proxy
// host) never leaves its slot, and a notification marked on it would go to
// nobody while a live waiter sleeps on. notify() asks src/_core/lives.ts
// whether the waiter it picked is alive, and withdraws the slot if not; a
// notification that reached a waiter which then died before taking it is
// passed on to the next waiter by the next notify().

import { ProcessError } from "../errors.ts";
import { state } from "../_core/state.ts";
import { isAlive } from "../_core/lives.ts";
import {
  kConditionActive as kActive,
  kConditionHeader as kHeader,
  kConditionHigh as kHigh,
  kConditionSlotWords as kSlotWords,
  kConditionTicket as kTicket,
  kConditionWaiters as kConditionSlots,
  kWaiterAbandoned as kAbandoned,
  kWaiterFree as kFree,
  kWaiterNotified as kNotified,
  kWaiterWaiting as kWaiting,
} from "../_wire/layouts.ts";

/** Int32 words of a Condition's memory. */
export const kConditionWords = kHeader + kSlotWords * kConditionSlots;

/**
 * The Int32 index of waiter slot `slot`'s state (its ticket, its waiter's
 * life word and pid follow).
 */
export function slotIndex(slot: number): number {
  return kHeader + kSlotWords * slot;
}

// Whether the waiter of the slot at `i` has not been seen to end.
function waiterAlive(a: Int32Array, i: number): boolean {
  return isAlive(a[i + 2], a[i + 3]);
}

// The first free or abandoned slot, or -1.
function freeSlot(a: Int32Array): number {
  for (let s = 0; s < kConditionSlots; s++) {
    const st = Atomics.load(a, slotIndex(s));
    if (st === kFree || st === kAbandoned) return s;
  }
  return -1;
}

/** Registers a waiter; the caller holds the lock. */
export function enterSlot(a: Int32Array): number {
  const high = a[kHigh];
  let slot = freeSlot(a);
  if (slot < 0) {
    // Full: the sleeping slots of dead waiters can go (notified ones keep
    // their notification for notifyOldest() to pass on).
    for (let s = 0; s < high; s++) {
      const i = slotIndex(s);
      if (Atomics.load(a, i) === kWaiting && !waiterAlive(a, i)) {
        Atomics.compareExchange(a, i, kWaiting, kAbandoned);
      }
    }
    slot = freeSlot(a);
  }
  if (slot < 0) {
    throw new ProcessError(
      `Cannot wait on condition as all ${kConditionSlots} waiter slots are taken`,
    );
  }
  const i = slotIndex(slot);
  if (Atomics.load(a, i) === kFree) a[kActive]++;
  if (slot >= high) a[kHigh] = slot + 1;
  const self = state();
  a[i + 1] = a[kTicket];
  a[i + 2] = self.life;
  a[i + 3] = self.pid;
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
// the slot up without the lock; the next #enter() reuses it. A slot that
// was notified stays so once this process is known to end (terminate()),
// for notifyOldest() to pass the notification on.
export function abandonSlot(a: Int32Array, i: number): void {
  if (
    Atomics.compareExchange(a, i, kWaiting, kAbandoned) !== kWaiting &&
    waiterAlive(a, i)
  ) Atomics.store(a, i, kAbandoned);
}

/** Marks up to `n` of the oldest waiting slots notified and wakes them. */
export function notifyOldest(a: Int32Array, n: number): void {
  let first = true;
  while (n > 0 && a[kActive] > 0) {
    // The oldest waiting slot: tickets wrap, so compare differences.
    const high = a[kHigh];
    let best = -1;
    for (let s = 0; s < high; s++) {
      const i = slotIndex(s);
      const st = Atomics.load(a, i);
      if (st === kWaiting) {
        if (best < 0 || ((a[i + 1] - a[best + 1]) | 0) < 0) best = i;
      } else if (st === kNotified && first && !waiterAlive(a, i)) {
        // Notified, then dead before it took it: one more to wake.
        if (
          Atomics.compareExchange(a, i, kNotified, kAbandoned) === kNotified
        ) {
          n++;
        }
      }
    }
    first = false;
    if (best < 0) return;
    if (!waiterAlive(a, best)) {
      // Its process has ended: withdraw the slot, and look again.
      Atomics.compareExchange(a, best, kWaiting, kAbandoned);
    } else if (
      // A dying waiter may have abandoned the slot meanwhile: look again.
      Atomics.compareExchange(a, best, kWaiting, kNotified) === kWaiting
    ) {
      Atomics.notify(a, best, 1);
      n--;
    }
  }
}

/** How many live waiters wait right now (for `console.log`). */
export function countWaiting(a: Int32Array): number {
  let waiting = 0;
  for (let s = 0; s < a[kHigh]; s++) {
    const i = slotIndex(s);
    if (Atomics.load(a, i) === kWaiting && waiterAlive(a, i)) waiting++;
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
