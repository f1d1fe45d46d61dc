/**
 * `Pipe()`, `Connection` and `wait()` (CPython's
 * `multiprocessing.connection`): two connected ends that send whole
 * messages to each other.
 *
 * ```
 *   end 0                       ring r01                       end 1
 *   send() / sendBytes() ──▶ [ record | record | … ] ──▶ recv() / recvBytes()
 *   recv() / recvBytes() ◀── [ record | … ] ◀── ring r10 ◀── send() / sendBytes()
 *
 *   pipe control block: how many handles of each end are open, and which
 *   child processes hold them (so a parent sees EOF when such a child ends)
 * ```
 *
 * Each message is one record of a shared ring (see `_ring_buffer.ts`), so
 * messages are never merged or split, an empty message is a message, and a
 * message can be as large as 1 GiB.
 *
 * **End of file.** As with CPython's pipes, a receiver gets {@linkcode EOFError}
 * once the pipe is drained and every handle of the other end is closed.
 * Passing an end to a child through `args` adds a handle (the child's copy);
 * closing it in the parent (CPython's usual `child_conn.close()` after
 * `start()`) leaves the child's copy open. A child's copies count as closed
 * when it calls `close()`, and, seen from its parent, when the child ends.
 *
 * @module
 */

import { BufferTooShortError, ProcessError } from "../errors.ts";
import {
  checkStop,
  kGetSeq,
  kGetters,
  kMaxPayload,
  kPutSeq,
  kPutters,
  type Record_,
  Ring,
} from "../_memory/ring_buffer.ts";
import {
  decodeValue,
  type Encoded,
  encodeValue,
  kTagBytes,
  needsFreshBytes,
} from "../_memory/record_codec.ts";
import { deadlineOf } from "../_core/time.ts";
import { checkTimeout } from "../_core/validate.ts";
import { lockSync, unlock } from "../_memory/mutex.ts";
import {
  kPipeDuplex as kDuplex,
  kPipeHolders as kHolderSlots,
  kPipeLock,
  kPipeSlots,
  kPipeTables as kTables,
  kPipeTableSlots as kTableSlots,
} from "../_wire/layouts.ts";
import {
  describe,
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";
import { state } from "../_core/state.ts";

/**
 * `recv()` found the pipe drained and the other end closed (CPython's
 * `EOFError`).
 *
 * @example
 * ```ts
 * import { EOFError, Pipe } from "@dmp/multiprocessing";
 *
 * const [a, b] = Pipe();
 * b.close();
 * await a.recv().catch((e) => console.log(e instanceof EOFError)); // true
 * ```
 */
export class EOFError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message =
      "Cannot receive as the other end is closed and the pipe is drained",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "EOFError";
  }
}

/**
 * `send()` found every handle of the other end closed (CPython's
 * `BrokenPipeError`).
 *
 * @example
 * ```ts
 * import { BrokenPipeError, Pipe } from "@dmp/multiprocessing";
 *
 * const [a, b] = Pipe();
 * b.close();
 * try {
 *   a.send("hello?");
 * } catch (e) {
 *   console.log(e instanceof BrokenPipeError); // true
 * }
 * ```
 */
export class BrokenPipeError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message = "Cannot send as every handle of the other end is closed",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "BrokenPipeError";
  }
}

// Pipe control block: the pipe block of src/_wire/layouts.ts.

/** How often a waiting receiver looks for ended child holders (ms). */
const kReclaimSliceMs = 100;
/**
 * Loads a main-thread receiver spins before sleeping: a worker's reply
 * usually lands within a few microseconds, while waking from
 * Atomics.waitAsync costs tens of them.
 */
const kRecvSpin = 20_000;

function tableOf(end: number): number {
  return kTables + end * kTableSlots;
}

function lockPipe(c: Int32Array): void {
  lockSync(c, kPipeLock);
}

function unlockPipe(c: Int32Array): void {
  unlock(c, kPipeLock);
}

function liveChild(pid: number): boolean {
  for (const child of state().children) {
    if ((child as { pid?: number | null }).pid === pid) {
      try {
        return child.isAlive();
      } catch {
        return false;
      }
    }
  }
  return false;
}

// Counts the open handles of `end`, first dropping those held by children
// of this process that have ended (only a parent knows its children).
function openHandles(c: Int32Array, end: number): number {
  const table = tableOf(end);
  const me = state().pid;
  let mine = false;
  for (let s = 0; s < kHolderSlots; s++) {
    const at = table + 1 + 3 * s;
    if (Atomics.load(c, at) !== 0 && Atomics.load(c, at + 1) === me) {
      mine = true;
      break;
    }
  }
  if (!mine) return Atomics.load(c, table);
  lockPipe(c);
  try {
    for (let s = 0; s < kHolderSlots; s++) {
      const at = table + 1 + 3 * s;
      const pid = c[at];
      if (pid !== 0 && c[at + 1] === me && !liveChild(pid)) {
        c[table] -= c[at + 2];
        c[at] = c[at + 1] = c[at + 2] = 0;
      }
    }
    return c[table];
  } finally {
    unlockPipe(c);
  }
}

function pollDeadline(timeout: number | null): number {
  return timeout === null ? Infinity : deadlineOf(timeout);
}

function byteView(
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

interface PipeParts {
  control: SharedArrayBuffer;
  /** Ring written by end 0 (read by end 1); absent for a one-way pipe. */
  r01: Ring | null;
  /** Ring written by end 1 (read by end 0). */
  r10: Ring;
}

let adopting: { parts: PipeParts; end: number } | undefined;

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
 *
 * const [parentConn, childConn] = Pipe();
 * const p = new Process({
 *   target: new URL("../../tests/fixtures/queue_targets.ts#sendHello", import.meta.url),
 *   args: [childConn],
 * });
 * p.start();
 * console.log(await parentConn.recv()); // [ 42, null, "hello" ]
 * await p.join();
 * ```
 */
export class Connection {
  #control: Int32Array;
  #parts: PipeParts;
  #end: number;
  #in: Ring | null;
  #out: Ring | null;
  #closed = false;

  /**
   * Not for direct use: {@linkcode Pipe} creates connections.
   *
   * @throws {TypeError} Always, when called directly.
   */
  constructor() {
    const adopted = adopting;
    adopting = undefined;
    if (adopted === undefined) {
      throw new TypeError(
        "Cannot create connection as connections must come from Pipe()",
      );
    }
    const { parts, end } = adopted;
    this.#parts = parts;
    this.#end = end;
    this.#control = new Int32Array(parts.control);
    const duplex = this.#control[kDuplex] === 1;
    if (end === 0) {
      this.#in = parts.r10;
      this.#out = duplex ? parts.r01 : null;
    } else {
      this.#in = duplex ? parts.r01 : null;
      this.#out = parts.r10;
    }
  }

  /** Whether this handle is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#in !== null;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#out !== null;
  }

  #checkOpen(what: string): void {
    if (this.#closed) {
      throw new ProcessError(`Cannot ${what} as the connection is closed`);
    }
  }

  #inRing(what: string): Ring {
    this.#checkOpen(what);
    if (this.#in === null) {
      throw new ProcessError(`Cannot ${what} as the connection is write-only`);
    }
    checkStop();
    return this.#in;
  }

  #outRing(what: string): Ring {
    this.#checkOpen(what);
    if (this.#out === null) {
      throw new ProcessError(`Cannot ${what} as the connection is read-only`);
    }
    return this.#out;
  }

  #peerGone(): boolean {
    return openHandles(this.#control, 1 - this.#end) <= 0;
  }

  #push(ring: Ring, encoded: Encoded): void {
    if (this.#peerGone()) throw new BrokenPipeError();
    if (ring.push(encoded.tag, encoded.bytes, 0) === "ok") return;
    // The ring is at its largest and full: wait for the reader.
    const copy = encoded.bytes.slice();
    while (true) {
      const seen = Atomics.load(ring.control, kGetSeq);
      if (ring.push(encoded.tag, copy, 0) === "ok") return;
      if (this.#peerGone()) throw new BrokenPipeError();
      ring.sleepSync(kGetSeq, kPutters, seen, Infinity, kReclaimSliceMs);
    }
  }

  // One receive attempt: a record, "eof", or undefined (nothing yet).
  #take(
    ring: Ring,
    fresh: boolean | ((tag: number) => boolean),
    maxLength?: number,
  ): Record_ | "eof" | undefined {
    const record = ring.pop(fresh, maxLength);
    if (record !== undefined) return record;
    if (!this.#peerGone()) return undefined;
    // The last messages may have landed between pop() and the check.
    return ring.pop(fresh, maxLength) ?? "eof";
  }

  #receiveSync(
    what: string,
    fresh: boolean | ((tag: number) => boolean),
    maxLength?: number,
  ): Record_ {
    const ring = this.#inRing(what);
    while (true) {
      const seen = Atomics.load(ring.control, kPutSeq);
      const got = this.#take(ring, fresh, maxLength);
      if (got === "eof") throw new EOFError();
      if (got !== undefined) return got;
      ring.sleepSync(kPutSeq, kGetters, seen, Infinity, kReclaimSliceMs);
    }
  }

  async #receive(
    what: string,
    fresh: boolean | ((tag: number) => boolean),
    maxLength?: number,
  ): Promise<Record_> {
    const ring = this.#inRing(what);
    while (true) {
      const seen = Atomics.load(ring.control, kPutSeq);
      const got = this.#take(ring, fresh, maxLength);
      if (got === "eof") throw new EOFError();
      if (got !== undefined) return got;
      await ring.sleep(
        kPutSeq,
        kGetters,
        seen,
        Infinity,
        kReclaimSliceMs,
        kRecvSpin,
      );
      this.#checkOpen(what);
    }
  }

  /**
   * Sends a value (structured-cloneable, without shared memory).
   *
   * @param obj The value; it is copied now.
   * @throws {TypeError} When the value cannot travel between processes.
   * @throws {BrokenPipeError} When the other end is closed everywhere.
   * @throws {ProcessError} When this end is closed or read-only.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * a.send({ when: new Date(0), tags: new Set(["x"]) });
   * console.log(await b.recv()); // { when: 1970-01-01T00:00:00.000Z, tags: Set(1) { "x" } }
   * ```
   */
  send(obj: unknown): void {
    const ring = this.#outRing("send");
    this.#push(ring, encodeValue(obj, "obj", "send"));
  }

  /**
   * Sends bytes as one message (`offset` and `size` count elements of
   * `buf`, as CPython counts items of the buffer).
   *
   * @param buf The bytes (any typed array, DataView or ArrayBuffer).
   * @param offset First element to send. @default {0}
   * @param size Elements to send. @default {the rest of buf}
   * @throws {RangeError} When offset or size fall outside `buf`.
   * @throws {BrokenPipeError} When the other end is closed everywhere.
   * @throws {ProcessError} When this end is closed or read-only.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * a.sendBytes(new Uint8Array([1, 2, 3, 4]), 1, 2);
   * console.log(await b.recvBytes()); // Uint8Array(2) [ 2, 3 ]
   * ```
   */
  sendBytes(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
    size?: number,
  ): void {
    const ring = this.#outRing("send bytes");
    const bytes = byteView(buf, offset, size, "send bytes");
    if (bytes.length > kMaxPayload) {
      throw new RangeError(
        `Cannot send bytes as the message must be at most ${kMaxPayload} bytes: current value is ${bytes.length} bytes`,
      );
    }
    this.#push(ring, { tag: kTagBytes, bytes });
  }

  /**
   * Receives the next message, waiting for one.
   *
   * @returns The value (a `Uint8Array` for a message sent with sendBytes).
   * @throws {EOFError} When the pipe is drained and the other end closed.
   * @throws {ProcessError} When this end is closed or write-only.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * b.send(10n ** 20n);
   * console.log(await a.recv()); // 100000000000000000000n
   * ```
   */
  async recv(): Promise<unknown> {
    const record = await this.#receive("receive", needsFreshBytes);
    return decodeValue(record.tag, record.bytes);
  }

  /**
   * Receives the next message, blocking the thread (worker code).
   *
   * @returns The value.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   * @throws {ProcessError} When this end is closed or write-only.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * b.send("hi");
   * console.log(a.recvSync()); // hi
   * ```
   */
  recvSync(): unknown {
    const record = this.#receiveSync("receive", needsFreshBytes);
    return decodeValue(record.tag, record.bytes);
  }

  #bytesOf(record: Record_, maxlength: number | undefined): Uint8Array {
    if (record.kept !== undefined) {
      throw new ProcessError(
        `Cannot receive bytes as the message must be at most ${maxlength} bytes: it has ${record.kept} bytes and stays in the pipe`,
      );
    }
    return record.bytes;
  }

  /**
   * Receives the next message as bytes (for a message sent with `send()`,
   * its encoded form).
   *
   * @param maxlength Refuse longer messages (they stay in the pipe).
   * @returns The bytes.
   * @throws {ProcessError} When the message is longer than `maxlength`.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array(0));
   * console.log((await a.recvBytes()).length); // 0
   * ```
   */
  async recvBytes(maxlength?: number): Promise<Uint8Array> {
    checkMaxlength(maxlength);
    const record = await this.#receive("receive bytes", true, maxlength);
    return this.#bytesOf(record, maxlength);
  }

  /**
   * The blocking twin of {@linkcode Connection.recvBytes} (worker code).
   *
   * @param maxlength Refuse longer messages (they stay in the pipe).
   * @returns The bytes.
   * @throws {ProcessError} When the message is longer than `maxlength`.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array([7]));
   * console.log(a.recvBytesSync()); // Uint8Array(1) [ 7 ]
   * ```
   */
  recvBytesSync(maxlength?: number): Uint8Array {
    checkMaxlength(maxlength);
    const record = this.#receiveSync("receive bytes", true, maxlength);
    return this.#bytesOf(record, maxlength);
  }

  #into(record: Record_, target: Uint8Array): number {
    if (record.bytes.length > target.length) {
      throw new BufferTooShortError(record.bytes);
    }
    target.set(record.bytes);
    return record.bytes.length;
  }

  /**
   * Receives the next message into `buf`, from element `offset` on.
   *
   * @param buf Where to write (any typed array, DataView or ArrayBuffer).
   * @param offset First element of `buf` to write. @default {0}
   * @returns The number of bytes written.
   * @throws {BufferTooShortError} When the message does not fit; the
   * message is then in the error's `message_`, not lost.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array([1, 2, 3]));
   * const buf = new Uint8Array(8);
   * console.log(await a.recvBytesInto(buf, 2), buf); // 3 Uint8Array(8) [ 0, 0, 1, 2, 3, 0, 0, 0 ]
   * ```
   */
  async recvBytesInto(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
  ): Promise<number> {
    const target = byteView(buf, offset, undefined, "receive bytes");
    const record = await this.#receive("receive bytes", true);
    return this.#into(record, target);
  }

  /**
   * The blocking twin of {@linkcode Connection.recvBytesInto} (worker code).
   *
   * @param buf Where to write.
   * @param offset First element of `buf` to write. @default {0}
   * @returns The number of bytes written.
   * @throws {BufferTooShortError} When the message does not fit.
   * @throws {EOFError} When the pipe is drained and the other end closed.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * b.sendBytes(new Uint8Array([1, 2]));
   * console.log(a.recvBytesIntoSync(new Uint8Array(2))); // 2
   * ```
   */
  recvBytesIntoSync(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
  ): number {
    const target = byteView(buf, offset, undefined, "receive bytes");
    const record = this.#receiveSync("receive bytes", true);
    return this.#into(record, target);
  }

  /**
   * Whether a receive would not wait now: a message is there, or the other
   * end is closed (then receiving throws EOFError).
   *
   * @returns `true` when ready.
   */
  #ready(): boolean {
    const ring = this.#inRing("poll");
    return ring.count > 0 || this.#peerGone();
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
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a, b] = Pipe();
   * console.log(await a.poll()); // false
   * b.send(null);
   * console.log(await a.poll(1)); // true
   * ```
   */
  async poll(timeout: number | null = 0): Promise<boolean> {
    checkTimeout(timeout, "poll", { nullable: true });
    const deadline = pollDeadline(timeout);
    while (true) {
      const ring = this.#inRing("poll");
      const seen = Atomics.load(ring.control, kPutSeq);
      if (this.#ready()) return true;
      if (performance.now() >= deadline) return false;
      await ring.sleep(kPutSeq, kGetters, seen, deadline, kReclaimSliceMs);
    }
  }

  /**
   * The blocking twin of {@linkcode Connection.poll} (worker code).
   *
   * @param timeout Seconds to wait at most, or `null` for no limit.
   * @default {0}
   * @returns Whether a receive would not wait now.
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a] = Pipe();
   * console.log(a.pollSync()); // false
   * ```
   */
  pollSync(timeout: number | null = 0): boolean {
    checkTimeout(timeout, "poll", { nullable: true });
    const deadline = pollDeadline(timeout);
    while (true) {
      const ring = this.#inRing("poll");
      const seen = Atomics.load(ring.control, kPutSeq);
      if (this.#ready()) return true;
      if (performance.now() >= deadline) return false;
      ring.sleepSync(kPutSeq, kGetters, seen, deadline, kReclaimSliceMs);
    }
  }

  /**
   * Closes this handle. When it was the last open handle of its end, the
   * other end sees EOF after draining (and its sends fail).
   *
   * @example
   * ```ts
   * import { Pipe } from "@dmp/multiprocessing";
   *
   * const [a] = Pipe();
   * a.close();
   * console.log(a.closed); // true
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = this.#control;
    const table = tableOf(this.#end);
    const s = state();
    lockPipe(c);
    try {
      c[table]--;
      for (let slot = 0; slot < kHolderSlots; slot++) {
        const at = table + 1 + 3 * slot;
        if (c[at] === s.pid && c[at + 2] > 0) {
          if (--c[at + 2] === 0) c[at] = c[at + 1] = 0;
          break;
        }
      }
    } finally {
      unlockPipe(c);
    }
    this.#in?.wake();
    this.#out?.wake();
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
    this.#checkOpen("pass connection to a process");
    Atomics.add(this.#control, tableOf(this.#end), 1);
    const { control, r01, r10 } = this.#parts;
    return describe("Connection", {
      end: this.#end,
      control,
      r01: r01 === null ? null : [r01.control.buffer, r01.data],
      r10: [r10.control.buffer, r10.data],
    });
  }
}

function checkMaxlength(maxlength: unknown): void {
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

function connect(parts: PipeParts, end: number): Connection {
  adopting = { parts, end };
  try {
    return new Connection();
  } finally {
    adopting = undefined;
  }
}

/**
 * Creates a pipe: two connected {@linkcode Connection}s (CPython's
 * `multiprocessing.Pipe`).
 *
 * @param duplex `true`: both ends send and receive; `false`: the first end
 * only receives, the second only sends.
 * @default {true}
 * @returns The two ends.
 * @throws {TypeError} When `duplex` is not a boolean.
 *
 * @example
 * ```ts
 * import { Pipe } from "@dmp/multiprocessing";
 *
 * const [reader, writer] = Pipe(false);
 * writer.send([1, "two"]);
 * console.log(await reader.recv()); // [ 1, "two" ]
 * ```
 */
export function Pipe(duplex = true): [Connection, Connection] {
  if (typeof duplex !== "boolean") {
    throw new TypeError(
      `Cannot create pipe as 'duplex' must be a boolean: current value is ${
        Deno.inspect(duplex)
      }`,
    );
  }
  const control = new SharedArrayBuffer(4 * kPipeSlots);
  const c = new Int32Array(control);
  c[kDuplex] = duplex ? 1 : 0;
  c[tableOf(0)] = 1;
  c[tableOf(1)] = 1;
  const capacity = 16 * 1024;
  const parts: PipeParts = {
    control,
    r01: duplex ? Ring.create(capacity) : null,
    r10: Ring.create(capacity),
  };
  return [connect(parts, 0), connect(parts, 1)];
}

registerReviver("Connection", (d) => {
  const ring = (pair: unknown) => {
    const [control, data] = pair as [SharedArrayBuffer, SharedArrayBuffer];
    return new Ring(control, data);
  };
  const parts: PipeParts = {
    control: d.control as SharedArrayBuffer,
    r01: d.r01 === null ? null : ring(d.r01),
    r10: ring(d.r10),
  };
  const end = d.end as number;
  const conn = connect(parts, end);
  // Record which child holds this handle, so that its parent can count the
  // handle as closed once the child has ended.
  const s = state();
  if (s.parent !== null) {
    const c = new Int32Array(parts.control);
    const table = tableOf(end);
    lockPipe(c);
    try {
      let free = -1;
      for (let slot = 0; slot < kHolderSlots; slot++) {
        const at = table + 1 + 3 * slot;
        if (c[at] === s.pid) {
          free = at;
          break;
        }
        if (c[at] === 0 && free < 0) free = at;
      }
      if (free >= 0) {
        c[free] = s.pid;
        c[free + 1] = s.parent.pid;
        c[free + 2]++;
      }
    } finally {
      unlockPipe(c);
    }
  }
  return conn;
});

/** What {@linkcode wait} can wait on: a readable connection, or a process. */
export type Waitable = Connection | { readonly exitCode: number | null };

function isReady(object: Waitable): boolean {
  if (object instanceof Connection) return object.pollSync(0);
  return object.exitCode !== null;
}

/**
 * Waits until at least one of `objects` is ready: a connection with
 * something to receive (or at EOF), or a process that has ended (CPython's
 * `multiprocessing.connection.wait`, with Process objects in place of
 * sentinels). The package's main module exports it as `waitConnections`
 * (its `wait` is concurrent.futures').
 *
 * @param objects Readable connections and `Process` objects.
 * @param timeout Seconds to wait at most; `undefined` or `null` waits
 * forever.
 * @returns The ready objects, in the order given (empty on timeout).
 * @throws {TypeError} For anything else in `objects`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@dmp/multiprocessing";
 * import { wait } from "@dmp/multiprocessing/connection";
 *
 * const [a, b] = Pipe();
 * const [c, d] = Pipe();
 * d.send("ready");
 * const ready = await wait([a, c], 1);
 * console.log(ready.length, ready[0] === c); // 1 true
 * ```
 */
export async function wait<T extends Waitable>(
  objects: Iterable<T>,
  timeout?: number | null,
): Promise<T[]> {
  checkTimeout(timeout, "wait", { nullable: true });
  const list = [...objects];
  for (const [i, object] of list.entries()) {
    const ok = object instanceof Connection
      ? object.readable && !object.closed
      : typeof object === "object" && object !== null && "exitCode" in object;
    if (!ok) {
      throw new TypeError(
        `Cannot wait as 'objects[${i}]' must be an open, readable Connection or a Process: current value is ${
          Deno.inspect(object)
        }`,
      );
    }
  }
  const deadline = timeout === undefined || timeout === null
    ? Infinity
    : deadlineOf(timeout);
  while (true) {
    const ready = list.filter(isReady);
    if (ready.length > 0 || performance.now() >= deadline) return ready;
    // Sleep until a message lands, a process ends, or a short slice passes
    // (a child holding a pipe end may end without anyone notifying us).
    const slice = Math.min(deadline, performance.now() + kReclaimSliceMs);
    const wakeups: Promise<unknown>[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    wakeups.push(
      new Promise((resolve) => {
        timer = setTimeout(resolve, Math.max(0, slice - performance.now()));
      }),
    );
    for (const object of list) {
      if (object instanceof Connection) {
        wakeups.push(
          object.poll(Math.max(0, slice - performance.now()) / 1000),
        );
      } else {
        const join = (object as { join?: () => Promise<unknown> }).join;
        if (typeof join === "function") {
          wakeups.push(join.call(object).catch(() => {}));
        }
      }
    }
    try {
      await Promise.race(wakeups);
    } finally {
      clearTimeout(timer);
    }
  }
}
