// A multi-producer/multi-consumer byte ring over SharedArrayBuffers, and the
// codec that turns values into its records. Queue, SimpleQueue, JoinableQueue
// and Connection are thin facades over it.
//
// Control block (Int32 slots of a small fixed SharedArrayBuffer):
//
//   0 kLock      mutex: 0 free, 1 held, 2 held and someone sleeps on it
//   1 kHead      absolute byte index of the oldest record (uint32, wraps)
//   2 kTail      absolute byte index just past the newest record
//   3 kCount     records in the ring (qsize)
//   4 kCapacity  current size of the data area in bytes (a power of two)
//   5 kPutSeq    bumped after every push (and by wake()); getters sleep on it
//   6 kGetSeq    bumped after every pop; putters sleep on it
//   7 kGetters   threads asleep (or about to be) on kPutSeq
//   8 kPutters   threads asleep (or about to be) on kGetSeq
//   9 kUnfinished  JoinableQueue: items put and not yet taskDone()
//  10 kJoiners   threads asleep on kUnfinished
//
// Data area: a *growable* SharedArrayBuffer. A record is
//
//   [len: int32][tag: int32][payload: len bytes][pad to 8]
//
// starting at an 8-aligned position, so the header never wraps; the payload
// may wrap around the end of the area.
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

import {
  deserialize as v8Deserialize,
  serialize as v8Serialize,
} from "node:v8";
import {
  kSliceMs,
  kSpinAsync,
  kSpinSync,
  waitAsync,
  type WaitResult,
  waitSync,
} from "./atomics.ts";
import { kReduce } from "../reduction.ts";
import { jsonSafe } from "../_wire/codec.ts";
import { ExitSignal, stopRequested } from "../_core/state.ts";

/** Mutex word. */
export const kLock = 0;
/** Absolute byte index of the oldest record. */
export const kHead = 1;
/** Absolute byte index just past the newest record. */
export const kTail = 2;
/** Records in the ring. */
export const kCount = 3;
/** Current data-area size in bytes. */
export const kCapacity = 4;
/** Bumped after every push; getters sleep on it. */
export const kPutSeq = 5;
/** Bumped after every pop; putters sleep on it. */
export const kGetSeq = 6;
/** Sleepers on kPutSeq. */
export const kGetters = 7;
/** Sleepers on kGetSeq. */
export const kPutters = 8;
/** JoinableQueue's unfinished-task count. */
export const kUnfinished = 9;
/** Sleepers on kUnfinished. */
export const kJoiners = 10;
/** Int32 slots of the control block (rounded up to a cache line). */
export const kControlSlots = 16;

/** Bytes of a record header. */
export const kRecordHeader = 8;
/** The data area never grows past this (1 GiB). */
export const kMaxCapacity = 2 ** 30;
/** The largest payload one record can hold. */
export const kMaxPayload = kMaxCapacity - kRecordHeader;
/** Default initial data-area size. */
export const kDefaultCapacity = 64 * 1024;

/** Record tags: how the payload is encoded. */
export const kTagJson = 1;
/** A string as UTF-8. */
export const kTagString = 2;
/** Raw bytes (Connection.sendBytes, or a top-level Uint8Array). */
export const kTagBytes = 3;
/** A typed array other than Uint8Array: kind in bits 8–15. */
export const kTagTyped = 4;
/** node:v8 serialization (structured clone format). */
export const kTagV8 = 5;

const kMutexSpin = 100;

function pad8(n: number): number {
  return (n + 7) & ~7;
}

function nextPowerOfTwo(n: number): number {
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
    const control = new SharedArrayBuffer(4 * kControlSlots);
    const data = new SharedArrayBuffer(size, { maxByteLength: kMaxCapacity });
    new Int32Array(control)[kCapacity] = size;
    return new Ring(control, data);
  }

  /** Records in the ring now. */
  get count(): number {
    return Atomics.load(this.control, kCount);
  }

  #lock(): void {
    const c = this.control;
    if (Atomics.compareExchange(c, kLock, 0, 1) === 0) return;
    for (let i = 0; i < kMutexSpin; i++) {
      if (
        Atomics.load(c, kLock) === 0 &&
        Atomics.compareExchange(c, kLock, 0, 1) === 0
      ) return;
    }
    // Critical sections are short and synchronous, so the holder always
    // finishes: a plain futex wait (allowed on Deno's main thread too) is
    // safe. The time limit is only a guard against a missed wake-up.
    while (Atomics.exchange(c, kLock, 2) !== 0) {
      Atomics.wait(c, kLock, 2, kSliceMs);
    }
  }

  #unlock(): void {
    if (Atomics.exchange(this.control, kLock, 0) === 2) {
      Atomics.notify(this.control, kLock, 1);
    }
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
   * returned as `kept`.
   * @returns The record, or undefined when the ring is empty.
   */
  pop(
    fresh: boolean | ((tag: number) => boolean),
    maxLength = Infinity,
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
      if (len > maxLength) return { tag, bytes: new Uint8Array(0), kept: len };
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
   * Sleeps (worker form) while `control[index]` still equals `seen`: spins
   * briefly first, then counts this thread in `sleepers` (so that the other
   * side notifies) and waits on the futex until `deadline` or `slice` ms.
   *
   * @throws {ExitSignal} When this child is terminated meanwhile.
   */
  sleepSync(
    index: number,
    sleepers: number,
    seen: number,
    deadline: number,
    slice = Infinity,
  ): WaitResult {
    const c = this.control;
    for (let i = 0; i < kSpinSync; i++) {
      if (Atomics.load(c, index) !== seen) {
        checkStop();
        return "not-equal";
      }
    }
    Atomics.add(c, sleepers, 1);
    let result: WaitResult;
    try {
      result = waitSync(
        c,
        index,
        seen,
        Math.min(deadline, performance.now() + slice),
        0,
      );
    } finally {
      Atomics.sub(c, sleepers, 1);
    }
    // A terminated worker runs on until it yields: once woken (or once its
    // spin saw a change) it must not take or put anything more.
    checkStop();
    return result;
  }

  /** The async twin of sleepSync(), for the main thread. */
  async sleep(
    index: number,
    sleepers: number,
    seen: number,
    deadline: number,
    slice = Infinity,
    spin = kSpinAsync,
  ): Promise<WaitResult> {
    const c = this.control;
    for (let i = 0; i < spin; i++) {
      if (Atomics.load(c, index) !== seen) {
        checkStop();
        return "not-equal";
      }
    }
    Atomics.add(c, sleepers, 1);
    let result: WaitResult;
    try {
      result = await waitAsync(
        c,
        index,
        seen,
        Math.min(deadline, performance.now() + slice),
        0,
      );
    } finally {
      Atomics.sub(c, sleepers, 1);
    }
    checkStop();
    return result;
  }
}

// ---------------------------------------------------------------------------
// The codec.
//
// Fast paths, chosen by measurement (bench/codecs.md): a string travels as
// UTF-8, a typed array as its bytes, and a value JSON represents exactly
// (finite numbers but not -0, strings, booleans, null, and plain objects and
// dense arrays of those, without shared references) as JSON text. Anything
// else structured clone can carry (Map, Set, Date, bigint, undefined, NaN,
// RegExp, Error, cycles, class instances as plain objects, …) goes through
// node:v8's serializer, which writes the structured clone wire format.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let scratchIn = new Uint8Array(4096);

const typedKinds = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
type TypedArray = InstanceType<(typeof typedKinds)[number]>;

/** An encoded value, ready for Ring.push(). */
export interface Encoded {
  tag: number;
  /** May view a scratch buffer: copy it before the next encode. */
  bytes: Uint8Array;
}

function describeKind(value: unknown): string {
  if (typeof value === "function") {
    return `a function${value.name ? ` (${value.name})` : ""}`;
  }
  if (typeof value === "symbol") return `a symbol (${String(value)})`;
  if (value instanceof SharedArrayBuffer) return "a SharedArrayBuffer";
  if (ArrayBuffer.isView(value)) {
    return `a ${value.constructor.name} over a SharedArrayBuffer`;
  }
  const name = (value as object).constructor?.name ?? "object";
  return kReduce in (value as object) ? `a shared ${name}` : `a ${name}`;
}

// Structured clone through bytes cannot carry shared memory: a
// SharedArrayBuffer (or a Lock, Queue, Value, … built on one) would arrive
// as a copy, silently unshared. CPython refuses these too ("should only be
// shared between processes through inheritance").
function assertTravels(
  value: unknown,
  path: string,
  what: string,
  visited: Set<object>,
): void {
  if (typeof value === "function" || typeof value === "symbol") {
    throw cannotTravel(value, path, what);
  }
  if (typeof value !== "object" || value === null || visited.has(value)) {
    return;
  }
  visited.add(value);
  if (
    value instanceof SharedArrayBuffer ||
    (ArrayBuffer.isView(value) && value.buffer instanceof SharedArrayBuffer) ||
    kReduce in value || value instanceof Promise ||
    value instanceof WeakMap || value instanceof WeakSet ||
    value instanceof WeakRef
  ) {
    throw cannotTravel(value, path, what);
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertTravels(k, `${path}.keys()`, what, visited);
      assertTravels(v, `${path}.get(${String(k)})`, what, visited);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) assertTravels(v, `${path}.values()`, what, visited);
    return;
  }
  for (const key of Object.keys(value)) {
    assertTravels(
      (value as Record<string, unknown>)[key],
      Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
      what,
      visited,
    );
  }
}

function cannotTravel(value: unknown, path: string, what: string): TypeError {
  const hint = kReduce in Object(value) || value instanceof SharedArrayBuffer ||
      ArrayBuffer.isView(value)
    ? ": shared objects cross into a child only through Process args"
    : "";
  return new TypeError(
    `Cannot ${what} as '${path}' must be structured-cloneable without shared memory: current value is ${
      describeKind(value)
    }${hint}`,
  );
}

function tooLarge(length: number, what: string): RangeError {
  return new RangeError(
    `Cannot ${what} as the encoded message must be at most ${kMaxPayload} bytes: current value is ${length} bytes`,
  );
}

function encodeText(text: string, tag: number, what: string): Encoded {
  // Short texts go through a reused buffer; long ones get an exact one
  // (encodeInto would need 3 bytes per UTF-16 unit up front).
  if (text.length <= 1 << 20) {
    const max = text.length * 3;
    if (scratchIn.length < max) scratchIn = new Uint8Array(nextPowerOfTwo(max));
    const { written } = encoder.encodeInto(text, scratchIn);
    return { tag, bytes: scratchIn.subarray(0, written) };
  }
  const bytes = encoder.encode(text);
  if (bytes.length > kMaxPayload) throw tooLarge(bytes.length, what);
  return { tag, bytes };
}

/**
 * Encodes `value` for the ring.
 *
 * @param value Any structured-cloneable value without shared memory.
 * @param path How to name the value in errors ("item", "obj").
 * @param what The operation, for errors ("put item").
 * @throws {TypeError} When the value cannot travel.
 * @throws {RangeError} When it is larger than a record can be.
 */
export function encodeValue(
  value: unknown,
  path: string,
  what: string,
): Encoded {
  if (typeof value === "string") return encodeText(value, kTagString, what);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const kind = typedKinds.indexOf(
      Object.getPrototypeOf(value).constructor,
    );
    if (kind >= 0 && value.buffer instanceof ArrayBuffer) {
      if (value.byteLength > kMaxPayload) {
        throw tooLarge(value.byteLength, what);
      }
      const bytes = new Uint8Array(
        value.buffer,
        value.byteOffset,
        value.byteLength,
      );
      return kind === 1
        ? { tag: kTagBytes, bytes }
        : { tag: kTagTyped | (kind << 8), bytes };
    }
  }
  if (jsonSafe(value)) return encodeText(JSON.stringify(value), kTagJson, what);
  assertTravels(value, path, what, new Set());
  let bytes: Uint8Array;
  try {
    bytes = v8Serialize(value);
  } catch (error) {
    throw new TypeError(
      `Cannot ${what} as '${path}' must be structured-cloneable: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  if (bytes.length > kMaxPayload) throw tooLarge(bytes.length, what);
  return { tag: kTagV8, bytes };
}

/** Whether a record of this tag must be popped into a buffer of its own. */
export function needsFreshBytes(tag: number): boolean {
  return tag !== kTagJson && tag !== kTagString;
}

/**
 * Decodes a record's payload.
 *
 * @param tag The record's tag.
 * @param bytes Its payload (a buffer of its own when needsFreshBytes(tag)).
 */
export function decodeValue(tag: number, bytes: Uint8Array): unknown {
  switch (tag & 0xff) {
    case kTagJson:
      return JSON.parse(decoder.decode(bytes));
    case kTagString:
      return decoder.decode(bytes);
    case kTagBytes:
      return bytes;
    case kTagTyped: {
      const Kind = typedKinds[tag >> 8] as unknown as new (
        buffer: ArrayBuffer,
      ) => TypedArray;
      return new Kind(bytes.buffer as ArrayBuffer);
    }
    case kTagV8:
      return v8Deserialize(bytes);
    default:
      throw new TypeError(
        `Cannot decode message as its tag must be known: current value is ${tag}`,
      );
  }
}
