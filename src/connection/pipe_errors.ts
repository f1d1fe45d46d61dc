/**
 * The errors of a pipe's ends: {@linkcode EOFError} and
 * {@linkcode BrokenPipeError} (CPython's built-in exceptions of those names).
 *
 * @module
 */

import { ProcessError } from "../errors.ts";

/**
 * `recv()` found the pipe drained and the other end closed (CPython's
 * `EOFError`).
 *
 * @example Using EOFError
 * ```ts
 * import { EOFError, Pipe } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * b.close();
 * await assert.rejects(a.recv(), EOFError);
 * ```
 */
export class EOFError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message =
      "Cannot receive as the other end is closed and the pipe is drained",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "EOFError";
  }
}

/**
 * `send()` found every handle of the other end closed (CPython's
 * `BrokenPipeError`).
 *
 * @example Using BrokenPipeError
 * ```ts
 * import { BrokenPipeError, Pipe } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * b.close();
 * try {
 *   a.send("hello?");
 * } catch (e) {
 *   assert.deepEqual(e instanceof BrokenPipeError, true);
 * }
 * ```
 */
export class BrokenPipeError extends ProcessError {
  /**
   * Creates a new error.
   *
   * @param message Details.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message = "Cannot send as every handle of the other end is closed",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "BrokenPipeError";
  }
}
