// The running child of one Process (CPython's `Process._popen`): it starts
// the child through the handshake, learns how it ended, and stops it. The
// Process object keeps the options and the public surface.
//
// Tier 5 (process), with src/process.ts.

import {
  importsOwnModules,
  type WorkerPermissions,
} from "../_core/permissions.ts";
import { holdLoop, releaseLoop } from "../_memory/atomics.ts";
import { within } from "../_core/time.ts";
import type { RunMessage, TargetRef } from "../_wire/protocol.ts";
import { explainRefusal } from "../_wire/error_codec.ts";
import { refModules } from "../_core/target.ts";
import { reduce, reviverModule } from "../reduction.ts";
import { type ChildHandle, state } from "../_core/state.ts";
import { type Child, type ChildExit, startChild } from "../_child/handshake.ts";
import {
  chosenStartMethod,
  type ResourceLimits,
  startMethodOf,
  startStrategy,
} from "../_child/start_method.ts";

const entry = new URL("./child_main.ts", import.meta.url).href;
// The entry's ownProcessModule: a child that cannot import it later gets it
// with its target's modules.
const ownProcess = new URL("./own_process.ts", import.meta.url).href;

/** What a Process hands to its child. */
export interface PopenOptions {
  name: string;
  identity: number[];
  daemon: boolean;
  /** Absent for a Process that runs nothing. */
  ref: TargetRef | undefined;
  /**
   * The Process itself: listed among the live children until it ends, and
   * its own fields are sent for a subclass's `run()`.
   */
  self: ChildHandle;
  args: unknown[];
  permissions: WorkerPermissions | undefined;
  resourceLimits: ResourceLimits | undefined;
  signal: AbortSignal | undefined;
}

/** One started child and how it ended. */
export class Popen {
  /** The child's pid. */
  readonly pid: number;
  /** The exit code once the child has ended, else null. */
  exitCode: number | null = null;
  #child: Child;
  #exited = Promise.withResolvers<number>();
  #options: PopenOptions;
  #onAbort: (() => void) | undefined;

  /**
   * Starts the child.
   *
   * @throws {TypeError} When an argument cannot be structured-cloned.
   * @throws {Deno.errors.NotCapable} When the child may not be created.
   */
  constructor(options: PopenOptions) {
    this.#options = options;
    const { ref } = options;
    const tags = new Set<string>();
    const fields = ref?.kind === "class"
      ? reduce({ ...options.self }, "this", "start process", tags)
      : {};
    const args = reduce(options.args, "args", "start process", tags);
    // A Context's Process class carries its start method.
    const method = startMethodOf(options.self.constructor) ??
      chosenStartMethod();
    // An OS process child cannot be sent shared memory: its strategy says.
    const strategy = startStrategy(method);
    strategy.checkSendable?.(fields, "this", "start process");
    strategy.checkSendable?.(args, "args", "start process");
    // The child imports its target's module and the modules that rebuild the
    // shared objects it receives, statically (see _child/spawn.ts), so that
    // even a child without permissions can load them; nothing else. A Web
    // Worker that may import modules itself gets the reference's own module
    // alone, and imports another candidate only if that one misses.
    const importsItself = method !== "subprocess" &&
      importsOwnModules(options.permissions);
    const modules = ref === undefined ? [] : refModules(ref, importsItself);
    if (!importsItself) modules.push(ownProcess);
    for (const tag of tags) {
      const module = reviverModule(tag);
      if (module !== undefined) modules.push(module);
    }
    try {
      this.#child = startChild<RunMessage>({
        what: "start process",
        name: options.name,
        identity: options.identity,
        daemon: options.daemon,
        entry,
        modules,
        permissions: options.permissions,
        resourceLimits: options.resourceLimits,
        method,
        message: {
          t: "run",
          target: ref,
          fields: fields as Record<string, unknown>,
          args: args as unknown[],
        },
        onExit: (exit) => this.#onExit(exit),
      });
    } catch (error) {
      if (!(error instanceof DOMException)) throw error;
      throw new TypeError(
        `Cannot start process as 'args' must be structured-cloneable: ${error.message}`,
        { cause: error },
      );
    }
    this.pid = this.#child.pid;
    if (options.daemon) this.#child.ref(false);
    state().children.add(options.self);
    if (options.signal !== undefined) {
      this.#onAbort = () => this.stop(-15);
      options.signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  #onExit({ code, error, reported }: ChildExit): void {
    if (!reported) {
      // Only errors the child's bootstrap could not catch arrive unreported,
      // such as a module that fails to load. Print them as CPython would.
      console.error(`Process ${this.#options.name}:\n${error?.message}`);
      this.#child.terminate();
    } else if (error !== undefined && explainRefusal(error) !== error) {
      // The child printed Deno's advice to run again with a flag that this
      // program has: say what refused it, and how to grant it.
      const { message } = explainRefusal(error);
      console.error(`Process ${this.#options.name}: ${message}`);
    }
    this.#settle(code);
  }

  #settle(code: number): void {
    if (this.exitCode !== null) return;
    this.exitCode = code;
    if (this.#onAbort !== undefined) {
      this.#options.signal?.removeEventListener("abort", this.#onAbort);
    }
    state().children.delete(this.#options.self);
    this.#exited.resolve(code);
  }

  /** The exit code, or null when `timeout` seconds passed first. */
  async wait(timeout: number | undefined): Promise<number | null> {
    const ended = this.#child.ended;
    if (this.exitCode !== null && ended === undefined) return this.exitCode;
    // A daemonic child does not keep the loop alive, but waiting for it must.
    holdLoop();
    try {
      const code = (await within(this.#exited.promise, timeout))?.value;
      // An OS process child is reported ended before it is gone.
      if (code !== undefined) await ended;
      return code ?? null;
    } finally {
      releaseLoop();
    }
  }

  /** Ends the child now; `code` becomes its exit code. */
  stop(code: number): void {
    if (this.exitCode !== null) return;
    // A child blocked in one of our …Sync waits sees the stop flag and ends.
    // A child spinning in its own synchronous code cannot be interrupted by
    // Deno: its thread runs on until it yields, but it no longer keeps the
    // program alive and is reported ended.
    this.#child.stop(code === -9 ? "SIGKILL" : "SIGTERM");
    this.#settle(code);
  }
}
