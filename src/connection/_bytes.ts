// Argument checks and helpers of the byte-level calls of a Connection.

import { BufferTooShortError, ProcessError } from "../errors.ts";
import type { Record_ } from "../_memory/ring_buffer.ts";
import { frame, kFrameHeader } from "../_memory/record_codec.ts";
import { kRecordBytes as kTagBytes } from "../_wire/layouts.ts";
import { deadlineOf } from "../_core/time.ts";

/**
 * A byte view of `buf` from byte `offset`, `size` bytes long. Offsets and
 * sizes count bytes whatever the element type of `buf`, as in CPython,
 * which casts the buffer to bytes first.
 *
 * @throws {TypeError} When `buf` is not an ArrayBuffer or a view of one.
 * @throws {RangeError} When offset or size are not integers or fall outside
 * `buf`.
 */
export function byteView(
  buf: ArrayBufferLike | ArrayBufferView,
  offset: number | undefined,
  size: number | undefined,
  what: string,
): Uint8Array {
  let bytes: Uint8Array;
  if (ArrayBuffer.isView(buf)) {
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } else if (
    buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer
  ) {
    bytes = new Uint8Array(buf);
  } else {
    throw new TypeError(
      `Cannot ${what} as 'buf' must be an ArrayBuffer or a view of one: current value is ${
        Deno.inspect(buf)
      }`,
    );
  }
  const length = bytes.length;
  const start = offset ?? 0;
  if (!Number.isInteger(start) || start < 0 || start > length) {
    throw new RangeError(
      `Cannot ${what} as 'offset' must be an integer from 0 to the buffer's byte length ${length}: current value is ${
        Deno.inspect(start)
      }`,
    );
  }
  const count = size ?? length - start;
  if (!Number.isInteger(count) || count < 0 || start + count > length) {
    throw new RangeError(
      `Cannot ${what} as 'size' must be an integer from 0 to ${
        length - start
      } (the buffer's byte length less 'offset'): current value is ${
        Deno.inspect(count)
      }`,
    );
  }
  return bytes.subarray(start, start + count);
}

/**
 * Checks recvBytes()'s `maxlength`.
 *
 * @returns The longest payload a record may have to fit once framed.
 * @throws {RangeError} When it is not a non-negative integer.
 */
export function checkMaxlength(
  maxlength: unknown,
): ((tag: number) => number) | undefined {
  if (maxlength === undefined) return undefined;
  if (
    typeof maxlength !== "number" || !Number.isInteger(maxlength) ||
    maxlength < 0
  ) {
    throw new RangeError(
      `Cannot receive bytes as 'maxlength' must be a non-negative integer: current value is ${
        Deno.inspect(maxlength)
      }`,
    );
  }
  return (tag) => rawBytes(tag) ? maxlength : maxlength - kFrameHeader;
}

/** The deadline of a poll() timeout (null: none). */
export function pollDeadline(timeout: number | null): number {
  return timeout === null ? Infinity : deadlineOf(timeout);
}

/**
 * recvBytes()'s `fresh`: raw bytes are returned as popped; an encoded value
 * is framed (copied) anyway.
 */
export const rawBytes = (tag: number): boolean => tag === kTagBytes;

/** A record as bytes: raw bytes as sent, an encoded value framed. */
function asBytes(record: Record_): Uint8Array {
  return rawBytes(record.tag) ? record.bytes : frame(record.tag, record.bytes);
}

/**
 * The bytes of a record recvBytes() took.
 *
 * @throws {ProcessError} When it was longer than `maxlength` (and stays).
 */
export function bytesOf(
  record: Record_,
  maxlength: number | undefined,
): Uint8Array {
  if (record.kept !== undefined) {
    const length = record.kept + (rawBytes(record.tag) ? 0 : kFrameHeader);
    throw new ProcessError(
      `Cannot receive bytes as the message must be at most ${maxlength} bytes: it has ${length} bytes and stays in the pipe`,
    );
  }
  return asBytes(record);
}

/**
 * Copies a record into `target`.
 *
 * @throws {BufferTooShortError} When it does not fit.
 */
export function into(record: Record_, target: Uint8Array): number {
  const bytes = asBytes(record);
  if (bytes.length > target.length) throw new BufferTooShortError(bytes);
  target.set(bytes);
  return bytes.length;
}
