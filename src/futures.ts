/**
 * `Future`, `wait` and `asCompleted`: CPython's `concurrent.futures`
 * results, as `ProcessPoolExecutor` gives them out.
 *
 * ```
 *  PENDING ─▶ RUNNING (a worker took the call) ─▶ FINISHED (result or error)
 *     └─────▶ CANCELLED (cancel() before any worker took it)
 * ```
 *
 * @module
 */

import { CancelledError, TimeoutError } from "./errors.ts";
import { within } from "./_core/time.ts";
import { checkSeconds } from "./_core/validate.ts";
import { futureAccess } from "./_engine/future_access.ts";

export {
  ALL_COMPLETED,
  asCompleted,
  type CompletedFuture,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type ReturnWhen,
  wait,
} from "./wait.ts";

/** The states of a {@linkcode Future}, as CPython names them. */
export type FutureState = "PENDING" | "RUNNING" | "CANCELLED" | "FINISHED";

/**
 * The eventual result of a submitted call (CPython's
 * `concurrent.futures.Future`). It is a thenable: `await future` gives the
 * result or throws the call's error.
 *
 * @example Await a submitted call
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const future = executor.submit(square, 6);
 * assert.equal(await future, 36);
 * assert.equal(future.done(), true);
 * ```
 */
export class Future<R> implements PromiseLike<R> {
  #state: FutureState = "PENDING";
  #result: R | undefined;
  #error: Error | undefined;
  // Made only when someone waits: with thousands of futures in flight,
  // each promise per future shows up as garbage-collection time.
  // These two hold R only as `unknown`, so that R appears in covariant
  // positions alone: a Future<number> is then a Future<unknown>.
  #outcome: PromiseWithResolvers<unknown> | undefined;
  #callbacks: ((future: Future<unknown>) => void)[] = [];
  #cancel: (() => boolean) | undefined;
  // Whether the call a worker holds runs (RUNNING is set at dispatch; a
  // call dispatched behind another can still be taken back, as CPython's
  // queued calls can be cancelled).
  #started: (() => boolean) | undefined;

  static {
    futureAccess.run = (future, started) => {
      if (future.#state === "PENDING") future.#state = "RUNNING";
      future.#started = started;
    };
    futureAccess.settle = (future, result, error) => {
      if (future.done()) return;
      future.#state = "FINISHED";
      future.#result = result;
      future.#error = error;
      future.#finish();
    };
    futureAccess.withdraw = (future) => {
      if (!future.done()) future.#cancelNow();
    };
    futureAccess.failed = (future) =>
      future.#state === "FINISHED" && future.#error !== undefined;
  }

  /**
   * Creates a pending future; executors create these.
   *
   * @param cancel Withdraws the work if it has not started; returns success.
   *
   * @example A future whose work can always be withdrawn
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@dmp/multiprocessing";
   *
   * const future = new Future<number>(() => true);
   * assert.equal(future.state, "PENDING");
   * assert.equal(future.cancel(), true);
   * ```
   */
  constructor(cancel?: () => boolean) {
    this.#cancel = cancel;
  }

  #cancelNow(): void {
    this.#state = "CANCELLED";
    this.#error = new CancelledError();
    this.#finish();
  }

  #finish(): void {
    if (this.#outcome !== undefined) {
      if (this.#error === undefined) this.#outcome.resolve(this.#result as R);
      else this.#outcome.reject(this.#error);
    }
    const callbacks = this.#callbacks;
    this.#callbacks = [];
    for (const callback of callbacks) this.#call(callback);
  }

  #call(callback: (future: Future<R>) => void): void {
    try {
      callback(this);
    } catch (error) {
      // CPython logs and ignores exceptions raised by done callbacks.
      console.error("Exception in a Future done callback:", error);
    }
  }

  /**
   * Cancels the call if it has not started yet.
   *
   * @returns `true` when the future is (now) cancelled.
   *
   * @example Cancel a call no worker has taken
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@dmp/multiprocessing";
   *
   * const future = new Future(() => true);
   * assert.equal(future.cancel(), true);
   * assert.equal(future.cancel(), true); // still cancelled
   * ```
   */
  cancel(): boolean {
    const state = this.state;
    if (state === "CANCELLED") return true;
    if (state !== "PENDING") return false;
    if (this.#cancel !== undefined && !this.#cancel()) return false;
    this.#cancelNow();
    return true;
  }

  /**
   * Whether the future was cancelled.
   *
   * @returns `true` when cancelled.
   *
   * @example After cancel()
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@dmp/multiprocessing";
   *
   * const future = new Future(() => true);
   * assert.equal(future.cancelled(), false);
   * future.cancel();
   * assert.equal(future.cancelled(), true);
   * ```
   */
  cancelled(): boolean {
    return this.#state === "CANCELLED";
  }

  /**
   * Whether a worker is running the call now.
   *
   * @returns `true` while running.
   *
   * @example A future not yet taken by a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@dmp/multiprocessing";
   *
   * assert.equal(new Future().running(), false);
   * ```
   */
  running(): boolean {
    return this.state === "RUNNING";
  }

  /**
   * Whether the call finished or was cancelled.
   *
   * @returns `true` when done.
   *
   * @example Done once cancelled
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@dmp/multiprocessing";
   *
   * const future = new Future(() => true);
   * assert.equal(future.done(), false);
   * future.cancel();
   * assert.equal(future.done(), true);
   * ```
   */
  done(): boolean {
    return this.#state === "FINISHED" || this.#state === "CANCELLED";
  }

  /**
   * The state, as CPython names it.
   *
   * @example From PENDING to CANCELLED
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@dmp/multiprocessing";
   *
   * const future = new Future(() => true);
   * assert.equal(future.state, "PENDING");
   * future.cancel();
   * assert.equal(future.state, "CANCELLED");
   * ```
   */
  get state(): FutureState {
    const started = this.#started;
    if (this.#state === "RUNNING" && started !== undefined && !started()) {
      return "PENDING";
    }
    return this.#state;
  }

  /**
   * Waits for the result.
   *
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns The call's result.
   * @throws {TypeError} When `timeout` is not a number.
   * @throws {TimeoutError} When not done in time.
   * @throws {CancelledError} When cancelled.
   * @throws {BrokenProcessPoolError} When a worker of the executor died abruptly.
   * @throws {Error} The call's own error (same name and message, worker stack in `cause`).
   *
   * @example Wait with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future, TimeoutError } from "@dmp/multiprocessing";
   *
   * const pending = new Future<number>();
   * await assert.rejects(pending.result(0.01), TimeoutError);
   * ```
   */
  result(timeout?: number): Promise<R> {
    if (timeout !== undefined) return this.#resultAfter(timeout);
    return this.#promise();
  }

  /** The outcome as a promise; a pending future makes one, once. */
  #promise(): Promise<R> {
    if (this.done()) {
      return this.#error === undefined
        ? Promise.resolve(this.#result as R)
        : Promise.reject(this.#error);
    }
    this.#outcome ??= Promise.withResolvers<unknown>();
    return this.#outcome.promise as Promise<R>;
  }

  async #resultAfter(timeout: number): Promise<R> {
    await this.#wait(timeout, "get result");
    if (this.#error !== undefined) throw this.#error;
    return this.#result as R;
  }

  /**
   * Waits for the call and returns its error, or `undefined` when it succeeded.
   *
   * @param timeout Seconds to wait at most.
   * @returns The error, if any.
   * @throws {TypeError} When `timeout` is not a number.
   * @throws {TimeoutError} When not done in time.
   * @throws {CancelledError} When cancelled.
   *
   * @example A cancelled future has no exception to give
   * ```ts
   * import assert from "node:assert/strict";
   * import { CancelledError, Future } from "@dmp/multiprocessing";
   *
   * const future = new Future(() => true);
   * future.cancel();
   * await assert.rejects(future.exception(), CancelledError);
   * ```
   */
  async exception(timeout?: number): Promise<Error | undefined> {
    await this.#wait(timeout, "get exception");
    if (this.#state === "CANCELLED") throw this.#error;
    return this.#error;
  }

  async #wait(timeout: number | undefined, what: string): Promise<void> {
    checkSeconds(timeout, "timeout", what);
    if (this.done()) return;
    const done = this.#promise().then(() => {}, () => {});
    if ((await within(done, timeout)) === null) {
      throw new TimeoutError(
        `Cannot ${what} as the future is not done after ${timeout}s`,
      );
    }
  }

  /**
   * Calls `fn(future)` when the future is done (at once if it already is).
   *
   * @param fn The callback.
   * @throws {TypeError} When `fn` is not a function.
   *
   * @example Hear of a cancellation
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@dmp/multiprocessing";
   *
   * const future = new Future(() => true);
   * const seen: string[] = [];
   * future.addDoneCallback((f) => seen.push(f.state));
   * future.cancel();
   * assert.deepEqual(seen, ["CANCELLED"]);
   * ```
   */
  addDoneCallback(fn: (future: Future<R>) => void): void {
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot add done callback as 'fn' must be a function: current value is ${
          Deno.inspect(fn)
        }`,
      );
    }
    if (this.done()) this.#call(fn);
    else this.#callbacks.push(fn as (future: Future<unknown>) => void);
  }

  /**
   * Makes the future awaitable.
   *
   * @param onfulfilled Called with the result.
   * @param onrejected Called with the error.
   * @returns A promise of the handler's result.
   *
   * @example Await a cancelled future
   * ```ts
   * import assert from "node:assert/strict";
   * import { CancelledError, Future } from "@dmp/multiprocessing";
   *
   * const future = new Future(() => true);
   * future.cancel();
   * await assert.rejects(async () => await future, CancelledError);
   * ```
   */
  then<T1 = R, T2 = never>(
    onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.result().then(onfulfilled, onrejected);
  }
}
