/**
 * `Condition`: a condition variable shared by processes (CPython's
 * `multiprocessing.Condition`).
 *
 * @module
 */

import { describe, kReduce, registerReviver, revive } from "../reduction.ts";
import type { SharedDescriptor } from "../reduction.ts";
import { ProcessError } from "../errors.ts";
import { checkIntegerIn, checkTimeout } from "../_core/validate.ts";
import { deadlineOf } from "../_core/time.ts";
import {
  type AcquireOptions,
  assertMayBlock,
  type ConditionLock,
  kSemCore,
} from "./_sync.ts";
import type { Lock } from "./lock.ts";
import { RLock } from "./rlock.ts";
import { Adopted, construct } from "../_memory/adopt.ts";
import {
  countWaiting,
  kConditionWords,
  notifyOldest,
  secondsLeft,
} from "./_condition_slots.ts";
import {
  enterWait,
  notified,
  notifiedSync,
  type Waiting,
} from "./_condition_wait.ts";
import { checkLock, checkPredicate } from "./_condition_args.ts";

/**
 * A condition variable: processes wait on it until another one notifies
 * them. It owns a lock (an {@linkcode RLock} unless one is given), which a
 * process must hold to wait or notify; waiting releases it and takes it
 * back before returning.
 *
 * `wait()`/`waitFor()` never block the thread; `waitSync()`/`waitForSync()`
 * block the calling worker and are refused on the main thread. At most 256
 * waiters (processes or async tasks) may wait on one Condition at once.
 *
 * An RLock belongs to a whole process, so async tasks of one process all
 * own it at once: to make such tasks wait for each other, give the
 * Condition a {@linkcode Lock}.
 *
 * @example Two async tasks of one process
 * ```ts
 * import { Condition, Lock } from "@dmp/multiprocessing";
 * import { ok as assert } from "node:assert/strict";
 *
 * const cond = new Condition(new Lock());
 * let ready = false;
 * const waiter = (async () => {
 *   using _ = await cond.hold();
 *   return await cond.waitFor(() => ready, 5);
 * })();
 * {
 *   using _ = await cond.hold();
 *   ready = true;
 *   cond.notify();
 * }
 * assert(await waiter);
 * ```
 */
export class Condition {
  #lock: Lock | RLock;
  #a: Int32Array;

  /**
   * Creates a condition variable.
   *
   * @param lock The lock to use; a new {@linkcode RLock} when omitted.
   * @throws {TypeError} When `lock` is not a Lock or an RLock.
   */
  constructor(lock?: Lock | RLock);
  constructor(lock?: Lock | RLock, from?: unknown) {
    if (lock !== undefined) checkLock(lock);
    this.#lock = lock ?? new RLock();
    this.#a = from instanceof Adopted
      ? from.memory as Int32Array
      : new Int32Array(new SharedArrayBuffer(kConditionWords * 4));
  }

  get #cl(): ConditionLock {
    return this.#lock[kSemCore]();
  }

  /**
   * Acquires the underlying lock, without blocking the thread.
   *
   * @param options As for {@linkcode Lock.acquire}.
   * @returns Whether the lock was acquired.
   *
   * @example Using acquire()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   *
   * const cond = new Condition();
   * await cond.acquire();
   * cond.release();
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /**
   * Acquires the underlying lock, blocking the thread (worker code).
   *
   * @param options As for {@linkcode Lock.acquireSync}.
   * @returns Whether the lock was acquired.
   * @throws {ProcessError} On the main thread when it would have to wait.
   *
   * @example Using acquireSync()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   *
   * const cond = new Condition();
   * cond.acquireSync();
   * cond.release();
   * ```
   */
  acquireSync(options?: AcquireOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /**
   * Releases the underlying lock.
   *
   * @throws {ProcessError} When the lock is not held (by this process, for an RLock).
   *
   * @example Using release()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   *
   * const cond = new Condition();
   * await cond.acquire();
   * cond.release();
   * ```
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Acquires the underlying lock; the Disposable releases it:
   * `using _ = await cond.hold();`.
   *
   * @returns The release handle.
   *
   * @example Using hold()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   *
   * const cond = new Condition();
   * {
   *   using _ = await cond.hold();
   *   cond.notifyAll();
   * }
   * ```
   */
  hold(): Promise<Disposable> {
    return this.#lock.hold();
  }

  /**
   * Acquires the underlying lock, blocking the thread (worker code); the
   * Disposable releases it.
   *
   * @returns The release handle.
   * @throws {ProcessError} On the main thread when it would have to wait.
   *
   * @example Using holdSync()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   *
   * const cond = new Condition();
   * {
   *   using _ = cond.holdSync();
   * }
   * ```
   */
  holdSync(): Disposable {
    return this.#lock.holdSync();
  }

  // What both waits do first: check, take a waiter slot, release the lock.
  // (Layout: the Condition block of src/_wire/layouts.ts; the waiter slots:
  // _condition_slots.ts and _condition_wait.ts.)
  // `asyncForm` marks the blocking wait, refused on the main thread.
  #enter(timeout: number | undefined, asyncForm?: string): Waiting {
    checkTimeout(timeout, "wait on condition");
    if (asyncForm) assertMayBlock("wait on condition", asyncForm);
    this.#assertMine("wait on condition");
    return enterWait(this.#a, this.#cl, deadlineOf(timeout));
  }

  #assertMine(what: string): void {
    if (!this.#cl.isMine()) {
      throw new ProcessError(
        `Cannot ${what} as this process must hold the condition's lock: acquire() it first`,
      );
    }
  }

  /**
   * Releases the lock, waits until notified (or until `timeout` seconds
   * pass), then takes the lock back; never blocks the thread.
   *
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns `true` when notified, `false` on timeout.
   * @throws {ProcessError} When this process does not hold the lock.
   * @throws {TypeError} When `timeout` is not a number.
   *
   * @example Using wait()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const cond = new Condition();
   * using _ = await cond.hold();
   * assert.deepEqual(await cond.wait(0.01), false); // nobody notified
   * ```
   */
  async wait(timeout?: number): Promise<boolean> {
    return await notified(this.#enter(timeout));
  }

  /**
   * Releases the lock, waits until notified (or until `timeout` seconds
   * pass), then takes the lock back, blocking the thread (worker code).
   *
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns `true` when notified, `false` on timeout.
   * @throws {ProcessError} On the main thread, or when this process does
   * not hold the lock.
   * @throws {TypeError} When `timeout` is not a number.
   *
   * @example Using waitSync()
   * ```ts ignore
   * // In a worker (a Process target):
   * using _ = cond.holdSync();
   * while (!ready()) cond.waitSync();
   * ```
   */
  waitSync(timeout?: number): boolean {
    return notifiedSync(this.#enter(timeout, "cond.wait()"));
  }

  /**
   * Waits until `predicate()` is truthy, checking it each time the
   * condition is notified; the lock must be held.
   *
   * @param predicate The condition to wait for (may return a Promise).
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns The last value of `predicate()` (falsy on timeout).
   * @throws {ProcessError} When this process does not hold the lock.
   *
   * @example Using waitFor()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const cond = new Condition();
   * using _ = await cond.hold();
   * assert.deepEqual(await cond.waitFor(() => 42), 42); // at once
   * ```
   */
  async waitFor<T>(
    predicate: () => T | Promise<T>,
    timeout?: number,
  ): Promise<T> {
    checkPredicate(predicate, "wait on condition");
    checkTimeout(timeout, "wait on condition");
    let result = await predicate();
    const deadline = deadlineOf(timeout);
    for (let left; !result && (left = secondsLeft(deadline)) !== null;) {
      await this.wait(left);
      result = await predicate();
    }
    return result;
  }

  /**
   * The blocking twin of {@linkcode Condition.waitFor} (worker code).
   *
   * @param predicate The condition to wait for.
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns The last value of `predicate()` (falsy on timeout).
   * @throws {ProcessError} On the main thread when `predicate()` is falsy,
   * or when this process does not hold the lock.
   *
   * @example Using waitForSync()
   * ```ts ignore
   * // In a worker (a Process target):
   * using _ = cond.holdSync();
   * cond.waitForSync(() => items.length > 0);
   * ```
   */
  waitForSync<T>(predicate: () => T, timeout?: number): T {
    checkPredicate(predicate, "wait on condition");
    checkTimeout(timeout, "wait on condition");
    let result = predicate();
    const deadline = deadlineOf(timeout);
    for (let left; !result && (left = secondsLeft(deadline)) !== null;) {
      this.waitSync(left);
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiters, the longest-waiting first; the lock must be
   * held. Each woken waiter's `wait()` returns `true`.
   *
   * @param n How many waiters to wake.
   * @throws {ProcessError} When this process does not hold the lock.
   * @throws {TypeError} When `n` is not an integer.
   * @throws {RangeError} When `n` is negative.
   *
   * @example Using notify()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   *
   * const cond = new Condition();
   * using _ = await cond.hold();
   * cond.notify(2); // nobody waits: nothing happens
   * ```
   */
  notify(n = 1): void {
    checkIntegerIn(n, "n", "notify condition", [0, Number.MAX_SAFE_INTEGER]);
    this.#assertMine("notify condition");
    notifyOldest(this.#a, n);
  }

  /**
   * Wakes every waiter; the lock must be held.
   *
   * @throws {ProcessError} When this process does not hold the lock.
   *
   * @example Using notifyAll()
   * ```ts
   * import { Condition } from "@dmp/multiprocessing";
   *
   * const cond = new Condition();
   * using _ = await cond.hold();
   * cond.notifyAll();
   * ```
   */
  notifyAll(): void {
    this.#assertMine("notify condition");
    notifyOldest(this.#a, Infinity);
  }

  /** Describes the condition for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return describe("Condition", {
      buffer: this.#a.buffer,
      lock: (this.#lock as unknown as { [kReduce](): SharedDescriptor })
        [kReduce](),
    });
  }

  /** Shows the state in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Condition { lock: ${Deno.inspect(this.#lock)}, waiting: ${
      countWaiting(this.#a)
    } }`;
  }
}

registerReviver("Condition", (d) => {
  const lock = revive(d.lock) as Lock | RLock;
  const memory = new Adopted(new Int32Array(d.buffer as ArrayBuffer));
  return construct(Condition, lock, memory);
});
