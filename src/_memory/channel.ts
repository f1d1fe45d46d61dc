// A single-producer/single-consumer message ring over a SharedArrayBuffer:
// the pool's fast path between the main thread and one worker. One side
// only writes, the other only reads, so no lock is needed: the writer owns
// kTail, the reader owns kHead, and each publishes with an atomic store.
//
// Layout: the channel block of src/_wire/layouts.ts.
//
// kHead/kTail count bytes consumed/produced since creation (uint32, they
// wrap). The data is a stream of JSON texts, each followed by a comma: a
// message that does not fit before the end of the buffer starts at its
// beginning, and the skipped bytes are filled with spaces. So whatever lies
// between head and tail, in one or two pieces, is one valid JSON array body:
// the reader decodes and parses everything available in one go.
//
// Why only small JSON messages go through here: encoding to UTF-8 JSON and
// copying a few hundred bytes beats postMessage's ~60–130 µs round trip by
// far, and the reader can spin on kTail instead of waiting for an event loop
// turn. Reading every waiting message at once costs the pool's main thread
// one decode and one JSON.parse per look instead of one per result.
// Anything large or not JSON-safe takes the postMessage fallback.

import {
  kChannelHead as kHead,
  kChannelHeaderBytes as kHeaderBytes,
  kChannelPosted as kPosted,
  kChannelTail as kTail,
  kChannelWaiting as kWaiting,
} from "../_wire/layouts.ts";

// The pool engine imports the slots from here under their short names.
export { kHead, kHeaderBytes, kPosted, kTail, kWaiting };
const kComma = 0x2c;
const kSpace = 0x20;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Reused staging buffers: allocating an ArrayBuffer per message (its backing
// store is malloc'd and counted as external memory) showed up as GC time.
let scratch = new Uint8Array(4096);
let inbound = new Uint8Array(4096);

/** One end of a ring: the same memory seen by the writer or the reader. */
export class Channel {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly #data: Uint8Array;
  readonly #capacity: number;

  /** Wraps `buffer` (from {@linkcode Channel.allocate}). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, kHeaderBytes / 4);
    this.#capacity = buffer.byteLength - kHeaderBytes;
    this.#data = new Uint8Array(buffer, kHeaderBytes, this.#capacity);
  }

  /** A buffer for a ring of `capacity` bytes (a multiple of 4). */
  static allocate(capacity: number): SharedArrayBuffer {
    return new SharedArrayBuffer(kHeaderBytes + capacity);
  }

  /** The largest message worth sending through this ring, in bytes. */
  get maxMessage(): number {
    return this.#capacity >>> 2;
  }

  /**
   * Writes `json` (a JSON text) as one message. Returns false, writing
   * nothing, when it does not fit now: the caller sends it another way.
   */
  tryWrite(json: string): boolean {
    if (json.length * 3 + 1 > scratch.length) {
      scratch = new Uint8Array(json.length * 3 + 1);
    }
    const length = encoder.encodeInto(json, scratch).written;
    scratch[length] = kComma;
    const size = length + 1;
    if (size > this.maxMessage) return false;
    const head = Atomics.load(this.header, kHead) >>> 0;
    let tail = Atomics.load(this.header, kTail) >>> 0;
    const capacity = this.#capacity;
    const offset = tail % capacity;
    const contiguous = capacity - offset;
    const needed = size <= contiguous ? size : contiguous + size;
    if (capacity - ((tail - head) >>> 0) < needed) return false;
    if (size > contiguous) {
      this.#data.fill(kSpace, offset, capacity);
      tail = (tail + contiguous) >>> 0;
    }
    this.#data.set(scratch.subarray(0, size), tail % capacity);
    Atomics.store(this.header, kTail, (tail + size) | 0);
    return true;
  }

  /** Wakes the reader if it may be waiting. Call once after a batch of writes. */
  wake(): void {
    if (Atomics.load(this.header, kWaiting) !== 0) {
      Atomics.notify(this.header, kTail);
    }
  }

  /** True when a message is waiting to be read. */
  hasMessage(): boolean {
    return Atomics.load(this.header, kHead) !==
      Atomics.load(this.header, kTail);
  }

  /**
   * Reads every waiting message, in order, or returns undefined when the
   * ring is empty.
   */
  tryReadAll(): unknown[] | undefined {
    const head = Atomics.load(this.header, kHead) >>> 0;
    const tail = Atomics.load(this.header, kTail) >>> 0;
    const available = (tail - head) >>> 0;
    if (available === 0) return undefined;
    const capacity = this.#capacity;
    const at = head % capacity;
    // TextDecoder refuses shared memory: copy out to a plain buffer first.
    if (available > inbound.length) inbound = new Uint8Array(available * 2);
    const first = Math.min(available, capacity - at);
    inbound.set(this.#data.subarray(at, at + first));
    if (first < available) {
      inbound.set(this.#data.subarray(0, available - first), first);
    }
    const text = decoder.decode(inbound.subarray(0, available));
    Atomics.store(this.header, kHead, tail | 0);
    // Every message ends with a comma: close the array with a sentinel.
    const messages = JSON.parse(`[${text}0]`) as unknown[];
    messages.length--;
    return messages;
  }
}

// The pool engine reaches the value rules through this module.
export { jsonSafe, kJsonMaxItems, packNumbers } from "../_wire/codec.ts";
