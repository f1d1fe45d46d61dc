// The public types of the options and calls of Pool and ProcessPoolExecutor
// (re-exported by pool.ts and executor.ts).

import type { WorkerPermissions } from "./_core/permissions.ts";
import type { Target } from "./_core/target.ts";
import type { ResourceLimits } from "./_child/start_method.ts";

/** Options of `Pool`. */
export interface PoolOptions {
  /** Run in each worker before its first task (an exported function). */
  initializer?: Target;
  /** Arguments of the initializer. @default {[]} */
  initargs?: unknown[];
  /** Replace a worker after it has run this many tasks. @default {undefined} */
  maxTasksPerChild?: number;
  /** Deno permissions of every worker. @default {"inherit"} */
  permissions?: WorkerPermissions;
  /**
   * "enabled": small JSON-safe tasks and results go through
   * SharedArrayBuffer rings (fast); "disabled": everything by postMessage,
   * as piscina's `atomics: "disabled"`. @default {"enabled"}
   */
  atomics?: "enabled" | "disabled";
  /**
   * Limits of each worker's resources: `maxHeapMb`, its V8 heap limit.
   * Only with the "subprocess" start method (a TypeError with the others):
   * a worker that runs out of memory fails its task and is replaced.
   */
  resourceLimits?: ResourceLimits;
}

/** Per-task options of `Pool.apply` and `Pool.applyAsync`. */
export interface TaskOptions {
  /** Aborting it cancels the task (and ends its worker if it runs). */
  signal?: AbortSignal;
  /** Seconds before the task is cancelled with a TimeoutError. */
  timeout?: number;
}

/** Any function a pool can run (it must be exported to be found). */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/**
 * A function `map` can call with each item alone (CPython raises a
 * TypeError for one that needs more arguments).
 */
// deno-lint-ignore no-explicit-any
export type ItemFunction = (item: any) => unknown;

/**
 * The `args` and options of a call to `F`: `args` may be left out only when
 * `F` can be called without arguments, as CPython's `pool.apply(f)`.
 */
export type CallArgs<F extends TaskFunction, O> = [] extends Parameters<F>
  ? [args?: Readonly<Parameters<F>>, options?: O]
  : [args: Readonly<Parameters<F>>, options?: O];

/** What a task of `F` resolves to: its return value, awaited. */
export type TaskResult<F> = F extends (...args: never[]) => infer R ? Awaited<R>
  : unknown;

/** Options of `ProcessPoolExecutor`. */
export interface ExecutorOptions extends Pick<PoolOptions, "resourceLimits"> {
  /** Most workers at once. @default {cpuCount()} */
  maxWorkers?: number;
  /** Replace a worker after this many tasks. @default {undefined} */
  maxTasksPerChild?: number;
  /** Run in each worker before its first task. */
  initializer?: Target;
  /** Arguments of the initializer. @default {[]} */
  initargs?: unknown[];
  /** Deno permissions of every worker. @default {"inherit"} */
  permissions?: WorkerPermissions;
  /**
   * "enabled": small JSON-safe calls and results go through
   * SharedArrayBuffer rings (fast); "disabled": everything by postMessage,
   * as piscina's `atomics: "disabled"`. @default {"enabled"}
   */
  atomics?: "enabled" | "disabled";
}

/** Options of `ProcessPoolExecutor.map`. */
export interface ExecutorMapOptions {
  /** Seconds, from the call to map(), before iteration throws TimeoutError. */
  timeout?: number;
  /** Items per task. @default {1} */
  chunksize?: number;
}

/** Per-call options of `ProcessPoolExecutor.submitWith`. */
export interface SubmitOptions {
  /** Aborting it cancels the call (and ends its worker if it runs). */
  signal?: AbortSignal;
  /** Seconds before the call is cancelled with a TimeoutError. */
  timeout?: number;
}

/**
 * The iterables `ProcessPoolExecutor.map` zips for a function with
 * parameters `P`: one iterable per parameter.
 */
export type IterablesOf<P extends unknown[]> = {
  [K in keyof P]: Iterable<P[K]>;
};
