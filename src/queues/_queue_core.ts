// What Queue, JoinableQueue and SimpleQueue share: the options of their
// blocking calls, the maxsize check, and the core that puts to and gets
// from their ring. The classes are facades over a QueueCore.

import { ProcessError, QueueEmptyError, QueueFullError } from "../errors.ts";
import {
  checkStop,
  kGetterWait,
  kPutterWait,
  Ring,
} from "../_memory/ring_buffer.ts";
import { kRingUnfinished as kUnfinished } from "../_wire/layouts.ts";
import {
  decodeRecord,
  decodeValue,
  type Encoded,
  encodeValue,
  needsFreshBytes,
  received,
} from "../_memory/record_codec.ts";
import { deadlineOf } from "../_core/time.ts";
import { assertNotRelayed } from "../_core/relayed.ts";
import { checkWaitOptions } from "../_core/validate.ts";
import { describe, type SharedDescriptor } from "../reduction.ts";

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

/**
 * The memory a revived queue adopts: passed to a queue's constructor in
 * place of `maxsize`, by the revivers only (this module is internal).
 */
export class QueueMemory {
  readonly ring: Ring;
  readonly maxsize: number;

  constructor(descriptor: SharedDescriptor) {
    this.ring = new Ring(
      descriptor.control as SharedArrayBuffer,
      descriptor.data as SharedArrayBuffer,
    );
    this.maxsize = descriptor.maxsize as number;
  }
}

/**
 * The core of a queue: over the memory of `from`, or over a new ring of
 * the checked `maxsize`.
 */
export function queueCore(
  from: unknown,
  joinable: boolean,
  what: string,
): QueueCore {
  if (from instanceof QueueMemory) {
    return new QueueCore(from.ring, from.maxsize, joinable);
  }
  return new QueueCore(Ring.create(), checkMaxsize(from, what), joinable);
}

// The encoder reuses its buffers (and a typed array is the caller's own
// memory): keep a private copy across a wait.
function copyOf(encoded: Encoded): Encoded {
  return { tag: encoded.tag, bytes: encoded.bytes.slice() };
}

/** The shared engine of the three queue classes. */
export class QueueCore {
  readonly ring: Ring;
  readonly maxsize: number;
  /** Set by JoinableQueue right after construction. */
  joinable: boolean;
  closed = false;
  readonly #tryGet = (): { value: unknown } | undefined => {
    const record = this.ring.pop(needsFreshBytes);
    if (record === undefined) return undefined;
    return { value: decodeValue(record.tag, record.bytes) };
  };
  // get()'s: it may import the module of a class before it revives.
  readonly #tryGetRecord = (): { value: unknown } | undefined => {
    const record = this.ring.pop(needsFreshBytes);
    if (record === undefined) return undefined;
    return { value: decodeRecord(record.tag, record.bytes) };
  };

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

  #tryPut(encoded: Encoded): true | undefined {
    const { tag, bytes } = encoded;
    const pushed = this.ring.push(tag, bytes, this.maxsize, this.joinable);
    return pushed === "ok" || undefined;
  }

  /**
   * What put() and putSync() share up to the first wait: validation, the
   * encoding, a first attempt, and the non-blocking refusal. Returns
   * undefined when the item is already in; otherwise what to retry with.
   */
  #beginPut(
    item: unknown,
    options: PutOptions | undefined,
  ): { retry: () => true | undefined; deadline: number } | undefined {
    const { block, deadline } = parseWait(options, "put item");
    this.checkOpen("put item");
    checkStop();
    const encoded = encodeValue(item, "item", "put item");
    if (this.#tryPut(encoded)) return undefined;
    if (!block) throw new QueueFullError();
    const copy = copyOf(encoded);
    return { retry: () => this.#tryPut(copy), deadline };
  }

  putSync(item: unknown, options: PutOptions | undefined): void {
    const put = this.#beginPut(item, options);
    if (put === undefined) return;
    const ring = this.ring;
    assertNotRelayed(ring.control.buffer, "put item", "queue.put()");
    if (!ring.untilSync(put.retry, kPutterWait, put.deadline)) {
      throw new QueueFullError();
    }
  }

  async put(item: unknown, options: PutOptions | undefined): Promise<void> {
    const put = this.#beginPut(item, options);
    if (put === undefined) return;
    const ring = this.ring;
    if (!await ring.until(put.retry, kPutterWait, put.deadline)) {
      throw new QueueFullError();
    }
  }

  #beginGet(options: GetOptions | undefined): number | undefined {
    const { block, deadline } = parseWait(options, "get item");
    this.checkOpen("get item");
    checkStop();
    return block ? deadline : undefined;
  }

  getSync(options: GetOptions | undefined): unknown {
    const deadline = this.#beginGet(options);
    let got = this.#tryGet();
    if (got === undefined && deadline !== undefined) {
      assertNotRelayed(this.ring.control.buffer, "get item", "queue.get()");
      got = this.ring.untilSync(this.#tryGet, kGetterWait, deadline);
    }
    if (got === undefined) throw new QueueEmptyError();
    return got.value;
  }

  async get(options: GetOptions | undefined): Promise<unknown> {
    const deadline = this.#beginGet(options);
    const got = deadline === undefined
      ? this.#tryGetRecord()
      : await this.ring.until(this.#tryGetRecord, kGetterWait, deadline);
    if (got === undefined) throw new QueueEmptyError();
    return received(got.value);
  }

  /** An attempt for until(): true once no task is unfinished. */
  readonly allDone = (): true | undefined =>
    Atomics.load(this.ring.control, kUnfinished) === 0 || undefined;

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
