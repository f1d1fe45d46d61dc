// The one spin policy of the library: how long a thread that waits for
// another busy-polls before it sleeps. Every hand-off uses it: the waits of
// atomics.ts, the mutex of mutex.ts, the rings of ring_buffer.ts (queues,
// pipes) and channel.ts (the pool), and the pool's worker and pump loops.
//
// Why adapt: a spin pays only when the other side answers sooner than a
// sleep and its wake-up would have (13–65 µs through Atomics.wait, more
// through Atomics.waitAsync). On an idle machine it usually does, within a
// microsecond or two. With more runnable threads than cores it does not: the
// spinning thread holds the core the other side needs, so the answer comes
// late, after the spinner's time slice, and everyone loses (issue 14
// measured a sequential apply 4× slower than bare postMessage workers with
// one busy process beside). So each waiter keeps a budget and learns it:
//
//   hit, cheaply (the other side answered within worthMs): budget × 2
//   hit, but late (the spin outlasted worthMs)            : budget ÷ 2
//   miss (nothing came; the caller sleeps)                 : budget ÷ 2
//   a spin that outlasts worthMs stops at once: the other side is
//   descheduled, or this thread was, and spinning on only burns the core
//
//   woke soon (the caller slept after a miss, and what it waited for came
//   within kSoon × worthMs of the miss: the other side is awake and
//   answering, only slower than this spin)   : budget = cap
//
// The last rule is what lets a shrunk budget grow back. Hits alone cannot:
// once the budget is down to kProbe loads (a few hundred ns) a spin rarely
// hits, even on an idle machine where the other side answers in ~10 µs; and
// where both sides of a round trip have shrunk (a pool's pump and its
// worker, after an idle spell), each only ever sees the other wake from a
// sleep, 50–150 µs late: every round trip then pays two wake-ups (a
// sequential apply 9× slower). Waiters report their wake-ups with woke();
// a spin that then reaches for its cap still stops at worthMs.
// The budget never drops below kProbe and never grows past its cap. The
// clock is read once per kClockEvery loads.
//
// Whether to spin at all is a choice of its own (wait_choice.ts): no budget
// rule can tell an idle machine from one whose cores are all taken, where
// every spin loses. Each waiter times its waits both ways and takes the way
// whose waits are shorter; woke() ends the timing of a wait that slept.

import { WaitChoice } from "./wait_choice.ts";

/** How many worthMs after a miss an answer still counts as "soon". */
const kSoon = 4;
/** Loads between clock reads while spinning. */
export const kClockEvery = 64;
/** The smallest budget: a probe that costs well under a microsecond. */
export const kProbe = 32;

/** One waiter's adaptive spin budget (see the module comment). */
export class Spin {
  /** Loads to spin at most now. */
  budget: number;
  /** The largest budget. */
  readonly cap: number;
  /** Longest spin worth its core: about what a sleep and wake-up cost. */
  readonly worthMs: number;
  // When the last spin gave up (performance.now()); 0 once reported.
  #missedAt = 0;
  readonly #choice = new WaitChoice();
  // When the wait in progress began, if it went to sleep (else 0).
  #sleptFrom = 0;

  /**
   * @param cap The largest budget, in loads (0: never spin).
   * @param worthMs The longest spin that still pays, in milliseconds.
   */
  constructor(cap: number, worthMs: number) {
    this.cap = cap;
    this.worthMs = worthMs;
    this.budget = cap;
  }

  /**
   * Polls `ready()` up to the budget, and learns from the outcome.
   *
   * @returns Whether `ready()` became true (false: the caller sleeps).
   */
  until(ready: () => boolean): boolean {
    const budget = this.budget;
    if (budget === 0) return ready();
    const start = performance.now();
    this.#sleptFrom = 0;
    if (!this.#choice.spins()) {
      if (ready()) {
        this.#choice.record(0);
        return true;
      }
      this.#sleptFrom = start;
      return false;
    }
    for (let i = 0; i < budget; i++) {
      if (ready()) {
        const spent = performance.now() - start;
        this.#choice.record(spent);
        if (i < kClockEvery || spent <= this.worthMs) {
          this.#grow();
        } else {
          this.#shrink();
        }
        return true;
      }
      if (i % kClockEvery === 0 && i > 0) {
        if (performance.now() - start > this.worthMs) {
          // Cut off: the other side is descheduled (or this thread was),
          // and a wake-up soon after says nothing about spinning longer.
          this.#shrink();
          this.#sleptFrom = start;
          return false;
        }
      }
    }
    this.#shrink();
    this.#missedAt = performance.now();
    this.#sleptFrom = start;
    return false;
  }

  /**
   * Reports that the caller, asleep after a miss, was woken by what it
   * waited for (not by a timeout): when that came soon after the miss, the
   * other side is answering, and the next spin may last its full worthMs.
   */
  woke(): void {
    if (this.#sleptFrom !== 0) {
      this.#choice.record(performance.now() - this.#sleptFrom);
      this.#sleptFrom = 0;
    }
    const missedAt = this.#missedAt;
    if (missedAt === 0) return;
    this.#missedAt = 0;
    if (performance.now() - missedAt <= kSoon * this.worthMs) this.#grow();
  }

  #grow(): void {
    this.budget = Math.min(this.cap, this.budget * 2);
  }

  #shrink(): void {
    this.budget = Math.min(this.cap, Math.max(kProbe, this.budget >> 1));
  }
}

/** A spin of nothing: for waits whose caller spun already. */
export const kNoSpin: Spin = new Spin(0, 0);

/** Longest worthwhile spin before an Atomics.wait (a futex wake-up). */
export const kSyncWorthMs = 0.05;
/** Longest worthwhile spin before an Atomics.waitAsync (an event-loop turn). */
export const kAsyncWorthMs = 0.1;

/** A waiter's policy for sync waits (worker threads). */
export function syncSpin(cap = 2000): Spin {
  return new Spin(cap, kSyncWorthMs);
}

/** A waiter's policy for async waits (the main thread: keep it short). */
export function asyncSpin(cap = 200): Spin {
  return new Spin(cap, kAsyncWorthMs);
}
