/**
 * The error classes of `@dmp/multiprocessing`.
 *
 * Bad arguments are plain `TypeError`s and `RangeError`s; everything the
 * library itself can fail with is a {@linkcode ProcessError} or one of these
 * small subclasses, each with its `name` set so that it survives a trip
 * through a worker boundary (where only `name`, `message` and `stack` travel).
 *
 * @module
 */

/**
 * The base class of the library's own errors (CPython's
 * `multiprocessing.ProcessError`).
 *
 * @example Catching any library error
 * ```ts
 * import { ProcessError, TimeoutError } from "@dmp/multiprocessing";
 * import { ok as assert } from "node:assert/strict";
 *
 * assert(new TimeoutError("too slow") instanceof ProcessError);
 * ```
 */
export class ProcessError extends Error {
  /**
   * Creates a new error.
   *
   * @param message What went wrong.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProcessError";
  }
}

/**
 * A wait ran out of time: `AsyncResult.get(timeout)`, `Future.result(timeout)`,
 * `asCompleted(fs, timeout)`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@dmp/multiprocessing";
 *
 * const error = new TimeoutError("Cannot get the result as it is not ready after 1s");
 * console.log(error.name); // "TimeoutError"
 * ```
 */
export class TimeoutError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message What timed out.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * A pool can no longer run work because one of its workers died abruptly
 * (CPython's `concurrent.futures.process.BrokenProcessPool`).
 *
 * @example
 * ```ts
 * import { BrokenProcessPoolError, ProcessError } from "@dmp/multiprocessing";
 * import { ok as assert } from "node:assert/strict";
 *
 * assert(new BrokenProcessPoolError("worker died") instanceof ProcessError);
 * ```
 */
export class BrokenProcessPoolError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Why the pool is broken.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenProcessPoolError";
  }
}

/**
 * A non-blocking or timed `get` found the queue empty (CPython's
 * `queue.Empty`).
 *
 * @example
 * ```ts
 * import { QueueEmptyError } from "@dmp/multiprocessing";
 *
 * console.log(new QueueEmptyError().name); // "QueueEmptyError"
 * ```
 */
export class QueueEmptyError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Queue is empty", options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueEmptyError";
  }
}

/**
 * A non-blocking or timed `put` found the queue full (CPython's
 * `queue.Full`).
 *
 * @example
 * ```ts
 * import { QueueFullError } from "@dmp/multiprocessing";
 *
 * console.log(new QueueFullError().name); // "QueueFullError"
 * ```
 */
export class QueueFullError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Queue is full", options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueFullError";
  }
}

/**
 * `Connection.recvBytesInto()` got a message longer than the buffer. The
 * message is not lost: it is kept in {@linkcode BufferTooShortError.message_}.
 *
 * @example
 * ```ts
 * import { BufferTooShortError } from "@dmp/multiprocessing";
 *
 * const error = new BufferTooShortError(new Uint8Array([1, 2, 3]));
 * console.log(error.message_.length); // 3
 * ```
 */
export class BufferTooShortError extends ProcessError {
  /** The whole message that did not fit. */
  readonly message_: Uint8Array;

  /**
   * Creates a new error.
   *
   * @param message The bytes that did not fit.
   * @param options Standard error options (`cause`).
   */
  constructor(message: Uint8Array, options?: ErrorOptions) {
    super(
      `Cannot receive bytes as the buffer is too short: the message has ${message.length} bytes`,
      options,
    );
    this.name = "BufferTooShortError";
    this.message_ = message;
  }
}

/**
 * A `Barrier` was aborted, reset or timed out while a party waited on it
 * (CPython's `threading.BrokenBarrierError`).
 *
 * @example
 * ```ts
 * import { BrokenBarrierError } from "@dmp/multiprocessing";
 *
 * console.log(new BrokenBarrierError().name); // "BrokenBarrierError"
 * ```
 */
export class BrokenBarrierError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Barrier is broken", options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenBarrierError";
  }
}

/**
 * A future or task was cancelled before it ran.
 *
 * @example
 * ```ts
 * import { CancelledError } from "@dmp/multiprocessing";
 *
 * console.log(new CancelledError().name); // "CancelledError"
 * ```
 */
export class CancelledError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Task was cancelled", options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * The `cause` of an error re-thrown in the parent: it carries the stack text
 * of the error as the worker saw it (CPython's `multiprocessing.pool.RemoteTraceback`).
 *
 * @example
 * ```ts
 * import { RemoteError } from "@dmp/multiprocessing";
 *
 * const remote = new RemoteError("Error: boom\n    at task (file:///tasks.ts:1:7)");
 * console.log(remote.remoteStack.split("\n")[0]); // "Error: boom"
 * ```
 */
export class RemoteError extends ProcessError {
  /** The stack of the original error, as text, from the worker. */
  readonly remoteStack: string;

  /**
   * Creates a new error.
   *
   * @param remoteStack The stack text captured in the worker.
   * @param options Standard error options (`cause`).
   */
  constructor(remoteStack: string, options?: ErrorOptions) {
    super(`\n"""\n${remoteStack}\n"""`, options);
    this.name = "RemoteError";
    this.remoteStack = remoteStack;
  }
}
