// The options of a Process, checked once, and the reference its child will
// import: a target function, or the Process subclass whose run() it runs.
//
// Tier 5 (process), with src/process.ts.

import {
  checkPermissions,
  type WorkerPermissions,
} from "../_core/permissions.ts";
import { callerUrl, targetRef } from "../_core/target.ts";
import type { Target, TargetRef } from "../_core/target.ts";
import { checkArray, checkSignal } from "../_core/validate.ts";
import { state } from "../_core/state.ts";
import { checkKnownKeys } from "../_core/known_keys.ts";
import {
  chosenStartMethod,
  type ResourceLimits,
  startMethodOf,
} from "../_child/start_method.ts";
import { checkResourceLimits } from "../_child/subprocess_flags.ts";

const kProcessKeys = [
  "target",
  "args",
  "name",
  "daemon",
  "permissions",
  "signal",
  "resourceLimits",
];

/** Marks the library's Process class (and so its subclasses). */
export const kProcessClass: unique symbol = Symbol.for(
  "@dmp/multiprocessing.Process",
);

/**
 * Options of {@linkcode Process}: `args` may be left out only when the
 * target can be called without arguments.
 */
export type ProcessOptions<F extends Target = Target> =
  & ProcessSettings<F>
  & (F extends (...args: infer P) => unknown
    ? [] extends P ? { args?: Readonly<P> } : { args: Readonly<P> }
    : { args?: readonly unknown[] });

/** Options of {@linkcode Process} but its target's arguments. */
export interface ProcessSettings<F extends Target = Target> {
  /**
   * The function to run: an exported function (found by its module and
   * name), or `"./module.ts#exportName"` / a URL with a hash. Without a
   * target, `run()` does nothing (override it in an exported subclass).
   */
  target?: F;
  /**
   * Arguments for the target, checked against its parameters when the
   * target is a function. They are structured-cloned; shared objects
   * (Lock, Queue, Value, …) arrive as the same object.
   *
   * @default {[]}
   */
  args?: readonly unknown[];
  /** The process name. @default {"Process-N"} */
  name?: string;
  /**
   * A daemonic process does not keep the program alive: it is killed when
   * the program ends, and it may not start children of its own.
   *
   * @default {false}
   */
  daemon?: boolean;
  /**
   * Deno permissions of the child (needs `--unstable-worker-options`, or
   * `"worker-options"` in the `unstable` list of deno.json; with the
   * "subprocess" start method they become the child's `--allow-*` flags).
   *
   * @default {"inherit"}
   */
  permissions?: WorkerPermissions;
  /** Aborting it terminates the process. */
  signal?: AbortSignal;
  /**
   * Limits of the child's resources: `maxHeapMb`, its V8 heap limit. Only
   * with the "subprocess" start method, whose child alone ends when it runs
   * out of memory (a TypeError with the others).
   */
  resourceLimits?: ResourceLimits;
}

/** What the Process constructor keeps of its options. */
export interface CheckedOptions {
  target: Target | undefined;
  args: unknown[];
  /** Absent for a Process that runs nothing. */
  ref: TargetRef | undefined;
  permissions: WorkerPermissions | undefined;
  resourceLimits: ResourceLimits | undefined;
  signal: AbortSignal | undefined;
  /** CPython's `_identity`: the child numbers from the main process down. */
  identity: number[];
  name: string;
  daemon: boolean;
}

// Set while a child builds its own Process (./child_main.ts): its parent
// checked these options already.
let trusted: CheckedOptions | undefined;

/** Options the next checkProcessOptions() returns unchecked; once. */
export function trustNextOptions(options: CheckedOptions): void {
  trusted = options;
}

type RunnerClass = { name: string; prototype: { run(): unknown } };

/**
 * Checks a Process's options and finds what its child imports: `cls` when
 * it is a subclass of `base` that overrides `run()`, or else the target. A
 * child's own Process gets the options its parent checked
 * (trustNextOptions()) instead.
 *
 * @throws {TypeError} For bad options, a target that cannot travel, or an
 * unnamed subclass.
 */
export function checkProcessOptions(
  options: ProcessOptions,
  cls: RunnerClass,
  base: RunnerClass,
): CheckedOptions {
  if (trusted !== undefined) {
    const checked = trusted;
    trusted = undefined;
    return checked;
  }
  const subclass = cls !== base && cls.prototype.run !== base.prototype.run
    ? cls
    : undefined;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create process as 'options' must be an object: current value is ${
        Deno.inspect(options)
      }`,
    );
  }
  checkKnownKeys(options, kProcessKeys, "create process");
  const { target, args = [], name, daemon, permissions, signal } = options;
  const method = startMethodOf(cls) ?? chosenStartMethod();
  const resourceLimits = checkResourceLimits(
    options.resourceLimits,
    method,
    "create process",
  );
  checkArray(args, "args", "create process");
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(
      `Cannot create process as 'name' must be a string: current value is ${
        Deno.inspect(name)
      }`,
    );
  }
  checkSignal(signal, "create process");
  // Only a target or a subclass needs the caller, and a stack trace is the
  // dearest step here (~1 ms on a child's first run): a child builds its
  // own Process without either.
  let ref: TargetRef | undefined;
  if (subclass !== undefined) {
    const source = Function.prototype.toString.call(subclass);
    const url = callerUrl()?.replace(/#.*$/, "");
    if (url === undefined || !subclass.name) {
      throw new TypeError(
        "Cannot create process as a Process subclass must be a named, exported class",
      );
    }
    ref = { url, name: subclass.name, source, kind: "class" };
  } else if (target !== undefined) {
    ref = targetRef(target, callerUrl(), "create process");
  }
  const checked = checkPermissions(
    permissions,
    "create process",
    method !== "subprocess",
  );
  const s = state();
  const identity = [...s.identity, ++s.childCounter];
  return {
    target,
    args: args as unknown[],
    ref,
    permissions: checked,
    resourceLimits,
    signal,
    identity,
    name: name ?? `Process-${identity.join(":")}`,
    daemon: daemon ?? s.daemon,
  };
}
