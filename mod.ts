/**
 * Python's `multiprocessing` for Deno: processes, pools, queues, locks and
 * shared memory on Web Workers and SharedArrayBuffer, with explicit Deno
 * permissions per worker.
 *
 * A "process" here is a Web Worker: an isolate with its own heap and event
 * loop, on its own OS thread, inside one OS process.
 *
 * @example Run a function in a child process
 * ```ts
 * import { Process } from "@dmp/multiprocessing";
 *
 * const p = new Process({
 *   target: new URL("./examples/001_process_based_parallelism/single_process.ts#sayHello", import.meta.url),
 *   args: ["Edward"],
 * });
 * p.start();
 * await p.join(); // prints "Hello from Edward!"
 * ```
 *
 * @module
 */

export * from "./src/errors.ts";
export {
  describe as sharedDescriptor,
  kReduce,
  type Reducible,
  registerReviver,
  type SharedDescriptor,
} from "./src/reduction.ts";
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
  type Target,
  type WorkerPermissions,
} from "./src/process.ts";
export * from "./src/context.ts";
export {
  type GetOptions,
  JoinableQueue,
  type PutOptions,
  Queue,
  SimpleQueue,
} from "./src/queues/mod.ts";
export * from "./src/pool.ts";
export * from "./src/synchronize/mod.ts";
// `wait` is concurrent.futures' (executor.ts) here, as in API.md; the
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
export * from "./src/sharedctypes/mod.ts";
export * from "./src/shared_memory/shared_memory.ts";
export * from "./src/executor.ts";
export type {
  InputOf,
  ItemOf,
  SharedCTypeOptions,
  StorageOf,
  TypeCode,
} from "./src/sharedctypes/_ctypes.ts";
export type { AcquireOptions } from "./src/synchronize/_sync.ts";
