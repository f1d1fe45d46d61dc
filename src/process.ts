/**
 * `Process`: run an exported function in another "process".
 *
 * A process here is a Web Worker: its own V8 isolate, heap and event loop on
 * its own OS thread, inside the one OS process that Deno runs. It starts like
 * CPython's "spawn": the child imports the target's module afresh, so code at
 * the top level of that module runs again in the child, and starting a
 * process there must be guarded with `if (import.meta.main)`.
 *
 * Tier 5. A started child is a Popen (src/_process/popen.ts), started
 * through the one handshake (src/_child/handshake.ts).
 *
 * @module
 */

import { ProcessError } from "./errors.ts";
import { checkTimeout } from "./_core/validate.ts";
import { assertMayStart } from "./_child/guard.ts";
import type { Target } from "./_core/target.ts";
import {
  type CheckedOptions,
  checkProcessOptions,
  kProcessClass,
  type ProcessOptions,
} from "./_process/options.ts";
import { Popen } from "./_process/popen.ts";

export type { Target } from "./_core/target.ts";
export type {
  PermissionValue,
  WorkerPermissions,
} from "./_core/permissions.ts";
export {
  activeChildren,
  cpuCount,
  currentProcess,
  exit,
  parentProcess,
  type ProcessInfo,
} from "./_process/current.ts";

export type { ProcessOptions, ProcessSettings } from "./_process/options.ts";

// Set in Process's static block: lets a child adopt its Process object.
type Fn = (...args: unknown[]) => unknown;
let adopt: (process: Process, pid: number, target?: Fn) => void;

/**
 * A unit of work in its own worker, with CPython's `Process` surface.
 *
 * @example Run an exported function in a child and wait for it
 * ```ts
 * import { Process } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 * const p = new Process({ target: new URL("../examples/001_process_based_parallelism/single_process.ts#sayHello", import.meta.url), args: ["Edward"] });
 * p.start(); // the child prints "Hello from Edward!"
 * assert.equal(await p.join(), 0);
 * ```
 */
export class Process<F extends Target = Target> {
  /** @ignore Marks this class (and subclasses) as the library's Process. */
  static readonly [kProcessClass] = true;
  #options: CheckedOptions;
  #target: Target | undefined;
  #name: string;
  #daemon: boolean;
  #pid: number | null = null;
  #started = false;
  #closed = false;
  #popen: Popen | undefined;

  static {
    adopt = (process, pid, target) => {
      process.#pid = pid;
      process.#started = true;
      if (target !== undefined) process.#target = target;
    };
  }

  /**
   * Creates a process object; nothing runs until {@linkcode Process.start}.
   *
   * @param options What to run and how.
   * @throws {TypeError} For a target that cannot travel (a closure, a
   * method, an anonymous function), an unknown option or a wrong type.
   * @throws {RangeError} For malformed permissions.
   *
   * @example Nothing runs before start()
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#noop", import.meta.url), name: "idle" });
   * assert.equal(p.name, "idle");
   * assert.throws(() => new Process({ target: () => 1 }), TypeError);
   * ```
   */
  constructor(options: ProcessOptions<F> = {} as ProcessOptions<F>) {
    this.#options = checkProcessOptions(options, new.target, Process);
    ({ target: this.#target, name: this.#name, daemon: this.#daemon } =
      this.#options);
  }

  /**
   * The process name, used in error reports.
   *
   * @example Names default to "Process-N" and can be changed
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process();
   * assert.match(p.name, /^Process-\d+$/);
   * p.name = "worker";
   * assert.equal(p.name, "worker");
   * ```
   */
  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    this.#name = String(value);
  }

  /**
   * Whether the process is daemonic (can be set until start()).
   *
   * @throws {ProcessError} When set after start().
   *
   * @example Daemonic children do not keep the program alive
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process();
   * assert.equal(p.daemon, false);
   * p.daemon = true;
   * assert.equal(p.daemon, true);
   * ```
   */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(value: boolean) {
    if (this.#started) {
      throw new ProcessError(
        "Cannot set 'daemon' as the process has already been started",
      );
    }
    this.#daemon = Boolean(value);
  }

  /**
   * A number unique within the OS process, set by start(); null before.
   *
   * @throws {ProcessError} When the process object is closed.
   *
   * @example A pid is drawn at start()
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#noop", import.meta.url) });
   * assert.equal(p.pid, null);
   * p.start();
   * assert.ok(Number.isInteger(p.pid) && p.pid !== Deno.pid);
   * await p.join();
   * ```
   */
  get pid(): number | null {
    this.#assertOpen("read 'pid'");
    return this.#pid;
  }

  /**
   * 0 after a normal return, 1 after an uncaught error, n after `exit(n)`,
   * -15 after terminate(), -9 after kill(); null while running or unstarted.
   *
   * @throws {ProcessError} When the process object is closed.
   *
   * @example The code a child passed to exit()
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#exitWith", import.meta.url), args: [3] });
   * assert.equal(p.exitCode, null);
   * p.start();
   * await p.join();
   * assert.equal(p.exitCode, 3);
   * ```
   */
  get exitCode(): number | null {
    this.#assertOpen("read 'exitCode'");
    return this.#popen?.exitCode ?? null;
  }

  /**
   * What the child runs. Calls the target with the args; override it in an
   * exported subclass to run your own code instead.
   *
   * @returns Whatever the target returns (ignored, as in CPython).
   * @throws {Error} Whatever the target throws (in a child: exit code 1).
   *
   * @example run() calls the target here, in this thread
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const cell = new Int32Array(new SharedArrayBuffer(4));
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#writeCell", import.meta.url), args: [cell, 5] });
   * p.run(); // a URL target runs only in a child
   * assert.equal(cell[0], 0);
   * ```
   */
  run(): unknown {
    const target = this.#target;
    if (typeof target === "function") {
      return Reflect.apply(target, undefined, this.#options.args);
    }
    return undefined;
  }

  #assertOpen(what: string): void {
    if (this.#closed) {
      throw new ProcessError(`Cannot ${what} as the process object is closed`);
    }
  }

  /**
   * Starts the child. Failures inside the child (a missing export, an error
   * thrown by the target) do not throw here: they end the child with exit
   * code 1 and are printed to stderr, as in CPython.
   *
   * @throws {ProcessError} When started twice, closed, from a daemonic
   * process, or while this module is being imported by a child (the missing
   * `if (import.meta.main)` guard).
   * @throws {TypeError} When an argument cannot be structured-cloned.
   * @throws {Deno.errors.NotCapable} When this program may not read the
   * child's modules, or `permissions` exceed its own.
   * @throws {DOMException} When `signal` is already aborted (its reason).
   *
   * @example A child writes into shared memory
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const cell = new Int32Array(new SharedArrayBuffer(4));
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#writeCell", import.meta.url), args: [cell, 7] });
   * p.start();
   * await p.join();
   * assert.equal(cell[0], 7);
   * ```
   */
  start(): void {
    this.#assertOpen("start process");
    if (this.#started) {
      throw new ProcessError(
        "Cannot start process as it has already been started",
      );
    }
    assertMayStart();
    this.#options.signal?.throwIfAborted();
    this.#popen = new Popen({
      ...this.#options,
      name: this.#name,
      daemon: this.#daemon,
      self: this,
    });
    this.#pid = this.#popen.pid;
    this.#started = true;
  }

  /**
   * Waits until the process ends.
   *
   * @param timeout Seconds at most (negative: no wait); `undefined` waits forever.
   * @returns The exit code, or `null` when the timeout passed first.
   * @throws {ProcessError} When the process was never started, or is closed.
   * @throws {TypeError} (rejects) When `timeout` is not a number.
   *
   * @example The exit code, or null after a timeout
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const started = new Int32Array(new SharedArrayBuffer(4));
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#waitForever", import.meta.url), args: [started] });
   * p.start();
   * assert.equal(await p.join(0.01), null);
   * p.terminate();
   * assert.equal(await p.join(), -15);
   * ```
   */
  async join(timeout?: number): Promise<number | null> {
    this.#assertOpen("join process");
    checkTimeout(timeout, "join process");
    if (!this.#started) {
      throw new ProcessError("Cannot join process as it has not been started");
    }
    if (this.#popen === undefined) {
      throw new ProcessError(
        "Cannot join process as a process cannot join itself",
      );
    }
    return await this.#popen.wait(timeout);
  }

  /**
   * Whether the process has started and not yet ended.
   *
   * @returns `true` while running.
   * @throws {ProcessError} When the process object is closed.
   *
   * @example Alive between start() and its end
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#noop", import.meta.url) });
   * assert.equal(p.isAlive(), false);
   * p.start();
   * assert.equal(p.isAlive(), true);
   * await p.join();
   * assert.equal(p.isAlive(), false);
   * ```
   */
  isAlive(): boolean {
    this.#assertOpen("check process");
    return this.#started && this.exitCode === null;
  }

  /**
   * Ends the child now; its exit code becomes -15 (SIGTERM).
   *
   * @throws {ProcessError} When the process object is closed.
   *
   * @example Stop a child that would run forever
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const started = new Int32Array(new SharedArrayBuffer(4));
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#waitForever", import.meta.url), args: [started] });
   * p.start();
   * await Atomics.waitAsync(started, 0, 0).value;
   * p.terminate();
   * assert.equal(await p.join(), -15);
   * ```
   */
  terminate(): void {
    this.#assertOpen("stop process");
    this.#popen?.stop(-15);
  }

  /**
   * Ends the child now; its exit code becomes -9 (SIGKILL).
   *
   * @throws {ProcessError} When the process object is closed.
   *
   * @example kill() reports -9
   * ```ts
   * import { Process } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#noop", import.meta.url) });
   * p.start();
   * p.kill();
   * assert.equal(await p.join(), -9);
   * ```
   */
  kill(): void {
    this.#assertOpen("stop process");
    this.#popen?.stop(-9);
  }

  /**
   * Releases the process object. Most methods throw afterwards.
   *
   * @throws {ProcessError} While the process is still running.
   *
   * @example Closed objects refuse further use
   * ```ts
   * import { Process, ProcessError } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   * const p = new Process({ target: new URL("../tests/fixtures/targets.ts#noop", import.meta.url) });
   * p.start();
   * await p.join();
   * p.close();
   * assert.throws(() => p.isAlive(), ProcessError);
   * ```
   */
  close(): void {
    if (this.#started && (this.#popen?.exitCode ?? null) === null) {
      throw new ProcessError(
        "Cannot close process as it is still running: join() or terminate() it first",
      );
    }
    this.#closed = true;
  }
}

/** Child side: makes `process` this thread's current process. */
export function adoptProcess(process: Process, pid: number, target?: Fn): void {
  adopt(process, pid, target);
}
