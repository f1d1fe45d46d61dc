/**
 * The error classes of `@dmp/multiprocessing`.
 *
 * Bad arguments are plain `TypeError`s and `RangeError`s; everything the
 * library itself can fail with is a {@linkcode ProcessError} or one of these
 * small subclasses. Each has its `name` set to its class name, so that it
 * survives a trip through a worker boundary (where only `name`, `message` and
 * `stack` travel) and is rebuilt as the same class on the other side.
 *
 * @module
 */

/**
 * The base class of the library's own errors (CPython's
 * `multiprocessing.ProcessError`). Its `name` is the name of the class it
 * was created as, subclasses included, so none of them has to set it.
 *
 * @example Catching any library error
 * ```ts
 * import { ProcessError, TimeoutError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError("too slow");
 * assert.ok(error instanceof ProcessError);
 * assert.equal(error.name, "TimeoutError");
 * ```
 */
export class ProcessError extends Error {
  /**
   * Creates a new error.
   *
   * @param message What went wrong; left out, the class's usual message
   * ("Queue is empty" for a {@linkcode QueueEmptyError}, say).
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? kDefaultMessages[new.target.name] ?? "", options);
    this.name = new.target.name;
  }
}

// The message of an error created without one, by class name.
const kDefaultMessages: Record<string, string> = {
  QueueEmptyError: "Queue is empty",
  QueueFullError: "Queue is full",
  BrokenBarrierError: "Barrier is broken",
  CancelledError: "Task was cancelled",
};

/**
 * A wait ran out of time: `AsyncResult.get(timeout)`, `Future.result(timeout)`,
 * `asCompleted(fs, timeout)`, a task's own `timeout`.
 *
 * @example A timeout is a ProcessError
 * ```ts
 * import { ProcessError, TimeoutError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError("Cannot get the result as it is not ready after 1s");
 * assert.equal(error.name, "TimeoutError");
 * assert.ok(error instanceof ProcessError);
 * ```
 */
export class TimeoutError extends ProcessError {}

/**
 * A pool can no longer run work because one of its workers died abruptly
 * (CPython's `concurrent.futures.process.BrokenProcessPool`).
 *
 * @example The cause says which worker died
 * ```ts
 * import { BrokenProcessPoolError, ProcessError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const cause = new ProcessError("worker 3 exited with code 1");
 * const error = new BrokenProcessPoolError("worker died", { cause });
 * assert.ok(error instanceof ProcessError);
 * assert.equal(error.cause, cause);
 * ```
 */
export class BrokenProcessPoolError extends ProcessError {}

/**
 * A non-blocking or timed `get` found the queue empty (CPython's
 * `queue.Empty`).
 *
 * @example A get that may not wait, on an empty queue
 * ```ts
 * import { Queue, QueueEmptyError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const queue = new Queue<number>();
 * await assert.rejects(queue.get({ block: false }), QueueEmptyError);
 * assert.equal(new QueueEmptyError().message, "Queue is empty");
 * queue.close();
 * ```
 */
export class QueueEmptyError extends ProcessError {}

/**
 * A non-blocking or timed `put` found the queue full (CPython's
 * `queue.Full`).
 *
 * @example A put that may not wait, on a full queue
 * ```ts
 * import { Queue, QueueFullError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const queue = new Queue<string>(1);
 * await queue.put("first");
 * assert.throws(() => queue.putNowait("second"), QueueFullError);
 * queue.close();
 * ```
 */
export class QueueFullError extends ProcessError {}

/**
 * `Connection.recvBytesInto()` got a message longer than the buffer. The
 * message is not lost: it is kept in {@linkcode BufferTooShortError.message_}.
 *
 * @example The message that did not fit is kept
 * ```ts
 * import { BufferTooShortError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const error = new BufferTooShortError(new Uint8Array([1, 2, 3]));
 * assert.deepEqual(error.message_, new Uint8Array([1, 2, 3]));
 * assert.match(error.message, /the message has 3 bytes/);
 * ```
 */
export class BufferTooShortError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message_ The whole message that did not fit (kept here, as
   * CPython keeps it in `args[0]`).
   * @param options Standard error options (`cause`).
   */
  constructor(readonly message_: Uint8Array, options?: ErrorOptions) {
    super(
      `Cannot receive bytes as the buffer is too short: the message has ${message_.length} bytes`,
      options,
    );
  }
}

/**
 * A `Barrier` was aborted, reset or timed out while a party waited on it
 * (CPython's `threading.BrokenBarrierError`).
 *
 * @example Waiting on an aborted barrier
 * ```ts
 * import { Barrier, BrokenBarrierError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const barrier = new Barrier(2);
 * barrier.abort();
 * await assert.rejects(barrier.wait(), BrokenBarrierError);
 * ```
 */
export class BrokenBarrierError extends ProcessError {}

/**
 * A future or task was cancelled before it ran.
 *
 * @example The result of a cancelled future
 * ```ts
 * import { CancelledError, Future } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<number>();
 * assert.equal(future.cancel(), true);
 * await assert.rejects(future.result(), CancelledError);
 * ```
 */
export class CancelledError extends ProcessError {}

/**
 * The `cause` of an error re-thrown in the parent: it carries the stack text
 * of the error as the worker saw it (CPython's `multiprocessing.pool.RemoteTraceback`).
 *
 * @example The worker's stack, as text
 * ```ts
 * import { RemoteError } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const remote = new RemoteError("Error: boom\n    at task (file:///tasks.ts:1:7)");
 * assert.equal(remote.remoteStack.split("\n")[0], "Error: boom");
 * assert.match(remote.message, /Error: boom/);
 * ```
 */
export class RemoteError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param remoteStack The stack of the original error, as text, captured in
   * the worker.
   * @param options Standard error options (`cause`).
   */
  constructor(readonly remoteStack: string, options?: ErrorOptions) {
    super(`\n"""\n${remoteStack}\n"""`, options);
  }
}
