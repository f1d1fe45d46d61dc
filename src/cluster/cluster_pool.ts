/**
 * `ClusterPool`: the surface of {@linkcode Pool} over a cluster of hosts,
 * each running an agent ({@linkcode startAgent}), through a NATS JetStream
 * work queue.
 *
 * @module
 */

import { ProcessError } from "../errors.ts";
import { AsyncResult, type CallbackOptions } from "../async_result.ts";
import type { TaskFunction, TaskOptions, TaskResult } from "../pool_options.ts";
import { callerUrl, type Target, targetRef } from "../_core/target.ts";
import { checkPositiveInteger } from "../_core/validate.ts";
import {
  checkOptions,
  ensureStream,
  kNatsKeys,
  type NatsOptions,
  open,
} from "./_nats.ts";
import { defaultRoot, hashModule, moduleName } from "./_modules.ts";
import { type Call, ClusterClient, type ClusterStats } from "./_client.ts";
import { namesOf, type TaskKind } from "./_protocol.ts";
import { lazyMap } from "./_lazy.ts";

export type { ClusterStats } from "./_client.ts";

/** Options of {@linkcode ClusterPool.connect}. */
export interface ClusterPoolOptions extends NatsOptions {
  /** The cluster whose agents run the tasks. @default {"default"} */
  cluster?: string;
  /** Where module paths are taken relative to. @default {the folder of the nearest deno.json, else the cwd} */
  root?: string;
  /** The most tasks (chunks) this pool keeps in the queue at once. @default {256} */
  maxPending?: number;
}

/** A function reference, ready to travel. */
interface FunctionRef {
  module: string;
  name: string;
  hash: Promise<string>;
}

/**
 * A pool whose workers are the processes of the agents of a cluster.
 * Functions travel by reference (module path relative to the root, export
 * name, hash of the module's source); each agent runs only the modules it
 * was started with. A task may run more than once when a host fails
 * (at-least-once), but each result is yielded once.
 *
 * @example Square numbers on the cluster (with a server and agents running)
 * ```ts ignore
 * import { ClusterPool } from "@dmp/multiprocessing/cluster";
 * await using pool = await ClusterPool.connect({ servers: "127.0.0.1:4222" });
 * console.log(await pool.map("./tasks.ts#square", [1, 2, 3])); // [1, 4, 9]
 * ```
 */
export class ClusterPool {
  readonly #client: ClusterClient;
  readonly #root: string;
  readonly #hashes = new Map<string, Promise<string>>();
  #state: "running" | "closed" | "terminated" = "running";
  #ended: Promise<void> | undefined;

  private constructor(client: ClusterClient, root: string) {
    this.#client = client;
    this.#root = root;
  }

  /**
   * Connects to the cluster's NATS server(s).
   *
   * @param options Servers, auth and TLS, cluster, root, maxPending.
   * @returns The pool, once connected and the live agents have answered.
   * @throws {TypeError} Bad options.
   * @throws {RangeError} A `maxPending` that is not a positive integer.
   * @throws {Error} (rejects) The server refused or could not be reached.
   */
  static async connect(options: ClusterPoolOptions): Promise<ClusterPool> {
    const what = "connect to cluster";
    checkOptions(
      options,
      [...kNatsKeys, "cluster", "root", "maxPending"],
      what,
    );
    const names = namesOf(options.cluster ?? "default", what);
    const maxPending = options.maxPending ?? 256;
    checkPositiveInteger(maxPending, "maxPending", what);
    const root = options.root ?? defaultRoot();
    const nc = await open(options, "dmp-client");
    try {
      const jsm = await ensureStream(nc, names);
      const client = new ClusterClient(nc, jsm, names, maxPending);
      await client.discover();
      return new ClusterPool(client, root);
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  }

  /** The local processes of the live agents, summed. */
  get processes(): number {
    return this.#client.processes;
  }

  /**
   * Agents, processes, queued, running, done and redelivered tasks.
   *
   * @returns A snapshot.
   */
  stats(): ClusterStats {
    return this.#client.stats();
  }

  /**
   * Applies `fn` to every item on the cluster; results in input order.
   *
   * @param fn An exported function, or `"./module.ts#name"`.
   * @param iterable The items.
   * @param chunksize Items per task. @default {ceil(n / (4 × processes))}
   * @returns The results.
   * @throws {ProcessError} (rejects) Not running, a module no agent serves
   * or that differs on an agent, or the connection closed.
   * @throws {Error} (rejects) The first failing item's error, with the
   * remote stack and host in its `cause`.
   */
  map<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>[0]>,
    chunksize?: number,
  ): Promise<TaskResult<F>[]> {
    const ref = this.#ref(fn, "map");
    return this.#chunks(ref, Array.from(iterable, (x) => [x]), chunksize);
  }

  /**
   * {@linkcode ClusterPool.map} without waiting.
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
    return new AsyncResult(this.map(fn, iterable, options.chunksize), options);
  }

  /**
   * Like {@linkcode ClusterPool.map} with argument lists: `fn(...item)`.
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
    const ref = this.#ref(fn, "starmap");
    return this.#chunks(ref, Array.from(iterable), chunksize);
  }

  /**
   * {@linkcode ClusterPool.starmap} without waiting.
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
    const results = this.starmap(fn, iterable, options.chunksize);
    return new AsyncResult(results, options);
  }

  /**
   * Applies `fn` lazily, reading the input a bounded amount ahead;
   * results in input order.
   *
   * @param fn The function.
   * @param iterable The items (sync or async; it may be infinite).
   * @param chunksize Items per task. @default {1}
   * @returns The results, in order.
   */
  imap<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    const ref = this.#ref(fn, "imap");
    return this.#lazy(ref, iterable, chunksize, true);
  }

  /**
   * Like {@linkcode ClusterPool.imap}, in completion order.
   *
   * @param fn The function.
   * @param iterable The items.
   * @param chunksize Items per task. @default {1}
   * @returns The results, as they come.
   */
  imapUnordered<F extends TaskFunction>(
    fn: F | Target,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<F>> {
    const ref = this.#ref(fn, "imapUnordered");
    return this.#lazy(ref, iterable, chunksize, false);
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
   */
  apply<F extends TaskFunction>(
    fn: F | Target,
    args: Parameters<F> | unknown[] = [],
    options: TaskOptions = {},
  ): Promise<TaskResult<F>> {
    const ref = this.#ref(fn, "apply");
    return this.#call(ref, "apply", args, options) as Promise<TaskResult<F>>;
  }

  /**
   * {@linkcode ClusterPool.apply} without waiting.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options callback, errorCallback, signal, timeout.
   * @returns The pending result.
   */
  applyAsync<F extends TaskFunction>(
    fn: F | Target,
    args: Parameters<F> | unknown[] = [],
    options: CallbackOptions<TaskResult<F>> & TaskOptions = {},
  ): AsyncResult<TaskResult<F>> {
    const { signal, timeout, ...callbacks } = options;
    return new AsyncResult(
      this.apply(fn, args, { signal, timeout }),
      callbacks,
    );
  }

  /** Accepts no more work; `join()` waits for the submitted work. */
  close(): void {
    if (this.#state === "running") this.#state = "closed";
  }

  /** Withdraws the queued work, rejects what is pending, and disconnects. */
  terminate(): void {
    if (this.#state === "terminated") return;
    this.#state = "terminated";
    this.#client.fail(
      new ProcessError("Cannot complete task as the pool was terminated"),
    );
    this.#ended = this.#client.withdraw().then(() => this.#client.close(false));
  }

  /**
   * Waits for the submitted work (after `close()`) and disconnects.
   *
   * @throws {ProcessError} (rejects) While the pool is still running.
   */
  async join(): Promise<void> {
    if (this.#state === "running") {
      throw new ProcessError("Cannot join the pool as it is still running");
    }
    if (this.#state === "closed") {
      await this.#client.idle();
      this.#ended ??= this.#client.close(true);
    }
    await this.#ended;
  }

  /** Terminates the pool at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.#ended;
  }

  #ref(fn: unknown, method: string): FunctionRef {
    const what = `run ${method} on the cluster`;
    if (this.#state !== "running") {
      throw new ProcessError(`Cannot ${what} as the pool is not running`);
    }
    const ref = targetRef(fn, callerUrl(), what);
    const module = moduleName(ref.url, this.#root, what);
    let hash = this.#hashes.get(ref.url);
    if (hash === undefined) {
      hash = hashModule(ref.url);
      this.#hashes.set(ref.url, hash);
    }
    return { module, name: ref.name, hash };
  }

  async #call(
    ref: FunctionRef,
    kind: TaskKind,
    args: unknown[],
    limits: TaskOptions = {},
  ): Promise<unknown> {
    const call: Call = {
      module: ref.module,
      hash: await ref.hash,
      name: ref.name,
      kind,
      args,
    };
    return await this.#client.submit(call, limits);
  }

  async #chunks<R>(
    ref: FunctionRef,
    lists: unknown[][],
    chunksize?: number,
  ): Promise<R[]> {
    checkPositiveInteger(chunksize, "chunksize", "map on the cluster");
    const size = chunksize ??
      Math.max(1, Math.ceil(lists.length / (4 * Math.max(1, this.processes))));
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < lists.length; i += size) {
      calls.push(this.#call(ref, "chunk", lists.slice(i, i + size)));
    }
    // The first failure rejects; later ones are expected and read here.
    for (const call of calls) call.catch(() => {});
    return (await Promise.all(calls)).flat() as R[];
  }

  #lazy<R>(
    ref: FunctionRef,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    chunksize: number | undefined,
    ordered: boolean,
  ): AsyncIterableIterator<R> {
    checkPositiveInteger(chunksize, "chunksize", "imap on the cluster");
    const ahead = Math.max(8, 2 * this.processes);
    return lazyMap<R>(
      iterable,
      chunksize ?? 1,
      ahead,
      ordered,
      (chunk) => this.#call(ref, "chunk", chunk.map((x) => [x])),
    );
  }
}
