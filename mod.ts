/**
 * Python's `multiprocessing` for Deno: processes, pools, queues, locks and
 * shared memory on Web Workers and SharedArrayBuffer, with explicit Deno
 * permissions per worker.
 *
 * A "process" here is a Web Worker: an isolate with its own heap and event
 * loop, on its own OS thread, inside one OS process.
 *
 * @example Run a function in a child process, and a map on a pool
 * ```ts
 * import { Pool, Process } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const p = new Process({
 *   target: new URL("./examples/001_process_based_parallelism/single_process.ts#sayHello", import.meta.url),
 *   args: ["Edward"],
 * });
 * p.start(); // the child prints "Hello from Edward!"
 * assert.equal(await p.join(), 0);
 *
 * await using pool = new Pool(2);
 * const square = new URL("./examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * assert.deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
 * ```
 *
 * @module
 */

export {
  BrokenBarrierError,
  BrokenProcessPoolError,
  BufferTooShortError,
  CancelledError,
  ProcessError,
  QueueEmptyError,
  QueueFullError,
  RemoteError,
  TimeoutError,
} from "./src/errors.ts";
export {
  describe as sharedDescriptor,
  kReduce,
  type Reducible,
  registerReviver,
  type SharedDescriptor,
} from "./src/reduction.ts";
export { kReduceValue, type ValueReducible } from "./src/_core/forms.ts";
export {
  activeChildren,
  cpuCount,
  currentProcess,
  exit,
  parentProcess,
  type PermissionValue,
  Process,
  type ProcessInfo,
  type ProcessOptions,
  type ProcessSettings,
  type Target,
  type WorkerPermissions,
} from "./src/process.ts";
export type { ParentProcessInfo } from "./src/_process/current.ts";
export {
  Context,
  type ForkserverOptions,
  getAllStartMethods,
  getContext,
  getStartMethod,
  type ResourceLimits,
  setForkserverPreload,
  setStartMethod,
  type StartMethod,
} from "./src/context.ts";
export {
  type GetOptions,
  JoinableQueue,
  type PutOptions,
  Queue,
  SimpleQueue,
} from "./src/queues/mod.ts";
export {
  AsyncResult,
  type CallArgs,
  type CallbackOptions,
  type ItemFunction,
  Pool,
  type PoolOptions,
  type TaskFunction,
  type TaskOptions,
  type TaskResult,
} from "./src/pool.ts";
export {
  type AcquireOptions,
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  RLock,
  Semaphore,
  SemLock,
} from "./src/synchronize/mod.ts";
// `wait` is concurrent.futures' (futures.ts) here, as in API.md; the
// connection-level wait of CPython's multiprocessing.connection is
// `waitConnections`, and `wait` in "@dmp/multiprocessing/connection".
export {
  BrokenPipeError,
  Connection,
  EOFError,
  Pipe,
  wait as waitConnections,
  type Waitable,
} from "./src/connection/mod.ts";
export {
  type BigIntTypeCode,
  type InputOf,
  type ItemOf,
  RawArray,
  RawValue,
  SharedArray,
  type SharedCTypeOptions,
  type StorageOf,
  type TypeCode,
  Value,
} from "./src/sharedctypes/mod.ts";
export {
  SharedMemory,
  type SharedMemoryOptions,
  type TypedArrayClass,
} from "./src/shared_memory/shared_memory.ts";
export {
  type ExecutorMapOptions,
  type ExecutorOptions,
  type IterablesOf,
  ProcessPoolExecutor,
  type SubmitOptions,
} from "./src/executor.ts";
export {
  ALL_COMPLETED,
  asCompleted,
  type CompletedFuture,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  type FutureState,
  type ReturnWhen,
  wait,
} from "./src/futures.ts";
