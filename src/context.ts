/**
 * Start methods and contexts (CPython's `multiprocessing.context`).
 *
 * Web Workers start like CPython's "spawn" (a fresh isolate that imports the
 * target's module), and that is the only method offered: "fork" and
 * "forkserver" cannot exist for isolates, and asking for them is a
 * `TypeError` rather than a silent substitute. The start method is a
 * strategy behind one seam (src/_child/start_method.ts): Process and the
 * pool start every child through it.
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
  type StartMethod,
  startMethods,
} from "./_child/start_method.ts";

export type { StartMethod } from "./_child/start_method.ts";

function checkMethod(
  method: unknown,
  what: string,
): asserts method is StartMethod {
  if (isStartMethod(method)) return;
  const hint = method === "fork" || method === "forkserver"
    ? ` ('${method}' has no equivalent for Web Workers, which always start fresh like 'spawn')`
    : "";
  throw new TypeError(
    `Cannot ${what} as 'method' must be "spawn"${hint}: current value is ${
      Deno.inspect(method)
    }`,
  );
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
  /** The `Process` class. */
  readonly Process: typeof Process = Process;
  /** The `Pool` class. */
  readonly Pool: typeof Pool = Pool;
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
 * @param method Only `"spawn"`; `undefined` means the default.
 * @returns The context.
 * @throws {TypeError} For `"fork"`, `"forkserver"` or any other value.
 *
 * @example A context for "spawn", and none for "fork"
 * ```ts
 * import { getContext } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getContext("spawn").getStartMethod(), "spawn");
 * assert.throws(() => getContext("fork" as never), TypeError);
 * ```
 */
export function getContext(method?: StartMethod): Context {
  if (method !== undefined) checkMethod(method, "get context");
  return new Context(method ?? "spawn");
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
 * @param method Only `"spawn"`.
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
 * @returns `["spawn"]`.
 *
 * @example Every method offered here
 * ```ts
 * import { getAllStartMethods } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(getAllStartMethods(), ["spawn"]);
 * ```
 */
export function getAllStartMethods(): StartMethod[] {
  return startMethods();
}
