// A multi-producer/multi-consumer byte ring over SharedArrayBuffers (its
// records' codec is record_codec.ts). Queue, SimpleQueue, JoinableQueue and
// Connection are thin facades over it.
//
// Control block and records: the MPMC ring block of src/_wire/layouts.ts.
// The data area is a *growable* SharedArrayBuffer; a record starts at an
// 8-aligned position, so its header never wraps; the payload may wrap
// around the end of the area.
//
// Why one mutex and copies in and out: every critical section is a short,
// synchronous memcpy plus a few index updates, and nothing is ever held
// across a wait or an await. Deno cannot stop a worker in the middle of
// synchronous code (terminate() only takes effect when it yields or when one
// of our timed waits sees the stop flag, which unwinds through `finally`), so
// a producer or consumer that is terminated can never leave a half-written
// record or a held lock behind: its record is either entirely in the ring
// or not at all. Encoding and decoding happen outside the lock.
//
// Why the area grows instead of chunking: a message is one record, so it is
// never merged or split, and a put never has to hold a partial message
// across a wait (which a terminated producer could leave behind). Growth
// happens under the lock, doubling up to kMaxCapacity; the buffer reserves
// address space for kMaxCapacity up front and commits pages as it grows.

import { asyncSpin, type Spin, syncSpin } from "./spin.ts";
import { ExitSignal, stopRequested } from "../_core/state.ts";
import { lockSync, unlock } from "./mutex.ts";
import { Waiter, type WaitWord } from "./waiter.ts";
import {
  kRecordHeader,
  kRingCapacity as kCapacity,
  kRingControlSlots,
  kRingCount as kCount,
  kRingGetSeq as kGetSeq,
  kRingGetters as kGetters,
  kRingHead as kHead,
  kRingJoiners as kJoiners,
  kRingLock,
  kRingPutSeq as kPutSeq,
  kRingPutters as kPutters,
  kRingTail as kTail,
  kRingUnfinished as kUnfinished,
} from "../_wire/layouts.ts";

/** Where a putter waits for room: a get moves kGetSeq. */
export const kPutterWait: WaitWord = { index: kGetSeq, sleepers: kPutters };
/** Where a getter waits for a record: a put moves kPutSeq. */
export const kGetterWait: WaitWord = { index: kPutSeq, sleepers: kGetters };
/** Where JoinableQueue.join() waits: each taskDone() lowers kUnfinished. */
export const kJoinerWait: WaitWord = {
  index: kUnfinished,
  sleepers: kJoiners,
};

/** The data area never grows past this (1 GiB). */
export const kMaxCapacity = 2 ** 30;
/** The largest payload one record can hold. */
export const kMaxPayload = kMaxCapacity - kRecordHeader;
/** Default initial data-area size. */
export const kDefaultCapacity = 64 * 1024;

// The ring's mutex guards tiny sections: a short spin, learned per thread.
const mutexSpin = syncSpin(100);

function pad8(n: number): number {
  return (n + 7) & ~7;
}

/** The power of two at or above `n` (at least 8). */
export function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(n, 8)));
}

/** Throws ExitSignal when this child was terminated (stops consuming at once). */
export function checkStop(): void {
  if (stopRequested()) throw new ExitSignal(-15);
}

/** A popped record: bytes are valid until the next pop on this thread. */
export interface Record_ {
  tag: number;
  bytes: Uint8Array;
  /** Set when the record was longer than pop()'s maxLength: left in place. */
  kept?: number;
}

/** What push() found. */
export type PushResult = "ok" | "full" | "no-space";

let scratchOut = new Uint8Array(4096);

/** The shared memory of one ring, and the operations on it. */
export class Ring {
  readonly control: Int32Array;
  readonly data: SharedArrayBuffer;
  readonly #u8: Uint8Array;
  readonly #i32: Int32Array;
  // This thread's waits on this ring learn their own budgets: a queue's
  // consumer and a pipe's end see their own peers' timing.
  readonly #syncSpin = syncSpin();
  readonly #asyncSpin = asyncSpin();

  /**
   * Wraps existing buffers (from another process, or from create()).
   *
   * @param control The control block.
   * @param data The growable data area.
   */
  constructor(control: SharedArrayBuffer, data: SharedArrayBuffer) {
    this.control = new Int32Array(control);
    this.data = data;
    // Length-tracking views: they follow the buffer when any process grows it.
    this.#u8 = new Uint8Array(data);
    this.#i32 = new Int32Array(data);
  }

  /**
   * Allocates a new, empty ring.
   *
   * @param capacity Initial data-area size (rounded up to a power of two).
   */
  static create(capacity = kDefaultCapacity): Ring {
    const size = nextPowerOfTwo(Math.min(capacity, kMaxCapacity));
    const control = new SharedArrayBuffer(4 * kRingControlSlots);
    const data = new SharedArrayBuffer(size, { maxByteLength: kMaxCapacity });
    new Int32Array(control)[kCapacity] = size;
    return new Ring(control, data);
  }

  /** Records in the ring now. */
  get count(): number {
    return Atomics.load(this.control, kCount);
  }

  // Critical sections are short and synchronous, so the holder always
  // finishes: blocking for the mutex is safe even on the main thread.
  #lock(): void {
    lockSync(this.control, kRingLock, Infinity, mutexSpin);
  }

  #unlock(): void {
    unlock(this.control, kRingLock);
  }

  #write(src: Uint8Array, index: number, mask: number): void {
    const pos = index & mask;
    const first = Math.min(src.length, mask + 1 - pos);
    if (first === src.length) {
      this.#u8.set(src, pos);
    } else {
      this.#u8.set(src.subarray(0, first), pos);
      this.#u8.set(src.subarray(first), 0);
    }
  }

  #read(dst: Uint8Array, index: number, mask: number): void {
    const pos = index & mask;
    const n = dst.length;
    const first = Math.min(n, mask + 1 - pos);
    dst.set(this.#u8.subarray(pos, pos + first));
    if (first < n) dst.set(this.#u8.subarray(0, n - first), first);
  }

  // Doubles the area until `need` more bytes fit; the used bytes move to
  // their positions under the new mask. Called with the lock held.
  #grow(used: number, need: number): boolean {
    const c = this.control;
    const capacity = c[kCapacity];
    const size = nextPowerOfTwo(used + need);
    if (size > kMaxCapacity) return false;
    const head = c[kHead];
    const saved = new Uint8Array(used);
    this.#read(saved, head, capacity - 1);
    this.data.grow(size);
    this.#write(saved, head, size - 1);
    c[kCapacity] = size;
    return true;
  }

  /**
   * Appends one record, unless the ring holds `maxCount` records already
   * (maxCount ≤ 0: no limit) or the data area is at its largest and full.
   *
   * @param tag The payload's encoding.
   * @param payload The encoded value.
   * @param maxCount The queue's maxsize.
   * @param countTask Also count an unfinished task (JoinableQueue).
   */
  push(
    tag: number,
    payload: Uint8Array,
    maxCount: number,
    countTask = false,
  ): PushResult {
    const c = this.control;
    const len = payload.length;
    const need = kRecordHeader + pad8(len);
    this.#lock();
    try {
      if (maxCount > 0 && c[kCount] >= maxCount) return "full";
      const tail = c[kTail];
      const used = (tail - c[kHead]) >>> 0;
      if (c[kCapacity] - used < need && !this.#grow(used, need)) {
        return "no-space";
      }
      const mask = c[kCapacity] - 1;
      const slot = (tail & mask) >> 2;
      this.#i32[slot] = len;
      this.#i32[slot + 1] = tag;
      if (len > 0) this.#write(payload, tail + kRecordHeader, mask);
      c[kTail] = (tail + need) | 0;
      c[kCount]++;
      if (countTask) c[kUnfinished]++;
    } finally {
      this.#unlock();
    }
    Atomics.add(c, kPutSeq, 1);
    if (Atomics.load(c, kGetters) > 0) Atomics.notify(c, kPutSeq);
    return "ok";
  }

  /**
   * Removes the oldest record.
   *
   * @param fresh Whether the bytes must be a new buffer the caller keeps
   * (`true`), or may be a scratch buffer reused by the next pop (`false`),
   * or a function of the tag that says which.
   * @param maxLength A longer record stays in the ring; its length is
   * returned as `kept`. A function gives the limit for the record's tag.
   * @returns The record, or undefined when the ring is empty.
   */
  pop(
    fresh: boolean | ((tag: number) => boolean),
    maxLength: number | ((tag: number) => number) = Infinity,
  ): Record_ | undefined {
    const c = this.control;
    let record: Record_;
    this.#lock();
    try {
      if (c[kCount] === 0) return undefined;
      const head = c[kHead];
      const mask = c[kCapacity] - 1;
      const slot = (head & mask) >> 2;
      const len = this.#i32[slot];
      const tag = this.#i32[slot + 1];
      const limit = typeof maxLength === "number" ? maxLength : maxLength(tag);
      if (len > limit) return { tag, bytes: new Uint8Array(0), kept: len };
      const keep = typeof fresh === "function" ? fresh(tag) : fresh;
      let bytes: Uint8Array;
      if (keep) {
        bytes = new Uint8Array(len);
      } else {
        if (scratchOut.length < len) {
          scratchOut = new Uint8Array(nextPowerOfTwo(len));
        }
        bytes = scratchOut.subarray(0, len);
      }
      if (len > 0) this.#read(bytes, head + kRecordHeader, mask);
      c[kHead] = (head + kRecordHeader + pad8(len)) | 0;
      c[kCount]--;
      record = { tag, bytes };
    } finally {
      this.#unlock();
    }
    Atomics.add(c, kGetSeq, 1);
    if (Atomics.load(c, kPutters) > 0) Atomics.notify(c, kGetSeq);
    return record;
  }

  /**
   * Looks at the oldest record without removing it.
   *
   * @returns Its tag and payload length, or undefined when empty.
   */
  peek(): { tag: number; length: number } | undefined {
    const c = this.control;
    this.#lock();
    try {
      if (c[kCount] === 0) return undefined;
      const slot = (c[kHead] & (c[kCapacity] - 1)) >> 2;
      return { length: this.#i32[slot], tag: this.#i32[slot + 1] };
    } finally {
      this.#unlock();
    }
  }

  /** Wakes every sleeper on either side (an end closed, say). */
  wake(): void {
    Atomics.add(this.control, kPutSeq, 1);
    Atomics.notify(this.control, kPutSeq);
    Atomics.add(this.control, kGetSeq, 1);
    Atomics.notify(this.control, kGetSeq);
  }

  /**
   * JoinableQueue.taskDone(): one fewer unfinished task.
   *
   * @returns False when there was no unfinished task.
   */
  taskDone(): boolean {
    const c = this.control;
    let left: number;
    this.#lock();
    try {
      if (c[kUnfinished] <= 0) return false;
      left = --c[kUnfinished];
    } finally {
      this.#unlock();
    }
    if (left === 0 && Atomics.load(c, kJoiners) > 0) {
      Atomics.notify(c, kUnfinished);
    }
    return true;
  }

  /**
   * Calls `attempt` until it gives something, sleeping (worker form) on
   * `control[index]` between tries while that word does not change: spins
   * briefly first, then counts this thread in `sleepers` (so that the other
   * side notifies) and waits on the futex, at most `slice` ms at a time.
   *
   * @returns What `attempt` gave, or, once `deadline` has passed, what one
   * last attempt gives (undefined: nothing came in time).
   * @throws {ExitSignal} When this child is terminated meanwhile.
   */
  untilSync<T>(
    attempt: () => T | undefined,
    on: WaitWord,
    deadline: number,
    slice = Infinity,
  ): T | undefined {
    const w = new Waiter(this.control, attempt, on, deadline);
    while (w.sleeps(this.#syncSpin)) w.sleepSync(slice);
    return w.got;
  }

  /** The async twin of {@linkcode Ring.untilSync}, for the main thread. */
  async until<T>(
    attempt: () => T | undefined,
    on: WaitWord,
    deadline: number,
    options: { slice?: number; spin?: Spin } = {},
  ): Promise<T | undefined> {
    const { slice = Infinity, spin = this.#asyncSpin } = options;
    const w = new Waiter(this.control, attempt, on, deadline);
    while (w.sleeps(spin)) await w.sleepAsync(slice);
    return w.got;
  }
}
