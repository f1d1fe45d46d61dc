// The wire protocol between a parent and its workers: every message type in
// one place, as discriminated unions on `t`. Tier 0: it imports nothing, so
// the shapes that travel (identities, target references) are defined here
// and the modules above use them.

/** Who a process is, as far as other processes need to know. */
export interface ProcessIdentity {
  name: string;
  pid: number;
}

/** How a child finds a function (or Process subclass) of some module. */
export interface TargetRef {
  /** Module URL, without a hash. */
  url: string;
  /** Export name in that module. */
  name: string;
  /** `fn.toString()` in the parent, checked in the child; absent for strings. */
  source?: string;
  /** `"class"` for a Process subclass whose `run()` is the target. */
  kind: "function" | "class";
  /**
   * Other `"url#name"` exports that may be the same function (the modules
   * the caller imports it from): tried in order when `url#name` is not it.
   */
  also?: string[];
}

import type { WireError } from "./error_codec.ts";

/**
 * The handshake every child receives first, whatever its kind: who it is,
 * its control block (src/_wire/layouts.ts, kChild*), and the buffers every
 * process shares. A child's permissions and the modules that rebuild shared
 * objects are fixed when it is created (they are the Worker's options and
 * the static imports of its entry), so they are not part of the message.
 */
export interface ChildInit {
  name: string;
  pid: number;
  /** The child's life word (src/_core/lives.ts); -1: none. */
  life: number;
  /** CPython's `_identity`: the child numbers from the main process down. */
  identity: number[];
  daemon: boolean;
  parent: ProcessIdentity;
  /** The program-wide pid counter (one Int32). */
  pidCounter: SharedArrayBuffer;
  /** The child's control block, kChildControlSlots Int32 slots. */
  control: SharedArrayBuffer;
  /** The parent's own control block (null: the parent is the main thread). */
  parentControl: SharedArrayBuffer | null;
  /** The program-wide buffers of processWide(). */
  shared: Record<string, SharedArrayBuffer>;
}

/** What a Process child needs to run its target. */
export interface RunMessage extends ChildInit {
  t: "run";
  /** Absent for a Process without a target and without its own `run()`. */
  target?: TargetRef;
  /** The Process's own fields, for a subclass's `run()`. */
  fields: Record<string, unknown>;
  args: unknown[];
}

/** A child reports how it ended; the parent never guesses from Worker events. */
export interface ExitMessage {
  t: "exit";
  code: number;
  /** The uncaught error that ended the worker, if any. */
  error?: WireError;
}

/**
 * A warm worker of the "forkserver" start method has imported its modules
 * and idles until it is taken (src/_child/warm.ts).
 */
export interface WarmMessage {
  t: "warm";
  /** The block it now waits on (src/_wire/layouts.ts, kWarm*). */
  state: SharedArrayBuffer;
}

/**
 * The parent takes a warm worker for a child: it imports `modules` that it
 * has not loaded yet, then takes the handshake's ChildInit like any child.
 */
export interface ActivateMessage {
  t: "activate";
  modules: string[];
  /** The child's first message (the handshake's init), delivered after. */
  first: unknown;
}

/**
 * The parent's answer to {t:"warm"}: the warm worker's first dispatch runs
 * the runtime's message path once, then the worker waits on its state
 * block (src/_child/warm.ts).
 */
export interface PrimeMessage {
  t: "prime";
}

/** Messages from a parent to a warm worker, until it is a child. */
export type WarmToMessage = PrimeMessage | ActivateMessage;

/** Messages from a parent to a Process child. */
export type ToProcessChild = RunMessage;
/** Messages from a Process child to its parent. */
export type FromProcessChild = ExitMessage;

// ---------------------------------------------------------------------------
// Pool workers. Small JSON-safe tasks and results travel through two SPSC
// rings (src/_memory/channel.ts) as JSON arrays; everything else (shared objects,
// typed arrays, Map, bigint, large payloads) as postMessage objects.

/** How a pool worker applies the function to a task's payload. */
export const enum TaskMode {
  /** payload is the argument list: fn(...payload). */
  Apply = 0,
  /** payload is a chunk of items: payload.map((x) => fn(x)). */
  Map = 1,
  /** payload is a chunk of argument lists: payload.map((a) => fn(...a)). */
  Starmap = 2,
}

/** How a task ended, in a result message. */
export const enum ResultStatus {
  Value = 0,
  Undefined = 1,
  Error = 2,
}

/**
 * Ring form of a task: [id, functionId, mode, payload, "url#name"?,
 * source?]. A function's first task on a worker also names it and carries
 * its source text (null for a string target: nothing to compare); later
 * tasks send only the small per-worker functionId.
 */
export type RingTask = [
  number,
  number,
  TaskMode,
  unknown,
  string?,
  (string | null)?,
];
/**
 * One request-ring message: the tasks of one dispatch to one worker. A
 * batch costs the main thread one JSON.stringify, one encode and one ring
 * write instead of one each per task.
 */
export type RingTaskBatch = RingTask[];
/** Ring form of a result: [id, status, value]. */
export type RingResult = [number, ResultStatus, unknown?];

/** Task ids on the wire run 1..kMaxTaskId, then start again at 1 (0: none). */
export const kMaxTaskId = 0x7fffffff;

/** Sets up a pool worker. */
export interface PoolInitMessage extends ChildInit {
  t: "init";
  /** Tasks to the worker; absent with atomics "disabled" (postMessage only). */
  requests?: SharedArrayBuffer;
  /** Results from the worker; absent with atomics "disabled". */
  responses?: SharedArrayBuffer;
  initializer?: TargetRef;
  initargs: unknown[];
}

/** A task that could not take the ring. */
export interface PoolTaskMessage {
  t: "task";
  id: number;
  fn: TargetRef;
  mode: TaskMode;
  payload: unknown;
  /** Set instead of `payload` for a chunk of plain numbers (transferred). */
  numbers?: Float64Array;
}

/**
 * Asks a "subprocess" worker, whose claim word the pool cannot reach, to
 * move it to `until` itself: the tasks up to that id it has not started come
 * back (see Dispatcher.steal()).
 */
export interface PoolTakeMessage {
  t: "take";
  until: number;
}

/** The answer to a "take": the tasks with ids in (after, until] came back. */
export interface PoolTakenMessage {
  t: "taken";
  after: number;
  until: number;
}

/** Messages from the pool to one of its workers. */
export type ToPoolWorker =
  | PoolInitMessage
  | PoolTaskMessage
  | PoolTakeMessage
  | { t: "stop" };

/** A result that could not take the ring. */
export interface PoolResultMessage {
  t: "result";
  id: number;
  status: ResultStatus;
  value?: unknown;
  /** Set instead of `value` for an array of plain numbers (transferred). */
  numbers?: Float64Array;
}

/** Messages from a pool worker to its pool. */
export type FromPoolWorker =
  | { t: "ready" }
  | { t: "bell" }
  | PoolResultMessage
  | PoolTakenMessage
  | ExitMessage;
