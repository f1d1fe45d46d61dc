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
import type { WorkerPermissions } from "./_core/permissions.ts";
import { checkTask, engineOptions, PoolEngine } from "./_engine/engine.ts";
import { FutureTask } from "./_engine/future_access.ts";
import { mapResults } from "./_engine/map_results.ts";
import { Future } from "./futures.ts";
import type { PoolOptions, TaskFunction, TaskResult } from "./pool.ts";
import { TaskMode } from "./_wire/protocol.ts";
import { reduce } from "./reduction.ts";
import type { Target } from "./_core/target.ts";
import { checkPositiveInteger, checkSeconds } from "./_core/validate.ts";
import { poolRef } from "./_core/util.ts";
import { startMethodOf } from "./_child/start_method.ts";
import { checkKnownKeys } from "./_core/known_keys.ts";

/** Options of {@linkcode ProcessPoolExecutor}. */
export interface ExecutorOptions extends Pick<PoolOptions, "resourceLimits"> {
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
  /**
   * "enabled": small JSON-safe calls and results go through
   * SharedArrayBuffer rings (fast); "disabled": everything by postMessage,
   * as piscina's `atomics: "disabled"`. @default {"enabled"}
   */
  atomics?: "enabled" | "disabled";
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

/**
 * The iterables {@linkcode ProcessPoolExecutor.map} zips for a function with
 * parameters `P`: one iterable per parameter.
 */
export type IterablesOf<P extends unknown[]> = {
  [K in keyof P]: Iterable<P[K]>;
};

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
    args: Parameters<F>,
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
    const options: ExecutorMapOptions =
      rest.length > 0 && isOptions(rest[rest.length - 1])
        ? rest.pop() as ExecutorMapOptions
        : {};
    const iterables = rest as unknown as Iterable<unknown>[];
    checkKnownKeys(options, ["timeout", "chunksize"], "map");
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
    // Checks fn now (a TypeError from map() itself); #future() finds the
    // same reference in poolRef()'s cache.
    poolRef(fn, "map");
    const columns = iterables.map((it) => [...it]);
    const length = Math.min(...columns.map((c) => c.length));
    const rows = Array.from({ length }, (_, i) => columns.map((c) => c[i]));
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
    this.#shutdown = true;
    if (cancelFutures) this.#engine.cancelQueued(new CancelledError());
    this.#engine.close();
    if (wait) {
      await this.#engine.drained();
      if (this.#engine.state === "closed") await this.#engine.exited();
    }
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
