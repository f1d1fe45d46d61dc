// The identity of the current "process" (the main thread or one worker).
//
// Kept on globalThis under a registered symbol, not in a module variable:
// the bootstrap and the user's own import of the library may resolve to two
// copies of these modules (file: vs jsr: URLs), and both must see one state.
//
// Tier 1: below everything that starts or runs a child.

import { kChildStop } from "../_wire/layouts.ts";
import type { ChildInit, ProcessIdentity } from "../_wire/protocol.ts";

export type { ProcessIdentity } from "../_wire/protocol.ts";

/** What the state keeps of a started child (a Process). */
export interface ChildHandle {
  isAlive(): boolean;
  daemon: boolean;
  terminate(): void;
  join(): Promise<unknown>;
}

/** The per-thread state of the library. */
export interface ProcessState {
  /** True in a worker started by this library. */
  isChild: boolean;
  name: string;
  pid: number;
  /**
   * This process's word of the life table (src/_core/lives.ts), which its
   * parent frees when it ends; -1: none (the main thread).
   */
  life: number;
  daemon: boolean;
  /** CPython's `_identity`: the child numbers from the main process down. */
  identity: number[];
  parent: ProcessIdentity | null;
  /** True while a child is still importing its target's module. */
  bootstrapping: boolean;
  /** How many children this process has created (names them). */
  childCounter: number;
  /** One counter for the whole OS process, so that pids never repeat. */
  pidCounter: Int32Array;
  /** Set by the parent on terminate(), read by the child's blocking waits. */
  control: Int32Array | null;
  /** The parent's control block (null in the main process or its children). */
  parentControl: Int32Array | null;
  /** Buffers every process shares (see processWide()), by key. */
  shared: Record<string, SharedArrayBuffer>;
  /** Children started by this process and not yet known to have exited. */
  children: Set<ChildHandle>;
  /**
   * True once this thread loaded the library's Process API: a child then
   * runs its target through its own Process object (CPython's
   * `current_process()`), which it otherwise does without.
   */
  processApiLoaded: boolean;
}

const kState = Symbol.for("@dmp/multiprocessing.state");

/** Returns this thread's state, creating the main process's on first use. */
export function state(): ProcessState {
  const g = globalThis as unknown as Record<symbol, ProcessState | undefined>;
  let s = g[kState];
  if (s === undefined) {
    s = {
      isChild: false,
      name: "MainProcess",
      pid: Deno.pid,
      life: -1,
      daemon: false,
      identity: [],
      parent: null,
      bootstrapping: false,
      childCounter: 0,
      pidCounter: new Int32Array(new SharedArrayBuffer(4)),
      control: null,
      parentControl: null,
      shared: {},
      children: new Set(),
      processApiLoaded: false,
    };
    g[kState] = s;
  }
  return s;
}

/**
 * True when this thread is a child whose parent asked it to stop: blocking
 * `…Sync` waits poll this so that terminate() can end them.
 */
export function stopRequested(): boolean {
  const control = state().control;
  return control !== null && Atomics.load(control, kChildStop) !== 0;
}

/**
 * Child side of the handshake: this thread becomes the process `init`
 * describes (every kind of child adopts its identity here, and only here).
 *
 * @returns The child's control block (src/_wire/layouts.ts, kChild*).
 */
export function adoptIdentity(init: ChildInit): Int32Array {
  const s = state();
  s.name = init.name;
  s.pid = init.pid;
  s.life = init.life;
  s.daemon = init.daemon;
  s.identity = init.identity;
  s.parent = init.parent;
  s.pidCounter = new Int32Array(init.pidCounter);
  s.control = new Int32Array(init.control);
  s.parentControl = init.parentControl && new Int32Array(init.parentControl);
  Object.assign(s.shared, init.shared);
  return s.control;
}

/** Draws a pid that is unique within the OS process. */
export function nextPid(): number {
  const s = state();
  let pid: number;
  do pid = Atomics.add(s.pidCounter, 0, 1) + 1; while (pid === Deno.pid);
  return pid;
}

/**
 * Thrown to unwind a child's stack when it exits (exit(), Deno.exit(), or a
 * blocking wait that sees terminate()); the bootstrap never reports it as an
 * error.
 */
export class ExitSignal {
  /** Creates the signal. */
  constructor(readonly code: number) {}
}

/** The parts of a worker's global scope the library uses (typed for TS). */
export interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

/** This thread's global scope, seen as a worker's. Only valid in a worker. */
export const workerScope = globalThis as unknown as WorkerScope;

/**
 * A buffer shared by every process of the program, under `key` (a registry,
 * say). The main process creates it; children receive it when they start,
 * so the main process must call this before starting any child (at the top
 * level of the module that needs it).
 */
export function processWide(
  key: string,
  create: () => SharedArrayBuffer,
): SharedArrayBuffer {
  const shared = state().shared;
  return shared[key] ??= create();
}
