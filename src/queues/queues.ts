/**
 * `Queue`, `SimpleQueue` and `JoinableQueue`: FIFO queues any number of
 * processes can put to and get from at once (CPython's
 * `multiprocessing.queues`).
 *
 * ```
 *  producer (any process)                        consumer (any process)
 *  q.put(item)                                   q.get()
 *   │ encode outside the lock                      ▲ decode outside the lock
 *   │ (UTF-8 / JSON / bytes / node:v8)             │
 *   ▼                                              │
 *  ┌─ lock ── copy record in ── unlock ─┐   ┌─ lock ── copy record out ── unlock ─┐
 *  │   ring (growable SharedArrayBuffer) ───────────────────────────────────▶     │
 *  └─ kPutSeq++ ; notify getters ───────┘   └─ kGetSeq++ ; notify putters ──────┘
 *   ▲ full (maxsize)? sleep on kGetSeq           empty? sleep on kPutSeq
 * ```
 *
 * Unlike CPython there is no feeder thread: `put()` has written the item
 * into shared memory by the time it returns, so nothing is lost when the
 * producer ends right after, and a value that cannot travel is a
 * `TypeError` at `put()` instead of an error printed by a background thread.
 *
 * @module
 */

import { ProcessError, QueueEmptyError, QueueFullError } from "../errors.ts";
import {
  checkStop,
  kGetSeq,
  kGetters,
  kJoiners,
  kPutSeq,
  kPutters,
  kUnfinished,
  Ring,
} from "../_memory/ring_buffer.ts";
import {
  decodeValue,
  type Encoded,
  encodeValue,
  needsFreshBytes,
} from "../_memory/record_codec.ts";
import { deadlineOf } from "../_core/time.ts";
import { checkWaitOptions } from "../_core/validate.ts";
import {
  describe,
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";

/** Options of a put. */
export interface PutOptions {
  /**
   * Wait for room when the queue is full (`false`: throw
   * {@linkcode QueueFullError} at once).
   *
   * @default {true}
   */
  block?: boolean;
  /** Seconds to wait for room at most; `undefined` waits forever. */
  timeout?: number;
}

/** Options of a get. */
export interface GetOptions {
  /**
   * Wait for an item when the queue is empty (`false`: throw
   * {@linkcode QueueEmptyError} at once).
   *
   * @default {true}
   */
  block?: boolean;
  /** Seconds to wait for an item at most; `undefined` waits forever. */
  timeout?: number;
}

/** Validates options; returns whether to block and the deadline. */
export function parseWait(
  options: PutOptions | GetOptions | undefined,
  what: string,
): { block: boolean; deadline: number } {
  const { block, timeout } = checkWaitOptions(options, what);
  return { block, deadline: block ? deadlineOf(timeout) : 0 };
}

function copyOf(encoded: Encoded): Encoded {
  // The encoder reuses its buffers (and a typed array is the caller's own
  // memory): keep a private copy across a wait.
  return { tag: encoded.tag, bytes: encoded.bytes.slice() };
}

// The shared engine of the three queue classes.
class Engine {
  readonly ring: Ring;
  readonly maxsize: number;
  readonly joinable: boolean;
  closed = false;

  constructor(ring: Ring, maxsize: number, joinable: boolean) {
    this.ring = ring;
    this.maxsize = maxsize;
    this.joinable = joinable;
  }

  checkOpen(what: string): void {
    if (this.closed) {
      throw new ProcessError(
        `Cannot ${what} as the queue is closed in this process`,
      );
    }
  }

  tryPut(encoded: Encoded): boolean {
    return this.ring.push(
      encoded.tag,
      encoded.bytes,
      this.maxsize,
      this.joinable,
    ) === "ok";
  }

  tryGet(): { value: unknown } | undefined {
    const record = this.ring.pop(needsFreshBytes);
    if (record === undefined) return undefined;
    return { value: decodeValue(record.tag, record.bytes) };
  }

  /**
   * What put() and putSync() share up to the first wait: validation, the
   * encoding, a first attempt, and the non-blocking refusal. Returns
   * undefined when the item is already in; otherwise what to retry with.
   */
  beginPut(
    item: unknown,
    options: PutOptions | undefined,
  ): { encoded: Encoded; deadline: number } | undefined {
    const { block, deadline } = parseWait(options, "put item");
    this.checkOpen("put item");
    checkStop();
    const encoded = encodeValue(item, "item", "put item");
    if (this.tryPut(encoded)) return undefined;
    if (!block) throw new QueueFullError();
    return { encoded: copyOf(encoded), deadline };
  }

  putSync(item: unknown, options: PutOptions | undefined): void {
    const pending = this.beginPut(item, options);
    if (pending === undefined) return;
    const { encoded, deadline } = pending;
    const ring = this.ring;
    while (true) {
      const seen = Atomics.load(ring.control, kGetSeq);
      if (this.tryPut(encoded)) return;
      if (ring.sleepSync(kGetSeq, kPutters, seen, deadline) === "timed-out") {
        if (this.tryPut(encoded)) return;
        throw new QueueFullError();
      }
    }
  }

  async put(item: unknown, options: PutOptions | undefined): Promise<void> {
    const pending = this.beginPut(item, options);
    if (pending === undefined) return;
    const { encoded, deadline } = pending;
    const ring = this.ring;
    while (true) {
      const seen = Atomics.load(ring.control, kGetSeq);
      if (this.tryPut(encoded)) return;
      const result = await ring.sleep(kGetSeq, kPutters, seen, deadline);
      if (result === "timed-out") {
        if (this.tryPut(encoded)) return;
        throw new QueueFullError();
      }
    }
  }

  getSync(options: GetOptions | undefined): unknown {
    const { block, deadline } = parseWait(options, "get item");
    this.checkOpen("get item");
    checkStop();
    const ring = this.ring;
    while (true) {
      const seen = Atomics.load(ring.control, kPutSeq);
      const got = this.tryGet();
      if (got !== undefined) return got.value;
      if (!block) throw new QueueEmptyError();
      if (ring.sleepSync(kPutSeq, kGetters, seen, deadline) === "timed-out") {
        const last = this.tryGet();
        if (last !== undefined) return last.value;
        throw new QueueEmptyError();
      }
    }
  }

  async get(options: GetOptions | undefined): Promise<unknown> {
    const { block, deadline } = parseWait(options, "get item");
    this.checkOpen("get item");
    checkStop();
    const ring = this.ring;
    while (true) {
      const seen = Atomics.load(ring.control, kPutSeq);
      const got = this.tryGet();
      if (got !== undefined) return got.value;
      if (!block) throw new QueueEmptyError();
      const result = await ring.sleep(kPutSeq, kGetters, seen, deadline);
      if (result === "timed-out") {
        const last = this.tryGet();
        if (last !== undefined) return last.value;
        throw new QueueEmptyError();
      }
    }
  }

  reduce(tag: string): SharedDescriptor {
    return describe(tag, {
      control: this.ring.control.buffer,
      data: this.ring.data,
      maxsize: this.maxsize,
    });
  }
}

function checkMaxsize(maxsize: unknown, what: string): number {
  if (typeof maxsize !== "number" || Number.isNaN(maxsize)) {
    throw new TypeError(
      `Cannot ${what} as 'maxsize' must be a number: current value is ${
        Deno.inspect(maxsize)
      }`,
    );
  }
  if (maxsize === Infinity || maxsize <= 0) return 0;
  if (!Number.isInteger(maxsize) || maxsize > 0x7fffffff) {
    throw new RangeError(
      `Cannot ${what} as 'maxsize' must be an integer below 2**31 (0 or less means unbounded): current value is ${maxsize}`,
    );
  }
  return maxsize;
}

// JoinableQueue reaches its base's engine through this, not a public member.
let engineOf: (queue: Queue) => Engine;

// A revived queue adopts the ring of its descriptor instead of allocating.
let adopting: Ring | undefined;

function takeRing(): Ring {
  const ring = adopting ?? Ring.create();
  adopting = undefined;
  return ring;
}

function adopt<Q>(descriptor: SharedDescriptor, build: () => Q): Q {
  adopting = new Ring(
    descriptor.control as SharedArrayBuffer,
    descriptor.data as SharedArrayBuffer,
  );
  try {
    return build();
  } finally {
    adopting = undefined;
  }
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
 *
 * const q = new Queue<number>();
 * const p = new Process({
 *   target: new URL("../../examples/001_process_based_parallelism/double_number.ts#doubleNumber", import.meta.url),
 *   args: [10, q],
 * });
 * p.start();
 * await p.join();
 * console.log(await q.get()); // 20
 * ```
 */
export class Queue<T = unknown> {
  #engine: Engine;

  static {
    engineOf = (queue) => queue.#engine;
  }

  /**
   * Creates a queue.
   *
   * @param maxsize The most items it holds; 0 or less (or Infinity) means
   * unbounded.
   * @throws {TypeError} When `maxsize` is not a number.
   * @throws {RangeError} When `maxsize` is not an integer.
   */
  constructor(maxsize = 0) {
    const size = checkMaxsize(maxsize, "create queue");
    this.#engine = new Engine(takeRing(), size, this instanceof JoinableQueue);
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
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue<string>(1);
   * await q.put("a");
   * await q.put("b", { timeout: 0.01 }).catch((e) => console.log(e.name)); // QueueFullError
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
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue<number>();
   * q.putSync(1);
   * console.log(q.qsize()); // 1
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
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue<number>(1);
   * q.putNowait(1);
   * try {
   *   q.putNowait(2);
   * } catch (e) {
   *   console.log((e as Error).name); // QueueFullError
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
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue<Map<string, number>>();
   * await q.put(new Map([["a", 1]]));
   * console.log(await q.get()); // Map(1) { "a" => 1 }
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
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue<number>();
   * q.putSync(7);
   * console.log(q.getSync()); // 7
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
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue();
   * try {
   *   q.getNowait();
   * } catch (e) {
   *   console.log((e as Error).name); // QueueEmptyError
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
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue();
   * q.putNowait("x");
   * console.log(q.qsize()); // 1
   * ```
   */
  qsize(): number {
    return this.#engine.ring.count;
  }

  /**
   * Whether the queue holds no item now.
   *
   * @returns `true` when empty.
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * console.log(new Queue().empty()); // true
   * ```
   */
  empty(): boolean {
    return this.#engine.ring.count === 0;
  }

  /**
   * Whether the queue holds `maxsize` items now (never for an unbounded one).
   *
   * @returns `true` when full.
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue(1);
   * q.putNowait(0);
   * console.log(q.full()); // true
   * ```
   */
  full(): boolean {
    const max = this.#engine.maxsize;
    return max > 0 && this.#engine.ring.count >= max;
  }

  /**
   * Says this process will use the queue no more: later puts and gets
   * through this object throw. Other processes' copies stay usable, and
   * items already put stay in the queue (as in CPython, where `close()`
   * concerns the calling process only).
   *
   * @example
   * ```ts
   * import { Queue } from "@dmp/multiprocessing";
   *
   * const q = new Queue();
   * q.close();
   * await q.put(1).catch((e) => console.log(e.message)); // Cannot put item as the queue is closed in this process
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
      this instanceof JoinableQueue ? "JoinableQueue" : "Queue",
    );
  }
}

/**
 * A {@linkcode Queue} that also counts unfinished tasks (CPython's
 * `multiprocessing.JoinableQueue`): each `put()` adds one, each
 * `taskDone()` removes one, and `join()` waits until none is left.
 *
 * @typeParam T The type of the items.
 *
 * @example
 * ```ts
 * import { JoinableQueue } from "@dmp/multiprocessing";
 *
 * const q = new JoinableQueue<string>();
 * await q.put("job");
 * await q.get();
 * q.taskDone();
 * await q.join(); // returns at once: every task is done
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * Creates a joinable queue.
   *
   * @param maxsize The most items it holds; 0 or less means unbounded.
   */
  constructor(maxsize = 0) {
    super(maxsize);
  }

  /**
   * Marks one task taken with `get()` as done.
   *
   * @throws {ProcessError} When called more times than items were put.
   *
   * @example
   * ```ts
   * import { JoinableQueue } from "@dmp/multiprocessing";
   *
   * const q = new JoinableQueue();
   * try {
   *   q.taskDone();
   * } catch (e) {
   *   console.log((e as Error).message); // Cannot mark a task done as taskDone() was called more times than items were put
   * }
   * ```
   */
  taskDone(): void {
    const engine = engineOf(this);
    engine.checkOpen("mark a task done");
    if (!engine.ring.taskDone()) {
      throw new ProcessError(
        "Cannot mark a task done as taskDone() was called more times than items were put",
      );
    }
  }

  /**
   * Waits until every item put has been marked done.
   *
   * @example
   * ```ts
   * import { JoinableQueue } from "@dmp/multiprocessing";
   *
   * const q = new JoinableQueue();
   * await q.join(); // nothing was put: returns at once
   * ```
   */
  async join(): Promise<void> {
    const ring = engineOf(this).ring;
    while (true) {
      const left = Atomics.load(ring.control, kUnfinished);
      if (left === 0) return;
      await ring.sleep(kUnfinished, kJoiners, left, Infinity);
    }
  }

  /**
   * The blocking twin of {@linkcode JoinableQueue.join} (worker code).
   *
   * @example
   * ```ts
   * import { JoinableQueue } from "@dmp/multiprocessing";
   *
   * new JoinableQueue().joinSync(); // nothing unfinished
   * ```
   */
  joinSync(): void {
    const ring = engineOf(this).ring;
    while (true) {
      const left = Atomics.load(ring.control, kUnfinished);
      if (left === 0) return;
      ring.sleepSync(kUnfinished, kJoiners, left, Infinity);
    }
  }
}

/**
 * An unbounded queue with the smallest surface (CPython's
 * `multiprocessing.SimpleQueue`): `put`, `get`, `getSync`, `empty`, `close`.
 *
 * @typeParam T The type of the items.
 *
 * @example
 * ```ts
 * import { SimpleQueue } from "@dmp/multiprocessing";
 *
 * const q = new SimpleQueue<number[]>();
 * q.put([1, 2]);
 * console.log(await q.get()); // [ 1, 2 ]
 * ```
 */
export class SimpleQueue<T = unknown> {
  #engine: Engine;

  /** Creates an empty queue. */
  constructor() {
    this.#engine = new Engine(takeRing(), 0, false);
  }

  /**
   * Puts an item; it is in shared memory when this returns.
   *
   * @param item The value to put (copied now).
   * @throws {TypeError} When the item cannot travel between processes.
   * @throws {ProcessError} When this queue was closed in this process.
   *
   * @example
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   *
   * const q = new SimpleQueue();
   * q.put("x");
   * console.log(q.empty()); // false
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
   * @example
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   *
   * const q = new SimpleQueue<string>();
   * q.put("x");
   * console.log(await q.get()); // x
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
   * @example
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   *
   * const q = new SimpleQueue<string>();
   * q.put("x");
   * console.log(q.getSync()); // x
   * ```
   */
  getSync(): T {
    return this.#engine.getSync(undefined) as T;
  }

  /**
   * Whether the queue holds no item now.
   *
   * @returns `true` when empty.
   *
   * @example
   * ```ts
   * import { SimpleQueue } from "@dmp/multiprocessing";
   *
   * console.log(new SimpleQueue().empty()); // true
   * ```
   */
  empty(): boolean {
    return this.#engine.ring.count === 0;
  }

  /**
   * Says this process will use the queue no more (see {@linkcode Queue.close}).
   *
   * @example
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
  "Queue",
  (d) => adopt(d, () => new Queue(d.maxsize as number)),
);
registerReviver(
  "JoinableQueue",
  (d) => adopt(d, () => new JoinableQueue(d.maxsize as number)),
);
registerReviver("SimpleQueue", (d) => adopt(d, () => new SimpleQueue()));
