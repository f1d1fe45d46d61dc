/**
 * `JoinableQueue`: a {@linkcode Queue} that counts unfinished tasks
 * (CPython's `multiprocessing.JoinableQueue`).
 *
 * @module
 */

import { ProcessError } from "../errors.ts";
import { registerReviver } from "../reduction.ts";
import { kJoinerWait } from "../_memory/ring_buffer.ts";
import { QueueMemory } from "./_queue_core.ts";
import { Queue, queueCoreOf } from "./queue.ts";

/**
 * A {@linkcode Queue} that also counts unfinished tasks (CPython's
 * `multiprocessing.JoinableQueue`): each `put()` adds one, each
 * `taskDone()` removes one, and `join()` waits until none is left.
 *
 * @typeParam T The type of the items.
 *
 * @example Using JoinableQueue
 * ```ts
 * import { JoinableQueue } from "@dmp/multiprocessing";
 *
 * const q = new JoinableQueue<string>();
 * await q.put("job");
 * await q.get();
 * q.taskDone();
 * await q.join(); // returns at once: every task is done
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * Creates a joinable queue.
   *
   * @param maxsize The most items it holds; 0 or less means unbounded.
   */
  constructor(maxsize?: number);
  constructor(maxsize: unknown = 0) {
    super(maxsize as number);
    queueCoreOf(this).joinable = true;
  }

  /**
   * Marks one task taken with `get()` as done.
   *
   * @throws {ProcessError} When called more times than items were put.
   *
   * @example Using taskDone()
   * ```ts
   * import { JoinableQueue } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const q = new JoinableQueue();
   * try {
   *   q.taskDone();
   * } catch (e) {
   *   assert.match((e as Error).message, /more times than items were put/);
   * }
   * ```
   */
  taskDone(): void {
    const engine = queueCoreOf(this);
    engine.checkOpen("mark a task done");
    if (!engine.ring.taskDone()) {
      throw new ProcessError(
        "Cannot mark a task done as taskDone() was called more times than items were put",
      );
    }
  }

  /**
   * Waits until every item put has been marked done.
   *
   * @example Using join()
   * ```ts
   * import { JoinableQueue } from "@dmp/multiprocessing";
   *
   * const q = new JoinableQueue();
   * await q.join(); // nothing was put: returns at once
   * ```
   */
  async join(): Promise<void> {
    const { ring, allDone } = queueCoreOf(this);
    await ring.until(allDone, kJoinerWait, Infinity);
  }

  /**
   * The blocking twin of {@linkcode JoinableQueue.join} (worker code).
   *
   * @example Using joinSync()
   * ```ts
   * import { JoinableQueue } from "@dmp/multiprocessing";
   *
   * new JoinableQueue().joinSync(); // nothing unfinished
   * ```
   */
  joinSync(): void {
    const { ring, allDone } = queueCoreOf(this);
    ring.untilSync(allDone, kJoinerWait, Infinity);
  }
}

registerReviver(
  "JoinableQueue",
  (d) => new JoinableQueue(new QueueMemory(d) as never),
);
