// ProcessPoolExecutor.map(): its arguments (iterables, then options),
// checked and zipped; and its results, its chunks' futures read in order,
// lazily, within one timeout counted from the call (concurrent.futures'
// rule), and cancelled when the reader stops early.

import type { Future } from "../futures.ts";
import type { ExecutorMapOptions } from "../pool_options.ts";
import { TimeoutError } from "../errors.ts";
import { deadlineOf } from "../_core/time.ts";
import { checkKnownKeys } from "../_core/known_keys.ts";
import { checkPositiveInteger, checkSeconds } from "../_core/validate.ts";

function isOptions(value: unknown): value is ExecutorMapOptions {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] !==
      "function";
}

/**
 * map()'s arguments after its function: iterables, then options if the
 * last one is a plain object. Nothing is read from the iterables yet.
 *
 * @throws {TypeError} No iterable, one that is not iterable, or options
 * of the wrong keys or types.
 * @throws {RangeError} A negative timeout or a chunksize that is not a
 * positive integer.
 */
export function mapArguments(
  rest: unknown[],
): { options: ExecutorMapOptions; iterables: Iterable<unknown>[] } {
  const options: ExecutorMapOptions =
    rest.length > 0 && isOptions(rest[rest.length - 1])
      ? rest.pop() as ExecutorMapOptions
      : {};
  checkKnownKeys(options, ["timeout", "chunksize"], "map");
  checkSeconds(options.timeout, "timeout", "map");
  checkPositiveInteger(options.chunksize, "chunksize", "map");
  if (rest.length === 0) {
    throw new TypeError(
      "Cannot map as at least one iterable must be given: current value is none",
    );
  }
  for (const [i, iterable] of rest.entries()) {
    if (
      typeof (iterable as Partial<Iterable<unknown>>)?.[Symbol.iterator] !==
        "function"
    ) {
      throw new TypeError(
        `Cannot map as argument ${i + 1} must be iterable: current value is ${
          Deno.inspect(iterable)
        }`,
      );
    }
  }
  return { options, iterables: rest as Iterable<unknown>[] };
}

/** The argument lists of map()'s calls: the iterables zipped, shortest first. */
export function zipRows(iterables: Iterable<unknown>[]): unknown[][] {
  const columns = iterables.map((it) => [...it]);
  const length = Math.min(...columns.map((c) => c.length));
  return Array.from({ length }, (_, i) => columns.map((c) => c[i]));
}

/**
 * The results of `futures`' chunks in order; each wait gets what is left of
 * `timeout` seconds from this call (not from the first read).
 *
 * @throws {TimeoutError} From the iterator, when a chunk is not done in
 * time: the message names `timeout`, not what was left of it.
 */
export function mapResults(
  futures: Future<unknown[]>[],
  timeout: number | undefined,
): AsyncGenerator<unknown, void, undefined> {
  return results(futures, deadlineOf(timeout), timeout);
}

async function* results(
  futures: Future<unknown[]>[],
  deadline: number,
  timeout: number | undefined,
): AsyncGenerator<unknown, void, undefined> {
  try {
    for (const future of futures) {
      const left = Math.max(0, deadline - performance.now()) / 1000;
      let chunk: unknown[];
      try {
        chunk = await future.result(left);
      } catch (error) {
        if (!(error instanceof TimeoutError) || future.done()) throw error;
        throw new TimeoutError(
          `Cannot get map result as it is not ready ${timeout}s after the call`,
        );
      }
      yield* chunk;
    }
  } finally {
    for (const future of futures) future.cancel();
  }
}
