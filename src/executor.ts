/**
 * `ProcessPoolExecutor`: CPython's `concurrent.futures` executor on worker
 * processes. Its futures, `wait` and `asCompleted` are in `futures.ts`.
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
} from "./errors.ts";
import { checkTask, engineOptions, PoolEngine } from "./_engine/engine.ts";
import { FutureTask } from "./_engine/future_access.ts";
import { mapArguments, mapResults, zipRows } from "./_engine/executor_map.ts";
import { Future } from "./futures.ts";
import type { TaskFunction, TaskResult } from "./pool.ts";
import type {
  ExecutorMapOptions,
  ExecutorOptions,
  IterablesOf,
  SubmitOptions,
} from "./pool_options.ts";
import { TaskMode } from "./_wire/protocol.ts";
import { reduce } from "./reduction.ts";
import { poolRef } from "./_core/util.ts";
import { startMethodOf } from "./_child/start_method.ts";
import { checkKnownKeys } from "./_core/known_keys.ts";
import { checkBoolean } from "./_core/validate.ts";

export type {
  ExecutorMapOptions,
  ExecutorOptions,
  IterablesOf,
  SubmitOptions,
} from "./pool_options.ts";

/**
 * A pool of worker processes behind CPython's `concurrent.futures`
 * interface. A worker that dies abruptly breaks the executor: every pending
 * future, and every later submit, fails with {@linkcode BrokenProcessPoolError}.
 *
 * @example Map a function over items, in order
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const results: unknown[] = [];
 * for await (const result of executor.map(square, [1, 2, 3])) results.push(result);
 * assert.deepEqual(results, [1, 4, 9]);
 * ```
 */
export class ProcessPoolExecutor {
  readonly #engine: PoolEngine;
  readonly #maxWorkers: number;
  #shutdown = false;

  /**
   * Creates an executor. No worker starts until work is submitted.
   *
   * @param options maxWorkers, maxTasksPerChild, initializer, initargs,
   * permissions, atomics.
   * @throws {RangeError} For a maxWorkers or maxTasksPerChild that is not a positive integer.
   * @throws {TypeError} For a maxWorkers that is not a number, initargs that
   * are not an array, a bad initializer, permissions or `atomics`, an unknown option.
   * @throws {ProcessError} While a child is importing this module (missing guard).
   *
   * @example Without the ring fast path
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * await using executor = new ProcessPoolExecutor({ maxWorkers: 1, atomics: "disabled" });
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * assert.equal(await executor.submit(square, 5), 25);
   * ```
   */
  constructor(options: ExecutorOptions = {}) {
    if (typeof options === "number") {
      // CPython's ProcessPoolExecutor(4): here the count is an option.
      throw new TypeError(
        `Cannot create executor as 'options' must be an object: current value is ${options} (the worker count is { maxWorkers: ${options} })`,
      );
    }
    const settings = engineOptions(options?.maxWorkers, options, {
      name: "ProcessPoolExecutorWorker",
      count: "maxWorkers",
      onDeath: "break",
      eager: false,
      method: startMethodOf(new.target),
    }, "create executor");
    this.#maxWorkers = settings.processes;
    this.#engine = new PoolEngine(settings, this);
  }

  /**
   * The most workers this executor runs at once.
   *
   * @example Defaults to cpuCount()
   * ```ts
   * import assert from "node:assert/strict";
   * import { cpuCount, ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * await using executor = new ProcessPoolExecutor();
   * assert.equal(executor.maxWorkers, cpuCount());
   * ```
   */
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
    task.running = () => this.#engine.hasStarted(task);
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
   * @throws {TypeError} For a function no module exports, or arguments that
   * cannot be cloned.
   *
   * @example Submit a call
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * assert.equal(await executor.submit(square, 4).result(), 16);
   * ```
   */
  submit<F extends TaskFunction>(
    fn: F | string | URL,
    ...args: Parameters<F>
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
   * @returns The future result; an abort or the timeout fails it with its
   * own reason.
   * @throws {ProcessError} After shutdown().
   * @throws {BrokenProcessPoolError} Once a worker has died abruptly.
   * @throws {TypeError} For args that are not an array, a bad signal or
   * timeout, a function no module exports, or arguments that cannot be cloned.
   * @throws {RangeError} For a negative timeout.
   *
   * @example A call with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const future = executor.submitWith(square, [3], { timeout: 30 });
   * assert.equal(await future, 9);
   * ```
   */
  submitWith<F extends TaskFunction>(
    fn: F | string | URL,
    args: Readonly<Parameters<F>>,
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
   * @throws {TypeError} For no iterable, an argument that is not iterable, a
   * timeout or chunksize that is not a number, a function no module
   * exports, or items that cannot be cloned.
   * @throws {RangeError} For a chunksize that is not a positive integer.
   * @throws {ProcessError} After shutdown().
   * @throws {BrokenProcessPoolError} Once a worker has died abruptly.
   * @throws {TimeoutError} From the iterator, when `timeout` passes first.
   * @throws {Error} From the iterator, a call's own error at its position.
   *
   * @example Zip two iterables, in chunks
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
   * const power = new URL("../examples/002_parallelism_with_multiprocessing/starmap_power.ts#power", import.meta.url);
   * const results: unknown[] = [];
   * for await (const r of executor.map(power, [2, 3, 4], [3, 2, 1], { chunksize: 2 })) {
   *   results.push(r);
   * }
   * assert.deepEqual(results, [8, 9, 4]);
   * ```
   */
  map<F extends TaskFunction>(
    fn: F | string | URL,
    ...rest: IterablesOf<Parameters<F>> | [
      ...IterablesOf<Parameters<F>>,
      ExecutorMapOptions,
    ]
  ): AsyncIterableIterator<TaskResult<F>> {
    const { options, iterables } = mapArguments(rest);
    this.#assertOpen("map");
    // Checks fn now (a TypeError from map() itself); #future() finds the
    // same reference in poolRef()'s cache.
    poolRef(fn, "map");
    const rows = zipRows(iterables);
    const size = options.chunksize ?? 1;
    const futures: Future<unknown[]>[] = [];
    for (let i = 0; i < rows.length; i += size) {
      futures.push(
        this.#future(
          fn,
          TaskMode.Starmap,
          rows.slice(i, i + size),
          "map",
        ),
      );
    }
    return mapResults(futures, options.timeout) as AsyncIterableIterator<
      TaskResult<F>
    >;
  }

  /**
   * Stops accepting work and, with `wait`, waits for the submitted work and
   * the workers to finish.
   *
   * @param options `wait` (default true), `cancelFutures` (default false:
   * with true, calls no worker has taken yet are cancelled).
   *
   * @example Refuse new work
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProcessError, ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const future = executor.submit(square, 2);
   * await executor.shutdown();
   * assert.equal(future.done(), true);
   * assert.throws(() => executor.submit(square, 3), ProcessError);
   * ```
   */
  async shutdown(
    options: { wait?: boolean; cancelFutures?: boolean } = {},
  ): Promise<void> {
    checkKnownKeys(options, ["wait", "cancelFutures"], "shut down");
    const { wait = true, cancelFutures = false } = options;
    checkBoolean(wait, "wait", "shut down");
    checkBoolean(cancelFutures, "cancelFutures", "shut down");
    this.#shutdown = true;
    if (cancelFutures) this.#engine.cancelQueued(new CancelledError());
    this.#engine.close();
    if (wait) {
      await this.#engine.drained();
      if (this.#engine.state === "closed") await this.#engine.exited();
    }
  }

  /**
   * Ends every worker at once (CPython 3.14's `terminate_workers()`): the
   * calls no worker has taken are cancelled, the running ones fail with
   * {@linkcode BrokenProcessPoolError}, and the executor takes no more work.
   * The way out of a call that never returns, which `shutdown()` waits for.
   *
   * @example End a call that never returns
   * ```ts
   * import assert from "node:assert/strict";
   * import { BrokenProcessPoolError, ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   * const forever = new URL("../tests/fixtures/pool_targets.ts#waitForever", import.meta.url);
   * const running = new Int32Array(new SharedArrayBuffer(4));
   * const stuck = executor.submit(forever, running);
   * await Atomics.waitAsync(running, 0, 0).value; // it has started
   * executor.terminateWorkers();
   * await assert.rejects(stuck.result(), BrokenProcessPoolError);
   * await executor.shutdown();
   * ```
   */
  terminateWorkers(): void {
    this.#endWorkers("terminated");
  }

  /**
   * {@linkcode ProcessPoolExecutor.terminateWorkers} (CPython 3.14's
   * `kill_workers()`): Deno ends a worker one way only.
   *
   * @example Kill the workers
   * ```ts
   * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   * executor.killWorkers();
   * await executor.shutdown();
   * ```
   */
  killWorkers(): void {
    this.#endWorkers("killed");
  }

  #endWorkers(how: string): void {
    this.#shutdown = true;
    this.#engine.cancelQueued(new CancelledError());
    this.#engine.terminate(
      new BrokenProcessPoolError(
        `Cannot complete call as the executor's workers were ${how}`,
      ),
    );
  }

  /**
   * `await using` shuts down and waits (CPython's `with` block).
   *
   * @example Shut down at the end of a block
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProcessPoolExecutor } from "@dmp/multiprocessing";
   *
   * let future;
   * {
   *   await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   *   const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   *   future = executor.submit(square, 7);
   * }
   * assert.equal(future.done(), true);
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }
}
