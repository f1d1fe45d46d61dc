/**
 * `ClusterPool`: the surface of `Pool` over a cluster of hosts, each
 * running an agent (`startAgent`), through a NATS JetStream work queue.
 *
 * @module
 */

import { ProcessError } from "../errors.ts";
import { AsyncResult, type CallbackOptions } from "../async_result.ts";
import type { TaskFunction, TaskOptions, TaskResult } from "../pool_options.ts";
import type { CallArgs, ItemFunction } from "../pool_options.ts";
import type { ClusterPoolOptions } from "./_nats.ts";
import type { ClusterClient, ClusterStats } from "./_client.ts";
import { connectClient } from "./_connect.ts";
import {
  asyncOptions,
  ClusterCalls,
  deferred,
  type FunctionRef,
  mapAsyncChunksize,
} from "./_calls.ts";
import { rejecting } from "../_core/util.ts";

export type { ClusterStats } from "./_client.ts";
export type { ClusterPoolOptions } from "./_nats.ts";

/**
 * A pool whose workers are the processes of the agents of a cluster.
 * Functions travel by reference (module path relative to the root, export
 * name, hash of the module's source); each agent runs only the modules it
 * was started with. A task may run more than once when a host fails
 * (at-least-once), but each result is yielded once.
 *
 * The method examples below are marked `ignore`: they need a NATS server
 * and agents, so the cluster's tests run them instead (tests/cluster_test.ts).
 *
 * @example Square numbers on the cluster (needs a server and agents)
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { ClusterPool } from "@dmp/multiprocessing/cluster";
 * await using pool = await ClusterPool.connect({ servers: "127.0.0.1:4222" });
 * assert.deepEqual(await pool.map("./tasks.ts#square", [1, 2, 3]), [1, 4, 9]);
 * ```
 *
 * @example Options are checked before any connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClusterPool } from "@dmp/multiprocessing/cluster";
 * await assert.rejects(
 *   ClusterPool.connect({ servers: "127.0.0.1:4222", cluster: "a.b" }),
 *   TypeError,
 * );
 * ```
 */
export class ClusterPool {
  readonly #calls: ClusterCalls;
  #state: "running" | "closed" | "terminated" = "running";
  #ended: Promise<void> | undefined;

  private constructor(client: ClusterClient, root: string) {
    this.#calls = new ClusterCalls(client, root);
  }

  /**
   * Connects to the cluster's NATS server(s).
   *
   * @param options Servers, auth and TLS, cluster, root, maxPending.
   * @returns The pool, once connected and the live agents have answered.
   * @throws {TypeError} Bad options.
   * @throws {RangeError} A `maxPending` that is not a positive integer.
   * @throws {Error} (rejects) The server refused or could not be reached.
   *
   * @example A maxPending that is not a positive integer
   * ```ts
   * import assert from "node:assert/strict";
   * import { ClusterPool } from "@dmp/multiprocessing/cluster";
   * await assert.rejects(
   *   ClusterPool.connect({ servers: "127.0.0.1:4222", maxPending: 0 }),
   *   RangeError,
   * );
   * ```
   */
  static async connect(options: ClusterPoolOptions): Promise<ClusterPool> {
    const { client, root } = await connectClient(options);
    return new ClusterPool(client, root);
  }

  /**
   * The local processes of the live agents, summed.
   *
   * @example Three agents of four processes
   * ```ts ignore
   * assert.equal(pool.processes, 12);
   * ```
   */
  get processes(): number {
    return this.#calls.client.processes;
  }

  /**
   * Agents, processes, queued, running, done and redelivered tasks.
   *
   * @returns A snapshot.
   *
   * @example Nothing queued when idle
   * ```ts ignore
   * assert.equal(pool.stats().queued, 0);
   * ```
   */
  stats(): ClusterStats {
    return this.#calls.client.stats();
  }

  /**
   * Applies `fn` to every item on the cluster; results in input order.
   *
   * @param fn An exported function, or `"./module.ts#name"`.
   * @param iterable The items.
   * @param chunksize Items per task. @default {4 even chunks per process, fewer for a quick function}
   * @returns The results.
   * @throws {ProcessError} (rejects) Not running, a module no agent serves
   * or that differs on an agent, or the connection closed.
   * @throws {Error} (rejects) The first failing item's error, with the
   * remote stack and host in its `cause`.
   *
   * @example Square a range
   * ```ts ignore
   * assert.deepEqual(await pool.map("./tasks.ts#square", [0, 1, 2]), [0, 1, 4]);
   * ```
   */
  map<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]>,
    chunksize?: number,
  ): Promise<TaskResult<F>[]> {
    return rejecting(() =>
      this.#calls.chunks(this.#ref(fn, "map"), iterable, chunksize, "map")
    );
  }

  /**
   * {@linkcode ClusterPool.map} without waiting.
   *
   * @param fn The function.
   * @param iterable The items.
   * @param options chunksize, callback, errorCallback.
   * @returns The pending list of results.
   *
   * @example Get the list later
   * ```ts ignore
   * assert.deepEqual(await pool.mapAsync("./tasks.ts#square", [2, 3]).get(), [4, 9]);
   * ```
   */
  mapAsync<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]>,
    options: { chunksize?: number } & CallbackOptions<TaskResult<F>[]> = {},
  ): AsyncResult<TaskResult<F>[]> {
    const ref = this.#ref(fn, "mapAsync");
    const chunksize = mapAsyncChunksize(options, "run mapAsync on the cluster");
    const results = this.#calls.chunks(ref, iterable, chunksize, "map");
    return new AsyncResult(results as Promise<TaskResult<F>[]>, options);
  }

  /**
   * Like {@linkcode ClusterPool.map} with argument lists: `fn(...item)`.
   *
   * @param fn The function.
   * @param iterable Argument lists.
   * @param chunksize Items per task.
   * @returns The results, in input order.
   *
   * @example Powers of pairs
   * ```ts ignore
   * assert.deepEqual(await pool.starmap("./tasks.ts#power", [[2, 3], [3, 2]]), [8, 9]);
   * ```
   */
  starmap<F extends TaskFunction>(
    fn: F | string | URL,
    iterable: Iterable<Readonly<Parameters<F>>>,
    chunksize?: number,
  ): Promise<TaskResult<F>[]> {
    const ref = () => this.#ref(fn, "starmap");
    return rejecting(() =>
      this.#calls.chunks(ref(), iterable, chunksize, "starmap")
    );
  }

  /**
   * {@linkcode ClusterPool.starmap} without waiting.
   *
   * @param fn The function.
   * @param iterable Argument lists.
   * @param options chunksize, callback, errorCallback.
   * @returns The pending list of results.
   *
   * @example Powers, later
   * ```ts ignore
   * assert.deepEqual(await pool.starmapAsync("./tasks.ts#power", [[2, 4]]).get(), [16]);
   * ```
   */
  starmapAsync<F extends TaskFunction>(
    fn: F | string | URL,
    iterable: Iterable<Readonly<Parameters<F>>>,
    options: { chunksize?: number } & CallbackOptions<TaskResult<F>[]> = {},
  ): AsyncResult<TaskResult<F>[]> {
    const ref = this.#ref(fn, "starmapAsync");
    const chunksize = mapAsyncChunksize(
      options,
      "run starmapAsync on the cluster",
    );
    const results = this.#calls.chunks(ref, iterable, chunksize, "starmap");
    return new AsyncResult(results as Promise<TaskResult<F>[]>, options);
  }

  /**
   * Applies `fn` lazily, reading the input a bounded amount ahead;
   * results in input order.
   *
   * @param fn The function.
   * @param iterable The items (sync or async; it may be infinite).
   * @param chunksize Items per task. @default {1}
   * @returns The results, in order.
   *
   * @example Stop after three results
   * ```ts ignore
   * const out: unknown[] = [];
   * for await (const r of pool.imap("./tasks.ts#square", [1, 2, 3, 4])) if (out.push(r) === 3) break;
   * assert.deepEqual(out, [1, 4, 9]);
   * ```
   */
  imap<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    const ref = deferred(() => this.#ref(fn, "imap"));
    return this.#calls.lazy(ref, iterable, { chunksize, ordered: true });
  }

  /**
   * Like {@linkcode ClusterPool.imap}, in completion order.
   *
   * @param fn The function.
   * @param iterable The items.
   * @param chunksize Items per task. @default {1}
   * @returns The results, as they come.
   *
   * @example Every result, in any order
   * ```ts ignore
   * const out = await Array.fromAsync(pool.imapUnordered("./tasks.ts#square", [1, 2, 3]));
   * assert.deepEqual(new Set(out), new Set([1, 4, 9]));
   * ```
   */
  imapUnordered<F extends ItemFunction>(
    fn: F | string | URL,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#calls.lazy(
      deferred(() => this.#ref(fn, "imapUnordered")),
      iterable,
      { chunksize, ordered: false },
    );
  }

  /**
   * Runs `fn(...args)` on an agent and waits for the result.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options Per-task signal and timeout (seconds).
   * @returns The result.
   * @throws {TimeoutError} (rejects) When the timeout passes first.
   * @throws {Error} (rejects) The task's error, or the signal's reason.
   *
   * @example With a timeout
   * ```ts ignore
   * assert.equal(await pool.apply("./tasks.ts#power", [2, 10], { timeout: 30 }), 1024);
   * ```
   */
  apply<F extends TaskFunction>(
    fn: F | string | URL,
    ...[args = [] as unknown as Parameters<F>, options = {}]: CallArgs<
      F,
      TaskOptions
    >
  ): Promise<TaskResult<F>> {
    return rejecting(() =>
      this.#calls.call(this.#ref(fn, "apply"), "apply", args, options)
    ) as Promise<TaskResult<F>>;
  }

  /**
   * {@linkcode ClusterPool.apply} without waiting.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options callback, errorCallback, signal, timeout.
   * @returns The pending result.
   *
   * @example A result, later
   * ```ts ignore
   * assert.equal(await pool.applyAsync("./tasks.ts#square", [5]).get(), 25);
   * ```
   */
  applyAsync<F extends TaskFunction>(
    fn: F | string | URL,
    ...[args = [] as unknown as Parameters<F>, options = {}]: CallArgs<
      F,
      CallbackOptions<TaskResult<F>> & TaskOptions
    >
  ): AsyncResult<TaskResult<F>> {
    const what = "run applyAsync on the cluster";
    const ref = this.#ref(fn, "applyAsync");
    const { limits, callbacks } = asyncOptions(options, what);
    const result = this.#calls.call(ref, "apply", args, limits);
    return new AsyncResult(result as Promise<TaskResult<F>>, callbacks);
  }

  /**
   * Accepts no more work; `join()` waits for the submitted work.
   *
   * @example Close, then join
   * ```ts ignore
   * const result = pool.mapAsync("./tasks.ts#square", [3]);
   * pool.close();
   * await pool.join();
   * assert.deepEqual(await result.get(), [9]);
   * ```
   */
  close(): void {
    if (this.#state === "running") this.#state = "closed";
  }

  /**
   * Withdraws the queued work, rejects what is pending, and disconnects.
   *
   * @example Pending work fails
   * ```ts ignore
   * const result = pool.apply("./tasks.ts#square", [3]);
   * pool.terminate();
   * await assert.rejects(result, ProcessError);
   * ```
   */
  terminate(): void {
    if (this.#state === "terminated") return;
    this.#state = "terminated";
    this.#calls.client.fail(
      new ProcessError("Cannot complete task as the pool was terminated"),
    );
    this.#ended = this.#calls.client.withdraw().then(() =>
      this.#calls.client.close(false)
    );
  }

  /**
   * Waits for the submitted work (after `close()`) and disconnects.
   *
   * @throws {ProcessError} (rejects) While the pool is still running.
   *
   * @example Join a running pool
   * ```ts ignore
   * await assert.rejects(pool.join(), ProcessError);
   * ```
   */
  async join(): Promise<void> {
    if (this.#state === "running") {
      throw new ProcessError("Cannot join the pool as it is still running");
    }
    if (this.#state === "closed") {
      await this.#calls.idle();
      this.#ended ??= this.#calls.client.close(true);
    }
    await this.#ended;
  }

  /**
   * Terminates the pool at the end of an `await using` block.
   *
   * @example Terminate at the end of a block
   * ```ts ignore
   * { await using pool = await ClusterPool.connect({ servers: "127.0.0.1:4222" }); }
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.#ended;
  }

  #ref(fn: unknown, method: string): FunctionRef {
    const what = `run ${method} on the cluster`;
    if (this.#state !== "running") {
      throw new ProcessError(`Cannot ${what} as the pool is not running`);
    }
    return this.#calls.ref(fn, what);
  }
}
