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
 * @example
 * ```ts
 * import { EOFError, Pipe } from "@dmp/multiprocessing";
 *
 * const [a, b] = Pipe();
 * b.close();
 * await a.recv().catch((e) => console.log(e instanceof EOFError)); // true
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
 * @example
 * ```ts
 * import { BrokenPipeError, Pipe } from "@dmp/multiprocessing";
 *
 * const [a, b] = Pipe();
 * b.close();
 * try {
 *   a.send("hello?");
 * } catch (e) {
 *   console.log(e instanceof BrokenPipeError); // true
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
