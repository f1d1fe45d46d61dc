// What Ring.until() and Ring.untilSync() share: everything but the wait
// itself (Atomics.wait in one, Atomics.waitAsync in the other).

import { waitAsync, type WaitResult, waitSync } from "./atomics.ts";
import { kNoSpin, type Spin } from "./spin.ts";
import { checkStop } from "./ring_buffer.ts";

/**
 * A word of a ring's control block that waiters sleep on, and the word
 * that counts them (so that whoever changes the first knows to notify).
 */
export interface WaitWord {
  /** The word that changes when the wait may be over. */
  readonly index: number;
  /** The count of sleepers on it. */
  readonly sleepers: number;
}

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
  // The spin of the last sleeps(): told of each wake-up (see spin.ts).
  #spin: Spin | undefined;

  constructor(
    c: Int32Array,
    attempt: () => T | undefined,
    on: WaitWord,
    deadline: number,
  ) {
    this.#c = c;
    this.#attempt = attempt;
    this.#index = on.index;
    this.#sleepers = on.sleepers;
    this.#deadline = deadline;
  }

  // Tries (again); true when the caller must sleep now, counted as a
  // sleeper. Reading the word *before* the attempt means a change made
  // after the attempt failed always ends the sleep.
  sleeps(spin: Spin): boolean {
    this.#spin = spin;
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

  // The arguments of one sleep: at most `slice` ms, while the word is as seen.
  #sleep(slice: number): [Int32Array, number, number, number, Spin] {
    const until = Math.min(this.#deadline, performance.now() + slice);
    return [this.#c, this.#index, this.seen, until, kNoSpin];
  }

  /** Sleeps (once) with Atomics.wait, after sleeps() said to. */
  sleepSync(slice: number): void {
    try {
      this.result = waitSync(...this.#sleep(slice));
    } finally {
      this.#woke();
    }
  }

  /** Sleeps (once) with Atomics.waitAsync, after sleeps() said to. */
  sleepAsync(slice: number): Promise<void> {
    return waitAsync(...this.#sleep(slice))
      .then((result) => void (this.result = result))
      .finally(() => this.#woke());
  }

  #woke(): void {
    Atomics.sub(this.#c, this.#sleepers, 1);
    if (this.result !== "timed-out") this.#spin?.woke();
    // A terminated worker runs on until it yields: once woken it must not
    // take or put anything more.
    checkStop();
  }
}
