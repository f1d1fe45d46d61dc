/**
 * `ProcessPoolExecutor`, `Future`, `wait` and `asCompleted`: CPython's
 * `concurrent.futures` on worker processes.
 *
 * ```
 *  submit(fn, ...args) ─▶ Future (PENDING) ─▶ engine queue ─▶ worker (RUNNING)
 *  map(fn, ...iterables) ─▶ one Future per chunk ─▶ results yielded in order
 *  Future ◀── result / exception (FINISHED) ◀── worker
 *  a worker dies abruptly ─▶ every pending Future fails with BrokenProcessPoolError,
 *                            and so does every later submit (as in CPython)
 * ```
 *
 * Workers start on demand, up to `maxWorkers`, one per event-loop turn.
 *
 * @module
 */

import {
  BrokenProcessPoolError,
  CancelledError,
  ProcessError,
  TimeoutError,
} from "./errors.ts";
import type { WorkerPermissions } from "./_core/permissions.ts";
import {
  checkTask,
  engineOptions,
  PoolEngine,
  Task,
} from "./_engine/engine.ts";
import type { TaskFunction, TaskResult } from "./pool.ts";
import { TaskMode } from "./_wire/protocol.ts";
import { reduce } from "./reduction.ts";
import type { Target } from "./_core/target.ts";
import { assertNotBootstrapping, cpuCount } from "./process.ts";
import {
  checkPositiveInteger,
  checkSeconds,
  poolRef,
  within,
} from "./_core/util.ts";

/** The states of a {@linkcode Future}, as CPython names them. */
export type FutureState = "PENDING" | "RUNNING" | "CANCELLED" | "FINISHED";

/**
 * The eventual result of a submitted call (CPython's
 * `concurrent.futures.Future`). It is a thenable: `await future` gives the
 * result or throws the call's error.
 *
 * @example
 * ```ts
 * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const future = executor.submit(square, 6);
 * console.log(await future); // 36
 * console.log(future.done()); // true
 * ```
 */
export class Future<R> implements PromiseLike<R> {
  #state: FutureState = "PENDING";
  #result: R | undefined;
  #error: Error | undefined;
  // Made only when someone waits: with thousands of futures in flight,
  // each promise per future shows up as garbage-collection time.
  #outcome: PromiseWithResolvers<R> | undefined;
  #callbacks: ((future: Future<R>) => void)[] = [];
  #cancel: (() => boolean) | undefined;

  /**
   * Creates a pending future; executors create these.
   *
   * @param cancel Withdraws the work if it has not started; returns success.
   */
  constructor(cancel?: () => boolean) {
    this.#cancel = cancel;
  }

  /** @internal Marks the future running (it has reached a worker). */
  setRunning(): void {
    if (this.#state === "PENDING") this.#state = "RUNNING";
  }

  /** @internal Settles the future. */
  settle(result: R | undefined, error?: Error): void {
    if (this.#state === "FINISHED" || this.#state === "CANCELLED") return;
    this.#state = "FINISHED";
    this.#result = result;
    this.#error = error;
    this.#finish();
  }

  /** @internal Marks the future cancelled (its task was withdrawn). */
  markCancelled(): void {
    if (this.done()) return;
    this.#state = "CANCELLED";
    this.#error = new CancelledError();
    this.#finish();
  }

  /** @internal True when the call finished with an error. */
  failed(): boolean {
    return this.#state === "FINISHED" && this.#error !== undefined;
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
   */
  cancel(): boolean {
    if (this.#state === "CANCELLED") return true;
    if (this.#state !== "PENDING") return false;
    if (this.#cancel !== undefined && !this.#cancel()) return false;
    this.#state = "CANCELLED";
    this.#error = new CancelledError();
    this.#finish();
    return true;
  }

  /**
   * Whether the future was cancelled.
   *
   * @returns `true` when cancelled.
   */
  cancelled(): boolean {
    return this.#state === "CANCELLED";
  }

  /**
   * Whether a worker is running the call now.
   *
   * @returns `true` while running.
   */
  running(): boolean {
    return this.#state === "RUNNING";
  }

  /**
   * Whether the call finished or was cancelled.
   *
   * @returns `true` when done.
   */
  done(): boolean {
    return this.#state === "FINISHED" || this.#state === "CANCELLED";
  }

  /** The state, as CPython names it. */
  get state(): FutureState {
    return this.#state;
  }

  /**
   * Waits for the result.
   *
   * @param timeout Seconds to wait at most.
   * @returns The call's result.
   * @throws {TimeoutError} When not done in time.
   * @throws {CancelledError} When cancelled.
   * @throws {Error} The call's own error.
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
    this.#outcome ??= Promise.withResolvers<R>();
    return this.#outcome.promise;
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
   * @throws {TimeoutError} When not done in time.
   * @throws {CancelledError} When cancelled.
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
    else this.#callbacks.push(fn);
  }

  /**
   * Makes the future awaitable.
   *
   * @param onfulfilled Called with the result.
   * @param onrejected Called with the error.
   * @returns A promise of the handler's result.
   */
  then<T1 = R, T2 = never>(
    onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.result().then(onfulfilled, onrejected);
  }
}

/** A task whose outcome settles a Future. */
class FutureTask extends Task {
  future!: Future<unknown>;

  finish(value: unknown, error?: Error): void {
    this.future.settle(value, error);
  }

  override started(): void {
    this.future.setRunning();
  }

  override withdrawn(): void {
    this.future.markCancelled();
  }
}

/** Options of {@linkcode ProcessPoolExecutor}. */
export interface ExecutorOptions {
  /** Most workers at once. @default {cpuCount()} */
  maxWorkers?: number;
  /** Replace a worker after this many tasks. @default {undefined} */
  maxTasksPerChild?: number;
  /** Run in each worker before its first task. */
  initializer?: Target;
  /** Arguments of the initializer. @default {[]} */
  initargs?: unknown[];
  /** Deno permissions of every worker. @default {"inherit"} */
  permissions?: WorkerPermissions;
}

/** Options of {@linkcode ProcessPoolExecutor.map}. */
export interface ExecutorMapOptions {
  /** Seconds, from the call to map(), before iteration throws TimeoutError. */
  timeout?: number;
  /** Items per task. @default {1} */
  chunksize?: number;
}

/** Per-call options of {@linkcode ProcessPoolExecutor.submitWith}. */
export interface SubmitOptions {
  /** Aborting it cancels the call (and ends its worker if it runs). */
  signal?: AbortSignal;
  /** Seconds before the call is cancelled with a TimeoutError. */
  timeout?: number;
}

function isOptions(value: unknown): value is ExecutorMapOptions {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] !==
      "function";
}

/**
 * A pool of worker processes behind CPython's `concurrent.futures`
 * interface. A worker that dies abruptly breaks the executor: every pending
 * future, and every later submit, fails with {@linkcode BrokenProcessPoolError}.
 *
 * @example
 * ```ts
 * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor();
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * for await (const result of executor.map(square, [1, 2, 3])) console.log(result);
 * ```
 */
export class ProcessPoolExecutor {
  readonly #engine: PoolEngine;
  readonly #maxWorkers: number;
  #shutdown = false;

  /**
   * Creates an executor. No worker starts until work is submitted.
   *
   * @param options maxWorkers, maxTasksPerChild, initializer, initargs, permissions.
   * @throws {RangeError} For a maxWorkers or maxTasksPerChild that is not a positive integer.
   */
  constructor(options: ExecutorOptions = {}) {
    assertNotBootstrapping();
    const { maxWorkers } = options;
    checkPositiveInteger(maxWorkers, "maxWorkers", "create executor");
    this.#maxWorkers = maxWorkers ?? cpuCount();
    this.#engine = new PoolEngine(
      engineOptions(this.#maxWorkers, options, {
        name: "ProcessPoolExecutorWorker",
        onDeath: "break",
        eager: false,
      }, "create executor"),
    );
  }

  /** The most workers this executor runs at once. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  #assertOpen(what: string): void {
    if (this.#engine.state === "broken") {
      throw new BrokenProcessPoolError(
        `Cannot ${what} as the executor is broken: ${this.#engine.brokenBy?.message}`,
        { cause: this.#engine.brokenBy },
      );
    }
    if (this.#shutdown) {
      throw new ProcessError(
        `Cannot ${what} as the executor has been shut down`,
      );
    }
  }

  #future<R>(
    fn: unknown,
    mode: TaskMode,
    payload: unknown,
    what: string,
    options: SubmitOptions = {},
  ): Future<R> {
    this.#assertOpen(what);
    const ref = poolRef(fn, what);
    const task = new FutureTask(ref, mode, reduce(payload, "args", what));
    const future = new Future<R>(() => this.#engine.withdraw(task));
    task.future = future as Future<unknown>;
    this.#engine.submit(task, options, "call");
    return future;
  }

  /**
   * Schedules `fn(...args)` on a worker.
   *
   * @param fn An exported function, or `"./module.ts#name"`.
   * @param args Its arguments.
   * @returns The future result.
   * @throws {ProcessError} After shutdown().
   * @throws {BrokenProcessPoolError} Once a worker has died abruptly.
   */
  submit<F extends TaskFunction>(
    fn: F | Target,
    ...args: Parameters<F> | unknown[]
  ): Future<TaskResult<F>> {
    return this.#future(fn, TaskMode.Apply, args, "submit");
  }

  /**
   * {@linkcode ProcessPoolExecutor.submit} with per-call options (an
   * extension: CPython's submit takes none).
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options signal, timeout.
   * @returns The future result.
   */
  submitWith<F extends TaskFunction>(
    fn: F | Target,
    args: Parameters<F> | unknown[],
    options: SubmitOptions,
  ): Future<TaskResult<F>> {
    checkTask(args, options, "submit");
    return this.#future(fn, TaskMode.Apply, args, "submit", options);
  }

  /**
   * Applies `fn` to the items of the iterables (zipped, as CPython does),
   * submitting everything at once, and yields the results in order.
   *
   * @param fn The function.
   * @param rest One or more iterables, optionally followed by `{ timeout, chunksize }`.
   * @returns The results, in order.
   * @throws {TimeoutError} From the iterator, when `timeout` passes first.
   */
  map<F extends TaskFunction>(
    fn: F | Target,
    ...rest: [...Iterable<unknown>[], ExecutorMapOptions] | Iterable<unknown>[]
  ): AsyncIterableIterator<TaskResult<F>> {
    const options: ExecutorMapOptions =
      rest.length > 0 && isOptions(rest[rest.length - 1])
        ? rest.pop() as ExecutorMapOptions
        : {};
    const iterables = rest as Iterable<unknown>[];
    checkSeconds(options.timeout, "timeout", "map");
    checkPositiveInteger(options.chunksize, "chunksize", "map");
    if (iterables.length === 0) {
      throw new TypeError(
        "Cannot map as at least one iterable must be given: current value is none",
      );
    }
    for (const [i, iterable] of iterables.entries()) {
      if (
        typeof (iterable as Partial<Iterable<unknown>>)?.[Symbol.iterator] !==
          "function"
      ) {
        throw new TypeError(
          `Cannot map as argument ${i + 1} must be iterable: current value is ${
            Deno.inspect(iterable)
          }`,
        );
      }
    }
    this.#assertOpen("map");
    const ref = poolRef(fn, "map");
    const columns = iterables.map((it) => [...it]);
    const length = Math.min(...columns.map((c) => c.length));
    const rows = Array.from({ length }, (_, i) => columns.map((c) => c[i]));
    const size = options.chunksize ?? 1;
    const futures: Future<unknown[]>[] = [];
    for (let i = 0; i < rows.length; i += size) {
      futures.push(
        this.#future(
          ref.url + "#" + ref.name,
          TaskMode.Starmap,
          rows.slice(i, i + size),
          "map",
        ),
      );
    }
    const deadline = options.timeout === undefined
      ? undefined
      : performance.now() + options.timeout * 1000;
    async function* results(): AsyncGenerator<TaskResult<F>, void, undefined> {
      try {
        for (const future of futures) {
          const left = deadline === undefined
            ? undefined
            : Math.max(0, deadline - performance.now()) / 1000;
          yield* (await future.result(left)) as TaskResult<F>[];
        }
      } finally {
        for (const future of futures) future.cancel();
      }
    }
    return results();
  }

  /**
   * Stops accepting work and, with `wait`, waits for the submitted work and
   * the workers to finish.
   *
   * @param options `wait` (default true), `cancelFutures` (default false).
   */
  async shutdown(
    options: { wait?: boolean; cancelFutures?: boolean } = {},
  ): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    if (cancelFutures) this.#engine.cancelQueued(new CancelledError());
    this.#engine.close();
    if (wait) {
      await this.#engine.drained();
      if (this.#engine.state === "closed") await this.#engine.exited();
    }
  }

  /** `await using` shuts down and waits (CPython's `with` block). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }
}

/** When {@linkcode wait} returns. */
export type ReturnWhen =
  | "FIRST_COMPLETED"
  | "FIRST_EXCEPTION"
  | "ALL_COMPLETED";

/** Return as soon as any future finishes or is cancelled. */
export const FIRST_COMPLETED: ReturnWhen = "FIRST_COMPLETED";
/** Return when any future raises, or when all are done. */
export const FIRST_EXCEPTION: ReturnWhen = "FIRST_EXCEPTION";
/** Return when all futures are done. */
export const ALL_COMPLETED: ReturnWhen = "ALL_COMPLETED";

function checkFutures(futures: unknown, what: string): Future<unknown>[] {
  const list = futures === null ||
      typeof (futures as Partial<Iterable<unknown>>)?.[Symbol.iterator] !==
        "function"
    ? undefined
    : [...(futures as Iterable<unknown>)];
  if (list === undefined || !list.every((f) => f instanceof Future)) {
    throw new TypeError(
      `Cannot ${what} as 'futures' must be an iterable of Future: current value is ${
        Deno.inspect(futures)
      }`,
    );
  }
  return [...new Set(list as Future<unknown>[])];
}

/**
 * Waits for futures (CPython's `concurrent.futures.wait`).
 *
 * @param futures The futures.
 * @param options `timeout` in seconds; `returnWhen` (default "ALL_COMPLETED").
 * @returns The done and not-done futures.
 *
 * @example
 * ```ts
 * import { FIRST_COMPLETED, ProcessPoolExecutor, wait } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const futures = [1, 2, 3].map((x) => executor.submit(square, x));
 * const { done } = await wait(futures, { returnWhen: FIRST_COMPLETED });
 * console.log(done.size >= 1); // true
 * ```
 */
export async function wait<R>(
  futures: Iterable<Future<R>>,
  options: { timeout?: number; returnWhen?: ReturnWhen } = {},
): Promise<{ done: Set<Future<R>>; notDone: Set<Future<R>> }> {
  const list = checkFutures(futures, "wait") as Future<R>[];
  const { timeout, returnWhen = ALL_COMPLETED } = options;
  checkSeconds(timeout, "timeout", "wait");
  if (![FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED].includes(returnWhen)) {
    throw new TypeError(
      `Cannot wait as 'returnWhen' must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED: current value is ${
        Deno.inspect(returnWhen)
      }`,
    );
  }
  const settled = (): boolean => {
    const done = list.filter((f) => f.done());
    if (done.length === list.length) return true;
    if (returnWhen === FIRST_COMPLETED) return done.length > 0;
    return returnWhen === FIRST_EXCEPTION && done.some((f) => f.failed());
  };
  const finished = (async () => {
    while (!settled()) {
      await new Promise<void>((resolve) => {
        let called = false;
        const once = () => {
          if (!called) {
            called = true;
            resolve();
          }
        };
        for (const f of list) if (!f.done()) f.addDoneCallback(once);
      });
    }
  })();
  await within(finished, timeout);
  const done = new Set(list.filter((f) => f.done()));
  return { done, notDone: new Set(list.filter((f) => !done.has(f))) };
}

/**
 * A {@linkcode Future} as {@linkcode asCompleted} yields it: the same object,
 * typed without `then`, because TypeScript types a `for await` value as
 * `Awaited<T>` and would otherwise present the future as its result.
 */
export type CompletedFuture<R> = Omit<Future<R>, "then">;

/**
 * Yields the futures as they complete (CPython's `as_completed`).
 *
 * @param futures The futures.
 * @param timeout Seconds, from the call, before iteration throws TimeoutError.
 * @returns The futures, in completion order.
 *
 * @example
 * ```ts
 * import { asCompleted, ProcessPoolExecutor } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const futures = [1, 2, 3].map((x) => executor.submit(square, x));
 * let total = 0;
 * for await (const future of asCompleted(futures)) {
 *   total += (await future.result()) as number;
 * }
 * console.log(total); // 14
 * ```
 */
export function asCompleted<R>(
  futures: Iterable<Future<R>>,
  timeout?: number,
): AsyncIterableIterator<CompletedFuture<R>> {
  const list = checkFutures(futures, "iterate as completed") as Future<R>[];
  checkSeconds(timeout, "timeout", "iterate as completed");
  const deadline = timeout === undefined
    ? undefined
    : performance.now() + timeout * 1000;
  const ready: Future<R>[] = [];
  let wake = Promise.withResolvers<void>();
  for (const f of list) {
    f.addDoneCallback(() => {
      ready.push(f);
      wake.resolve();
    });
  }
  let yielded = 0;
  // Written by hand: an async generator awaits whatever thenable it yields,
  // and a Future is thenable, so `yield future` would yield its result.
  const iterator: AsyncIterableIterator<CompletedFuture<R>> = {
    async next(): Promise<IteratorResult<CompletedFuture<R>>> {
      if (yielded === list.length) return { done: true, value: undefined };
      while (ready.length === 0) {
        const left = deadline === undefined
          ? undefined
          : Math.max(0, deadline - performance.now()) / 1000;
        if ((await within(wake.promise, left)) === null) {
          throw new TimeoutError(
            `${list.length - yielded} (of ${list.length}) futures unfinished`,
          );
        }
        wake = Promise.withResolvers();
      }
      yielded++;
      return { done: false, value: ready.shift()! };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
