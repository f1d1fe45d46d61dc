// How values become the MPMC ring's records, and back.
//
// Fast paths, chosen by measurement (bench/codecs.md): a string travels as
// UTF-8, a typed array as its bytes, and a value JSON represents exactly
// (finite numbers but not -0, strings, booleans, null, and plain objects and
// dense arrays of those, without shared references) as JSON text. Anything
// else structured clone can carry (Map, Set, Date, bigint, undefined, NaN,
// RegExp, Error, cycles, …) goes through node:v8's serializer, which writes
// the structured clone wire format, after reduce() has put class instances
// and errors in their travelling forms (src/_core/forms.ts); the receiver
// revives them.

import { nodeV8 } from "../_core/node_v8.ts";
import { kReduce, reduce, revive } from "../reduction.ts";
import { withClasses, withLoadedClasses } from "../_core/classes.ts";
import { byNodeV8 } from "../_core/runtime_objects.ts";
import { jsonSafe } from "../_wire/codec.ts";
import {
  kRecordBytes as kTagBytes,
  kRecordJson as kTagJson,
  kRecordString as kTagString,
  kRecordTyped as kTagTyped,
  kRecordV8 as kTagV8,
} from "../_wire/layouts.ts";
import { kMaxPayload, nextPowerOfTwo } from "./ring_buffer.ts";

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
  // node:v8 copies a Blob or a CryptoKey as {}: reduce() refuses them here.
  const reduced = byNodeV8(() => reduce(value, path, what));
  const v8 = nodeV8();
  let bytes: Uint8Array;
  try {
    bytes = v8.serialize(reduced);
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

// A structured-clone record before its forms are revived: reviving may need
// to import a class's module, which only an awaiting receiver can do.
class Received {
  constructor(readonly value: unknown) {}
}

/**
 * Decodes a record's payload, reviving what a blocking receiver can.
 *
 * @param tag The record's tag.
 * @param bytes Its payload (a buffer of its own when needsFreshBytes(tag)).
 * @throws {TypeError} When a class of the value has its module not loaded here.
 */
export function decodeValue(tag: number, bytes: Uint8Array): unknown {
  const decoded = decodeRecord(tag, bytes);
  if (!(decoded instanceof Received)) return decoded;
  return withLoadedClasses(() => revive(decoded.value));
}

/**
 * Finishes what decodeRecord() gave: revives the value, importing the
 * modules of its classes first where needed.
 */
export function received(decoded: unknown): unknown {
  if (!(decoded instanceof Received)) return decoded;
  return withClasses(() => revive(decoded.value));
}

/** Decodes a record's payload; finish it with received(). */
export function decodeRecord(tag: number, bytes: Uint8Array): unknown {
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
      return new Received(nodeV8().deserialize(bytes));
    default:
      throw new TypeError(
        `Cannot decode message as its tag must be known: current value is ${tag}`,
      );
  }
}

// The one byte format of an encoded value, so that a Connection's send() and
// sendBytes() interoperate as CPython's do (there send() is send_bytes() of
// the pickle): recvBytes() of a message sent with send() returns these
// bytes, and sendBytes() of them sends that value again. In the ring the
// encoding stays in the record's tag, so send() and recv() copy nothing
// more; only the byte calls add or strip the header.
//
//   [0xC1 'd' 'm' 0x01][tag: uint32, little-endian][payload]
//
// 0xC1 never starts UTF-8 text, so plain text sent as bytes is never taken
// for a value; bytes that are not this format stay bytes.

/** Bytes of the header that frames an encoded value as bytes. */
export const kFrameHeader = 8;
const kMagic = 0x016d64c1; // 0xC1 'd' 'm' 0x01, read as a little-endian uint32

/** The framed bytes of a record that holds an encoded value. */
export function frame(tag: number, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(kFrameHeader + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, kMagic, true);
  view.setUint32(4, tag, true);
  bytes.set(payload, kFrameHeader);
  return bytes;
}

/**
 * The record to push for `bytes` sent as bytes: the value they frame, or
 * the bytes themselves when they are not an encoded value.
 */
export function unframe(bytes: Uint8Array): Encoded {
  // The first byte turns away nearly all raw bytes before any allocation.
  if (bytes.length >= kFrameHeader && bytes[0] === 0xc1) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, kFrameHeader);
    const tag = view.getUint32(4, true);
    const payload = bytes.subarray(kFrameHeader);
    if (view.getUint32(0, true) === kMagic && knownTag(tag, payload.length)) {
      return { tag, bytes: payload };
    }
  }
  return { tag: kTagBytes, bytes };
}

// Whether decodeValue() understands a record of this tag and length.
function knownTag(tag: number, length: number): boolean {
  const kind = tag & 0xff;
  if (kind === kTagTyped) {
    const Kind = typedKinds[tag >> 8];
    return Kind !== undefined && length % Kind.BYTES_PER_ELEMENT === 0;
  }
  return tag === kTagJson || tag === kTagString || tag === kTagV8;
}
