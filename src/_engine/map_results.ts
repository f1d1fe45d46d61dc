// ProcessPoolExecutor.map()'s results: its chunks' futures read in order,
// lazily, within one timeout counted from the call (concurrent.futures'
// rule), and cancelled when the reader stops early.

import type { Future } from "../futures.ts";
import { TimeoutError } from "../errors.ts";
import { deadlineOf } from "../_core/time.ts";

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
