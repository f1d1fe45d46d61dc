/**
 * `AsyncResult`: the pending result of a Pool's `…Async` call (CPython's
 * `multiprocessing.pool.AsyncResult`), and the tasks that settle it or a
 * promise (for pool.ts: mod.ts re-exports only the public names).
 *
 * @module
 */

import { ProcessError, TimeoutError } from "./errors.ts";
import { Task } from "./_engine/engine.ts";
import { TaskMode } from "./_wire/protocol.ts";
import type { TargetRef } from "./_core/target.ts";
import { within } from "./_core/time.ts";
import { checkSeconds } from "./_core/validate.ts";
// A pool's AsyncResult tasks do not keep the program alive (Task.holds):
// the one who waits for them does.
import { holdLoopUntil as held } from "./_memory/atomics.ts";

/** Callbacks of the `…Async` methods. */
export interface CallbackOptions<R> {
  /** Called with the result when the task succeeds. */
  callback?: (result: R) => void;
  /** Called with the error when the task fails. */
  errorCallback?: (error: Error) => void;
}

/** Settles an AsyncResult made without a promise (set by the class). */
let settleResult: (
  result: AsyncResult<unknown>,
  value: unknown,
  error: Error | undefined,
) => void;

/** A task whose outcome settles a promise (apply, map chunks, imap). */
export class PromiseTask extends Task {
  readonly promise: Promise<unknown>;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: Error) => void;

  constructor(fn: TargetRef, mode: TaskMode, payload: unknown) {
    super(fn, mode, payload);
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.promise = promise;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  finish(value: unknown, error?: Error): void {
    if (error === undefined) this.#resolve(value);
    else this.#reject(error);
  }
}

/**
 * A task that settles its AsyncResult directly (applyAsync): no promise.
 */
export class ResultTask extends Task {
  readonly #result: AsyncResult<unknown>;

  constructor(fn: TargetRef, payload: unknown, result: AsyncResult<unknown>) {
    super(fn, TaskMode.Apply, payload);
    this.#result = result;
    // As in CPython, a result nobody waits for does not keep the program
    // running: get() and wait() hold it while they wait.
    this.holds = false;
  }

  finish(value: unknown, error?: Error): void {
    settleResult(this.#result, value, error);
  }
}

/**
 * The pending result of an `…Async` call (CPython's `AsyncResult`).
 *
 * Its task does not keep the program alive by itself (CPython's pool ends
 * with the program): `get()`, `wait()` and the pool's `join()` do, while
 * they wait. A program that only registers callbacks should `close()` and
 * `await join()` its pool.
 *
 * @example Get a result without blocking the caller
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool } from "@dmp/multiprocessing";
 *
 * await using pool = new Pool(2);
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const result = pool.applyAsync(square, [7]);
 * assert.equal(await result.get(10), 49);
 * assert.equal(result.successful(), true);
 * ```
 */
export class AsyncResult<R> {
  #state: "pending" | "fulfilled" | "rejected" = "pending";
  #value: R | undefined;
  #error: unknown;
  #callbacks: CallbackOptions<R> | undefined;
  // Made only when someone waits: an outcome nobody reads costs no promise,
  // and a failure nobody reads is never an unhandled rejection.
  #waiting: PromiseWithResolvers<R> | undefined;

  static {
    settleResult = (result, value, error) =>
      result.#settle(error === undefined, error ?? value);
  }

  /**
   * Creates a pending result; pools create these.
   *
   * @param promise The eventual result; without one, the pool that created
   * the AsyncResult settles it.
   * @param callbacks Called once when it settles.
   *
   * @example Wrap a promise
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncResult } from "@dmp/multiprocessing";
   *
   * const seen: number[] = [];
   * const result = new AsyncResult(Promise.resolve(3), { callback: (x) => seen.push(x) });
   * assert.equal(await result.get(), 3);
   * assert.deepEqual(seen, [3]);
   * ```
   */
  constructor(promise?: Promise<R>, callbacks?: CallbackOptions<R>) {
    this.#callbacks = callbacks;
    promise?.then(
      (value) => this.#settle(true, value),
      (error) => this.#settle(false, error),
    );
  }

  #settle(ok: boolean, outcome: unknown): void {
    if (this.#state !== "pending") return;
    this.#state = ok ? "fulfilled" : "rejected";
    if (ok) this.#value = outcome as R;
    else this.#error = outcome;
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      if (ok) waiting.resolve(outcome as R);
      else waiting.reject(outcome);
    }
    try {
      if (ok) this.#callbacks?.callback?.(outcome as R);
      else this.#callbacks?.errorCallback?.(outcome as Error);
    } catch (error) {
      // As for Future done callbacks: report it and go on. The result
      // stands, and the pool that delivered it keeps working.
      console.error("Exception in an AsyncResult callback:", error);
    }
  }

  #outcome(): Promise<R> {
    if (this.#state === "fulfilled") return Promise.resolve(this.#value as R);
    if (this.#state === "rejected") return Promise.reject(this.#error);
    this.#waiting ??= Promise.withResolvers<R>();
    return this.#waiting.promise;
  }

  /**
   * Waits for the result.
   *
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns The result.
   * @throws {TypeError} When `timeout` is not a number.
   * @throws {TimeoutError} When it is not ready in time.
   * @throws {ProcessError} When the pool was terminated first, or the
   * worker running the task died.
   * @throws {Error} The task's own error (same name and message, worker stack in `cause`).
   *
   * @example Time out while not ready
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncResult, TimeoutError } from "@dmp/multiprocessing";
   *
   * const never = new AsyncResult<number>(new Promise(() => {}));
   * await assert.rejects(never.get(0.01), TimeoutError);
   * ```
   */
  get(timeout?: number): Promise<R> {
    try {
      checkSeconds(timeout, "timeout", "get result");
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state !== "pending") return this.#outcome();
    return held(
      timeout === undefined ? this.#outcome() : this.#getWithin(timeout),
    );
  }

  async #getWithin(timeout: number): Promise<R> {
    const outcome = await within(this.#outcome(), timeout);
    if (outcome === null) {
      throw new TimeoutError(
        `Cannot get result as it is not ready after ${timeout}s`,
      );
    }
    return outcome.value;
  }

  /**
   * Waits until the result is ready (or the timeout passes), without
   * throwing the task's error.
   *
   * @param timeout Seconds to wait at most.
   * @throws {TypeError} When `timeout` is not a number.
   *
   * @example Wait for a failure without catching it
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncResult } from "@dmp/multiprocessing";
   *
   * const result = new AsyncResult(Promise.reject(new Error("no")));
   * await result.wait();
   * assert.equal(result.successful(), false);
   * ```
   */
  async wait(timeout?: number): Promise<void> {
    checkSeconds(timeout, "timeout", "wait for result");
    if (this.#state !== "pending") return;
    await held(within(this.#outcome().catch(() => {}), timeout));
  }

  /**
   * Whether the task has finished.
   *
   * @returns `true` once settled.
   *
   * @example Ready once its promise settles
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncResult } from "@dmp/multiprocessing";
   *
   * const { promise, resolve } = Promise.withResolvers<number>();
   * const result = new AsyncResult(promise);
   * assert.equal(result.ready(), false);
   * resolve(1);
   * await result.wait();
   * assert.equal(result.ready(), true);
   * ```
   */
  ready(): boolean {
    return this.#state !== "pending";
  }

  /**
   * Whether the task finished without error.
   *
   * @returns `true` when it succeeded.
   * @throws {ProcessError} When it is not ready yet (CPython's ValueError).
   *
   * @example Only a settled result can tell
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncResult, ProcessError } from "@dmp/multiprocessing";
   *
   * const { promise, resolve } = Promise.withResolvers<number>();
   * const result = new AsyncResult(promise);
   * assert.throws(() => result.successful(), ProcessError);
   * resolve(2);
   * await result.wait();
   * assert.equal(result.successful(), true);
   * ```
   */
  successful(): boolean {
    if (this.#state === "pending") {
      throw new ProcessError(
        "Cannot tell whether the task succeeded as it is not ready",
      );
    }
    return this.#state === "fulfilled";
  }
}
