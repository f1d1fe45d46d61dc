// The wire protocol between a parent and its workers: every message type in
// one place, as discriminated unions on `t`.

import type { ProcessIdentity } from "../_core/state.ts";
import type { TargetRef } from "../_core/target.ts";

export { toWireError, type WireError } from "./error_codec.ts";
import type { WireError } from "./error_codec.ts";

/** What a Process child needs to run its target. */
export interface RunMessage {
  t: "run";
  target: TargetRef;
  /** The Process's own fields, for a subclass's `run()`. */
  fields: Record<string, unknown>;
  args: unknown[];
  name: string;
  pid: number;
  identity: number[];
  daemon: boolean;
  parent: ProcessIdentity;
  pidCounter: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** The program-wide buffers of processWide(). */
  shared: Record<string, SharedArrayBuffer>;
}

/** A child reports how it ended; the parent never guesses from Worker events. */
export interface ExitMessage {
  t: "exit";
  code: number;
  /** The uncaught error that ended the worker, if any. */
  error?: WireError;
}

/** Messages from a parent to a Process child. */
export type ToProcessChild = RunMessage;
/** Messages from a Process child to its parent. */
export type FromProcessChild = { t: "started" } | ExitMessage;

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

/** Index of the stop flag in a pool worker's control block (as for Process). */
export const kPoolStop = 0;
/** Index of the id of the task a pool worker is running (0: none). */
export const kPoolCurrent = 1;
/** Size of a pool worker's control block, in Int32 slots. */
export const kPoolControlSlots = 2;

/** Sets up a pool worker. */
export interface PoolInitMessage {
  t: "init";
  name: string;
  pid: number;
  identity: number[];
  parent: ProcessIdentity;
  pidCounter: SharedArrayBuffer;
  control: SharedArrayBuffer;
  shared: Record<string, SharedArrayBuffer>;
  requests: SharedArrayBuffer;
  responses: SharedArrayBuffer;
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

/** Messages from the pool to one of its workers. */
export type ToPoolWorker = PoolInitMessage | PoolTaskMessage | { t: "stop" };

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
  | ExitMessage;
