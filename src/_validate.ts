// Argument checks shared by every module, with std's message grammar:
// "Cannot X as 'p' must be Y: current value is Z".

/**
 * Checks a duration in seconds (CPython's unit; undefined = forever).
 *
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is negative.
 */
export function checkSeconds(value: unknown, name: string, what: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot ${what} as '${name}' must be a number of seconds: current value is ${
        Deno.inspect(value)
      }`,
    );
  }
  if (value < 0) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be a non-negative number of seconds: current value is ${value}`,
    );
  }
}

/** {@linkcode checkSeconds} for the usual `timeout` parameter. */
export function checkTimeout(timeout: unknown, what: string): void {
  checkSeconds(timeout, "timeout", what);
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
