// Argument checks and helpers of the byte-level calls of a Connection.

import { BufferTooShortError, ProcessError } from "../errors.ts";
import type { Record_ } from "../_memory/ring_buffer.ts";
import { deadlineOf } from "../_core/time.ts";

/**
 * A byte view of `buf` from element `offset`, `size` elements long
 * (elements of a typed array, as CPython counts items of a buffer).
 *
 * @throws {TypeError} When `buf` is not an ArrayBuffer or a view of one.
 * @throws {RangeError} When offset or size fall outside `buf`.
 */
export function byteView(
  buf: ArrayBufferLike | ArrayBufferView,
  offset: number | undefined,
  size: number | undefined,
  what: string,
): Uint8Array {
  let bytes: Uint8Array;
  let item = 1;
  if (ArrayBuffer.isView(buf)) {
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    item = (buf as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
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
  const length = bytes.length / item;
  const start = offset ?? 0;
  if (!Number.isInteger(start) || start < 0 || start > length) {
    throw new RangeError(
      `Cannot ${what} as 'offset' must be an integer from 0 to the buffer's length ${length}: current value is ${start}`,
    );
  }
  const count = size ?? length - start;
  if (!Number.isInteger(count) || count < 0 || start + count > length) {
    throw new RangeError(
      `Cannot ${what} as 'size' must be an integer from 0 to ${
        length - start
      } (the buffer's length less 'offset'): current value is ${count}`,
    );
  }
  return bytes.subarray(start * item, (start + count) * item);
}

/**
 * Checks recvBytes()'s `maxlength`.
 *
 * @throws {RangeError} When it is not a non-negative integer.
 */
export function checkMaxlength(maxlength: unknown): void {
  if (maxlength === undefined) return;
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
}

/** The deadline of a poll() timeout (null: none). */
export function pollDeadline(timeout: number | null): number {
  return timeout === null ? Infinity : deadlineOf(timeout);
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
    throw new ProcessError(
      `Cannot receive bytes as the message must be at most ${maxlength} bytes: it has ${record.kept} bytes and stays in the pipe`,
    );
  }
  return record.bytes;
}

/**
 * Copies a record into `target`.
 *
 * @throws {BufferTooShortError} When it does not fit.
 */
export function into(record: Record_, target: Uint8Array): number {
  if (record.bytes.length > target.length) {
    throw new BufferTooShortError(record.bytes);
  }
  target.set(record.bytes);
  return record.bytes.length;
}
