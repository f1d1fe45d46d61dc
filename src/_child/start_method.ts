// The start method, as a strategy behind one seam (CPython's popen_*
// modules). Process and the pool engine start every child through
// startChild() (./handshake.ts), which asks the strategy of the current
// start method for a ChildPort; only the strategy knows what a child is
// made of. "spawn" (a Web Worker that imports its target's module afresh,
// ./spawn.ts) is the one there is today; "forkserver" (pre-started warm
// workers) and "subprocess" (deno OS processes) plug in here, by name,
// without touching Process or the pool.
//
// Tier 4 (child start-up).

import type { WorkerPermissions } from "../_core/permissions.ts";
import { spawnStrategy } from "./spawn.ts";

/** The start methods this library offers. */
export type StartMethod = "spawn";

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
  /** Ends the child without waiting for it. */
  terminate(): void;
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

/** The strategy children are started with now. */
export function startStrategy(): StartStrategy {
  return strategies[chosen ?? "spawn"];
}
