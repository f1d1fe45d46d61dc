/**
 * `Event`: a flag processes can wait on (CPython's `multiprocessing.Event`).
 *
 * @module
 */

import {
  describe,
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";
import { blockAsync, blockSync } from "../_memory/mutex.ts";
import { assertMayBlock } from "./_sync.ts";
import { checkTimeout } from "../_core/validate.ts";
import { deadlineOf } from "../_core/time.ts";
import {
  kEventSleepers as kSleepers,
  kEventSlots as kSlots,
  kEventWord as kWord,
} from "../_wire/layouts.ts";
import { Adopted, construct } from "../_memory/adopt.ts";

// Layout: the Event block of src/_wire/layouts.ts. set() bumps the
// generation as it raises the flag, so no waiter is lost to a quick
// set-then-clear; set() notifies only when someone sleeps. The sleeper
// count follows the word, so waiters sleep through the mutex's
// spin-then-sleep loop, waiting for the word to leave the value they saw.

/**
 * A flag that is initially down: `set()` raises it and wakes every waiter,
 * `clear()` lowers it, `wait()` waits until it is raised.
 *
 * `wait()` never blocks the thread; `waitSync()` blocks the calling worker
 * and, on the main thread, throws unless the flag is already set.
 *
 * @example One task waits for another's set()
 * ```ts
 * import { Event } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const ready = new Event();
 * setTimeout(() => ready.set(), 10); // a child's set() wakes it the same way
 * assert.deepEqual(await ready.wait(10), true);
 * ```
 */
export class Event {
  #a: Int32Array;

  /** Creates an event whose flag is down. */
  constructor();
  constructor(from?: unknown) {
    this.#a = from instanceof Adopted
      ? from.memory as Int32Array
      : new Int32Array(new SharedArrayBuffer(kSlots * 4));
  }

  /**
   * Whether the flag is raised.
   *
   * @returns `true` when set.
   *
   * @example Using isSet()
   * ```ts
   * import { Event } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new Event().isSet(), false);
   * ```
   */
  isSet(): boolean {
    return (Atomics.load(this.#a, kWord) & 1) === 1;
  }

  /**
   * Raises the flag and wakes every waiter.
   *
   * @example Using set()
   * ```ts
   * import { Event } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * event.set();
   * assert.deepEqual(event.isSet(), true);
   * ```
   */
  set(): void {
    const a = this.#a;
    while (true) {
      const word = Atomics.load(a, kWord);
      if (word & 1) return;
      // Next generation, flag up (wraps harmlessly).
      if (Atomics.compareExchange(a, kWord, word, (word + 3) | 0) === word) {
        break;
      }
    }
    if (Atomics.load(a, kSleepers) > 0) Atomics.notify(a, kWord);
  }

  /**
   * Lowers the flag.
   *
   * @example Using clear()
   * ```ts
   * import { Event } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * event.set();
   * event.clear();
   * assert.deepEqual(event.isSet(), false);
   * ```
   */
  clear(): void {
    const a = this.#a;
    while (true) {
      const word = Atomics.load(a, kWord);
      if (!(word & 1)) return;
      if (Atomics.compareExchange(a, kWord, word, word & ~1) === word) return;
    }
  }

  /**
   * Waits until the flag is raised, without blocking the thread.
   *
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns `true` when the flag was raised, `false` on timeout.
   * @throws {TypeError} When `timeout` is not a number.
   *
   * @example Using wait()
   * ```ts
   * import { Event } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * assert.deepEqual(await event.wait(0.01), false);
   * event.set();
   * assert.deepEqual(await event.wait(), true);
   * ```
   */
  async wait(timeout?: number): Promise<boolean> {
    checkTimeout(timeout, "wait on event");
    const a = this.#a;
    const seen = Atomics.load(a, kWord);
    if (seen & 1) return true;
    // The word moved away from a down flag only through a set().
    const moved = () => Atomics.load(a, kWord) !== seen;
    return await blockAsync(
      { a, i: kWord, busy: seen, take: moved },
      deadlineOf(timeout),
    );
  }

  /**
   * Waits until the flag is raised, blocking the thread (worker code).
   *
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns `true` when the flag was raised, `false` on timeout.
   * @throws {ProcessError} On the main thread when the flag is down.
   * @throws {TypeError} When `timeout` is not a number.
   *
   * @example Using waitSync()
   * ```ts
   * import { Event } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * event.set();
   * assert.deepEqual(event.waitSync(), true); // already set, so no wait
   * ```
   */
  waitSync(timeout?: number): boolean {
    checkTimeout(timeout, "wait on event");
    const a = this.#a;
    const seen = Atomics.load(a, kWord);
    if (seen & 1) return true;
    assertMayBlock("wait on event", "event.wait()");
    const moved = () => Atomics.load(a, kWord) !== seen;
    return blockSync(
      { a, i: kWord, busy: seen, take: moved },
      deadlineOf(timeout),
    );
  }

  /** Describes the event for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return describe("Event", { buffer: this.#a.buffer });
  }

  /** Shows the state in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Event { set: ${this.isSet()} }`;
  }
}

registerReviver(
  "Event",
  (d) => construct(Event, new Adopted(new Int32Array(d.buffer as ArrayBuffer))),
);
