// What Ring.until() and Ring.untilSync() share: everything but the wait
// itself (Atomics.wait in one, Atomics.waitAsync in the other).

import type { WaitResult } from "./atomics.ts";
import type { Spin } from "./spin.ts";
import { checkStop } from "./ring_buffer.ts";

/** One caller's wait on a word of a ring's control block. */
export class Waiter<T> {
  readonly #c: Int32Array;
  readonly #attempt: () => T | undefined;
  readonly #index: number;
  readonly #sleepers: number;
  readonly #deadline: number;
  /** The word's value when the last attempt began: sleep while it holds. */
  seen = 0;
  /** How the last sleep ended. */
  result: WaitResult = "not-equal";
  /** The outcome, once there is one. */
  got: T | undefined;

  constructor(
    c: Int32Array,
    attempt: () => T | undefined,
    index: number,
    sleepers: number,
    deadline: number,
  ) {
    this.#c = c;
    this.#attempt = attempt;
    this.#index = index;
    this.#sleepers = sleepers;
    this.#deadline = deadline;
  }

  // Tries (again); true when the caller must sleep now, counted as a
  // sleeper. Reading the word *before* the attempt means a change made
  // after the attempt failed always ends the sleep.
  sleeps(spin: Spin): boolean {
    const c = this.#c;
    const index = this.#index;
    if (this.result === "timed-out" && performance.now() >= this.#deadline) {
      this.got = this.#attempt();
      return false;
    }
    while (true) {
      // A terminated child must not take or put anything more, even if it
      // was still on its way to the wait when it was stopped.
      checkStop();
      this.seen = Atomics.load(c, index);
      this.got = this.#attempt();
      if (this.got !== undefined) return false;
      const seen = this.seen;
      if (!spin.until(() => Atomics.load(c, index) !== seen)) break;
    }
    Atomics.add(c, this.#sleepers, 1);
    return true;
  }

  until(slice: number): number {
    return Math.min(this.#deadline, performance.now() + slice);
  }

  woke(): void {
    Atomics.sub(this.#c, this.#sleepers, 1);
    // A terminated worker runs on until it yields: once woken it must not
    // take or put anything more.
    checkStop();
  }
}
