// Runs first in a child of the "subprocess" start method (./subprocess.ts),
// an OS process started as `deno run <flags> <entry>`: its data: entry
// imports this module first, then the child's own entry (whose first import
// is ./bootstrap.ts) and its modules, all statically, so that a child
// without read permission can still load its code.
//
// The child code of this library is written for a Web Worker's scope
// (postMessage, onmessage, close). Here those are served over the pipes of
// ./frames.ts: messages from the parent arrive on stdin, messages to it go
// to stderr. What a worker receives as shared memory (the control block,
// the pid counter) is made here, local to this OS process: the parent
// stops a subprocess child with a signal, not with the control block.
//
// Tier 4 (child start-up).

import { concat, encodeFrame, FrameReader } from "./frames.ts";
import { watchMessagePoll } from "./event_loop.ts";
import { hideScriptArgs } from "../_core/command_line.ts";
import { sendsByNodeV8 } from "../_core/runtime_objects.ts";
import { kChildControlSlots, kChildEnded } from "../_wire/layouts.ts";
import {
  connectWire,
  onReply,
  type Reply,
  startReader,
} from "./proxy_channel.ts";
// Registers the reviver of the placeholders of shared objects.
import "./proxies.ts";

const scope = globalThis as unknown as {
  name: string;
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

const exit = Deno.exit.bind(Deno);
let exitCode = 0;
let daemon = true;

// The parent passes the child's name, then its own arguments, which the
// child's code sees as Deno.args (as a Web Worker child and CPython's spawn
// child see the program's).
Object.defineProperty(globalThis, "name", {
  value: Deno.args[0] ?? "Process",
  writable: true,
  configurable: true,
});
Object.defineProperty(Deno, "args", {
  value: Object.freeze(Deno.args.slice(1)),
  configurable: true,
});
hideScriptArgs(1);

let handler: ((event: MessageEvent) => void) | null = null;
Object.defineProperty(globalThis, "onmessage", {
  get: () => handler,
  set: (fn) => {
    handler = fn;
  },
  configurable: true,
});
addEventListener("message", (event) => handler?.(event as MessageEvent));

let pending: Uint8Array[] = [];

// Messages posted in one turn (a run of results) go in one write: the
// parent reads them in one chunk too.
function flush(): void {
  if (pending.length === 0) return;
  const bytes = concat(pending);
  pending = [];
  try {
    let at = 0;
    while (at < bytes.length) at += Deno.stderr.writeSync(bytes.subarray(at));
  } catch (error) {
    // The parent is gone (its end of the pipe closed): nobody to tell.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}

// Every value this thread sends (results, a proxy's queue items and pipe
// messages) is a frame, in node:v8's format: reduce() refuses what node:v8
// would copy as {} (a Blob, a CryptoKey), naming its path.
sendsByNodeV8();
scope.postMessage = (message: unknown) => {
  const exiting = message as { t?: unknown; code?: unknown } | null;
  if (exiting?.t === "exit" && typeof exiting.code === "number") {
    exitCode = exiting.code;
  }
  if (pending.push(encodeFrame(message)) === 1) queueMicrotask(flush);
};

// A worker's close() ends the worker; here it ends the OS process, with the
// code the child reported (one the OS can carry; the parent has the real
// one from the exit message).
scope.close = () => {
  flush();
  exit(exitCode >= 0 && exitCode <= 255 ? exitCode : 1);
};

/** Fills in what cannot cross from the parent (see above). */
// The parent's end, as parentProcess() sees it: marked when stdin closes.
const parentControl = new Int32Array(
  new SharedArrayBuffer(4 * kChildControlSlots),
);

function localInit(message: Record<string, unknown>): void {
  if (!("pidCounter" in message)) return;
  message.pidCounter = new SharedArrayBuffer(4);
  message.control = new SharedArrayBuffer(4 * kChildControlSlots);
  message.parentControl = parentControl.buffer;
  message.shared = {};
  daemon = message.daemon === true;
}

// The parent has ended (or was killed): a daemonic child ends with it, as
// in CPython; another one runs on, and parentProcess() says it has ended.
function parentEnded(): void {
  if (daemon) exit(1);
  Atomics.store(parentControl, kChildEnded, 1);
  Atomics.notify(parentControl, kChildEnded);
}

function deliver(data: unknown): void {
  const m = data as { t?: unknown } | null;
  if (m?.t === "proxy-reply") return onReply(data as Reply);
  if (data !== null && typeof data === "object") {
    localInit(data as Record<string, unknown>);
  }
  // The event is ours, not the runtime's: the op that keeps this process
  // reading is receive()'s next stdin read, made right after it. Recorded
  // so that a Process child, once its target has returned, still waits for
  // the timers and I/O it left, as a Web Worker child does (event_loop.ts).
  if (m?.t === "run") watchMessagePoll();
  dispatchEvent(new MessageEvent("message", { data }));
}

connectWire({ post: scope.postMessage, flush, deliver, ended: parentEnded });

async function receive(): Promise<void> {
  const reader = new FrameReader();
  const buffer = new Uint8Array(1 << 16);
  // The parent's first frame for shared objects: from then on stdin is read
  // by the reader of ./proxy_channel.ts, which blocking calls wait on.
  let handOff = false;
  const take = (data: unknown) => {
    if ((data as { t?: unknown } | null)?.t === "proxy-start") handOff = true;
    else deliver(data);
  };
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) break;
    reader.push(buffer.subarray(0, n), take, () => {});
    if (handOff) return startReader(reader.rest());
  }
  parentEnded();
}

receive();
