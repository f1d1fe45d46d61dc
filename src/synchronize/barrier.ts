/**
 * `Barrier`: a meeting point for a fixed number of processes (CPython's
 * `multiprocessing.Barrier`, i.e. `threading.Barrier` over shared memory).
 *
 * @module
 */

import { describe, kReduce, registerReviver, revive } from "../reduction.ts";
import type { SharedDescriptor } from "../reduction.ts";
import { ProcessError } from "../errors.ts";
import { ExitSignal } from "../_core/state.ts";
import { callerUrl, loadTarget, type TargetRef } from "../_core/target.ts";
import { Condition } from "./condition.ts";
import { Lock } from "./lock.ts";
import { checkIntegerIn, checkTimeout } from "../_core/validate.ts";
import { assertMayBlock, kSemCore } from "./_sync.ts";
import {
  type ActionRef,
  actionRef,
  advance,
  type BarrierMemory,
  barrierSteps,
  breakBarrier,
  type Outcome,
} from "./_barrier_steps.ts";
import {
  kBarrierBroken as kBroken,
  kBarrierCount as kCount,
  kBarrierFilling as kFilling,
  kBarrierResetting as kResetting,
  kBarrierState as kState,
} from "../_wire/layouts.ts";
import { Adopted, construct } from "../_memory/adopt.ts";

// The algorithm (CPython's threading.Barrier) is in _barrier_steps.ts.

/**
 * A barrier for `parties` processes: each `wait()` blocks until `parties`
 * waiters have arrived, then all of them go on together and the barrier
 * fills again (one *generation* per round). Each waiter gets a different
 * index from 0 to `parties - 1` (its arrival order); the last to arrive
 * runs `action` first.
 *
 * `abort()`, `reset()`, a timed-out `wait()` and a throwing `action` break
 * the barrier: pending and later waits throw {@linkcode BrokenBarrierError}
 * until `reset()`.
 *
 * In a child, `action` is imported from its module when the barrier
 * arrives (it must be an exported function or a `"./module.ts#name"`
 * reference, as a Process target). `wait()` waits for that import;
 * `waitSync()` cannot, and throws a clear error while it is pending, so a
 * child that uses `waitSync()` should make its first wait an
 * `await barrier.wait()`.
 *
 * `wait()` never blocks the thread; `waitSync()` blocks the calling worker
 * and throws on the main thread unless it is the last to arrive.
 *
 * @example Two async tasks meet
 * ```ts
 * import { Barrier } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const barrier = new Barrier(2);
 * const indices = await Promise.all([barrier.wait(), barrier.wait()]);
 * assert.deepEqual(indices.sort(), [ 0, 1 ]);
 * ```
 */
export class Barrier {
  #s: Int32Array;
  #cond: Condition;
  #lock: Lock;
  #parties: number;
  #timeout: number | undefined;
  #action: (() => unknown) | undefined;
  #actionRef: ActionRef | undefined;
  #caller: string | undefined;
  #loading: Promise<void> | undefined;
  #loadError: unknown;

  /**
   * Creates a barrier.
   *
   * @param parties How many waiters make a generation.
   * @param action Run by the last waiter of each generation before the
   * others are released: a function, or a `"./module.ts#name"` reference
   * (imported when needed). When the barrier is shared with children it
   * must be an export of the module that creates the barrier, or a reference.
   * @param timeout The default timeout of `wait()`, in seconds.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} When `parties` is below 1.
   */
  constructor(
    parties: number,
    action?: (() => unknown) | string | URL,
    timeout?: number,
  );
  constructor(
    parties: number,
    action?: (() => unknown) | string | URL,
    timeout?: number,
    adopted?: unknown,
  ) {
    checkIntegerIn(parties, "parties", "create barrier", [1, 0x7fffffff]);
    if (
      action !== undefined && action !== null &&
      typeof action !== "function" && typeof action !== "string" &&
      !(action instanceof URL)
    ) {
      throw new TypeError(
        `Cannot create barrier as 'action' must be a function or a './module.ts#name' reference: current value is ${
          Deno.inspect(action)
        }`,
      );
    }
    checkTimeout(timeout, "create barrier");
    this.#parties = parties;
    this.#timeout = timeout;
    const from = adopted instanceof Adopted
      ? adopted.memory as BarrierMemory
      : undefined;
    if (from === undefined) {
      const lock = new Lock();
      this.#s = new Int32Array(new SharedArrayBuffer(8));
      this.#lock = lock;
      this.#cond = new Condition(lock);
      this.#caller = callerUrl();
      if (typeof action === "function") this.#action = action;
      else if (action !== undefined && action !== null) {
        this.#actionRef = actionRef(action, this.#caller, "create barrier");
        this.#load(this.#actionRef);
      }
    } else {
      this.#s = from.state;
      this.#lock = from.lock;
      this.#cond = from.cond;
      this.#actionRef = from.action;
      if (from.action !== null) this.#load(from.action);
    }
  }

  // Child side: imports the action; a failure surfaces at the next wait.
  #load(ref: TargetRef): void {
    this.#loading = loadTarget(ref).then(
      (action) => {
        this.#action = action;
      },
      (error) => {
        this.#loadError = error;
      },
    ).finally(() => {
      this.#loading = undefined;
    });
  }

  /** How many waiters make a generation. */
  get parties(): number {
    return this.#parties;
  }

  /** How many waiters are waiting in the current generation. */
  get nWaiting(): number {
    const s = this.#s;
    return Atomics.load(s, kState) === kFilling ? Atomics.load(s, kCount) : 0;
  }

  /** Whether the barrier is broken (until `reset()`). */
  get broken(): boolean {
    return Atomics.load(this.#s, kState) === kBroken;
  }

  #break(): void {
    breakBarrier(this.#s, this.#cond);
  }

  #timeoutOf(timeout: number | undefined): number | undefined {
    if (timeout === undefined) return this.#timeout;
    checkTimeout(timeout, "wait on barrier");
    return timeout;
  }

  #runAction(): void {
    if (this.#loadError !== undefined) throw this.#loadError;
    this.#action?.();
  }

  /**
   * Waits until `parties` waiters have arrived, without blocking the thread.
   *
   * @param timeout Seconds to wait at most; the barrier's default otherwise.
   * @returns This waiter's index, from 0 (first to arrive) to `parties - 1`.
   * @throws {BrokenBarrierError} When the barrier is or becomes broken, or
   * this wait times out (which breaks it).
   * @throws {TypeError} When `timeout` is not a number.
   *
   * @example Using wait()
   * ```ts
   * import { Barrier } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(1);
   * assert.deepEqual(await barrier.wait(), 0); // one party is a full generation
   * ```
   */
  async wait(timeout?: number): Promise<number> {
    const t = this.#timeoutOf(timeout);
    // Import the action before taking the lock: the lock is never held
    // across an await other than the condition's own wait.
    if (this.#loading !== undefined) await this.#loading;
    await this.#lock[kSemCore]().acquireRestore(1);
    const steps = barrierSteps(this.#s, this.#parties, this.#cond, t);
    let outcome: Outcome = { result: true };
    try {
      for (;;) {
        const ask = advance(steps, outcome, () => this.#runAction());
        if ("index" in ask) return ask.index;
        try {
          outcome = { result: await this.#cond.wait(ask.seconds) };
        } catch (error) {
          outcome = { error };
        }
      }
    } finally {
      this.#cond.release();
    }
  }

  /**
   * Waits until `parties` waiters have arrived, blocking the thread (worker
   * code).
   *
   * @param timeout Seconds to wait at most; the barrier's default otherwise.
   * @returns This waiter's index, from 0 (first to arrive) to `parties - 1`.
   * @throws {BrokenBarrierError} When the barrier is or becomes broken, or
   * this wait times out (which breaks it).
   * @throws {ProcessError} On the main thread when it would have to wait,
   * or in a child before the action's module is imported.
   *
   * @example Using waitSync()
   * ```ts
   * import { Barrier } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(1);
   * assert.deepEqual(barrier.waitSync(), 0); // the last to arrive never waits
   * ```
   */
  waitSync(timeout?: number): number {
    const t = this.#timeoutOf(timeout);
    if (this.#loading !== undefined) {
      throw new ProcessError(
        "Cannot wait on barrier synchronously as its action is still being imported in this process: make the first wait 'await barrier.wait()'",
      );
    }
    this.#lock[kSemCore]().acquireRestoreSync(1);
    const steps = barrierSteps(this.#s, this.#parties, this.#cond, t);
    let outcome: Outcome = { result: true };
    let locked = true;
    try {
      for (;;) {
        const ask = advance(steps, outcome, () => this.#runAction());
        if ("index" in ask) return ask.index;
        try {
          assertMayBlock("wait on barrier", "barrier.wait()");
          outcome = { result: this.#cond.waitSync(ask.seconds) };
        } catch (error) {
          // A terminated child unwinds at once: its lock is already given
          // up, and its count stays (the barrier breaks on others' timeouts).
          if (error instanceof ExitSignal) {
            locked = false;
            throw error;
          }
          outcome = { error };
        }
      }
    } finally {
      if (locked) this.#cond.release();
    }
  }

  /**
   * Returns the barrier to its empty state; waiters still inside `wait()`
   * get {@linkcode BrokenBarrierError}. A broken barrier is usable again
   * once they have left.
   *
   * @example Using reset()
   * ```ts
   * import { Barrier } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(2);
   * barrier.abort();
   * barrier.reset();
   * assert.deepEqual(barrier.broken, false);
   * ```
   */
  reset(): void {
    this.#lock[kSemCore]().acquireBrief("reset barrier");
    try {
      const s = this.#s;
      if (s[kCount] > 0) {
        if (s[kState] === kFilling || s[kState] === kBroken) {
          Atomics.store(s, kState, kResetting);
        }
      } else {
        Atomics.store(s, kState, kFilling);
      }
      this.#cond.notifyAll();
    } finally {
      this.#cond.release();
    }
  }

  /**
   * Breaks the barrier: current and future waits throw
   * {@linkcode BrokenBarrierError} until `reset()`.
   *
   * @example Using abort()
   * ```ts
   * import { Barrier } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(2);
   * barrier.abort();
   * assert.deepEqual(barrier.broken, true);
   * ```
   */
  abort(): void {
    this.#lock[kSemCore]().acquireBrief("abort barrier");
    try {
      this.#break();
    } finally {
      this.#cond.release();
    }
  }

  /** Describes the barrier for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    let action: ActionRef = this.#actionRef ?? null;
    if (this.#actionRef === undefined && this.#action !== undefined) {
      action = actionRef(this.#action, this.#caller, "send barrier");
    }
    return describe("Barrier", {
      buffer: this.#s.buffer,
      lock: this.#lock[kReduce](),
      cond: this.#cond[kReduce](),
      parties: this.#parties,
      timeout: this.#timeout,
      action,
    });
  }

  /** Shows the state in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Barrier { parties: ${this.#parties}, nWaiting: ${this.nWaiting}, broken: ${this.broken} }`;
  }
}

registerReviver("Barrier", (d) => {
  const memory = new Adopted<BarrierMemory>({
    state: new Int32Array(d.buffer as ArrayBuffer),
    lock: revive(d.lock) as Lock,
    cond: revive(d.cond) as Condition,
    action: d.action as ActionRef,
  });
  return construct(Barrier, d.parties, undefined, d.timeout, memory);
});
