/**
 * `SimpleQueue`: an unbounded queue with the smallest surface (CPython's
 * `multiprocessing.SimpleQueue`).
 *
 * @module
 */

import {
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";
import { type QueueCore, queueCore, QueueMemory } from "./_queue_core.ts";

/**
 * An unbounded queue with the smallest surface (CPython's
 * `multiprocessing.SimpleQueue`): `put`, `get`, `getSync`, `empty`, `close`.
 *
 * @typeParam T The type of the items.
 *
 * @example Using SimpleQueue
 * ```ts
 * import { SimpleQueue } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const q = new SimpleQueue<number[]>();
 * q.put([1, 2]);
 * assert.deepEqual(await q.get(), [ 1, 2 ]);
 * ```
 */
export class SimpleQueue<T = unknown> {
  #engine: QueueCore;

  /** Creates an empty queue. */
  constructor();
  constructor(from?: unknown) {
    this.#engine = queueCore(from ?? 0, false, "create queue");
  }

  /**
   * Puts an item; it is in shared memory when this returns.
   *
   * @param item The value to put (copied now).
   * @throws {TypeError} When the item cannot travel between processes.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example Using put()
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new SimpleQueue();
   * q.put("x");
   * assert.deepEqual(q.empty(), false);
   * ```
   */
  put(item: T): void {
    this.#engine.putSync(item, undefined);
  }

  /**
   * Takes the oldest item, waiting while the queue is empty.
   *
   * @returns The item.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example Using get()
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new SimpleQueue<string>();
   * q.put("x");
   * assert.deepEqual(await q.get(), "x");
   * ```
   */
  get(): Promise<T> {
    return this.#engine.get(undefined) as Promise<T>;
  }

  /**
   * Takes the oldest item, blocking the thread while the queue is empty
   * (worker code).
   *
   * @returns The item.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example Using getSync()
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new SimpleQueue<string>();
   * q.put("x");
   * assert.deepEqual(q.getSync(), "x");
   * ```
   */
  getSync(): T {
    return this.#engine.getSync(undefined) as T;
  }

  /**
   * Whether the queue holds no item now.
   *
   * @returns `true` when empty.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example Using empty()
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new SimpleQueue().empty(), true);
   * ```
   */
  empty(): boolean {
    this.#engine.checkOpen("check whether queue is empty");
    return this.#engine.ring.count === 0;
  }

  /**
   * Says this process will use the queue no more (see {@linkcode Queue.close}).
   *
   * @example Using close()
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   *
   * new SimpleQueue().close();
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
    return this.#engine.reduce("SimpleQueue");
  }
}

registerReviver(
  "SimpleQueue",
  (d) =>
    new (SimpleQueue as new (from: unknown) => SimpleQueue)(
      new QueueMemory(d),
    ),
);
