// wait() and asCompleted(): waiting on many futures at once (re-exported
// by futures.ts, where users find them beside Future).

import { TimeoutError } from "./errors.ts";
import { deadlineOf, within } from "./_core/time.ts";
import { checkSeconds } from "./_core/validate.ts";
import { checkKnownKeys } from "./_core/known_keys.ts";
import { futureAccess } from "./_engine/future_access.ts";
import { Future } from "./futures.ts";

/** When {@linkcode wait} returns. */
export type ReturnWhen =
  | "FIRST_COMPLETED"
  | "FIRST_EXCEPTION"
  | "ALL_COMPLETED";

/** Return as soon as any future finishes or is cancelled. */
export const FIRST_COMPLETED: ReturnWhen = "FIRST_COMPLETED";
/** Return when any future raises, or when all are done. */
export const FIRST_EXCEPTION: ReturnWhen = "FIRST_EXCEPTION";
/** Return when all futures are done. */
export const ALL_COMPLETED: ReturnWhen = "ALL_COMPLETED";

function checkFutures(futures: unknown, what: string): Future<unknown>[] {
  const list = futures === null ||
      typeof (futures as Partial<Iterable<unknown>>)?.[Symbol.iterator] !==
        "function"
    ? undefined
    : [...(futures as Iterable<unknown>)];
  if (list === undefined || !list.every((f) => f instanceof Future)) {
    throw new TypeError(
      `Cannot ${what} as 'futures' must be an iterable of Future: current value is ${
        Deno.inspect(futures)
      }`,
    );
  }
  return [...new Set(list as Future<unknown>[])];
}

/**
 * Waits for futures (CPython's `concurrent.futures.wait`).
 *
 * @param futures The futures.
 * @param options `timeout` in seconds (`undefined`: forever); `returnWhen`
 * (default "ALL_COMPLETED").
 * @returns The done and not-done futures; when the timeout passes first,
 * `notDone` holds those still running.
 * @throws {TypeError} When `futures` is not an iterable of Future, `timeout`
 * is not a number, or `returnWhen` is none of the three constants.
 *
 * @example Return at the first completion
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIRST_COMPLETED, ProcessPoolExecutor, wait } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const futures = [1, 2, 3].map((x) => executor.submit(square, x));
 * const { done, notDone } = await wait(futures, { returnWhen: FIRST_COMPLETED });
 * assert.ok(done.size >= 1);
 * assert.equal(done.size + notDone.size, 3);
 * ```
 */
export async function wait<F extends Future<unknown>>(
  futures: Iterable<F>,
  options: { timeout?: number; returnWhen?: ReturnWhen } = {},
): Promise<{ done: Set<F>; notDone: Set<F> }> {
  const list = checkFutures(futures, "wait") as F[];
  checkKnownKeys(options, ["timeout", "returnWhen"], "wait");
  const { timeout, returnWhen = ALL_COMPLETED } = options;
  checkSeconds(timeout, "timeout", "wait");
  if (![FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED].includes(returnWhen)) {
    throw new TypeError(
      `Cannot wait as 'returnWhen' must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED: current value is ${
        Deno.inspect(returnWhen)
      }`,
    );
  }
  const settled = (): boolean => {
    const done = list.filter((f) => f.done());
    if (done.length === list.length) return true;
    if (returnWhen === FIRST_COMPLETED) return done.length > 0;
    return returnWhen === FIRST_EXCEPTION &&
      done.some((f) => futureAccess.failed(f));
  };
  const finished = (async () => {
    while (!settled()) {
      await new Promise<void>((resolve) => {
        let called = false;
        const once = () => {
          if (!called) {
            called = true;
            resolve();
          }
        };
        for (const f of list) if (!f.done()) f.addDoneCallback(once);
      });
    }
  })();
  await within(finished, timeout);
  const done = new Set(list.filter((f) => f.done()));
  return { done, notDone: new Set(list.filter((f) => !done.has(f))) };
}

/**
 * A future as {@linkcode asCompleted} yields it: the same object, typed as
 * it went in (`F`), so it keys a `Map<Future<unknown>, …>`. Its `then` is
 * hidden from the type because TypeScript types a `for await` value as
 * `Awaited<T>`, which for a thenable is its result: read the outcome with
 * `result()`.
 */
export type CompletedFuture<F> = F & { then: never };

/**
 * Yields the futures as they complete (CPython's `as_completed`).
 *
 * @param futures The futures.
 * @param timeout Seconds, from the call, before iteration throws TimeoutError.
 * @returns The futures themselves, in completion order, typed as they went in.
 * @throws {TypeError} When `futures` is not an iterable of Future, or
 * `timeout` is not a number.
 * @throws {TimeoutError} From the iterator's `next()`, when the timeout
 * passes before every future is done.
 *
 * @example Sum results in completion order
 * ```ts
 * import assert from "node:assert/strict";
 * import { asCompleted, ProcessPoolExecutor } from "@dmp/multiprocessing";
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const square = new URL("../examples/002_parallelism_with_multiprocessing/pool_map.ts#square", import.meta.url);
 * const futures = [1, 2, 3].map((x) => executor.submit(square, x));
 * let total = 0;
 * for await (const future of asCompleted(futures)) {
 *   total += (await future.result()) as number;
 * }
 * assert.equal(total, 14);
 * ```
 */
export function asCompleted<F extends Future<unknown>>(
  futures: Iterable<F>,
  timeout?: number,
): AsyncIterableIterator<CompletedFuture<F>> {
  const list = checkFutures(futures, "iterate as completed") as F[];
  checkSeconds(timeout, "timeout", "iterate as completed");
  const deadline = deadlineOf(timeout);
  const ready: CompletedFuture<F>[] = [];
  let wake = Promise.withResolvers<void>();
  for (const f of list) {
    f.addDoneCallback(() => {
      ready.push(f as CompletedFuture<F>);
      wake.resolve();
    });
  }
  let yielded = 0;
  // Written by hand: an async generator awaits whatever thenable it yields,
  // and a Future is thenable, so `yield future` would yield its result.
  const iterator: AsyncIterableIterator<CompletedFuture<F>> = {
    async next(): Promise<IteratorResult<CompletedFuture<F>>> {
      if (yielded === list.length) return { done: true, value: undefined };
      while (ready.length === 0) {
        const left = Math.max(0, deadline - performance.now()) / 1000;
        if ((await within(wake.promise, left)) === null) {
          throw new TimeoutError(
            `${list.length - yielded} (of ${list.length}) futures unfinished`,
          );
        }
        wake = Promise.withResolvers();
      }
      yielded++;
      return { done: false, value: ready.shift()! };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
