// The child's end of the calls to its shared objects, in a "subprocess"
// child (see ./proxy_parent.ts): a proxy's awaited method sends a call
// frame and settles when the reply arrives; a blocking one (acquireSync(),
// a Value's value) must get its reply without an event loop turn.
//
// So once the child has proxies, its stdin is read by a small Worker of its
// own ("the reader", below) instead of its main thread: the reader posts
// the parent's ordinary frames to the main thread, and writes a reply to a
// blocking call (a frame with the kSyncMark marker) into shared memory and
// wakes the main thread, which sent its call with a synchronous write and
// waits in Atomics.wait. A child that receives no shared object starts no
// reader and pays nothing.
//
// Tier 4 (child start-up).

import { nodeV8 } from "../_core/node_v8.ts";
import { encodeFrame, kSyncMark } from "./frames.ts";
import { setRef } from "./spawn.ts";
import { BufferTooShortError, ProcessError } from "../errors.ts";
import { rebuildError, type WireError } from "../_wire/error_codec.ts";
import { BrokenPipeError, EOFError } from "../connection/pipe_errors.ts";
import { kReduce, type SharedDescriptor } from "../reduction.ts";

/** What the child's message shim (./subprocess_main.ts) lends the channel. */
export interface Wire {
  /** Sends a message to the parent (batched per turn). */
  post(message: unknown): void;
  /** Writes what post() batched, now. */
  flush(): void;
  /** Hands a message from the parent to the child. */
  deliver(message: unknown): void;
  /** The parent has closed the child's stdin. */
  ended(): void;
}

/** A reply from the parent. */
export interface Reply {
  t: "proxy-reply";
  c: number;
  v?: unknown;
  e?: WireError;
  b?: Uint8Array;
}

let wire: Wire | undefined;
const pending = new Map<
  number,
  { resolve(v: unknown): void; reject(e: unknown): void }
>();
let next = 1;
// [0] state (0 waiting, 1 a reply is there, 2 stdin ended), [1] its length,
// then its bytes; the reader grows the buffer for a large reply.
const kHeaderBytes = 8;
let sync: SharedArrayBuffer | undefined;
let control: Int32Array | undefined;
let stdin: Worker | undefined;
let gone = false;

/** Connects the channel to the child's message shim. */
export function connectWire(shim: Wire): void {
  wire = shim;
}

// The reader's whole source: a data: module, since a child without read
// permission cannot load a file: one into a worker.
function reader(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  scope.onmessage = async (event) => {
    scope.onmessage = null;
    const { buffer, rest, mark } = event.data as {
      buffer: SharedArrayBuffer;
      rest: Uint8Array;
      mark: number;
    };
    const state = new Int32Array(buffer, 0, 2);
    // A frame: 6 marker bytes (the last one says a blocking call's reply),
    // a 32-bit length, the body (./frames.ts). The bytes not taken yet stay
    // as read, joined once `need` bytes are there (a whole frame, or a
    // header): joining them per read would copy a large frame's start again
    // on every read, as FrameReader explains.
    let parts = [rest];
    let size = rest.length;
    let need = 10;
    const take = () => {
      if (size < need) return;
      let bytes = parts[0];
      if (parts.length > 1) {
        bytes = new Uint8Array(size);
        let end = 0;
        for (const part of parts) {
          bytes.set(part, end);
          end += part.length;
        }
      }
      let at = 0;
      need = 10;
      while (bytes.length - at >= 10) {
        const length = new DataView(bytes.buffer, bytes.byteOffset + at)
          .getUint32(6, true);
        if (bytes.length - at < 10 + length) {
          need = 10 + length;
          break;
        }
        const body = bytes.slice(at + 10, at + 10 + length);
        if (bytes[at + 5] === mark) {
          if (buffer.byteLength < 8 + length) buffer.grow(8 + length);
          new Uint8Array(buffer, 8, length).set(body);
          Atomics.store(state, 1, length);
          Atomics.store(state, 0, 1);
          Atomics.notify(state, 0);
        } else scope.postMessage(body, [body.buffer]);
        at += 10 + length;
      }
      parts = [bytes.slice(at)];
      size = bytes.length - at;
    };
    take();
    const chunk = new Uint8Array(1 << 16);
    for (;;) {
      const n = await Deno.stdin.read(chunk);
      if (n === null) break;
      // A copy: the next read reuses `chunk`.
      parts.push(chunk.slice(0, n));
      size += n;
      take();
    }
    Atomics.store(state, 0, 2);
    Atomics.notify(state, 0);
    scope.postMessage(null);
  };
}

/**
 * Hands stdin to the reader from here on; `rest` are the bytes the main
 * thread read past its last whole frame.
 */
export function startReader(rest: Uint8Array): void {
  sync = new SharedArrayBuffer(1 << 16, { maxByteLength: 1 << 30 });
  control = new Int32Array(sync, 0, 2);
  const source = `(${reader.toString()})();`;
  const worker = stdin = new Worker(
    `data:application/javascript;base64,${btoa(source)}`,
    { type: "module", name: "stdin" },
  );
  worker.onmessage = (event: MessageEvent) => {
    if (event.data !== null) {
      return wire!.deliver(nodeV8().deserialize(event.data as Uint8Array));
    }
    // The parent has ended: no reply will come.
    gone = true;
    for (const call of pending.values()) call.reject(parentGone());
    pending.clear();
    // No call waits any more: nothing here may keep the child alive.
    setRef(worker, false);
    wire!.ended();
  };
  worker.postMessage({ buffer: sync, rest, mark: kSyncMark });
  // The child ends when its work is done, whoever reads its stdin: only an
  // awaited call keeps it alive (see callAsync()).
  setRef(worker, false);
}

function parentGone(): ProcessError {
  return new ProcessError(
    "Cannot use shared object as the parent process that holds it has ended",
  );
}

function failure(reply: Reply): Error {
  const { e } = reply;
  const Ctor = e!.name === "EOFError"
    ? EOFError
    : e!.name === "BrokenPipeError"
    ? BrokenPipeError
    : undefined;
  if (Ctor !== undefined) {
    return new Ctor(e!.message, { cause: rebuildError(e!).cause });
  }
  if (e!.name === "BufferTooShortError" && reply.b instanceof Uint8Array) {
    return new BufferTooShortError(reply.b, {
      cause: rebuildError(e!).cause,
    });
  }
  return rebuildError(e!);
}

/** Settles the call a reply from the parent answers. */
export function onReply(reply: Reply): void {
  const call = pending.get(reply.c);
  if (call === undefined) return;
  pending.delete(reply.c);
  if (pending.size === 0) setRef(stdin!, false);
  if (reply.e !== undefined) call.reject(failure(reply));
  else call.resolve(reply.v);
}

/**
 * Calls method `m` of shared object `id` in the parent and waits for its
 * value (still reduced).
 */
export function callAsync(
  id: number,
  m: string,
  a: unknown[],
): Promise<unknown> {
  if (gone) return Promise.reject(parentGone());
  return new Promise((resolve, reject) => {
    const c = next++;
    if (pending.size === 0) setRef(stdin!, true);
    pending.set(c, { resolve, reject });
    wire!.post({ t: "proxy", c, id, m, a, s: false });
  });
}

/**
 * Calls method `m` of shared object `id` in the parent, blocking this
 * thread until its value (still reduced) is back.
 *
 * @throws {ProcessError} When the parent has ended.
 */
export function callSync(id: number, m: string, a: unknown[]): unknown {
  if (gone) throw parentGone();
  const c = next++;
  // Calls sent before this one go first, in order.
  wire!.flush();
  const frame = encodeFrame({ t: "proxy", c, id, m, a, s: true });
  try {
    for (let at = 0; at < frame.length;) {
      at += Deno.stderr.writeSync(frame.subarray(at));
    }
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) throw parentGone();
    throw error;
  }
  const state = control!;
  while (Atomics.load(state, 0) === 0) Atomics.wait(state, 0, 0);
  if (Atomics.load(state, 0) === 2) {
    // A daemonic child ends with its parent, even blocked here.
    wire!.ended();
    throw parentGone();
  }
  const body = new Uint8Array(sync!, kHeaderBytes, state[1]).slice();
  Atomics.store(state, 0, 0);
  const reply = nodeV8().deserialize(body) as Reply;
  if (reply.e !== undefined) throw failure(reply);
  return reply.v;
}

const ids = new WeakMap<object, number>();
const kinds = new WeakMap<object, string>();
// A proxy this child no longer holds lets the parent drop its object (as
// CPython's proxies decref theirs): a task's shared arguments do not pile
// up in the host of a long-lived pool worker.
// Counted per id: the last proxy of an object drops it.
const holders = new Map<number, number>();
const dropped = new FinalizationRegistry<number>((id) => {
  const left = holders.get(id)! - 1;
  if (left > 0) return void holders.set(id, left);
  holders.delete(id);
  wire?.post({ t: "proxy-drop", id });
});

/** Calls `m` of the real object of proxy `self`, awaited. */
export function call(
  self: object,
  m: string,
  ...a: unknown[]
): Promise<unknown> {
  return callAsync(ids.get(self)!, m, a);
}

/** Calls `m` of the real object of proxy `self`, blocking this thread. */
export function callNow(self: object, m: string, ...a: unknown[]): unknown {
  return callSync(ids.get(self)!, m, a);
}

/** How a forwarded member reaches the real object (see forward()). */
export type Forward =
  /** A method that waits for its reply on this thread. */
  | "now"
  /** A method that returns a promise of its reply. */
  | "later"
  /** A getter, read on the real object. */
  | "get"
  /** A getter of a fact the proxy was built with (it never changes). */
  | "fact";

type Member =
  | Forward
  | readonly [Forward, string]
  // A method of the real class that needs nothing but other members
  // (SemLock.hold() over acquire()): the same function serves the proxy.
  | ((...args: never[]) => unknown);

function member(how: Forward, name: string): PropertyDescriptor {
  switch (how) {
    case "fact":
      return {
        get: function (this: object) {
          return fact(this, name);
        },
      };
    case "get":
      return {
        get: function (this: object) {
          return callNow(this, `get:${name}`);
        },
      };
    case "now":
      return {
        value: function (this: object, ...a: unknown[]) {
          return callNow(this, name, ...a);
        },
      };
    case "later":
      return {
        value: function (this: object, ...a: unknown[]) {
          return call(this, name, ...a);
        },
      };
  }
}

/**
 * Gives the proxy class `cls` the members that only forward to the real
 * object, by name: how each reaches it, with the real object's member's
 * name when it differs (`acquireSync: ["now", "acquire"]` blocks on the
 * real object's awaited acquire(): the host always awaits), or a method of
 * the real class to reuse as it is.
 */
export function forward(
  cls: { prototype: object },
  members: Record<string, Member>,
): void {
  for (const [name, spec] of Object.entries(members)) {
    const descriptor = typeof spec === "function"
      ? { value: spec }
      : typeof spec === "string"
      ? member(spec, name)
      : member(spec[0], spec[1]);
    Object.defineProperty(cls.prototype, name, {
      ...descriptor,
      configurable: true,
      ...("value" in descriptor ? { writable: true } : {}),
    });
  }
}

const facts = new WeakMap<object, Record<string, unknown>>();

/** A fact proxy `self` was built with (a queue's maxsize, a Value's lock). */
export function fact(self: object, name: string): unknown {
  return facts.get(self)?.[name];
}

/** The base of every proxy: its id, its kind, and no way on. */
export class Remote {
  /**
   * @param id The real object's id in the parent.
   * @param kind The class it stands for.
   * @param known What never changes about it (a queue's maxsize), read
   * through fact().
   */
  constructor(id: number, kind: string, known: Record<string, unknown> = {}) {
    ids.set(this, id);
    facts.set(this, known);
    kinds.set(this, kind);
    holders.set(id, (holders.get(id) ?? 0) + 1);
    dropped.register(this, id);
  }

  /** Refuses to travel on (its object lives in the parent of this child). */
  [kReduce](): SharedDescriptor {
    throw new TypeError(
      `Cannot send a ${
        kinds.get(this)
      } as it must be the object itself: current value is its proxy in a "subprocess" child, which cannot be sent on to another process`,
    );
  }

  /** Shows what it stands for in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `${kinds.get(this)} (proxy of the parent's object ${ids.get(this)})`;
  }
}
