/**
 * `Pool`: a fixed set of worker processes that run tasks (CPython's
 * `multiprocessing.Pool`), and `AsyncResult`.
 *
 * ```
 *  pool.map(fn, items) ─▶ chunks ─▶ engine queue ─▶ ready workers (rings or postMessage)
 *  pool.imap(fn, iter) ─▶ reads ahead at most 2 × processes chunks ─▶ same queue
 *  AsyncResult / Promise ◀── results (in order for map/imap, as ready for imapUnordered)
 * ```
 *
 * Differences from CPython, all in the direction of "never hang": a worker
 * that dies mid-task fails that task with a clear error and is replaced
 * (CPython's Pool waits forever); `terminate()` rejects pending work instead
 * of leaving it pending; `imap` reads its input lazily instead of consuming
 * it all up front.
 *
 * @module
 */

import { ProcessError, TimeoutError } from "./errors.ts";
import type { WorkerPermissions } from "./_core/permissions.ts";
import {
  checkTask,
  engineOptions,
  PoolEngine,
  Task,
} from "./_engine/engine.ts";
import { TaskMode } from "./_wire/protocol.ts";
import { reduce } from "./reduction.ts";
import type { Target, TargetRef } from "./_core/target.ts";
import {
  checkPositiveInteger,
  checkSeconds,
  defaultChunksize,
  poolRef,
  within,
} from "./_core/util.ts";
import { assertNotBootstrapping, cpuCount } from "./process.ts";

/** Options of {@linkcode Pool}. */
export interface PoolOptions {
  /** Run in each worker before its first task (an exported function). */
  initializer?: Target;
  /** Arguments of the initializer. @default {[]} */
  initargs?: unknown[];
  /** Replace a worker after it has run this many tasks. @default {undefined} */
  maxTasksPerChild?: number;
  /** Deno permissions of every worker. @default {"inherit"} */
  permissions?: WorkerPermissions;
}

/** Per-task options of {@linkcode Pool.apply} and {@linkcode Pool.applyAsync}. */
export interface TaskOptions {
  /** Aborting it cancels the task (and ends its worker if it runs). */
  signal?: AbortSignal;
  /** Seconds before the task is cancelled with a TimeoutError. */
  timeout?: number;
}

/** Callbacks of the `…Async` methods. */
export interface CallbackOptions<R> {
  /** Called with the result when the task succeeds. */
  callback?: (result: R) => void;
  /** Called with the error when the task fails. */
  errorCallback?: (error: Error) => void;
}

/** Any function a pool can run (it must be exported to be found). */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/** What a task of `F` resolves to: its return value, awaited. */
export type TaskResult<F> = F extends (...args: never[]) => infer R ? Awaited<R>
  : unknown;

/** The default argument list: shared, as nothing ever writes to it. */
const kNoArgs: unknown[] = Object.freeze([]) as unknown as unknown[];

/** Settles an AsyncResult made without a promise (set by the class). */
let settleResult: (
  result: AsyncResult<unknown>,
  value: unknown,
  error: Error | undefined,
) => void;

/** A task whose outcome settles a promise (apply, map chunks, imap). */
class PromiseTask extends Task {
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

/** A task that settles its AsyncResult directly (applyAsync): no promise. */
class ResultTask extends Task {
  readonly #result: AsyncResult<unknown>;

  constructor(fn: TargetRef, payload: unknown, result: AsyncResult<unknown>) {
    super(fn, TaskMode.Apply, payload);
    this.#result = result;
  }

  finish(value: unknown, error?: Error): void {
    settleResult(this.#result, value, error);
  }
}

/**
 * The pending result of an `…Async` call (CPython's `AsyncResult`).
 *
 * @example
 * ```ts
 * import { Pool } from "@dmp/multiprocessing";
 *
 * await using pool = new Pool(2);
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const result = pool.applyAsync(square, [7]);
 * console.log(await result.get(10)); // 49
 * console.log(result.successful()); // true
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
   * @throws {TimeoutError} When it is not ready in time.
   * @throws {Error} The task's own error (same name and message, worker stack in `cause`).
   */
  get(timeout?: number): Promise<R> {
    try {
      checkSeconds(timeout, "timeout", "get result");
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeout === undefined || this.#state !== "pending") {
      return this.#outcome();
    }
    return this.#getWithin(timeout);
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
   */
  async wait(timeout?: number): Promise<void> {
    checkSeconds(timeout, "timeout", "wait for result");
    await within(this.#outcome().catch(() => {}), timeout);
  }

  /**
   * Whether the task has finished.
   *
   * @returns `true` once settled.
   */
  ready(): boolean {
    return this.#state !== "pending";
  }

  /**
   * Whether the task finished without error.
   *
   * @returns `true` when it succeeded.
   * @throws {ProcessError} When it is not ready yet (CPython's ValueError).
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

/**
 * A pool of worker processes (CPython's `multiprocessing.Pool`).
 *
 * Workers start in the background, one per event-loop turn, so creating a
 * pool never freezes the caller; the first task runs as soon as the first
 * worker is up. `await using pool = new Pool()` terminates the pool at the
 * end of the block, like CPython's `with Pool() as pool:`.
 *
 * @example Square numbers in parallel
 * ```ts
 * import { Pool } from "@dmp/multiprocessing";
 *
 * await using pool = new Pool(4);
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * ```
 */
export class Pool {
  readonly #engine: PoolEngine;
  readonly #processes: number;

  /**
   * Creates a pool.
   *
   * @param processes Number of workers. @default {cpuCount()}
   * @param options Initializer, maxTasksPerChild, permissions.
   * @throws {RangeError} When `processes` or `maxTasksPerChild` is not a positive integer.
   * @throws {TypeError} For a bad initializer or permissions.
   * @throws {ProcessError} While a child is importing this module (missing guard).
   */
  constructor(processes?: number, options: PoolOptions = {}) {
    assertNotBootstrapping();
    if (processes !== undefined && processes !== null) {
      checkPositiveInteger(processes, "processes", "create pool");
    }
    this.#processes = processes ?? cpuCount();
    this.#engine = new PoolEngine(
      engineOptions(this.#processes, options, {
        name: "SpawnPoolWorker",
        onDeath: "replace",
        eager: true,
      }, "create pool"),
    );
  }

  /** The number of worker processes. */
  get processes(): number {
    return this.#processes;
  }

  #assertRunning(what: string): void {
    if (this.#engine.state !== "running") {
      const why = this.#engine.state === "broken"
        ? `it is broken (${this.#engine.brokenBy?.message})`
        : `it is ${this.#engine.state}`;
      throw new ProcessError(
        `Cannot ${what} as the pool is not running: ${why}`,
      );
    }
  }

  #run(
    ref: TargetRef,
    mode: TaskMode,
    payload: unknown,
    options?: TaskOptions,
  ): Promise<unknown> {
    const task = new PromiseTask(ref, mode, payload);
    this.#engine.submit(task, options);
    return task.promise;
  }

  #chunks(
    fn: unknown,
    iterable: Iterable<unknown>,
    chunksize: number | undefined,
    mode: TaskMode,
    what: string,
  ) {
    this.#assertRunning(what);
    const ref = poolRef(fn, what);
    checkPositiveInteger(chunksize, "chunksize", what);
    if (
      iterable === null ||
      typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(
        `Cannot ${what} as 'iterable' must be iterable: current value is ${
          Deno.inspect(iterable)
        }`,
      );
    }
    const items = Array.isArray(iterable) ? iterable : [...iterable];
    if (mode === TaskMode.Starmap) {
      items.forEach((args, i) => {
        if (!Array.isArray(args)) {
          throw new TypeError(
            `Cannot ${what} as item ${i} must be an array of arguments: current value is ${
              Deno.inspect(args)
            }`,
          );
        }
      });
    }
    const size = chunksize ?? defaultChunksize(items.length, this.#processes);
    const reduced = reduce(items, "iterable", what) as unknown[];
    const tasks: Promise<unknown>[] = [];
    for (let i = 0; i < reduced.length; i += size) {
      tasks.push(this.#run(ref, mode, reduced.slice(i, i + size)));
    }
    return Promise.all(tasks).then((chunks) => (chunks as unknown[][]).flat(1));
  }

  /**
   * Applies `fn` to every item, in parallel, and returns the results in order.
   *
   * @param fn An exported function, or `"./module.ts#name"`.
   * @param iterable The items.
   * @param chunksize Items per task. @default {ceil(n / (4 × processes))}
   * @returns The results, in input order.
   * @throws {Error} The first failing item's error (same name and message).
   */
  map<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>[0]>,
    chunksize?: number,
  ): Promise<TaskResult<F>[]> {
    return this.#chunks(
      fn,
      iterable,
      chunksize,
      TaskMode.Map,
      "map",
    ) as Promise<TaskResult<F>[]>;
  }

  /**
   * {@linkcode Pool.map} without waiting: returns an {@linkcode AsyncResult}.
   *
   * @param fn The function.
   * @param iterable The items.
   * @param options chunksize, callback, errorCallback.
   * @returns The pending list of results.
   */
  mapAsync<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>[0]>,
    options: { chunksize?: number } & CallbackOptions<TaskResult<F>[]> = {},
  ): AsyncResult<TaskResult<F>[]> {
    const promise = this.#chunks(
      fn,
      iterable,
      options.chunksize,
      TaskMode.Map,
      "map",
    );
    return new AsyncResult(promise as Promise<TaskResult<F>[]>, options);
  }

  /**
   * Like {@linkcode Pool.map}, but each item is an argument list: `fn(...item)`.
   *
   * @param fn The function.
   * @param iterable Argument lists.
   * @param chunksize Items per task.
   * @returns The results, in input order.
   */
  starmap<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>>,
    chunksize?: number,
  ): Promise<TaskResult<F>[]> {
    return this.#chunks(
      fn,
      iterable,
      chunksize,
      TaskMode.Starmap,
      "starmap",
    ) as Promise<TaskResult<F>[]>;
  }

  /**
   * {@linkcode Pool.starmap} without waiting.
   *
   * @param fn The function.
   * @param iterable Argument lists.
   * @param options chunksize, callback, errorCallback.
   * @returns The pending list of results.
   */
  starmapAsync<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>>,
    options: { chunksize?: number } & CallbackOptions<TaskResult<F>[]> = {},
  ): AsyncResult<TaskResult<F>[]> {
    const promise = this.#chunks(
      fn,
      iterable,
      options.chunksize,
      TaskMode.Starmap,
      "starmap",
    );
    return new AsyncResult(promise as Promise<TaskResult<F>[]>, options);
  }

  async *#lazy(
    fn: unknown,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    chunksize: number | undefined,
    ordered: boolean,
    what: string,
  ): AsyncGenerator<unknown, void, undefined> {
    this.#assertRunning(what);
    const ref = poolRef(fn, what);
    checkPositiveInteger(chunksize, "chunksize", what);
    const size = chunksize ?? 1;
    const source = iterable as Partial<
      AsyncIterable<unknown> & Iterable<unknown>
    >;
    const iterator = typeof source?.[Symbol.asyncIterator] === "function"
      ? source[Symbol.asyncIterator]!()
      : typeof source?.[Symbol.iterator] === "function"
      ? source[Symbol.iterator]!()
      : undefined;
    if (iterator === undefined) {
      throw new TypeError(
        `Cannot ${what} as 'iterable' must be iterable: current value is ${
          Deno.inspect(iterable)
        }`,
      );
    }
    // Bounded read-ahead: at most this many chunks are in flight or waiting
    // to be yielded, whatever the size of the input.
    const window = 2 * this.#processes;
    type Slot = {
      promise: Promise<unknown[]>;
      done: boolean;
      value?: unknown[];
      error?: unknown;
    };
    const slots: Slot[] = [];
    let exhausted = false;
    let wake = Promise.withResolvers<void>();
    const fill = async () => {
      while (!exhausted && slots.length < window) {
        const chunk: unknown[] = [];
        while (chunk.length < size) {
          const next = await iterator.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          chunk.push(next.value);
        }
        if (chunk.length === 0) break;
        this.#assertRunning(what);
        const payload = reduce(chunk, "iterable", what);
        const slot: Slot = { done: false, promise: undefined as never };
        slot.promise = this.#run(ref, TaskMode.Map, payload) as Promise<
          unknown[]
        >;
        slot.promise.then(
          (value) => {
            slot.done = true;
            slot.value = value;
            wake.resolve();
          },
          (error) => {
            slot.done = true;
            slot.error = error;
            wake.resolve();
          },
        );
        slots.push(slot);
      }
    };
    try {
      await fill();
      while (slots.length > 0) {
        let index = 0;
        if (ordered) {
          await slots[0].promise.catch(() => {});
        } else {
          while ((index = slots.findIndex((s) => s.done)) < 0) {
            await wake.promise;
            wake = Promise.withResolvers();
          }
        }
        const [slot] = slots.splice(index, 1);
        if (slot.error !== undefined) throw slot.error;
        await fill();
        yield* slot.value!;
      }
    } finally {
      if (!exhausted) await iterator.return?.();
    }
  }

  /**
   * Applies `fn` lazily: reads the (sync or async) iterable a bounded amount
   * ahead and yields results in input order as they become ready.
   *
   * @param fn The function.
   * @param iterable The items; it may be infinite.
   * @param chunksize Items per task. @default {1}
   * @returns The results, in order.
   */
  imap<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#lazy(
      fn,
      iterable,
      chunksize,
      true,
      "imap",
    ) as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * Like {@linkcode Pool.imap}, but yields each result as soon as it is ready.
   *
   * @param fn The function.
   * @param iterable The items.
   * @param chunksize Items per task. @default {1}
   * @returns The results, in completion order.
   */
  imapUnordered<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#lazy(
      fn,
      iterable,
      chunksize,
      false,
      "imapUnordered",
    ) as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * Runs `fn(...args)` in a worker and waits for the result.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options Per-task signal and timeout.
   * @returns The result.
   */
  apply<F extends TaskFunction>(
    fn: F | Target,
    args: Parameters<F> | unknown[] = kNoArgs,
    options?: TaskOptions,
  ): Promise<TaskResult<F>> {
    const ref = this.#checkApply(fn, args, options, "apply");
    return this.#run(
      ref,
      TaskMode.Apply,
      reduce(args, "args", "apply"),
      options,
    ) as Promise<TaskResult<F>>;
  }

  #checkApply(
    fn: unknown,
    args: unknown,
    options: TaskOptions | undefined,
    what: string,
  ): TargetRef {
    this.#assertRunning(what);
    const ref = poolRef(fn, what);
    checkTask(args, options, what);
    return ref;
  }

  /**
   * {@linkcode Pool.apply} without waiting.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options callback, errorCallback, signal, timeout.
   * @returns The pending result.
   */
  applyAsync<F extends TaskFunction>(
    fn: F | Target,
    args: Parameters<F> | unknown[] = kNoArgs,
    options?: CallbackOptions<TaskResult<F>> & TaskOptions,
  ): AsyncResult<TaskResult<F>> {
    const ref = this.#checkApply(fn, args, options, "applyAsync");
    const payload = reduce(args, "args", "applyAsync");
    const result = new AsyncResult<TaskResult<F>>(undefined, options);
    this.#engine.submit(
      new ResultTask(ref, payload, result as AsyncResult<unknown>),
      options,
    );
    return result;
  }

  /** Accepts no more work; workers exit once the submitted work is done. */
  close(): void {
    this.#engine.close();
  }

  /**
   * Stops the workers now. Pending and running work fails with a
   * ProcessError (CPython leaves it pending forever).
   */
  terminate(): void {
    this.#engine.terminate(
      new ProcessError("Cannot complete task as the pool was terminated"),
    );
  }

  /**
   * Waits for the workers to exit, after close() or terminate().
   *
   * @throws {ProcessError} While the pool is still running.
   */
  async join(): Promise<void> {
    if (this.#engine.state === "running") {
      throw new ProcessError(
        "Cannot join pool as it is still running: call close() or terminate() first",
      );
    }
    if (this.#engine.state === "closed") await this.#engine.drained();
    await this.#engine.exited();
  }

  /** Terminates the pool (as CPython's `with Pool() as pool:` does on exit). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.#engine.exited();
  }
}
