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
// Only "spawn" is imported here. The other strategies register themselves
// when their modules load (src/context.ts imports them: the only way to
// choose them), so that a child, which imports Process but starts nothing
// itself unless its code imports the library, does not load them: every
// module a worker loads costs its start-up.
//
// Tier 4 (child start-up).

import type { WorkerPermissions } from "../_core/permissions.ts";
import { spawnStrategy } from "./spawn.ts";
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
  /**
   * Checks a value sent to a child of this method (args, fields, tasks),
   * where the method cannot send everything "spawn" can.
   *
   * @throws {TypeError} When the value cannot reach such a child.
   */
  checkSendable?(value: unknown, path: string, what: string): void;
}

/** The start methods this library offers, default first. */
const kMethods: readonly StartMethod[] = ["spawn", "forkserver", "subprocess"];

const strategies: Partial<Record<StartMethod, StartStrategy>> = {
  spawn: spawnStrategy,
};

/** Makes `method` usable; its strategy's module calls this as it loads. */
export function registerStrategy(
  method: StartMethod,
  strategy: StartStrategy,
): void {
  strategies[method] = strategy;
}

let chosen: StartMethod | undefined;

/** True for the name of a start method this library offers. */
export function isStartMethod(method: unknown): method is StartMethod {
  return typeof method === "string" &&
    kMethods.includes(method as StartMethod);
}

/** The start methods this library offers, default first. */
export function startMethods(): StartMethod[] {
  return [...kMethods];
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

/** CPython's pool worker names by start method, and ours for "subprocess". */
const kPoolWorkerNames: Record<StartMethod, string> = {
  spawn: "SpawnPoolWorker",
  forkserver: "ForkServerPoolWorker",
  subprocess: "SubprocessPoolWorker",
};

/**
 * What a Pool's workers are called (before "-1", "-2", …) when started with
 * `method` (a Context's), else the program's start method.
 */
export function poolWorkerName(method?: StartMethod): string {
  return kPoolWorkerNames[method ?? chosen ?? "spawn"];
}

/**
 * The strategy children are started with: `method` (a Context's), else the
 * program's.
 */
export function startStrategy(method?: StartMethod): StartStrategy {
  const name = method ?? chosen ?? "spawn";
  const strategy = strategies[name];
  // Choosing a method goes through src/context.ts, which loads them all.
  if (strategy === undefined) {
    throw new Error(
      `Cannot start child as start method "${name}" must be loaded first: import the library's mod.ts`,
    );
  }
  return strategy;
}
