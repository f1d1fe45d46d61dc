// Argument checks shared by every module, with std's message grammar:
// "Cannot X as 'p' must be Y: current value is Z".

import { checkKnownKeys } from "./known_keys.ts";

/**
 * Checks a timeout in seconds (CPython's unit; undefined = forever). Any
 * number goes: `Infinity` waits forever and a negative one does not wait,
 * as CPython's multiprocessing waits treat it (its locks clamp it to 0).
 *
 * @throws {TypeError} When it is not a number (or is NaN).
 */
export function checkSeconds(
  value: unknown,
  name: string,
  what: string,
  alternative = "",
): void {
  if (value === undefined) return;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot ${what} as '${name}' must be a number of seconds${alternative}: current value is ${
        Deno.inspect(value)
      }`,
    );
  }
}

/**
 * {@linkcode checkSeconds} for a limit that CPython has no counterpart of
 * (a task's own `timeout`), where a negative value is a mistake.
 *
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is negative.
 */
export function checkLimitSeconds(
  value: unknown,
  name: string,
  what: string,
): void {
  checkSeconds(value, name, what);
  if ((value as number) < 0) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be a non-negative number of seconds: current value is ${value}`,
    );
  }
}

/**
 * Checks that `value` is an array (an argument list).
 *
 * @throws {TypeError} When it is not.
 */
export function checkArray(value: unknown, name: string, what: string): void {
  if (Array.isArray(value)) return;
  throw new TypeError(
    `Cannot ${what} as '${name}' must be an array: current value is ${
      Deno.inspect(value)
    }`,
  );
}

/**
 * Checks an optional AbortSignal.
 *
 * @throws {TypeError} When it is given and is not an AbortSignal.
 */
export function checkSignal(value: unknown, what: string): void {
  if (value === undefined || value instanceof AbortSignal) return;
  throw new TypeError(
    `Cannot ${what} as 'signal' must be an AbortSignal: current value is ${
      Deno.inspect(value)
    }`,
  );
}

/**
 * {@linkcode checkSeconds} for the usual `timeout` parameter. With
 * `{ nullable: true }` a `null` means "no limit" too (CPython's
 * `timeout=None` where the default is not forever, as `Connection.poll`).
 *
 * @throws {TypeError} When it is not a number (or null, when allowed).
 */
export function checkTimeout(
  timeout: unknown,
  what: string,
  options?: { nullable?: boolean },
): void {
  if (timeout === null && options?.nullable) return;
  checkSeconds(timeout, "timeout", what, options?.nullable ? " or null" : "");
}

/**
 * Checks an optional positive integer (a count, a size).
 *
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is not a positive integer.
 */
export function checkPositiveInteger(
  value: unknown,
  name: string,
  what: string,
): void {
  if (value === undefined) return;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${what} as '${name}' must be a positive integer: current value is ${
        Deno.inspect(value)
      }`,
    );
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be a positive integer: current value is ${value}`,
    );
  }
}

/**
 * Checks a boolean flag; `undefined` (the default) passes.
 *
 * @throws {TypeError} When it is anything else.
 */
export function checkBoolean(value: unknown, name: string, what: string): void {
  if (value === undefined || typeof value === "boolean") return;
  throw new TypeError(
    `Cannot ${what} as '${name}' must be a boolean: current value is ${
      Deno.inspect(value)
    }`,
  );
}

/**
 * Checks an integer within `[min, max]` (a count: a semaphore's value, a
 * barrier's parties, how many waiters to notify).
 *
 * @returns The value.
 * @throws {TypeError} When it is not an integer.
 * @throws {RangeError} When it is out of range.
 */
export function checkIntegerIn(
  value: unknown,
  name: string,
  what: string,
  [min, max]: readonly [number, number],
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot ${what} as '${name}' must be an integer: current value is ${
        Deno.inspect(value)
      }`,
    );
  }
  if (value < min || value > max) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be ${
        max === Number.MAX_SAFE_INTEGER
          ? `at least ${min}`
          : `between ${min} and ${max}`
      }: current value is ${value}`,
    );
  }
  return value;
}

/**
 * Checks `{ block, timeout }` options of a blocking call (CPython's
 * `block=True, timeout=None` pair).
 *
 * @returns Whether to block, and the timeout in seconds.
 * @throws {TypeError} For options that are not an object, a non-boolean
 * `block`, or a timeout that is not a number.
 */
export function checkWaitOptions(
  options: { block?: boolean; timeout?: number } | undefined,
  what: string,
): { block: boolean; timeout: number | undefined } {
  if (options === undefined) return { block: true, timeout: undefined };
  checkKnownKeys(options, ["block", "timeout"], what);
  const { block = true, timeout } = options;
  checkBoolean(block, "block", what);
  checkTimeout(timeout, what);
  return { block, timeout };
}
