// The start method, as a strategy behind one seam (CPython's popen_*
// modules). Process and the pool engine start every child through
// startChild() (./handshake.ts), which asks the strategy of the current
// start method for a ChildPort; only the strategy knows what a child is
// made of. "spawn" (a Web Worker that imports its target's module afresh,
// ./spawn.ts) is the default; "forkserver" (./forkserver.ts) hands out
// fresh workers started ahead in idle time. Process, Pool and the executor
// name no strategy: a Context's classes carry their method as a static
// (kStartMethod), and the program's default is setStartMethod()'s.
//
// Tier 4 (child start-up).

import type { WorkerPermissions } from "../_core/permissions.ts";
import { spawnStrategy } from "./spawn.ts";
import { forkserverStrategy } from "./forkserver.ts";
import { subprocessStrategy } from "./subprocess.ts";
import type { ResourceLimits } from "./subprocess_flags.ts";

export type { ResourceLimits } from "./subprocess_flags.ts";

/** The start methods this library offers. */
export type StartMethod = "spawn" | "forkserver" | "subprocess";

/**
 * The start method a class's children use, as a static of the classes a
 * Context hands out (`getContext("forkserver").Process`); absent on the
 * module's own classes, which follow setStartMethod().
 */
export const kStartMethod: unique symbol = Symbol.for(
  "dmp.multiprocessing.startMethod",
);

/** What carries a start method: a Context's Process, Pool, executor. */
export interface StartMethodCarrier {
  [kStartMethod]?: StartMethod;
}

/** What a strategy needs to create one child. */
export interface ChildLaunch {
  /** The child's name (shown in Deno's own error messages). */
  name: string;
  /** The child-side module; its `main(modules)` export is called. */
  entry: string;
  /** Modules the child imports before `main()`, with the parent's rights. */
  modules: string[];
  /** Already validated by checkPermissions(). */
  permissions?: WorkerPermissions;
  /** Only "subprocess" children have them (checked before). */
  resourceLimits?: ResourceLimits;
  /**
   * The parent's copy of the child's control block (src/_wire/layouts.ts),
   * shared with a child that can share memory; a strategy whose child
   * cannot keeps its kChildTask slot up to date itself.
   */
  control: Int32Array;
  /** The operation, for error messages ("start process"). */
  what: string;
  /** Every message the child posts, in order. */
  onMessage(message: unknown): void;
  /**
   * A failure the child could not report itself (its modules failed to
   * load, say): the child is gone.
   */
  onError(message: string): void;
}

/** The parent's end of one child, whatever the start method. */
export interface ChildPort {
  /** Sends a message to the child (structured clone, with transfers). */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Whether the child keeps the program alive (idempotent). */
  ref(on: boolean): void;
  /**
   * Ends the child without waiting for it; a child that is an OS process
   * receives `signal` (default SIGTERM).
   */
  terminate(signal?: "SIGTERM" | "SIGKILL"): void;
  /** The OS pid of a child that is an OS process. */
  readonly pid?: number;
  /**
   * Settles once a child that is an OS process has ended and its pipes are
   * closed (a join waits for it: the process is really gone).
   */
  readonly ended?: Promise<void>;
}

/** A start method: creates children. */
export interface StartStrategy {
  /**
   * Creates one child and wires its messages to `options`.
   *
   * @throws {Deno.errors.NotCapable} When the child may not be created
   * with these modules or permissions.
   */
  launch(options: ChildLaunch): ChildPort;
}

const strategies: Record<StartMethod, StartStrategy> = {
  spawn: spawnStrategy,
  forkserver: forkserverStrategy,
  subprocess: subprocessStrategy,
};

let chosen: StartMethod | undefined;

/** True for the name of a start method this library offers. */
export function isStartMethod(method: unknown): method is StartMethod {
  return typeof method === "string" && Object.hasOwn(strategies, method);
}

/** The start methods this library offers, default first. */
export function startMethods(): StartMethod[] {
  return Object.keys(strategies) as StartMethod[];
}

/** The start method set by setStartMethod(), if any. */
export function chosenStartMethod(): StartMethod | undefined {
  return chosen;
}

/** Sets (or, with `undefined`, clears) the program's start method. */
export function chooseStartMethod(method: StartMethod | undefined): void {
  chosen = method;
}

/** The start method of a class (a Context's), if it carries one. */
export function startMethodOf(cls: unknown): StartMethod | undefined {
  return (cls as StartMethodCarrier | null)?.[kStartMethod];
}

/**
 * The strategy children are started with: `method` (a Context's), else the
 * program's.
 */
export function startStrategy(method?: StartMethod): StartStrategy {
  return strategies[method ?? chosen ?? "spawn"];
}
