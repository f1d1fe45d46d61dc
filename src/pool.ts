/**
 * `Pool`: a fixed set of worker processes that run tasks (CPython's
 * `multiprocessing.Pool`), and `AsyncResult`. Unlike CPython's, it never
 * hangs: a worker that dies mid-task fails that task and is replaced,
 * `terminate()` rejects pending work, and `imap` reads its input lazily.
 *
 * @module
 */

import { ProcessError } from "./errors.ts";
import { AsyncResult, type CallbackOptions } from "./async_result.ts";
import { engineOptions, PoolEngine } from "./_engine/engine.ts";
import type {
  CallArgs,
  ItemFunction,
  PoolOptions,
  TaskFunction,
  TaskOptions,
  TaskResult,
} from "./pool_options.ts";
import { kNoArgs, PoolCalls } from "./_engine/pool_calls.ts";
import { TaskMode } from "./_wire/protocol.ts";
import { poolWorkerName, startMethodOf } from "./_child/start_method.ts";

export { AsyncResult, type CallbackOptions };
export type * from "./pool_options.ts";

/**
 * A pool of worker processes (CPython's `multiprocessing.Pool`).
 *
 * Workers start at construction, in the background, one per event-loop turn:
 * creating a pool never freezes the caller, and every worker runs the
 * initializer even when no task comes (as CPython's). `await using pool = new Pool()` terminates the
 * pool at the end of the block, like CPython's `with Pool() as pool:`.
 *
 * @example Square numbers in parallel
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool } from "@dmp/multiprocessing";
 * await using pool = new Pool(4);
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * assert.deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
 * ```
 */
export class Pool {
  readonly #calls: PoolCalls;

  /**
   * Creates a pool.
   *
   * @param processes Number of workers. @default {cpuCount()}
   * @param options Initializer, maxTasksPerChild, permissions, atomics.
   * @throws {RangeError} A `processes` or `maxTasksPerChild` not a positive integer.
   * @throws {TypeError} An unknown option; a bad initializer, initargs,
   * permissions or `atomics`.
   * @throws {ProcessError} While a child imports this module (missing guard).
   *
   * @example Two workers, without the ring fast path
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(2, { atomics: "disabled" });
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * assert.equal(await pool.apply(square, [9]), 81);
   * ```
   */
  constructor(processes?: number, options: PoolOptions = {}) {
    const settings = engineOptions(processes ?? undefined, options, {
      name: poolWorkerName(startMethodOf(new.target)),
      count: "processes",
      onDeath: "replace",
      eager: true,
      method: startMethodOf(new.target),
    }, "create pool");
    const engine = new PoolEngine(settings, this);
    this.#calls = new PoolCalls(engine, settings.processes);
  }

  /**
   * The number of worker processes.
   *
   * @example Defaults to cpuCount()
   * ```ts
   * import assert from "node:assert/strict";
   * import { cpuCount, Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool();
   * assert.equal(pool.processes, cpuCount());
   * ```
   */
  get processes(): number {
    return this.#calls.processes;
  }

  /**
   * Applies `fn` to every item, in parallel, and returns the results in order.
   *
   * @param fn An exported function, or `"./module.ts#name"`.
   * @param iterable The items.
   * @param chunksize Items per task. @default {ceil(n / (4 × processes))}
   * @returns The results, in input order.
   * @throws {ProcessError} (rejects, as all here) Not running; a worker died.
   * @throws {TypeError} A bad iterable or chunksize, a function no module
   * exports, or items that cannot be cloned.
   * @throws {RangeError} A chunksize that is not a positive integer.
   * @throws {Error} (rejects) The first failing item's error, worker stack in `cause`.
   *
   * @example Square a range
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(2);
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * assert.deepEqual(await pool.map(square, [0, 1, 2, 3], 2), [0, 1, 4, 9]);
   * ```
   */
  map<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]>,
    chunksize?: number,
  ): Promise<TaskResult<F>[]> {
    return this.#calls.chunks(fn, iterable, chunksize, TaskMode.Map);
  }

  /**
   * {@linkcode Pool.map} without waiting: returns an {@linkcode AsyncResult}.
   *
   * @param fn The function.
   * @param iterable The items.
   * @param options chunksize, callback, errorCallback.
   * @returns The pending list of results.
   * @throws {ProcessError | TypeError | RangeError} As Pool.map, but at once.
   *
   * @example Get the list later, with a callback
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(2);
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const seen: unknown[] = [];
   * await pool.mapAsync(square, [2, 3], { callback: (r) => seen.push(r) }).wait();
   * assert.deepEqual(seen, [[4, 9]]);
   * ```
   */
  mapAsync<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]>,
    options: { chunksize?: number } & CallbackOptions<TaskResult<F>[]> = {},
  ): AsyncResult<TaskResult<F>[]> {
    return this.#calls.mapAsync(fn, iterable, options, TaskMode.Map);
  }

  /**
   * Like {@linkcode Pool.map}, but each item is an argument list: `fn(...item)`.
   *
   * @param fn The function.
   * @param iterable Argument lists.
   * @param chunksize Items per task.
   * @returns The results, in input order.
   * @throws {TypeError} For an item that is not an array.
   * @throws {ProcessError | TypeError | RangeError | Error} As {@linkcode Pool.map} does.
   *
   * @example Powers of argument pairs
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(2);
   * const power = new URL("../examples/002_parallelism_with_multiprocessing/starmap_power.ts#power", import.meta.url);
   * assert.deepEqual(await pool.starmap(power, [[2, 3], [3, 2]]), [8, 9]);
   * ```
   */
  starmap<F extends TaskFunction>(
    fn: F | string | URL,
    iterable: Iterable<Readonly<Parameters<F>>>,
    chunksize?: number,
  ): Promise<TaskResult<F>[]> {
    return this.#calls.chunks(fn, iterable, chunksize, TaskMode.Starmap);
  }

  /**
   * {@linkcode Pool.starmap} without waiting.
   *
   * @param fn The function.
   * @param iterable Argument lists.
   * @param options chunksize, callback, errorCallback.
   * @returns The pending list of results.
   * @throws {ProcessError | TypeError | RangeError} As starmap, but at once.
   *
   * @example Powers, later
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(1);
   * const power = new URL("../examples/002_parallelism_with_multiprocessing/starmap_power.ts#power", import.meta.url);
   * assert.deepEqual(await pool.starmapAsync(power, [[2, 4]]).get(), [16]);
   * ```
   */
  starmapAsync<F extends TaskFunction>(
    fn: F | string | URL,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: { chunksize?: number } & CallbackOptions<TaskResult<F>[]> = {},
  ): AsyncResult<TaskResult<F>[]> {
    return this.#calls.mapAsync(fn, iterable, options, TaskMode.Starmap);
  }

  /**
   * Applies `fn` lazily: reads the (sync or async) iterable a bounded amount
   * ahead and yields results in input order as they become ready.
   *
   * @param fn The function.
   * @param iterable The items; it may be infinite.
   * @param chunksize Items per task. @default {1}
   * @returns The results, in order.
   * @throws {ProcessError | TypeError | RangeError} (from the iterator) As
   * {@linkcode Pool.map} does.
   * @throws {Error} (from the iterator) A failing item's error, at its position.
   *
   * @example Stop after three results
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(2);
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const out: unknown[] = [];
   * for await (const r of pool.imap(square, [1, 2, 3, 4])) if (out.push(r) === 3) break;
   * assert.deepEqual(out, [1, 4, 9]);
   * ```
   */
  imap<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#calls.lazy(fn, iterable, chunksize, true);
  }

  /**
   * Like {@linkcode Pool.imap}, but yields each result as soon as it is ready.
   *
   * @param fn The function.
   * @param iterable The items.
   * @param chunksize Items per task. @default {1}
   * @returns The results, in completion order.
   * @throws {ProcessError | TypeError | RangeError | Error} (from the
   * iterator) As {@linkcode Pool.imap} does.
   *
   * @example Every result, in any order
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(2);
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const out = await Array.fromAsync(pool.imapUnordered(square, [1, 2, 3]));
   * assert.deepEqual(new Set(out), new Set([1, 4, 9]));
   * ```
   */
  imapUnordered<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    const ordered = false;
    return this.#calls.lazy(fn, iterable, chunksize, ordered);
  }

  /**
   * Runs `fn(...args)` in a worker and waits for the result.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options Per-task signal and timeout.
   * @returns The result.
   * @throws {ProcessError} (rejects, as all here) Not running; its worker died.
   * @throws {TypeError} Bad args, signal or timeout, or an unexported function.
   * @throws {RangeError} A negative timeout.
   * @throws {TimeoutError} (rejects) When the timeout passes first.
   * @throws {Error} (rejects) The task's own error, or the signal's reason.
   *
   * @example Raise to a power in a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(1);
   * const power = new URL("../examples/002_parallelism_with_multiprocessing/starmap_power.ts#power", import.meta.url);
   * assert.equal(await pool.apply(power, [2, 10], { timeout: 30 }), 1024);
   * ```
   */
  apply<F extends TaskFunction>(
    fn: F | string | URL,
    ...[args = kNoArgs as Parameters<F>, options]: CallArgs<F, TaskOptions>
  ): Promise<TaskResult<F>> {
    return this.#calls.apply(fn, args, options);
  }

  /**
   * {@linkcode Pool.apply} without waiting.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options callback, errorCallback, signal, timeout.
   * @returns The pending result.
   * @throws {ProcessError | TypeError | RangeError} As apply, but at once.
   *
   * @example A result and its callback
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@dmp/multiprocessing";
   * await using pool = new Pool(1);
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const result = pool.applyAsync(square, [5], { callback: (r) => assert.equal(r, 25) });
   * assert.equal(await result.get(), 25);
   * ```
   */
  applyAsync<F extends TaskFunction>(
    fn: F | string | URL,
    ...[args = kNoArgs as Parameters<F>, options]: CallArgs<
      F,
      CallbackOptions<TaskResult<F>> & TaskOptions
    >
  ): AsyncResult<TaskResult<F>> {
    return this.#calls.applyAsync(fn, args, options);
  }

  /**
   * Accepts no more work; workers exit once the submitted work is done.
   *
   * @example Close, then join
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, ProcessError } from "@dmp/multiprocessing";
   * const pool = new Pool(1);
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const result = pool.applyAsync(square, [3]);
   * pool.close();
   * await assert.rejects(pool.apply(square, [4]), ProcessError);
   * await pool.join();
   * assert.equal(await result.get(), 9);
   * ```
   */
  close(): void {
    this.#calls.close();
  }

  /**
   * Stops the workers now: pending work fails (CPython leaves it pending).
   *
   * @example Pending work fails
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, ProcessError } from "@dmp/multiprocessing";
   * const pool = new Pool(1);
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * const result = pool.apply(square, [3]);
   * pool.terminate();
   * await assert.rejects(result, ProcessError);
   * await pool.join();
   * ```
   */
  terminate(): void {
    this.#calls.engine.terminate(
      new ProcessError("Cannot complete task as the pool was terminated"),
    );
  }

  /**
   * Waits for the workers to exit, after close() or terminate().
   *
   * @throws {ProcessError} While the pool is still running.
   *
   * @example Join a running pool
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, ProcessError } from "@dmp/multiprocessing";
   * const pool = new Pool(1);
   * await assert.rejects(pool.join(), ProcessError);
   * pool.close();
   * await pool.join();
   * ```
   */
  join(): Promise<void> {
    return this.#calls.join();
  }

  /**
   * Terminates the pool (as CPython's `with Pool() as pool:` does on exit).
   *
   * @example Terminate at the end of a block
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, ProcessError } from "@dmp/multiprocessing";
   * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
   * let outer: Pool;
   * { await using pool = new Pool(1); outer = pool; }
   * await assert.rejects(outer.apply(square, [1]), ProcessError);
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.#calls.engine.exited();
  }
}
