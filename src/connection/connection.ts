/**
 * `Connection` (CPython's `multiprocessing.connection.Connection`): one end
 * of a {@linkcode Pipe}. How pipes work is told in ./mod.ts.
 *
 * @module
 */

import { kMaxPayload } from "../_memory/ring_buffer.ts";
import {
  decodeRecord,
  decodeValue,
  encodeValue,
  needsFreshBytes,
  received,
  unframe,
} from "../_memory/record_codec.ts";
import { checkTimeout } from "../_core/validate.ts";
import { kReduce, type SharedDescriptor } from "../reduction.ts";
import {
  bytesOf,
  byteView,
  checkMaxlength,
  into,
  pollDeadline,
  rawBytes,
} from "./_bytes.ts";
import { PipeEnd } from "./_pipe_end.ts";

/**
 * One end of a {@linkcode Pipe}. Pass it to a child through `args` to talk
 * to that child.
 *
 * Receiving has an async form for the main thread (`recv`, `recvBytes`,
 * `recvBytesInto`, `poll`) and a blocking `…Sync` form for worker code.
 * Sending never waits (the ring grows), except when 1 GiB of messages is
 * already waiting to be read.
 *
 * @example A child answers on its end of the pipe
 * ```ts
 * import { Pipe, Process } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const [parentConn, childConn] = Pipe();
 * const p = new Process({
 *   target: new URL("../../tests/fixtures/queue_targets.ts#sendHello", import.meta.url),
 *   args: [childConn],
 * });
 * p.start();
 * assert.deepEqual(await parentConn.recv(), [ 42, null, "hello" ]);
 * await p.join();
 * ```
 */
export class Connection {
  readonly #end: PipeEnd;

  /**
   * Not for direct use: {@linkcode Pipe} creates connections.
   *
   * @throws {TypeError} Always, when called directly.
   */
  constructor();
  constructor(end?: unknown) {
    if (!(end instanceof PipeEnd)) {
      throw new TypeError(
        "Cannot create connection as connections must come from Pipe()",
      );
    }
    this.#end = end;
  }

  /** Whether this handle is closed. */
  get closed(): boolean {
    return this.#end.closed;
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#end.readable;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#end.writable;
  }

  /**
   * Sends a value (structured-cloneable, without shared memory).
   *
   * @param obj The value; it is copied now.
   * @throws {TypeError} When the value cannot travel between processes.
   * @throws {BrokenPipeError} When the other end is closed everywhere.
   * @throws {ProcessError} When this end is closed or read-only.
   *
   * @example Using send()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * a.send({ when: new Date(0), tags: new Set(["x"]) });
   * assert.deepEqual(await b.recv(), { when: new Date(0), tags: new Set(["x"]) });
   * ```
   */
  send(obj: unknown): void {
    this.#end.push("send", () => encodeValue(obj, "obj", "send"));
  }

  /**
   * Sends bytes as one message. `offset` and `size` count bytes whatever the
   * element type of `buf`, as in CPython (which casts the buffer to bytes).
   *
   * @param buf The bytes (any typed array, DataView or ArrayBuffer).
   * @param offset First byte to send. @default {0}
   * @param size Bytes to send. @default {the rest of buf}
   * @throws {TypeError} When `buf` is not an ArrayBuffer or a view of one.
   * @throws {RangeError} When offset or size fall outside `buf`.
   * @throws {BrokenPipeError} When the other end is closed everywhere.
   * @throws {ProcessError} When this end is closed or read-only.
   *
   * @example Using sendBytes()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * a.sendBytes(new Uint8Array([1, 2, 3, 4]), 1, 2);
   * assert.deepEqual(await b.recvBytes(), new Uint8Array([2, 3]));
   * // Bytes 1 and 2 of two 16-bit numbers (stored little-endian):
   * a.sendBytes(new Uint16Array([0x0102, 0x0304]), 1, 2);
   * assert.deepEqual(await b.recvBytes(), new Uint8Array([1, 4]));
   * ```
   */
  sendBytes(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
    size?: number,
  ): void {
    this.#end.push("send bytes", () => {
      const bytes = byteView(buf, offset, size, "send bytes");
      if (bytes.length > kMaxPayload) {
        throw new RangeError(
          `Cannot send bytes as the message must be at most ${kMaxPayload} bytes: current value is ${bytes.length} bytes`,
        );
      }
      return unframe(bytes);
    });
  }

  /**
   * Receives the next message, waiting for one.
   *
   * @returns The value (a `Uint8Array` for bytes that frame no value).
   * @throws {EOFError} When the pipe is drained and the other end closed.
   * @throws {ProcessError} When this end is closed or write-only.
   *
   * @example Using recv()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * b.send(10n ** 20n);
   * assert.deepEqual(await a.recv(), 100000000000000000000n);
   * ```
   */
  async recv(): Promise<unknown> {
    const record = await this.#end.receive("receive", needsFreshBytes);
    return received(decodeRecord(record.tag, record.bytes));
  }

  /**
   * Receives the next message, blocking the thread (worker code).
   *
   * @returns The value.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   * @throws {ProcessError} When this end is closed or write-only.
   *
   * @example Using recvSync()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * b.send("hi");
   * assert.deepEqual(a.recvSync(), "hi");
   * ```
   */
  recvSync(): unknown {
    const record = this.#end.receiveSync("receive", needsFreshBytes);
    return decodeValue(record.tag, record.bytes);
  }

  /**
   * Receives the next message as bytes: for one sent with `send()`, its
   * encoded form, which `sendBytes()` sends again as that value.
   *
   * @param maxlength Refuse longer messages (they stay in the pipe).
   * @returns The bytes.
   * @throws {ProcessError} When the message is longer than `maxlength`.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example Using recvBytes()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array(0));
   * assert.deepEqual((await a.recvBytes()).length, 0);
   * ```
   */
  async recvBytes(maxlength?: number): Promise<Uint8Array> {
    const limit = checkMaxlength(maxlength);
    const record = await this.#end.receive("receive bytes", rawBytes, limit);
    return bytesOf(record, maxlength);
  }

  /**
   * The blocking twin of {@linkcode Connection.recvBytes} (worker code).
   *
   * @param maxlength Refuse longer messages (they stay in the pipe).
   * @returns The bytes.
   * @throws {ProcessError} When the message is longer than `maxlength`.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example Using recvBytesSync()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array([7]));
   * assert.deepEqual(a.recvBytesSync(), new Uint8Array([7]));
   * ```
   */
  recvBytesSync(maxlength?: number): Uint8Array {
    const limit = checkMaxlength(maxlength);
    const record = this.#end.receiveSync("receive bytes", rawBytes, limit);
    return bytesOf(record, maxlength);
  }

  /**
   * Receives the next message into `buf`, from byte `offset` on (a byte
   * count whatever the element type of `buf`, as in CPython).
   *
   * @param buf Where to write (any typed array, DataView or ArrayBuffer).
   * @param offset First byte of `buf` to write. @default {0}
   * @returns The number of bytes written.
   * @throws {RangeError} When offset falls outside `buf`.
   * @throws {BufferTooShortError} When the message does not fit in the
   * bytes from `offset` on; it is then in the error's `message_`, not lost.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example Using recvBytesInto()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array([1, 2, 3]));
   * const buf = new Uint8Array(8);
   * assert.equal(await a.recvBytesInto(buf, 2), 3);
   * assert.deepEqual(buf, new Uint8Array([0, 0, 1, 2, 3, 0, 0, 0]));
   * b.sendBytes(new Uint8Array([1, 2]));
   * const words = new Uint16Array(4);
   * assert.equal(await a.recvBytesInto(words, 2), 2); // from byte 2: words[1]
   * assert.deepEqual(words, new Uint16Array([0, 0x0201, 0, 0]));
   * ```
   */
  async recvBytesInto(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
  ): Promise<number> {
    const target = byteView(buf, offset, undefined, "receive bytes");
    const record = await this.#end.receive("receive bytes", rawBytes);
    return into(record, target);
  }

  /**
   * The blocking twin of {@linkcode Connection.recvBytesInto} (worker code).
   *
   * @param buf Where to write.
   * @param offset First byte of `buf` to write. @default {0}
   * @returns The number of bytes written.
   * @throws {RangeError} When offset falls outside `buf`.
   * @throws {BufferTooShortError} When the message does not fit.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example Using recvBytesIntoSync()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array([1, 2]));
   * assert.deepEqual(a.recvBytesIntoSync(new Uint8Array(2)), 2);
   * ```
   */
  recvBytesIntoSync(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
  ): number {
    const target = byteView(buf, offset, undefined, "receive bytes");
    const record = this.#end.receiveSync("receive bytes", rawBytes);
    return into(record, target);
  }

  /**
   * Waits until there is something to receive (CPython's `poll`: the
   * default timeout is 0, a plain check; `null` waits forever).
   *
   * @param timeout Seconds to wait at most, or `null` for no limit.
   * @default {0}
   * @returns Whether a receive would not wait now.
   * @throws {ProcessError} When this end is closed or write-only.
   *
   * @example Using poll()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = Pipe();
   * assert.deepEqual(await a.poll(), false);
   * b.send(null);
   * assert.deepEqual(await a.poll(1), true);
   * ```
   */
  async poll(timeout: number | null = 0): Promise<boolean> {
    checkTimeout(timeout, "poll", { nullable: true });
    return await this.#end.poll(pollDeadline(timeout));
  }

  /**
   * The blocking twin of {@linkcode Connection.poll} (worker code).
   *
   * @param timeout Seconds to wait at most, or `null` for no limit.
   * @default {0}
   * @returns Whether a receive would not wait now.
   *
   * @example Using pollSync()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a] = Pipe();
   * assert.deepEqual(a.pollSync(), false);
   * ```
   */
  pollSync(timeout: number | null = 0): boolean {
    checkTimeout(timeout, "poll", { nullable: true });
    return this.#end.pollSync(pollDeadline(timeout));
  }

  /**
   * Closes this handle. When it was the last open handle of its end, the
   * other end sees EOF after draining (and its sends fail).
   *
   * @example Using close()
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const [a] = Pipe();
   * a.close();
   * assert.deepEqual(a.closed, true);
   * ```
   */
  close(): void {
    this.#end.close();
  }

  /** Closes the handle at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Describes this end for a child process (see `kReduce`): the child's copy
   * is one more open handle of this end.
   *
   * @returns The descriptor.
   * @throws {ProcessError} When this handle is closed.
   */
  [kReduce](): SharedDescriptor {
    return this.#end.reduce();
  }
}
