// Which process this code runs in, its parent and live children, the CPU
// count, and exit(): the module-level functions of CPython's
// multiprocessing.process, re-exported by src/process.ts.
//
// Tier 5 (process), with src/process.ts.

import { state } from "../_core/state.ts";
import { deadlineOf, within } from "../_core/time.ts";
import { checkTimeout } from "../_core/validate.ts";
import { waitAsync } from "../_memory/atomics.ts";
import { kChildEnded } from "../_wire/layouts.ts";
import type { Process } from "../process.ts";

/** What {@linkcode currentProcess} and {@linkcode parentProcess} return. */
export interface ProcessInfo {
  /** The process name ("MainProcess" for the main thread). */
  readonly name: string;
  /** Unique within the OS process; the main thread's is `Deno.pid`. */
  readonly pid: number | null;
  /** Whether the process is daemonic. */
  readonly daemon: boolean;
}

/**
 * What {@linkcode parentProcess} returns: the parent, and a watch on its
 * life (CPython's `parent_process()` with `is_alive()` and `join()`).
 */
export interface ParentProcessInfo extends ProcessInfo {
  /** Whether the parent still runs. */
  isAlive(): boolean;
  /**
   * Waits until the parent has ended, at most `timeout` seconds.
   *
   * @param timeout Seconds to wait at most; `undefined` or `null`: no limit.
   * @returns A promise that resolves once the parent ended or the time passed.
   */
  join(timeout?: number | null): Promise<void>;
}

// A child whose target's module did not import this API runs without its
// Process object (./child_main.ts); one that imports it later gets this
// description of itself, as a pool worker does.
state().processApiLoaded = true;

// The main thread, or a child without its Process object.
const described: ProcessInfo = Object.freeze({
  get name() {
    return state().name;
  },
  get pid() {
    return state().pid;
  },
  get daemon() {
    return state().daemon;
  },
});

let current: ProcessInfo | undefined;

/** Child side: records the Process object that this child runs. */
export function setCurrentProcess(process: ProcessInfo): void {
  current = process;
}

/**
 * The process running this code: the `Process` object in a child, a
 * description of the main thread ("MainProcess") otherwise.
 *
 * @returns The current process.
 *
 * @example The main thread is "MainProcess", with Deno's pid
 * ```ts
 * import { currentProcess } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(currentProcess().name, "MainProcess");
 * assert.equal(currentProcess().pid, Deno.pid);
 * ```
 */
export function currentProcess(): ProcessInfo {
  return current ?? described;
}

/**
 * The parent of the current process, or `null` in the main process.
 *
 * In a child, `isAlive()` turns false and `join()` resolves once the parent
 * ends (its target returned and it exited, it called `exit()`, or it was
 * terminated). The main process outlives its children (its end ends the
 * program), so there `isAlive()` stays true and `join()` waits out its
 * timeout.
 *
 * @returns The parent's name and pid, `isAlive()` and `join(timeout)`.
 *
 * @example The main process has no parent
 * ```ts
 * import { parentProcess } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parentProcess(), null);
 * ```
 */
export function parentProcess(): ParentProcessInfo | null {
  const s = state();
  const parent = s.parent;
  if (parent === null) return null;
  const control = s.parentControl;
  const ended = () =>
    control !== null && Atomics.load(control, kChildEnded) !== 0;
  return Object.freeze({
    ...parent,
    daemon: false,
    isAlive: () => !ended(),
    async join(timeout?: number | null): Promise<void> {
      checkTimeout(timeout, "join parent process", { nullable: true });
      if (control === null) {
        await within(new Promise<never>(() => {}), timeout ?? undefined);
      } else {
        await waitAsync(
          control,
          kChildEnded,
          0,
          deadlineOf(timeout ?? undefined),
        );
      }
    },
  });
}

/**
 * The children of the current process that are still running.
 *
 * @returns The live children.
 *
 * @example A child is listed while it runs, and not after join()
 * ```ts
 * import { activeChildren, Process } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const p = new Process({
 *   target: new URL("../../tests/fixtures/targets.ts#noop", import.meta.url),
 * });
 * p.start();
 * assert.deepEqual(activeChildren(), [p]);
 * await p.join();
 * assert.deepEqual(activeChildren(), []);
 * ```
 */
export function activeChildren(): Process[] {
  return [...state().children].filter((p) => p.isAlive()) as Process[];
}

/**
 * The number of CPUs this program may use (`navigator.hardwareConcurrency`,
 * which honours CPU affinity; no permission needed).
 *
 * @returns The CPU count, at least 1.
 *
 * @example A positive integer, the runtime's own count
 * ```ts
 * import { cpuCount } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Number.isInteger(cpuCount()) && cpuCount() >= 1);
 * ```
 */
export function cpuCount(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * Ends the current process with `code` (CPython's `sys.exit` inside a child).
 * In a child only that child ends and its parent sees `exitCode === code`;
 * in the main thread this is `Deno.exit(code)`.
 *
 * @param code The exit code.
 * @returns Never: the process ends.
 * @throws {TypeError} When `code` is not an integer.
 *
 * @example A child's exit code is what it passed to exit()
 * ```ts
 * import { Process } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * // exitWith(code) in the fixture calls exit(code).
 * const p = new Process({
 *   target: new URL("../../tests/fixtures/targets.ts#exitWith", import.meta.url),
 *   args: [3],
 * });
 * p.start();
 * assert.equal(await p.join(), 3);
 * ```
 */
export function exit(code = 0): never {
  if (!Number.isInteger(code)) {
    throw new TypeError(
      `Cannot exit as 'code' must be an integer: current value is ${code}`,
    );
  }
  return Deno.exit(code);
}
