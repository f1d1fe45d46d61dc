/**
 * `wait()` (CPython's `multiprocessing.connection.wait`): waits until one of
 * several connections or processes is ready.
 *
 * @module
 */

import { deadlineOf } from "../_core/time.ts";
import { checkTimeout } from "../_core/validate.ts";
import { Connection } from "./connection.ts";

/** How often wait() looks again for ended processes and closed ends (ms). */
const kWaitSliceMs = 100;

/** What {@linkcode wait} can wait on: a readable connection, or a process. */
export type Waitable = Connection | { readonly exitCode: number | null };

function isReady(object: Waitable): boolean {
  if (object instanceof Connection) return object.pollSync(0);
  return object.exitCode !== null;
}

/**
 * Waits until at least one of `objects` is ready: a connection with
 * something to receive (or at EOF), or a process that has ended (CPython's
 * `multiprocessing.connection.wait`, with Process objects in place of
 * sentinels). The package's main module exports it as `waitConnections`
 * (its `wait` is concurrent.futures').
 *
 * @param objects Readable connections and `Process` objects.
 * @param timeout Seconds to wait at most; `undefined` or `null` waits
 * forever.
 * @returns The ready objects, in the order given (empty on timeout).
 * @throws {TypeError} For anything else in `objects`.
 *
 * @example Using wait()
 * ```ts
 * import { Pipe } from "@dmp/multiprocessing";
 * import { wait } from "@dmp/multiprocessing/connection";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * const [c, d] = Pipe();
 * d.send("ready");
 * const ready = await wait([a, c], 1);
 * assert.deepEqual(ready, [c]);
 * ```
 */
export async function wait<T extends Waitable>(
  objects: Iterable<T>,
  timeout?: number | null,
): Promise<T[]> {
  checkTimeout(timeout, "wait", { nullable: true });
  const list = [...objects];
  for (const [i, object] of list.entries()) {
    const ok = object instanceof Connection
      ? object.readable && !object.closed
      : typeof object === "object" && object !== null && "exitCode" in object;
    if (!ok) {
      throw new TypeError(
        `Cannot wait as 'objects[${i}]' must be an open, readable Connection or a Process: current value is ${
          Deno.inspect(object)
        }`,
      );
    }
  }
  const deadline = timeout === undefined || timeout === null
    ? Infinity
    : deadlineOf(timeout);
  while (true) {
    const ready = list.filter(isReady);
    if (ready.length > 0 || performance.now() >= deadline) return ready;
    // Sleep until a message lands, a process ends, or a short slice passes
    // (a child holding a pipe end may end without anyone notifying us).
    const slice = Math.min(deadline, performance.now() + kWaitSliceMs);
    const wakeups: Promise<unknown>[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    wakeups.push(
      new Promise((resolve) => {
        timer = setTimeout(resolve, Math.max(0, slice - performance.now()));
      }),
    );
    for (const object of list) {
      if (object instanceof Connection) {
        wakeups.push(
          object.poll(Math.max(0, slice - performance.now()) / 1000),
        );
      } else {
        const join = (object as { join?: () => Promise<unknown> }).join;
        if (typeof join === "function") {
          wakeups.push(join.call(object).catch(() => {}));
        }
      }
    }
    try {
      await Promise.race(wakeups);
    } finally {
      clearTimeout(timer);
    }
  }
}
