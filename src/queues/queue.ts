/**
 * `Queue`: a FIFO queue any number of processes can put to and get from at
 * once (CPython's `multiprocessing.Queue`).
 *
 * @module
 */

import {
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";
import {
  type GetOptions,
  type PutOptions,
  type QueueCore,
  queueCore,
  QueueMemory,
} from "./_queue_core.ts";

export type { GetOptions, PutOptions } from "./_queue_core.ts";

// JoinableQueue reaches its base's core through this, not a public member.
let coreOf: (queue: Queue) => QueueCore;

/** The core of a queue (for JoinableQueue; not part of the public API). */
export function queueCoreOf(queue: Queue): QueueCore {
  return coreOf(queue);
}

/**
 * A FIFO queue shared by processes (CPython's `multiprocessing.Queue`). Pass
 * it to children through `args`; every process then puts to and gets from
 * the same queue.
 *
 * Items are copied: any structured-cloneable value travels (objects,
 * arrays, Map, Set, Date, typed arrays, bigint, strings of any size), except
 * shared memory (SharedArrayBuffer, Lock, Queue, …), which crosses only
 * through Process args. Items from one producer arrive in the order it put
 * them.
 *
 * `put()`/`get()` return promises (use them on the main thread); `putSync()`
 * and `getSync()` block the calling thread (meant for worker code; on the
 * main thread they freeze its event loop while they wait, and a child the
 * main thread just started cannot even receive its start message then).
 *
 * @typeParam T The type of the items.
 *
 * @example Send a result back from a child
 * ```ts
 * import { Process, Queue } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const q = new Queue<number>();
 * const p = new Process({
 *   target: new URL("../../examples/001_process_based_parallelism/double_number.ts#doubleNumber", import.meta.url),
 *   args: [10, q],
 * });
 * p.start();
 * await p.join();
 * assert.deepEqual(await q.get(), 20);
 * ```
 */
export class Queue<T = unknown> {
  #engine: QueueCore;

  static {
    coreOf = (queue) => queue.#engine;
  }

  /**
   * Creates a queue.
   *
   * @param maxsize The most items it holds; 0 or less (or Infinity) means
   * unbounded.
   * @throws {TypeError} When `maxsize` is not a number.
   * @throws {RangeError} When `maxsize` is not an integer.
   */
  constructor(maxsize?: number);
  constructor(maxsize: unknown = 0) {
    this.#engine = queueCore(maxsize, false, "create queue");
  }

  /** The most items the queue holds; 0 when unbounded. */
  get maxsize(): number {
    return this.#engine.maxsize;
  }

  /**
   * Puts an item, waiting for room while the queue is full.
   *
   * @param item The value to put (copied now).
   * @param options `block` and `timeout` (seconds).
   * @throws {QueueFullError} When there is no room (at once when not
   * blocking, after `timeout` otherwise).
   * @throws {TypeError} When the item cannot travel between processes.
   * @throws {ProcessError} When this queue was closed in this process.
   * @throws {RangeError} When the item is larger than 1 GiB encoded.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example Using put()
   * ```ts
   * import { Queue, QueueFullError } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue<string>(1);
   * await q.put("a");
   * await assert.rejects(q.put("b", { timeout: 0.01 }), QueueFullError);
   * ```
   */
  put(item: T, options?: PutOptions): Promise<void> {
    return this.#engine.put(item, options);
  }

  /**
   * Puts an item, blocking the thread while the queue is full (worker code).
   *
   * @param item The value to put (copied now).
   * @param options `block` and `timeout` (seconds).
   * @throws {QueueFullError} When there is no room.
   * @throws {TypeError} When the item cannot travel between processes.
   * @throws {ProcessError} When this queue was closed in this process.
   * @throws {RangeError} When the item is larger than 1 GiB encoded.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example Using putSync()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue<number>();
   * q.putSync(1);
   * assert.deepEqual(q.qsize(), 1);
   * ```
   */
  putSync(item: T, options?: PutOptions): void {
    this.#engine.putSync(item, options);
  }

  /**
   * Puts an item without waiting (`put(item, { block: false })`).
   *
   * @param item The value to put.
   * @throws {QueueFullError} When the queue is full.
   * @throws {TypeError} When the item cannot travel between processes.
   *
   * @example Using putNowait()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue<number>(1);
   * q.putNowait(1);
   * try {
   *   q.putNowait(2);
   * } catch (e) {
   *   assert.deepEqual((e as Error).name, "QueueFullError");
   * }
   * ```
   */
  putNowait(item: T): void {
    this.#engine.putSync(item, { block: false });
  }

  /**
   * Takes the oldest item, waiting while the queue is empty.
   *
   * @param options `block` and `timeout` (seconds).
   * @returns The item.
   * @throws {QueueEmptyError} When no item came (at once when not blocking,
   * after `timeout` otherwise).
   * @throws {ProcessError} When this queue was closed in this process.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example Using get()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue<Map<string, number>>();
   * await q.put(new Map([["a", 1]]));
   * assert.deepEqual(await q.get(), new Map([["a", 1]]));
   * ```
   */
  get(options?: GetOptions): Promise<T> {
    return this.#engine.get(options) as Promise<T>;
  }

  /**
   * Takes the oldest item, blocking the thread while the queue is empty
   * (worker code).
   *
   * @param options `block` and `timeout` (seconds).
   * @returns The item.
   * @throws {QueueEmptyError} When no item came in time.
   * @throws {ProcessError} When this queue was closed in this process.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example Using getSync()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue<number>();
   * q.putSync(7);
   * assert.deepEqual(q.getSync(), 7);
   * ```
   */
  getSync(options?: GetOptions): T {
    return this.#engine.getSync(options) as T;
  }

  /**
   * Takes the oldest item without waiting (`get({ block: false })`).
   *
   * @returns The item.
   * @throws {QueueEmptyError} When the queue is empty.
   *
   * @example Using getNowait()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue();
   * try {
   *   q.getNowait();
   * } catch (e) {
   *   assert.deepEqual((e as Error).name, "QueueEmptyError");
   * }
   * ```
   */
  getNowait(): T {
    return this.#engine.getSync({ block: false }) as T;
  }

  /**
   * The number of items in the queue now (exact, but others may change it
   * right after).
   *
   * @returns The item count.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example Using qsize()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue();
   * q.putNowait("x");
   * assert.deepEqual(q.qsize(), 1);
   * ```
   */
  qsize(): number {
    this.#engine.checkOpen("get queue size");
    return this.#engine.ring.count;
  }

  /**
   * Whether the queue holds no item now.
   *
   * @returns `true` when empty.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example Using empty()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new Queue().empty(), true);
   * ```
   */
  empty(): boolean {
    this.#engine.checkOpen("check whether queue is empty");
    return this.#engine.ring.count === 0;
  }

  /**
   * Whether the queue holds `maxsize` items now (never for an unbounded one).
   *
   * @returns `true` when full.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example Using full()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue(1);
   * q.putNowait(0);
   * assert.deepEqual(q.full(), true);
   * ```
   */
  full(): boolean {
    this.#engine.checkOpen("check whether queue is full");
    const max = this.#engine.maxsize;
    return max > 0 && this.#engine.ring.count >= max;
  }

  /**
   * Says this process will use the queue no more: later puts, gets,
   * `qsize()`, `empty()` and `full()` through this object throw. Other processes' copies stay usable, and
   * items already put stay in the queue (as in CPython, where `close()`
   * concerns the calling process only).
   *
   * @example Using close()
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new Queue();
   * q.close();
   * await assert.rejects(q.put(1), /the queue is closed in this process/);
   * ```
   */
  close(): void {
    this.#engine.closed = true;
  }

  /**
   * Describes the queue for a child process (see `kReduce`).
   *
   * @returns The descriptor.
   */
  [kReduce](): SharedDescriptor {
    return this.#engine.reduce(
      this.#engine.joinable ? "JoinableQueue" : "Queue",
    );
  }
}

registerReviver("Queue", (d) => new Queue(new QueueMemory(d) as never));
