/**
 * `Process`: run an exported function in another "process".
 *
 * A process here is a Web Worker: its own V8 isolate, heap and event loop on
 * its own OS thread, inside the one OS process that Deno runs. It starts like
 * CPython's "spawn": the child imports the target's module afresh, so code at
 * the top level of that module runs again in the child, and starting a
 * process there must be guarded with `if (import.meta.main)`.
 *
 * ```
 *  parent                                      child (Web Worker)
 *  new Process({target, args})
 *  start() ── startChild(): the start method ─▶  _child/bootstrap.ts (marks child)
 *          ── {t:"run", identity, target, args} ▶ adoptIdentity(), loadTarget()
 *                                              run() → target(...args)
 *  join()  ◀── {t:"exit", code, error?} ──────  finish(code); close()
 * ```
 *
 * Tier 5 (process): below the pool (T6) and context (T7); it starts
 * children only through the handshake of src/_child/ (T4).
 *
 * @module
 */

import { ProcessError } from "./errors.ts";
import type { WorkerPermissions } from "./_core/permissions.ts";
import type { RunMessage } from "./_wire/protocol.ts";
import { reduce, reviverModule } from "./reduction.ts";
import { holdLoop, releaseLoop } from "./_memory/atomics.ts";
import { checkTimeout } from "./_core/validate.ts";
import { within } from "./_core/time.ts";
import { type Child, type ChildExit, startChild } from "./_child/handshake.ts";
import { assertNotBootstrapping } from "./_child/guard.ts";
import { state } from "./_core/state.ts";
import type { Target, TargetRef } from "./_core/target.ts";
import {
  checkProcessOptions,
  kProcessClass,
  type ProcessOptions,
} from "./_process/options.ts";

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
// Pool and executor check the guard through this module (compatibility).
export { assertNotBootstrapping } from "./_child/guard.ts";

export type { ProcessOptions } from "./_process/options.ts";

const entry = new URL("./_process/child_main.ts", import.meta.url).href;

// Set in Process's static block: lets the child bootstrap adopt an instance
// (fix its pid) without exposing a public setter.
let adopt: (
  process: Process,
  pid: number,
  target?: (...args: unknown[]) => unknown,
) => void;

/**
 * A unit of work in its own worker, with CPython's `Process` surface.
 *
 * @example Run an exported function in a child and wait for it
 * ```ts
 * import { Process } from "@dmp/multiprocessing";
 *
 * const p = new Process({
 *   target: new URL("../examples/001_process_based_parallelism/single_process.ts#sayHello", import.meta.url),
 *   args: ["Edward"],
 * });
 * p.start();
 * console.log(await p.join()); // 0 (after "Hello from Edward!")
 * ```
 */
export class Process {
  /** Marks this class (and subclasses) as the library's Process. */
  static readonly [kProcessClass] = true;
  #target: Target | undefined;
  #ref: TargetRef | undefined;
  #args: unknown[];
  #name: string;
  #identity: number[];
  #daemon: boolean;
  #permissions: WorkerPermissions | undefined;
  #signal: AbortSignal | undefined;
  #pid: number | null = null;
  #exitCode: number | null = null;
  #started = false;
  #closed = false;
  #child: Child | undefined;
  #exited = Promise.withResolvers<number>();
  #onAbort: (() => void) | undefined;

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
   * @throws {TypeError} For a target that cannot travel, or bad options.
   */
  constructor(options: ProcessOptions = {}) {
    const overridesRun = new.target !== Process &&
      new.target.prototype.run !== Process.prototype.run;
    const { target, args, ref, permissions } = checkProcessOptions(
      options,
      overridesRun ? new.target : undefined,
    );
    const { name, daemon, signal } = options;
    const s = state();
    this.#ref = ref;
    this.#target = target;
    this.#args = args;
    this.#permissions = permissions;
    this.#daemon = daemon ?? s.daemon;
    this.#signal = signal;
    this.#identity = [...s.identity, ++s.childCounter];
    this.#name = name ?? `Process-${this.#identity.join(":")}`;
  }

  /** The process name, used in error reports. */
  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    this.#name = String(value);
  }

  /** Whether the process is daemonic (can be set until start()). */
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

  /** A number unique within the OS process, set by start(); null before. */
  get pid(): number | null {
    return this.#pid;
  }

  /**
   * 0 after a normal return, 1 after an uncaught error, n after `exit(n)`,
   * -15 after terminate(), -9 after kill(); null while running or unstarted.
   */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /**
   * What the child runs. Calls the target with the args; override it in an
   * exported subclass to run your own code instead.
   *
   * @returns Whatever the target returns (ignored, as in CPython).
   */
  run(): unknown {
    const target = this.#target;
    if (typeof target === "function") {
      return Reflect.apply(target, undefined, this.#args);
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
   */
  start(): void {
    this.#assertOpen("start process");
    if (this.#started) {
      throw new ProcessError(
        "Cannot start process as it has already been started",
      );
    }
    assertNotBootstrapping();
    const s = state();
    if (s.isChild && s.daemon) {
      throw new ProcessError(
        "Cannot start process as daemonic processes are not allowed to have children",
      );
    }
    this.#signal?.throwIfAborted();
    const tags = new Set<string>();
    const fields = this.#ref?.kind === "class"
      ? reduce({ ...this }, "this", "start process", tags) as Record<
        string,
        unknown
      >
      : {};
    const args = reduce(this.#args, "args", "start process", tags) as unknown[];
    // The child imports its target's module and the modules that rebuild the
    // shared objects it receives, statically (see _child/spawn.ts), so that
    // even a child without permissions can load them; nothing else.
    const modules = this.#ref === undefined ? [] : [this.#ref.url];
    for (const tag of tags) {
      const module = reviverModule(tag);
      if (module !== undefined && !modules.includes(module)) {
        modules.push(module);
      }
    }
    let child: Child;
    try {
      child = startChild<RunMessage>({
        what: "start process",
        name: this.#name,
        identity: this.#identity,
        daemon: this.#daemon,
        entry,
        modules,
        permissions: this.#permissions,
        message: { t: "run", target: this.#ref, fields, args },
        onExit: (exit) => this.#onExit(exit),
      });
    } catch (error) {
      if (!(error instanceof DOMException)) throw error;
      throw new TypeError(
        `Cannot start process as 'args' must be structured-cloneable: ${error.message}`,
        { cause: error },
      );
    }
    this.#child = child;
    this.#pid = child.pid;
    this.#started = true;
    if (this.#daemon) child.ref(false);
    s.children.add(this);
    if (this.#signal !== undefined) {
      this.#onAbort = () => this.terminate();
      this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  #onExit({ code, error, reported }: ChildExit): void {
    if (!reported) {
      // Only errors the child's bootstrap could not catch arrive unreported,
      // such as a module that fails to load. Print them as CPython would.
      console.error(`Process ${this.#name}:\n${error?.message}`);
      this.#child?.terminate();
    }
    this.#settle(code);
  }

  #settle(code: number): void {
    if (this.#exitCode !== null) return;
    this.#exitCode = code;
    state().children.delete(this);
    if (this.#onAbort !== undefined) {
      this.#signal?.removeEventListener("abort", this.#onAbort);
    }
    this.#exited.resolve(code);
  }

  /**
   * Waits until the process ends.
   *
   * @param timeout Seconds to wait at most; `undefined` waits forever.
   * @returns The exit code, or `null` when the timeout passed first.
   * @throws {ProcessError} When the process was never started, or is closed.
   */
  async join(timeout?: number): Promise<number | null> {
    this.#assertOpen("join process");
    checkTimeout(timeout, "join process");
    if (!this.#started) {
      throw new ProcessError("Cannot join process as it has not been started");
    }
    if (this.#exitCode !== null) return this.#exitCode;
    if (this.#child === undefined) {
      throw new ProcessError(
        "Cannot join process as a process cannot join itself",
      );
    }
    // A daemonic child does not keep the loop alive, but waiting for it must.
    holdLoop();
    try {
      return (await within(this.#exited.promise, timeout))?.value ?? null;
    } finally {
      releaseLoop();
    }
  }

  /**
   * Whether the process has started and not yet ended.
   *
   * @returns `true` while running.
   */
  isAlive(): boolean {
    this.#assertOpen("check process");
    return this.#started && this.#exitCode === null;
  }

  #stop(code: number): void {
    this.#assertOpen("stop process");
    const child = this.#child;
    if (child === undefined || this.#exitCode !== null) return;
    // A child blocked in one of our …Sync waits sees the stop flag and ends.
    // A child spinning in its own synchronous code cannot be interrupted by
    // Deno: its thread runs on until it yields, but it no longer keeps the
    // program alive and is reported ended.
    child.stop();
    this.#settle(code);
  }

  /** Ends the child now; its exit code becomes -15 (SIGTERM). */
  terminate(): void {
    this.#stop(-15);
  }

  /** Ends the child now; its exit code becomes -9 (SIGKILL). */
  kill(): void {
    this.#stop(-9);
  }

  /**
   * Releases the process object. Most methods throw afterwards.
   *
   * @throws {ProcessError} While the process is still running.
   */
  close(): void {
    if (this.#started && this.#exitCode === null) {
      throw new ProcessError(
        "Cannot close process as it is still running: join() or terminate() it first",
      );
    }
    this.#child = undefined;
    this.#closed = true;
  }
}

/** Child side: makes `process` this thread's current process. */
export function adoptProcess(
  process: Process,
  pid: number,
  target?: (...args: unknown[]) => unknown,
): void {
  adopt(process, pid, target);
}
