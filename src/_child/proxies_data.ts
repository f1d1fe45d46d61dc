// The proxies of the shared objects that hold data, in a "subprocess" child
// (see ./proxies.ts): Queue, JoinableQueue, SimpleQueue, Connection, Value
// and SharedArray. What a proxy sends (a queue item, a pipe message) is
// reduced here, as the real object would reduce it, and travels to the real
// object in that form; what it receives comes back reduced and is revived
// here (awaited methods import the modules of its classes; blocking ones
// need them loaded, as the real objects' blocking methods do).
//
// Tier 4 (child start-up).

import { reduce, revive, type SharedDescriptor } from "../reduction.ts";
import { withClasses, withLoadedClasses } from "../_core/classes.ts";
import { byteView } from "../connection/_bytes.ts";
import { lockOf } from "../sharedctypes/_ctypes.ts";
import type { Lock } from "../synchronize/lock.ts";
import { call, callNow, Remote } from "./proxy_channel.ts";

const revived = (value: unknown) => withClasses(() => revive(value));
const revivedNow = (value: unknown) => withLoadedClasses(() => revive(value));

/** A Queue or JoinableQueue in a subprocess child. */
class QueueProxy extends Remote {
  readonly #maxsize: number;
  constructor(id: number, kind: string, maxsize: number) {
    super(id, kind);
    this.#maxsize = maxsize;
  }
  get maxsize(): number {
    return this.#maxsize;
  }
  put(item: unknown, options?: unknown): Promise<void> {
    let reduced: unknown;
    try {
      reduced = reduce(item, "item", "put item");
    } catch (error) {
      return Promise.reject(error);
    }
    return call(this, "put", reduced, options) as Promise<void>;
  }
  putSync(item: unknown, options?: unknown): void {
    callNow(this, "put", reduce(item, "item", "put item"), options);
  }
  putNowait(item: unknown): void {
    callNow(this, "putNowait", reduce(item, "item", "put item"));
  }
  async get(options?: unknown): Promise<unknown> {
    return await revived(await call(this, "get", options));
  }
  getSync(options?: unknown): unknown {
    return revivedNow(callNow(this, "get", options));
  }
  getNowait(): unknown {
    return revivedNow(callNow(this, "getNowait"));
  }
  qsize(): number {
    return callNow(this, "qsize") as number;
  }
  empty(): boolean {
    return callNow(this, "empty") as boolean;
  }
  full(): boolean {
    return callNow(this, "full") as boolean;
  }
  close(): void {
    callNow(this, "close");
  }
}

/** A JoinableQueue in a subprocess child. */
class JoinableQueueProxy extends QueueProxy {
  taskDone(): void {
    callNow(this, "taskDone");
  }
  async join(): Promise<void> {
    await call(this, "join");
  }
  joinSync(): void {
    callNow(this, "join");
  }
}

/** A SimpleQueue in a subprocess child. */
class SimpleQueueProxy extends Remote {
  put(item: unknown): void {
    callNow(this, "put", reduce(item, "item", "put item"));
  }
  async get(): Promise<unknown> {
    return await revived(await call(this, "get"));
  }
  getSync(): unknown {
    return revivedNow(callNow(this, "get"));
  }
  empty(): boolean {
    return callNow(this, "empty") as boolean;
  }
  close(): void {
    callNow(this, "close");
  }
}

/** A Connection (one end of a Pipe) in a subprocess child. */
class ConnectionProxy extends Remote {
  readonly #readable: boolean;
  readonly #writable: boolean;
  #closed = false;
  constructor(id: number, readable: boolean, writable: boolean) {
    super(id, "Connection");
    this.#readable = readable;
    this.#writable = writable;
  }
  get closed(): boolean {
    return this.#closed;
  }
  get readable(): boolean {
    return this.#readable;
  }
  get writable(): boolean {
    return this.#writable;
  }
  send(obj: unknown): void {
    callNow(this, "send", reduce(obj, "obj", "send value"));
  }
  sendBytes(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
    size?: number,
  ): void {
    callNow(this, "sendBytes", byteView(buf, offset, size, "send bytes"));
  }
  async recv(): Promise<unknown> {
    return await revived(await call(this, "recv"));
  }
  recvSync(): unknown {
    return revivedNow(callNow(this, "recv"));
  }
  async recvBytes(maxlength?: number): Promise<Uint8Array> {
    return await call(this, "recvBytes", maxlength) as Uint8Array;
  }
  recvBytesSync(maxlength?: number): Uint8Array {
    return callNow(this, "recvBytes", maxlength) as Uint8Array;
  }
  async recvBytesInto(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
  ): Promise<number> {
    const target = byteView(buf, offset, undefined, "receive bytes");
    const bytes = await call(this, "recvBytesInto", target.length);
    target.set(bytes as Uint8Array);
    return (bytes as Uint8Array).length;
  }
  recvBytesIntoSync(
    buf: ArrayBufferLike | ArrayBufferView,
    offset?: number,
  ): number {
    const target = byteView(buf, offset, undefined, "receive bytes");
    const bytes = callNow(this, "recvBytesInto", target.length) as Uint8Array;
    target.set(bytes);
    return bytes.length;
  }
  poll(timeout: number | null = 0): Promise<boolean> {
    return call(this, "poll", timeout) as Promise<boolean>;
  }
  pollSync(timeout: number | null = 0): boolean {
    return callNow(this, "poll", timeout) as boolean;
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    callNow(this, "close");
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A Value (or RawValue) in a subprocess child. */
class ValueProxy extends Remote {
  readonly #code: string;
  readonly #lock: unknown;
  constructor(id: number, code: string, lock: unknown) {
    super(id, "Value");
    this.#code = code;
    this.#lock = lock;
  }
  get typecode(): string {
    return this.#code;
  }
  get value(): unknown {
    return callNow(this, "get:value");
  }
  set value(input: unknown) {
    callNow(this, "set:value", input);
  }
  getLock(): unknown {
    return lockOf(this.#lock as Lock | null, "value");
  }
}

/** A SharedArray (or RawArray) in a subprocess child. */
class SharedArrayProxy extends Remote {
  readonly #code: string;
  readonly #length: number;
  readonly #lock: unknown;
  constructor(id: number, code: string, length: number, lock: unknown) {
    super(id, "SharedArray");
    this.#code = code;
    this.#length = length;
    this.#lock = lock;
  }
  get typecode(): string {
    return this.#code;
  }
  get length(): number {
    return this.#length;
  }
  get array(): never {
    throw new TypeError(
      `Cannot get array as the shared memory must be mapped in this process: current process is a "subprocess" child, which reaches the array through its parent (use get(), set(), slice() and setSlice())`,
    );
  }
  get(index: number): unknown {
    return callNow(this, "get", index);
  }
  set(index: number, value: unknown): void {
    callNow(this, "set", index, value);
  }
  slice(start?: number, end?: number): unknown[] {
    return callNow(this, "slice", start, end) as unknown[];
  }
  setSlice(start: number, values: ArrayLike<unknown>): void {
    callNow(this, "setSlice", start, Array.from(values));
  }
  *[Symbol.iterator](): IterableIterator<unknown> {
    yield* this.slice();
  }
  getLock(): unknown {
    return lockOf(this.#lock as Lock | null, "array");
  }
}

type Placeholder = SharedDescriptor & { kind: string; id: number };

const lockIn = (d: Placeholder) => d.lock === null ? null : revive(d.lock);

/** How to build the proxy of each kind above, from its placeholder. */
export const dataProxies: Record<string, (d: Placeholder) => unknown> = {
  Queue: (d) => new QueueProxy(d.id, "Queue", d.maxsize as number),
  JoinableQueue: (d) =>
    new JoinableQueueProxy(d.id, "JoinableQueue", d.maxsize as number),
  SimpleQueue: (d) => new SimpleQueueProxy(d.id, "SimpleQueue"),
  Connection: (d) =>
    new ConnectionProxy(d.id, d.readable as boolean, d.writable as boolean),
  Value: (d) => new ValueProxy(d.id, d.code as string, lockIn(d)),
  SharedArray: (d) =>
    new SharedArrayProxy(
      d.id,
      d.code as string,
      d.length as number,
      lockIn(d),
    ),
};
