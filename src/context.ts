/**
 * Start methods and contexts (CPython's `multiprocessing.context`).
 *
 * Web Workers start like CPython's "spawn" (a fresh isolate that imports the
 * target's module). "forkserver" hands out fresh workers started ahead in
 * idle time, which makes starting a child nearly free. "fork" cannot exist
 * for isolates, and asking for it is a `TypeError` rather than a silent
 * substitute. The start method is a strategy behind one seam
 * (src/_child/start_method.ts): Process and the pool start every child
 * through it, and a context's Process, Pool and ProcessPoolExecutor are
 * subclasses that carry their method, as CPython's `SpawnProcess` does.
 *
 * Tier 7 (context): the top of the library; nothing below imports it.
 *
 * @module
 */

import { Barrier } from "./synchronize/barrier.ts";
import { Condition } from "./synchronize/condition.ts";
import { Pipe } from "./connection/pipe.ts";
import { Event } from "./synchronize/event.ts";
import { Lock } from "./synchronize/lock.ts";
import { Pool } from "./pool.ts";
import { ProcessPoolExecutor } from "./executor.ts";
import {
  activeChildren,
  cpuCount,
  currentProcess,
  parentProcess,
  Process,
} from "./process.ts";
import { JoinableQueue, Queue, SimpleQueue } from "./queues/mod.ts";
import { RLock } from "./synchronize/rlock.ts";
import { checkKnownKeys } from "./_core/known_keys.ts";
import { BoundedSemaphore, Semaphore } from "./synchronize/semaphore.ts";
import { RawArray, SharedArray } from "./sharedctypes/shared_array.ts";
import { SharedMemory } from "./shared_memory/shared_memory.ts";
import { RawValue, Value } from "./sharedctypes/value.ts";
import {
  chooseStartMethod,
  chosenStartMethod,
  isStartMethod,
  kStartMethod,
  type StartMethod,
  startMethods,
} from "./_child/start_method.ts";
import { configureForkserver } from "./_child/forkserver.ts";
// Every start method is chosen here (setStartMethod, getContext): loading
// the strategies here registers them, and keeps them out of the graph of a
// child that imports only Process (src/_child/start_method.ts).
import "./_child/subprocess.ts";
import { callerUrl } from "./_core/target.ts";
import { checkBoolean, checkPositiveInteger } from "./_core/validate.ts";

export type { ResourceLimits, StartMethod } from "./_child/start_method.ts";

function checkMethod(
  method: unknown,
  what: string,
): asserts method is StartMethod {
  if (isStartMethod(method)) return;
  const hint = method === "fork"
    ? ` ('fork' has no equivalent for Web Workers, which cannot copy a running isolate)`
    : "";
  throw new TypeError(
    `Cannot ${what} as 'method' must be one of ${
      startMethods().map((m) => `"${m}"`).join(", ")
    }${hint}: current value is ${Deno.inspect(method)}`,
  );
}

/** The classes whose children a context starts with its own method. */
interface Starters {
  Process: typeof Process;
  Pool: typeof Pool;
  ProcessPoolExecutor: typeof ProcessPoolExecutor;
}

const starters = new Map<StartMethod, Starters>();

// CPython's SpawnProcess / ForkServerProcess: subclasses that carry their
// start method, made once per method so that a context's classes are the
// same objects every time.
function startersOf(method: StartMethod): Starters {
  let found = starters.get(method);
  if (found === undefined) {
    const prefix = {
      spawn: "Spawn",
      forkserver: "ForkServer",
      subprocess: "Subprocess",
    }[method];
    const carry = <C extends abstract new (...args: never[]) => unknown>(
      base: C,
      name: string,
    ): C => {
      const cls =
        { [name]: class extends (base as unknown as typeof Pool) {} }[name];
      Object.defineProperty(cls, kStartMethod, { value: method });
      return cls as unknown as C;
    };
    found = {
      Process: carry(Process, `${prefix}Process`),
      Pool: carry(Pool, `${prefix}Pool`),
      ProcessPoolExecutor: carry(
        ProcessPoolExecutor,
        `${prefix}ProcessPoolExecutor`,
      ),
    };
    starters.set(method, found);
  }
  return found;
}

/**
 * A start-method context: the same factories as the module, bound to one
 * start method (CPython's `multiprocessing.get_context()` result). Classes
 * are used with `new`, as everywhere in this library: `new ctx.Queue()`.
 *
 * @example A context's factories are the module's
 * ```ts
 * import { getContext, Queue } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const ctx = getContext();
 * assert.equal(ctx.Queue, Queue);
 * const queue = new ctx.Queue<number>();
 * await queue.put(1);
 * assert.equal(await queue.get(), 1);
 * queue.close();
 * ```
 */
export class Context {
  /**
   * The `Process` class; for a context made for a method, a subclass whose
   * children start with that method.
   */
  readonly Process: typeof Process = Process;
  /** The `Pool` class (a subclass for a context made for a method). */
  readonly Pool: typeof Pool = Pool;
  /**
   * The `ProcessPoolExecutor` class (a subclass for a context made for a
   * method).
   */
  readonly ProcessPoolExecutor: typeof ProcessPoolExecutor =
    ProcessPoolExecutor;
  /** The `Queue` class. */
  readonly Queue: typeof Queue = Queue;
  /** The `SimpleQueue` class. */
  readonly SimpleQueue: typeof SimpleQueue = SimpleQueue;
  /** The `JoinableQueue` class. */
  readonly JoinableQueue: typeof JoinableQueue = JoinableQueue;
  /** The `Pipe` function. */
  readonly Pipe: typeof Pipe = Pipe;
  /** The `Lock` class. */
  readonly Lock: typeof Lock = Lock;
  /** The `RLock` class. */
  readonly RLock: typeof RLock = RLock;
  /** The `Semaphore` class. */
  readonly Semaphore: typeof Semaphore = Semaphore;
  /** The `BoundedSemaphore` class. */
  readonly BoundedSemaphore: typeof BoundedSemaphore = BoundedSemaphore;
  /** The `Condition` class. */
  readonly Condition: typeof Condition = Condition;
  /** The `Event` class. */
  readonly Event: typeof Event = Event;
  /** The `Barrier` class. */
  readonly Barrier: typeof Barrier = Barrier;
  /** The `Value` class. */
  readonly Value: typeof Value = Value;
  /** The `SharedArray` class (CPython's `Array`). */
  readonly SharedArray: typeof SharedArray = SharedArray;
  /** The `RawValue` function. */
  readonly RawValue: typeof RawValue = RawValue;
  /** The `RawArray` function. */
  readonly RawArray: typeof RawArray = RawArray;
  /** The `SharedMemory` class. */
  readonly SharedMemory: typeof SharedMemory = SharedMemory;
  /** The number of CPUs. */
  readonly cpuCount: typeof cpuCount = cpuCount;
  /** The current process. */
  readonly currentProcess: typeof currentProcess = currentProcess;
  /** The parent process. */
  readonly parentProcess: typeof parentProcess = parentProcess;
  /** The live children. */
  readonly activeChildren: typeof activeChildren = activeChildren;

  /**
   * Creates a context; use {@linkcode getContext}.
   *
   * @param method The start method.
   * @throws {TypeError} For a method this library does not offer.
   *
   * @example Contexts are made for a start method
   * ```ts
   * import { Context } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Context("spawn").method, "spawn");
   * assert.throws(() => new Context("fork" as never), TypeError);
   * ```
   */
  constructor(readonly method: StartMethod = "spawn") {
    checkMethod(method, "create context");
    Object.assign(this, startersOf(method));
  }

  /**
   * The start method of this context.
   *
   * @returns `"spawn"`.
   *
   * @example The method a context was made for
   * ```ts
   * import { getContext } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(getContext("spawn").getStartMethod(), "spawn");
   * ```
   */
  getStartMethod(): StartMethod {
    return this.method;
  }
}

/**
 * Returns a context for the start method (CPython's `get_context`).
 *
 * @param method `"spawn"`, `"forkserver"` or `"subprocess"` (children
 * that are `deno` OS processes); `undefined` means the one
 * {@linkcode getStartMethod} gives now.
 * @returns The context.
 * @throws {TypeError} For `"fork"` or any other value.
 *
 * @example A context for "forkserver", and none for "fork"
 * ```ts
 * import { getContext, Process } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const ctx = getContext("forkserver");
 * assert.equal(ctx.getStartMethod(), "forkserver");
 * const p = new ctx.Process(); // a Process whose child starts warm
 * assert.ok(p instanceof Process);
 * assert.throws(() => getContext("fork" as never), TypeError);
 * ```
 */
export function getContext(method?: StartMethod): Context {
  if (method !== undefined) checkMethod(method, "get context");
  return new Context(method ?? getStartMethod());
}

/**
 * The start method in use.
 *
 * @returns `"spawn"`.
 *
 * @example The default start method
 * ```ts
 * import { getStartMethod } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getStartMethod(), "spawn");
 * ```
 */
export function getStartMethod(): StartMethod {
  return chosenStartMethod() ?? "spawn";
}

/**
 * Sets the start method, once (CPython raises when it is set twice unless
 * `force` is given).
 *
 * @param method `"spawn"` (the default), `"forkserver"` or `"subprocess"`.
 * @param options `force: true` allows setting it again.
 * @throws {TypeError} For any other method.
 * @throws {Error} When already set and `force` is not true.
 *
 * @example Set once; a second time needs `force`
 * ```ts
 * import { getStartMethod, setStartMethod } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * setStartMethod("spawn", { force: true });
 * assert.equal(getStartMethod(), "spawn");
 * assert.throws(() => setStartMethod("spawn"), /already been set/);
 * ```
 */
export function setStartMethod(
  method: StartMethod,
  options: { force?: boolean } = {},
): void {
  checkMethod(method, "set start method");
  checkKnownKeys(options, ["force"], "set start method");
  checkBoolean(options.force, "force", "set start method");
  if (chosenStartMethod() !== undefined && !options.force) {
    throw new Error(
      "Cannot set start method as it has already been set: pass { force: true }",
    );
  }
  chooseStartMethod(method);
}

/**
 * All start methods this platform supports.
 *
 * @returns `["spawn", "forkserver", "subprocess"]`, the default first.
 *
 * @example Every method offered here
 * ```ts
 * import { getAllStartMethods } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(getAllStartMethods(), ["spawn", "forkserver", "subprocess"]);
 * ```
 */
export function getAllStartMethods(): StartMethod[] {
  return startMethods();
}

/** The most warm workers per CPU that setForkserverPreload() takes. */
const kMostWarmPerCpu = 4;

/** Options of {@linkcode setForkserverPreload}. */
export interface ForkserverOptions {
  /**
   * How many warm workers the forkserver keeps ready for each kind of child
   * and permission set: at most 4 × cpuCount().
   *
   * @default {cpuCount()}
   */
  warm?: number;
}

/**
 * Sets the modules that the forkserver's warm workers import before they
 * are needed (CPython's `set_forkserver_preload`). They always import the
 * program's main module and the modules of the first child of their kind;
 * preloading the modules of later targets saves their import at start.
 * Applies to warm workers started from now on.
 *
 * @param modules Module URLs or paths (relative ones resolve against the
 * calling module).
 * @param options `warm`: how many warm workers to keep per kind of child.
 * @throws {TypeError} When `modules` is not an array of strings and URLs,
 * or an option is unknown.
 * @throws {RangeError} When `warm` is not a positive integer, or more
 * than 4 × cpuCount().
 *
 * @example Preload a module of tasks, keep two warm workers
 * ```ts
 * import { getContext, setForkserverPreload } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * setForkserverPreload(["../tests/fixtures/targets.ts"], { warm: 2 });
 * const ctx = getContext("forkserver");
 * const target = new URL("../tests/fixtures/targets.ts#noop", import.meta.url);
 * const p = new ctx.Process({ target });
 * p.start();
 * assert.equal(await p.join(), 0);
 * ```
 */
export function setForkserverPreload(
  modules: (string | URL)[],
  options: ForkserverOptions = {},
): void {
  const what = "set forkserver preload";
  if (
    !Array.isArray(modules) ||
    !modules.every((m) => typeof m === "string" || m instanceof URL)
  ) {
    throw new TypeError(
      `Cannot ${what} as 'modules' must be an array of module URLs or paths: current value is ${
        Deno.inspect(modules)
      }`,
    );
  }
  checkKnownKeys(options, ["warm"], what);
  checkPositiveInteger(options.warm, "warm", what);
  // Warm workers are started ahead, each a thread with its own heap: more
  // than a busy pool would ever use is a slip, and would fill the memory.
  const most = kMostWarmPerCpu * cpuCount();
  if (options.warm !== undefined && options.warm > most) {
    throw new RangeError(
      `Cannot ${what} as 'warm' must be at most ${kMostWarmPerCpu} × cpuCount() (${most}): current value is ${options.warm}`,
    );
  }
  const base = callerUrl() ?? Deno.mainModule;
  const urls = modules.map((m) => {
    try {
      return new URL(m, base).href;
    } catch {
      throw new TypeError(
        `Cannot ${what} as 'modules' must be module URLs or paths: current value ${
          Deno.inspect(m)
        } is neither`,
      );
    }
  });
  configureForkserver(urls, options.warm);
}
