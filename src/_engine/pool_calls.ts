// What Pool's public methods share: the running check, and turning a call
// (apply, a map's chunks, an imap's lazy input) into engine tasks.

import { ProcessError } from "../errors.ts";
import {
  AsyncResult,
  type CallbackOptions,
  PromiseTask,
  ResultTask,
} from "../async_result.ts";
import { reduce } from "../reduction.ts";
import { TaskMode } from "../_wire/protocol.ts";
import type { TargetRef } from "../_core/target.ts";
import { poolRef, rejecting } from "../_core/util.ts";
import { checkPositiveInteger } from "../_core/validate.ts";
import {
  checkAsyncOptions,
  checkCallbacks,
  checkTask,
  kAsyncTaskKeys,
  kMapAsyncKeys,
} from "./options.ts";
import { holdLoopUntil } from "../_memory/atomics.ts";

import type { PoolEngine } from "./engine.ts";
import { chunksOf, iteratorOf } from "./inputs.ts";
import { readAhead } from "./read_ahead.ts";
import type { TaskLimits } from "./task.ts";

/** The default argument list: shared, as nothing ever writes to it. */
export const kNoArgs: unknown[] = Object.freeze([]) as unknown as unknown[];

/** Pool's calls into its engine. */
export class PoolCalls {
  readonly engine: PoolEngine;
  readonly processes: number;

  // close() was called; the engine closes once no imap made before it is
  // still being read, or at join() (see lazy()).
  #closing = false;
  #admitted = 0;

  constructor(engine: PoolEngine, processes: number) {
    this.engine = engine;
    this.processes = processes;
  }

  /** "running", or why the pool takes no new calls. */
  get state(): PoolEngine["state"] {
    const state = this.engine.state;
    return state === "running" && this.#closing ? "closed" : state;
  }

  /** Pool.close(): no new calls; an imap made before goes on. */
  close(): void {
    this.#closing = true;
    if (this.#admitted === 0) this.engine.close();
  }

  /** @throws {ProcessError} When the pool is closed, terminated or broken. */
  assertRunning(what: string): void {
    const state = this.state;
    if (state === "running") return;
    const why = state === "broken"
      ? `it is broken (${this.engine.brokenBy?.message})`
      : `it is ${state}`;
    throw new ProcessError(`Cannot ${what} as the pool is not running: ${why}`);
  }

  /**
   * Submits one task; its promise settles with the outcome.
   *
   * @param holds Whether the program stays alive for it (Task.holds).
   */
  run(
    ref: TargetRef,
    mode: TaskMode,
    payload: unknown,
    limits?: TaskLimits,
    holds = true,
  ): Promise<unknown> {
    return this.#submit(ref, mode, payload, limits, holds).promise;
  }

  #submit(
    ref: TargetRef,
    mode: TaskMode,
    payload: unknown,
    limits?: TaskLimits,
    holds = true,
  ): PromiseTask {
    const task = new PromiseTask(ref, mode, payload);
    task.holds = holds;
    this.engine.submit(task, limits);
    return task;
  }

  /** apply: one task, its promise (rejected, never thrown, on bad input). */
  apply<R>(fn: unknown, args: unknown, limits?: TaskLimits): Promise<R> {
    try {
      const ref = this.#checkApply(fn, args, limits, "apply");
      const payload = reduce(args, "args", "apply");
      return this.run(ref, TaskMode.Apply, payload, limits) as Promise<R>;
    } catch (error) {
      // A Promise-returning method never throws: `apply(f).catch()` sees
      // every error (try/catch, not async, keeps the hot path lean).
      return Promise.reject(error);
    }
  }

  /** applyAsync: one task that settles its AsyncResult (no promise made). */
  applyAsync<R>(
    fn: unknown,
    args: unknown,
    options?: CallbackOptions<R> & TaskLimits,
  ): AsyncResult<R> {
    const ref = this.#checkApply(fn, args, options, "applyAsync");
    const payload = reduce(args, "args", "applyAsync");
    const result = new AsyncResult<R>(undefined, options);
    const task = new ResultTask(ref, payload, result as AsyncResult<unknown>);
    this.engine.submit(task, options);
    return result;
  }

  #checkApply(
    fn: unknown,
    args: unknown,
    limits: TaskLimits | undefined,
    what: string,
  ): TargetRef {
    this.assertRunning(what);
    const ref = poolRef(fn, what);
    // applyAsync's options hold its callbacks too.
    const known = what === "applyAsync" ? kAsyncTaskKeys : undefined;
    checkTask(args, limits, what, known);
    if (known !== undefined) checkCallbacks(limits, what);
    return ref;
  }

  /** Pool.join(): after close(), the work first; then the workers' exit. */
  async join(): Promise<void> {
    if (this.state === "running") {
      throw new ProcessError(
        "Cannot join pool as it is still running: call close() or terminate() first",
      );
    }
    // An imap still read after close() submits no more from here on.
    if (this.engine.state === "running") this.engine.close();
    // The tasks of an AsyncResult do not hold the program; a join does
    // (exited() holds it itself).
    if (this.engine.state === "closed") {
      await holdLoopUntil(this.engine.drained());
    }
    await this.engine.exited();
  }

  /** map and starmap: every chunk submitted at once, results flattened. */
  chunks<R>(
    fn: unknown,
    iterable: unknown,
    chunksize: number | undefined,
    mode: TaskMode,
  ): Promise<R[]> {
    return rejecting(() => this.#chunks(fn, iterable, chunksize, mode));
  }

  /**
   * mapAsync and starmapAsync: as map, but bad input and a pool that is not
   * running throw at once, as CPython's map_async raises.
   */
  mapAsync<R>(
    fn: unknown,
    iterable: unknown,
    options: { chunksize?: number } & CallbackOptions<R[]>,
    mode: TaskMode,
  ): AsyncResult<R[]> {
    const what = mode === TaskMode.Map ? "map" : "starmap";
    checkAsyncOptions(options, kMapAsyncKeys, what);
    const { chunksize } = options;
    const results = this.#chunks<R>(fn, iterable, chunksize, mode, false);
    return new AsyncResult(results, options);
  }

  #chunks<R>(
    fn: unknown,
    iterable: unknown,
    chunksize: number | undefined,
    mode: TaskMode,
    holds = true,
  ): Promise<R[]> {
    const what = mode === TaskMode.Map ? "map" : "starmap";
    this.assertRunning(what);
    const ref = poolRef(fn, what);
    checkPositiveInteger(chunksize, "chunksize", what);
    const chunks = chunksOf(iterable, chunksize, mode, this.processes, what);
    const tasks = chunks.map((chunk) =>
      this.#submit(ref, mode, chunk, undefined, holds)
    );
    return Promise.all(tasks.map((task) => task.promise)).then(
      (results) => concatAll(results as R[][]),
      (error) => {
        // Failed at its first failing chunk: the others (one that never
        // answers, say) no longer keep the program alive, as in CPython.
        for (const task of tasks) task.unhold();
        throw error;
      },
    );
  }

  /**
   * imap and imapUnordered. Whether the pool runs is checked at the call,
   * as in CPython: an imap made before close() is read to its end (the
   * workers stay for it until then, or until join()); the other checks run
   * on the first next().
   */
  lazy<R>(
    fn: unknown,
    iterable: unknown,
    chunksize: number | undefined,
    ordered: boolean,
  ): AsyncGenerator<R, void, undefined> {
    let admitted = this.state === "running";
    if (admitted) this.#admitted++;
    const release = () => {
      if (!admitted) return;
      admitted = false;
      if (--this.#admitted === 0 && this.#closing) this.engine.close();
    };
    return this.#lazy(fn, iterable, { chunksize, ordered, admitted, release });
  }

  async *#lazy<R>(
    fn: unknown,
    iterable: unknown,
    how: {
      chunksize: number | undefined;
      ordered: boolean;
      admitted: boolean;
      release: () => void;
    },
  ): AsyncGenerator<R, void, undefined> {
    const { chunksize, ordered, admitted, release } = how;
    const what = ordered ? "imap" : "imapUnordered";
    // Past close() and join(), the engine takes no more of its chunks.
    const check = () => {
      if (!admitted || this.engine.state !== "running") {
        this.assertRunning(what);
      }
    };
    const inFlight = new Set<PromiseTask>();
    try {
      check();
      const ref = poolRef(fn, what);
      checkPositiveInteger(chunksize, "chunksize", what);
      const iterator = iteratorOf(iterable, what);
      const run = (chunk: unknown[]) => {
        check();
        const payload = reduce(chunk, "iterable", what);
        const task = this.#submit(ref, TaskMode.Map, payload);
        inFlight.add(task);
        const done = () => inFlight.delete(task);
        task.promise.then(done, done);
        return task.promise as Promise<unknown[]>;
      };
      // Bounded read-ahead: at most 2 × processes chunks are in flight or
      // waiting to be yielded, whatever the size of the input.
      const window = 2 * this.processes;
      const results = readAhead(
        iterator,
        chunksize ?? 1,
        window,
        ordered,
        run,
      );
      yield* results as AsyncGenerator<R, void, undefined>;
    } finally {
      // Left early (break, an error): nobody waits for its chunks now.
      for (const task of inFlight) task.unhold();
      release();
    }
  }
}

// How many arrays one concat() call takes: its arguments go on the stack.
const kConcatArgs = 1024;

/**
 * The chunks' results in one array. `flat(1)` copies element by element,
 * 2–3× slower than `concat()`'s block copies for a map of 200 000 numbers.
 */
function concatAll<R>(arrays: R[][]): R[] {
  if (arrays.length <= kConcatArgs) return ([] as R[]).concat(...arrays);
  const parts: R[][] = [];
  for (let i = 0; i < arrays.length; i += kConcatArgs) {
    parts.push(([] as R[]).concat(...arrays.slice(i, i + kConcatArgs)));
  }
  return concatAll(parts);
}
