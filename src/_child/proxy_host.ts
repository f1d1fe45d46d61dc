// The proxy host: a Web Worker of the parent that holds the real shared
// objects of one "subprocess" child and runs the calls of its proxies on
// them (see ./proxy_parent.ts for the whole picture).
//
// Every call runs with the awaited form (acquire(), not acquireSync()): the
// host never blocks, so a call that waits (a lock held elsewhere, an empty
// queue) leaves the child's other calls running, and the worker can be
// ended at any time. Values arrive already reduced by the child and are
// put or sent on as they are (reducedAlready()); what the objects give back
// (a Queue's get(), which revives what it holds) goes back reduced.
//
// Tier 4 (child start-up).

import { state } from "../_core/state.ts";
import { reduce, reducedAlready, revive } from "../reduction.ts";
import { toWireError } from "../_wire/error_codec.ts";
import { jsonSafe } from "../_wire/codec.ts";
// The classes whose objects it serves (their modules register their
// revivers).
import "../synchronize/lock.ts";
import "../synchronize/rlock.ts";
import "../synchronize/semaphore.ts";
import "../synchronize/event.ts";
import "../synchronize/condition.ts";
import "../synchronize/barrier.ts";
import "../sharedctypes/value.ts";
import "../sharedctypes/shared_array.ts";
import "../queues/queue.ts";
import "../queues/simple_queue.ts";
import "../queues/joinable_queue.ts";
import "../connection/pipe.ts";

type Target = Record<string, (...args: unknown[]) => unknown>;

const semLock = ["acquire", "release"];
const queue = ["put", "putNowait", "get", "getNowait", "qsize", "empty"];

/** What a proxy may ask of each kind ("get:x"/"set:x": a property). */
const kAllowed: Record<string, Set<string>> = {
  Lock: new Set([...semLock, "locked"]),
  RLock: new Set([...semLock, "locked"]),
  Semaphore: new Set([...semLock, "getValue"]),
  Event: new Set(["isSet", "set", "clear", "wait"]),
  Condition: new Set([...semLock, "wait", "notify", "notifyAll"]),
  Barrier: new Set(["wait", "reset", "abort", "get:nWaiting", "get:broken"]),
  Value: new Set(["get:value", "set:value"]),
  SharedArray: new Set(["get", "set", "slice", "setSlice"]),
  Queue: new Set([...queue, "full", "close"]),
  JoinableQueue: new Set([...queue, "full", "close", "taskDone", "join"]),
  SimpleQueue: new Set(["put", "get", "empty", "close"]),
  Connection: new Set([
    "send",
    "sendBytes",
    "recv",
    "recvBytes",
    "recvBytesInto",
    "poll",
    "close",
  ]),
};

/** A call of a proxy, as the child sends it. */
interface CallFrame {
  t: "proxy";
  /** The call's number (the reply carries it). */
  c: number;
  /** The object's id. */
  id: number;
  /** The method, or "get:name" / "set:name". */
  m: string;
  a: unknown[];
  /** True when the child waits for the reply blocked. */
  s: boolean;
}

const objects = new Map<number, { kind: string; object: Target }>();
// Why an object could not be rebuilt here, by id.
const failed = new Map<number, unknown>();

function post(message: unknown): void {
  (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(
    message,
  );
}

async function invoke(kind: string, object: Target, m: string, a: unknown[]) {
  if (m.startsWith("get:")) return object[m.slice(4)];
  if (m.startsWith("set:")) {
    (object as Record<string, unknown>)[m.slice(4)] = a[0];
    return undefined;
  }
  if (m === "recvBytesInto") {
    // The child's buffer stays in the child: fill one of its size here.
    const into = new Uint8Array(a[0] as number);
    const n = await object.recvBytesInto(into) as number;
    return into.subarray(0, n);
  }
  if (kind === "Connection" && m === "close") closed.add(object);
  // An item or a message the child reduced: put or sent on as it is (as
  // JSON when it is JSON-safe: then it holds no tagged object).
  if ((m === "put" || m === "putNowait" || m === "send") && !jsonSafe(a[0])) {
    return await object[m](reducedAlready(a[0]), ...a.slice(1));
  }
  return await object[m](...a);
}

const closed = new WeakSet<object>();

async function serve(frame: CallFrame): Promise<void> {
  const { c, s } = frame;
  try {
    if (failed.has(frame.id)) throw failed.get(frame.id);
    const entry = objects.get(frame.id);
    if (entry === undefined || !kAllowed[entry.kind]?.has(frame.m)) {
      throw new TypeError(
        `Cannot call shared object as '${frame.m}' must be a method of a shared object of this process: current object is ${frame.id}`,
      );
    }
    const value = await invoke(entry.kind, entry.object, frame.m, frame.a);
    post({ t: "proxy-reply", c, s, v: reduce(value, "value", "reply") });
  } catch (error) {
    const e = toWireError(error);
    // Its bytes are what the caller needs (CPython's e.args[0]).
    const bytes = (error as { message_?: unknown }).message_;
    post({ t: "proxy-reply", c, s, e, b: bytes });
  }
}

// A pipe end its child no longer holds is closed, as the OS closes the
// descriptors of a dead process (or as a collected Connection is closed).
function closeEnd({ kind, object }: { kind: string; object: Target }): void {
  if (kind !== "Connection" || closed.has(object)) return;
  try {
    object.close();
  } catch {
    // Already closed.
  }
}

// The child has ended: its pipe ends close; its locks stay as they are.
function end(): void {
  for (const entry of objects.values()) closeEnd(entry);
  (globalThis as unknown as { close(): void }).close();
}

function onMessage(event: MessageEvent): void {
  const m = event.data;
  switch (m.t) {
    case "init": {
      const s = state();
      s.name = m.name;
      s.pid = m.pid;
      s.life = m.life;
      s.pidCounter = new Int32Array(m.pidCounter);
      Object.assign(s.shared, m.shared);
      break;
    }
    case "adopt":
      for (const [id, descriptor] of m.objects) {
        try {
          objects.set(id, {
            kind: descriptor.__dmp_shared__,
            object: revive(descriptor) as Target,
          });
        } catch (error) {
          // Each call of that object's proxy fails with it.
          failed.set(id, error);
        }
      }
      break;
    case "proxy":
      serve(m);
      break;
    case "proxy-drop": {
      const entry = objects.get(m.id);
      if (entry !== undefined) closeEnd(entry);
      objects.delete(m.id);
      failed.delete(m.id);
      break;
    }
    case "end":
      end();
  }
}

/** Called by the host's entry once its modules are loaded. */
export function main(early: MessageEvent[]): void {
  (globalThis as unknown as { onmessage: unknown }).onmessage = onMessage;
  for (const event of early) onMessage(event);
}
