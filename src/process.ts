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
 *  parent                                   child (Web Worker)
 *  new Process({target, args})
 *  start() ── spawnWorker(data: entry) ──▶  _bootstrap (marks child)
 *          ── {t:"run", target, args} ──▶   import target module, check export
 *                                           run() → target(...args)
 *  join()  ◀── {t:"exit", code, error?} ──  finish(code); close()
 * ```
 *
 * @module
 */

import { ProcessError } from "./errors.ts";
import {
  checkPermissions,
  type WorkerPermissions,
} from "./_core/permissions.ts";
import type { ExitMessage, RunMessage } from "./_wire/protocol.ts";
import { reduce, reviverModule } from "./reduction.ts";
import { holdLoop, releaseLoop } from "./_memory/atomics.ts";
import { checkArray, checkSignal, checkTimeout } from "./_core/validate.ts";
import { within } from "./_core/time.ts";
import { setRef, spawnWorker } from "./_child/spawn.ts";
import { kControlSlots, kControlStop, nextPid, state } from "./_core/state.ts";
import {
  callerUrl,
  type Target,
  type TargetRef,
  targetRef,
} from "./_core/target.ts";

export type { Target } from "./_core/target.ts";
export type {
  PermissionValue,
  WorkerPermissions,
} from "./_core/permissions.ts";

/** Options of {@linkcode Process}. */
export interface ProcessOptions {
  /**
   * The function to run: an exported function (found by its module and
   * name), or `"./module.ts#exportName"` / a URL with a hash. Without a
   * target, `run()` does nothing (override it in an exported subclass).
   */
  target?: Target;
  /**
   * Arguments for the target. They are structured-cloned; shared objects
   * (Lock, Queue, Value, …) arrive as the same object.
   *
   * @default {[]}
   */
  args?: unknown[];
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
   * `"worker-options"` in the `unstable` list of deno.json).
   *
   * @default {"inherit"}
   */
  permissions?: WorkerPermissions;
  /** Aborting it terminates the process. */
  signal?: AbortSignal;
}

/** What {@linkcode currentProcess} and {@linkcode parentProcess} return. */
export interface ProcessInfo {
  /** The process name ("MainProcess" for the main thread). */
  readonly name: string;
  /** Unique within the OS process; the main thread's is `Deno.pid`. */
  readonly pid: number | null;
  /** Whether the process is daemonic. */
  readonly daemon: boolean;
}

const bootstrapMessage =
  `An attempt has been made to start a new process before the current process has finished its bootstrapping phase.

This probably means that your module starts processes at import time. A child
process imports the module of its target again, so code at the top level runs
once more in every child. Use the proper idiom in the main module:

    if (import.meta.main) {
      const p = new Process({ target: work });
      p.start();
      await p.join();
    }

No process was started.`;

/** Throws the bootstrapping error while a child is importing its target. */
export function assertNotBootstrapping(): void {
  if (state().bootstrapping) throw new ProcessError(bootstrapMessage);
}

const kProcessClass = Symbol.for("@dmp/multiprocessing.Process");
const entry = new URL("./_child/worker_main.ts", import.meta.url).href;

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
  #worker: Worker | undefined;
  #exited = Promise.withResolvers<number>();
  #control: Int32Array | undefined;
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
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot create process as 'options' must be an object: current value is ${
          Deno.inspect(options)
        }`,
      );
    }
    const { target, args = [], name, daemon, permissions, signal } = options;
    checkArray(args, "args", "create process");
    if (name !== undefined && typeof name !== "string") {
      throw new TypeError(
        `Cannot create process as 'name' must be a string: current value is ${
          Deno.inspect(name)
        }`,
      );
    }
    checkSignal(signal, "create process");
    const s = state();
    const caller = callerUrl();
    const overridesRun = new.target !== Process &&
      new.target.prototype.run !== Process.prototype.run;
    if (overridesRun) {
      const source = Function.prototype.toString.call(new.target);
      const url = caller?.replace(/#.*$/, "");
      if (url === undefined || !new.target.name) {
        throw new TypeError(
          "Cannot create process as a Process subclass must be a named, exported class",
        );
      }
      this.#ref = { url, name: new.target.name, source, kind: "class" };
    } else if (target !== undefined) {
      this.#ref = targetRef(target, caller, "create process");
    }
    this.#target = target;
    this.#args = args;
    this.#permissions = checkPermissions(permissions, "create process");
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
    const control = new Int32Array(new SharedArrayBuffer(4 * kControlSlots));
    // The child imports its target's module and the modules that rebuild the
    // shared objects it receives, statically (see _spawn.ts); nothing else.
    const modules = this.#ref === undefined ? [] : [this.#ref.url];
    for (const tag of tags) {
      const module = reviverModule(tag);
      if (module !== undefined && !modules.includes(module)) {
        modules.push(module);
      }
    }
    const worker = spawnWorker({
      name: this.#name,
      entry,
      modules,
      permissions: this.#permissions,
    });
    const pid = nextPid();
    const message: RunMessage = {
      t: "run",
      target: this.#ref ?? { url: "", name: "", kind: "function" },
      fields,
      args,
      name: this.#name,
      pid,
      identity: this.#identity,
      daemon: this.#daemon,
      parent: { name: s.name, pid: s.pid },
      pidCounter: s.pidCounter.buffer as SharedArrayBuffer,
      control: control.buffer as SharedArrayBuffer,
      shared: s.shared,
    };
    try {
      worker.postMessage(message);
    } catch (error) {
      worker.terminate();
      throw new TypeError(
        `Cannot start process as 'args' must be structured-cloneable: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    worker.onmessage = (event: MessageEvent<ExitMessage>) => {
      if (event.data?.t === "exit") this.#settle(event.data.code);
    };
    worker.onerror = (event) => {
      // Only errors our bootstrap could not catch arrive here, such as a
      // module that fails to load. Report them as CPython would.
      event.preventDefault();
      if (this.#exitCode !== null) return;
      console.error(`Process ${this.#name}:\n${event.message}`);
      this.#settle(1);
      worker.terminate();
    };
    this.#worker = worker;
    this.#control = control;
    this.#pid = pid;
    this.#started = true;
    if (this.#daemon) setRef(worker, false);
    s.children.add(this);
    if (this.#signal !== undefined) {
      this.#onAbort = () => this.terminate();
      this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    }
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
    if (this.#worker === undefined) {
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
    const worker = this.#worker;
    if (worker === undefined || this.#exitCode !== null) return;
    // Waits inside the child poll this flag, so a child blocked in one of
    // our …Sync calls ends too. A child spinning in its own synchronous code
    // cannot be interrupted by Deno: its thread runs on until it yields, but
    // it no longer keeps the program alive (unref) and is reported ended.
    Atomics.store(this.#control!, kControlStop, 1);
    Atomics.notify(this.#control!, kControlStop);
    setRef(worker, false);
    worker.terminate();
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
    this.#worker = undefined;
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

/**
 * Child side: builds the Process object a child runs, without calling a
 * subclass's constructor (CPython unpickles it the same way).
 */
export function buildProcess(
  cls: new (...args: never[]) => Process,
  options: ProcessOptions,
  fields: Record<string, unknown>,
): Process {
  let base: unknown = cls;
  while (typeof base === "function" && !(kProcessClass in base)) {
    base = Object.getPrototypeOf(base);
  }
  const process = Reflect.construct(
    (base ?? Process) as typeof Process,
    [options],
    cls,
  ) as Process;
  return Object.assign(process, fields);
}

const mainProcess: ProcessInfo = Object.freeze({
  get name() {
    return state().name;
  },
  get pid() {
    return state().pid;
  },
  daemon: false,
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
 * @example
 * ```ts
 * import { currentProcess } from "@dmp/multiprocessing";
 *
 * console.log(currentProcess().name); // "MainProcess"
 * ```
 */
export function currentProcess(): ProcessInfo {
  return current ?? mainProcess;
}

/**
 * The parent of the current process, or `null` in the main process.
 *
 * @returns The parent's name and pid.
 *
 * @example
 * ```ts
 * import { parentProcess } from "@dmp/multiprocessing";
 *
 * console.log(parentProcess()); // null
 * ```
 */
export function parentProcess(): ProcessInfo | null {
  const parent = state().parent;
  return parent === null ? null : Object.freeze({ ...parent, daemon: false });
}

/**
 * The children of the current process that are still running.
 *
 * @returns The live children.
 *
 * @example
 * ```ts
 * import { activeChildren } from "@dmp/multiprocessing";
 *
 * console.log(activeChildren().length); // 0
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
 * @example
 * ```ts
 * import { cpuCount } from "@dmp/multiprocessing";
 *
 * console.log(cpuCount() >= 1); // true
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
 * @throws {TypeError} When `code` is not an integer.
 *
 * @example
 * ```ts ignore
 * import { exit } from "@dmp/multiprocessing";
 *
 * export function work(): void {
 *   exit(3); // the parent's p.exitCode becomes 3
 * }
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
