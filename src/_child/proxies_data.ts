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
import { call, callNow, fact, forward, Remote } from "./proxy_channel.ts";

const revived = (value: unknown) => withClasses(() => revive(value));
const revivedNow = (value: unknown) => withLoadedClasses(() => revive(value));

/** A Queue or JoinableQueue in a subprocess child. */
class QueueProxy extends Remote {
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
}
forward(QueueProxy, {
  maxsize: "fact",
  qsize: "now",
  empty: "now",
  full: "now",
  close: "now",
});

/** A JoinableQueue in a subprocess child. */
class JoinableQueueProxy extends QueueProxy {}
forward(JoinableQueueProxy, {
  taskDone: "now",
  join: "later",
  joinSync: ["now", "join"],
});

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
}
forward(SimpleQueueProxy, { empty: "now", close: "now" });

/** A Connection (one end of a Pipe) in a subprocess child. */
class ConnectionProxy extends Remote {
  #closed = false;
  get closed(): boolean {
    return this.#closed;
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
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    callNow(this, "close");
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
forward(ConnectionProxy, {
  readable: "fact",
  writable: "fact",
  recvBytes: "later",
  recvBytesSync: ["now", "recvBytes"],
  poll: "later",
  pollSync: ["now", "poll"],
});

/** A Value (or RawValue) in a subprocess child. */
class ValueProxy extends Remote {
  get value(): unknown {
    return callNow(this, "get:value");
  }
  set value(input: unknown) {
    callNow(this, "set:value", input);
  }
  getLock(): unknown {
    return lockOf(fact(this, "lock") as Lock | null, "value");
  }
}
forward(ValueProxy, { typecode: "fact" });

/** A SharedArray (or RawArray) in a subprocess child. */
class SharedArrayProxy extends Remote {
  get array(): never {
    throw new TypeError(
      `Cannot get array as the shared memory must be mapped in this process: current process is a "subprocess" child, which reaches the array through its parent (use get(), set(), slice() and setSlice())`,
    );
  }
  setSlice(start: number, values: ArrayLike<unknown>): void {
    callNow(this, "setSlice", start, Array.from(values));
  }
  *[Symbol.iterator](): IterableIterator<unknown> {
    yield* callNow(this, "slice") as unknown[];
  }
  getLock(): unknown {
    return lockOf(fact(this, "lock") as Lock | null, "array");
  }
}
forward(SharedArrayProxy, {
  typecode: "fact",
  length: "fact",
  get: "now",
  set: "now",
  slice: "now",
});

type Placeholder = SharedDescriptor & { kind: string; id: number };

const lockIn = (d: Placeholder) => d.lock === null ? null : revive(d.lock);

/** How to build the proxy of each kind above, from its placeholder. */
export const dataProxies: Record<string, (d: Placeholder) => unknown> = {
  Queue: (d) => new QueueProxy(d.id, "Queue", { maxsize: d.maxsize }),
  JoinableQueue: (d) =>
    new JoinableQueueProxy(d.id, "JoinableQueue", { maxsize: d.maxsize }),
  SimpleQueue: (d) => new SimpleQueueProxy(d.id, "SimpleQueue"),
  Connection: (d) =>
    new ConnectionProxy(d.id, "Connection", {
      readable: d.readable,
      writable: d.writable,
    }),
  Value: (d) =>
    new ValueProxy(d.id, "Value", { typecode: d.code, lock: lockIn(d) }),
  SharedArray: (d) =>
    new SharedArrayProxy(d.id, "SharedArray", {
      typecode: d.code,
      length: d.length,
      lock: lockIn(d),
    }),
};
