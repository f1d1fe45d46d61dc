// What Pool and ProcessPoolExecutor accept in common, checked once, and the
// engine settings built from it.

import {
  chosenStartMethod,
  type ResourceLimits,
  type StartMethod,
} from "../_child/start_method.ts";
import { assertCanCross } from "../_child/subprocess_options.ts";
import { checkResourceLimits } from "../_child/subprocess_flags.ts";
import {
  checkPermissions,
  type WorkerPermissions,
} from "../_core/permissions.ts";
import { cpuCount } from "../process.ts";
import { assertNotBootstrapping } from "../_child/guard.ts";
import { reduce } from "../reduction.ts";
import { callerUrl, targetRef } from "../_core/target.ts";
import type { Target, TargetRef } from "../_core/target.ts";
import {
  checkArray,
  checkLimitSeconds,
  checkPositiveInteger,
  checkSignal,
} from "../_core/validate.ts";
import type { TaskLimits } from "./task.ts";
import { checkKnownKeys } from "../_core/known_keys.ts";

/** The options of Pool and ProcessPoolExecutor but the worker count. */
const kEngineKeys = [
  "initializer",
  "initargs",
  "maxTasksPerChild",
  "permissions",
  "atomics",
  "resourceLimits",
];
/** A task's own options (apply, submitWith). */
const kTaskKeys = ["signal", "timeout"];
/** The options of applyAsync: a task's, and its callbacks. */
export const kAsyncTaskKeys = ["callback", "errorCallback", ...kTaskKeys];
/** The options of mapAsync and starmapAsync. */
export const kMapAsyncKeys = ["chunksize", "callback", "errorCallback"];

/**
 * Checks the options of an `…Async` call: an object of `known` keys whose
 * callbacks are functions or absent, so that a slip fails at the call, not
 * when a result arrives.
 *
 * @throws {TypeError} For options that are no object, an unknown key, or a
 * callback that is not a function.
 */
export function checkAsyncOptions(
  options: unknown,
  known: readonly string[],
  what: string,
): void {
  checkKnownKeys(options, known, what);
  checkCallbacks(options, what);
}

/**
 * Checks the callbacks of an `…Async` call (after its options object):
 * each a function or absent.
 *
 * @throws {TypeError} For a callback that is not a function.
 */
export function checkCallbacks(options: unknown, what: string): void {
  for (const name of ["callback", "errorCallback"]) {
    const value = (options as Record<string, unknown> | undefined)?.[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(
        `Cannot ${what} as '${name}' must be a function: current value is ${
          Deno.inspect(value)
        }`,
      );
    }
  }
}

/**
 * Checks a task's argument list and limits before it is submitted.
 *
 * @throws {TypeError} For args that are not an array, a timeout that is not
 * a number, or a signal that is not an AbortSignal.
 * @throws {RangeError} For a negative timeout.
 */
export function checkTask(
  args: unknown,
  limits: TaskLimits | undefined,
  what: string,
  known: readonly string[] = kTaskKeys,
): void {
  checkKnownKeys(limits, known, what);
  checkArray(args, "args", what);
  checkLimitSeconds(limits?.timeout, "timeout", what);
  checkSignal(limits?.signal, what);
}

/** What the engine does when a worker dies abruptly. */
export type DeathPolicy = "replace" | "break";

/**
 * How tasks and results travel: "enabled" puts small JSON-safe ones through
 * SharedArrayBuffer rings (the fast path), "disabled" sends everything by
 * postMessage, as piscina's `atomics: "disabled"` does.
 */
export type AtomicsMode = "enabled" | "disabled";

/** Engine settings. */
export interface EngineOptions {
  processes: number;
  name: string;
  initializer?: TargetRef;
  initargs: unknown[];
  maxTasksPerChild?: number;
  permissions?: WorkerPermissions;
  /** Only with the "subprocess" start method. */
  resourceLimits?: ResourceLimits;
  /** The module that created the pool: imported statically by workers. */
  caller?: string;
  onDeath: DeathPolicy;
  /** Start all workers at once (Pool) or only as work needs them (executor). */
  eager: boolean;
  /** Tasks and results through rings (atomics: "enabled"), or by postMessage only. */
  rings: boolean;
  /** The start method of a Context's Pool or executor. */
  method?: StartMethod;
}

/** What Pool and ProcessPoolExecutor accept in common. */
export interface WorkerPoolOptions {
  initializer?: Target;
  initargs?: unknown[];
  maxTasksPerChild?: number;
  permissions?: WorkerPermissions;
  atomics?: AtomicsMode;
  /**
   * Limits of each worker's resources: `maxHeapMb`, its V8 heap limit.
   * Only with the "subprocess" start method (a TypeError with the others):
   * a worker that runs out of memory fails its task and is replaced.
   */
  resourceLimits?: ResourceLimits;
}

/**
 * Checks the `atomics` option.
 *
 * @throws {TypeError} When it is neither "enabled" nor "disabled".
 */
function checkAtomics(value: unknown, what: string): void {
  if (value === undefined || value === "enabled" || value === "disabled") {
    return;
  }
  throw new TypeError(
    `Cannot ${what} as 'atomics' must be "enabled" or "disabled": current value is ${
      Deno.inspect(value)
    }`,
  );
}

/** What tells Pool's engine from the executor's. */
export interface EngineKind
  extends Pick<EngineOptions, "name" | "onDeath" | "eager" | "method"> {
  /** The name of the worker count in errors: "processes", "maxWorkers". */
  count: string;
}

/**
 * Validates the options common to Pool and ProcessPoolExecutor and builds
 * the engine's. Call it from the public constructor: the module that called
 * that constructor becomes the module every worker imports. A count above
 * 4 × cpuCount() is allowed with one console.warn line.
 *
 * @param processes The worker count; undefined: cpuCount().
 * @throws {ProcessError} While a child is importing this module (missing guard).
 * @throws {TypeError} For a count that is not a number, initargs that are
 * not an array, a bad initializer, permissions or `atomics` value.
 * @throws {RangeError} For a count or maxTasksPerChild that is not a
 * positive integer.
 */
export function engineOptions(
  processes: number | undefined,
  options: WorkerPoolOptions,
  { count, ...kind }: EngineKind,
  what: string,
): EngineOptions {
  assertNotBootstrapping();
  checkPositiveInteger(processes, count, what);
  // The executor takes its worker count in its options, the Pool apart.
  const own = count === "processes" ? [] : [count];
  checkKnownKeys(options, [...own, ...kEngineKeys], what);
  const { initializer, initargs = [], maxTasksPerChild, permissions } = options;
  checkPositiveInteger(maxTasksPerChild, "maxTasksPerChild", what);
  checkArray(initargs, "initargs", what);
  checkAtomics(options.atomics, what);
  // Rings are shared memory, which an OS process child cannot receive: its
  // tasks and results go by message, as with atomics "disabled".
  const method = kind.method ?? chosenStartMethod();
  const subprocess = method === "subprocess";
  const resourceLimits = checkResourceLimits(
    options.resourceLimits,
    method,
    what,
  );
  const reducedInitargs = reduce(initargs, "initargs", what) as unknown[];
  if (subprocess) assertCanCross(reducedInitargs, "initargs", what);
  const caller = callerUrl()?.replace(/#.*$/, "");
  const cpus = cpuCount();
  if (processes !== undefined && processes > 4 * cpus) {
    // CPython's documents advise against more processes than cores; far
    // more is allowed, but said once, when the pool is made.
    console.warn(
      `Warning: '${count}' is ${processes}, more than 4 × cpuCount() (${cpus}): processes beyond the CPU count add start-up time and memory without speeding up CPU-bound work`,
    );
  }
  return {
    ...kind,
    processes: processes ?? cpus,
    initializer: initializer === undefined
      ? undefined
      : targetRef(initializer, caller, what),
    initargs: reducedInitargs,
    maxTasksPerChild,
    permissions: checkPermissions(permissions, what, !subprocess),
    resourceLimits,
    caller: caller?.startsWith("data:") ? undefined : caller,
    rings: options.atomics !== "disabled" && !subprocess,
    ...(subprocess ? { method: "subprocess" } : {}),
  };
}
