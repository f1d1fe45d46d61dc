/**
 * `Lock`: a non-recursive lock shared by processes (CPython's
 * `multiprocessing.Lock`).
 *
 * @module
 */

import { describe, kReduce, registerReviver } from "../reduction.ts";
import type { SharedDescriptor } from "../reduction.ts";
import { state, stopRequested } from "../_core/state.ts";
import { ProcessError } from "../errors.ts";
import {
  type AcquireOptions,
  acquireStep,
  kAcquireBrief,
  kAcquireRestore,
  kAcquireRestoreSync,
  kIsMine,
  kReleaseSave,
} from "./_sync.ts";
import { SemLock } from "./sem_lock.ts";
import { kLockOwner, kLockSlots, kLockState } from "../_wire/layouts.ts";
import { Adopted, construct } from "../_memory/adopt.ts";
import { lockAsync, lockSync, tryLock, wakeOne } from "../_memory/mutex.ts";

export type { AcquireOptions } from "./_sync.ts";

/**
 * A lock that any process holding a reference can acquire; once acquired,
 * other acquirers wait until it is released. Any process may release it
 * (it is a binary semaphore, as in CPython), but releasing an unlocked lock
 * throws.
 *
 * The lock is one word of a SharedArrayBuffer: acquiring an uncontended
 * lock is a single compare-and-swap. A contended acquire spins briefly,
 * then sleeps (Atomics.wait in workers, Atomics.waitAsync on the main
 * thread).
 *
 * `acquire()`/`hold()` never block the thread and are the forms to use on
 * the main thread. `acquireSync()`/`holdSync()` block the calling worker;
 * on the main thread they succeed only when the lock is free and throw a
 * {@linkcode ProcessError} rather than freeze the event loop.
 *
 * @example Guard a critical section with `using`
 * ```ts
 * import { Lock } from "@dmp/multiprocessing";
 * import { ok as assert } from "node:assert/strict";
 *
 * const lock = new Lock();
 * {
 *   using _ = await lock.hold();
 *   assert(lock.locked());
 * }
 * assert(!lock.locked());
 * ```
 *
 * @example Share it with children
 * ```ts
 * import { Lock, Process } from "@dmp/multiprocessing";
 *
 * const lock = new Lock();
 * const target = new URL("../../examples/003_python_multiprocessing/lock_printer.ts#printer", import.meta.url);
 * const ps = ["Hello", "World"].map((m) => new Process({ target, args: [lock, m] }));
 * for (const p of ps) p.start();
 * for (const p of ps) await p.join();
 * ```
 */
export class Lock extends SemLock {
  #a: Int32Array;
  #try = (): boolean => tryLock(this.#a, kLockState) && this.#own();

  /** Creates an unlocked lock. */
  constructor();
  constructor(from?: unknown) {
    super();
    const a = from instanceof Adopted
      ? from.memory as Int32Array
      : new Int32Array(new SharedArrayBuffer(kLockSlots * 4));
    this.#a = a;
  }

  /**
   * Acquires the lock, waiting without blocking the thread.
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example Using acquire()
   * ```ts
   * import { Lock } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert(await lock.acquire());
   * assert(!(await lock.acquire({ timeout: 0.01 })));
   * lock.release();
   * ```
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const a = this.#a;
    if (options === undefined && tryLock(a, kLockState)) return this.#own();
    const step = acquireStep(options, "acquire lock", this.#try);
    if (typeof step === "boolean") return step;
    return await lockAsync(a, kLockState, step) && this.#own();
  }

  // Records this process as the holder; true, for the acquire calls.
  #own(): true {
    this.#a[kLockOwner] = state().pid;
    return true;
  }

  /**
   * Acquires the lock, blocking the thread while it waits (worker code).
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {ProcessError} On the main thread when the lock is held by
   * someone else (use `await acquire()` there).
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example Using acquireSync()
   * ```ts
   * import { Lock } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert(lock.acquireSync());
   * assert(!lock.acquireSync({ block: false }));
   * lock.release();
   * ```
   */
  acquireSync(options?: AcquireOptions): boolean {
    const a = this.#a;
    if (options === undefined && tryLock(a, kLockState)) return this.#own();
    const step = acquireStep(options, "acquire lock", this.#try, true);
    if (typeof step === "boolean") return step;
    return lockSync(a, kLockState, step) && this.#own();
  }

  /**
   * Releases the lock. Any process may release it.
   *
   * @throws {ProcessError} When the lock is not locked.
   *
   * @example Using release()
   * ```ts
   * import { Lock } from "@dmp/multiprocessing";
   * import { throws } from "node:assert/strict";
   *
   * const lock = new Lock();
   * throws(() => lock.release());
   * ```
   */
  release(): void {
    const a = this.#a;
    a[kLockOwner] = 0;
    if (Atomics.compareExchange(a, kLockState, 1, 0) !== 1) {
      // A child unwinding from terminate() runs its `finally`s and
      // disposers; one for a lock it no longer holds must not replace the
      // unwinding with an error.
      if (stopRequested()) return;
      throw new ProcessError("Cannot release lock as it is not locked");
    }
    wakeOne(a, kLockState);
  }

  /**
   * Whether some process holds the lock right now.
   *
   * @returns `true` while locked.
   *
   * @example Using locked()
   * ```ts
   * import { Lock } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new Lock().locked(), false);
   * ```
   */
  locked(): boolean {
    return Atomics.load(this.#a, kLockState) !== 0;
  }

  /** Internal: true when this process took the lock. */
  [kIsMine](): boolean {
    return this.locked() && this.#a[kLockOwner] === state().pid;
  }

  /** Internal: releases the lock for Condition.wait(). */
  [kReleaseSave](): number {
    this.release();
    return 1;
  }

  /** Internal: takes the lock back after Condition.wait(). */
  [kAcquireRestoreSync](_depth: number): void {
    lockSync(this.#a, kLockState);
    this.#own();
  }

  /** Internal: takes the lock back after Condition.wait(). */
  async [kAcquireRestore](_depth: number): Promise<void> {
    await lockAsync(this.#a, kLockState);
    this.#own();
  }

  /** Internal: takes the lock for a short library-internal section. */
  [kAcquireBrief](what: string): void {
    if (this[kIsMine]()) {
      throw new ProcessError(
        `Cannot ${what} as this process already holds its Lock, so waiting for it would never end (an RLock lets its holder re-enter)`,
      );
    }
    this[kAcquireRestoreSync](1);
  }

  /** Describes the lock for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return describe("Lock", { buffer: this.#a.buffer });
  }

  /** Shows the state in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    const owner = this.#a[kLockOwner];
    return `Lock { locked: ${this.locked()}${
      owner ? `, owner: ${owner}` : ""
    } }`;
  }
}

registerReviver(
  "Lock",
  (d) => construct(Lock, new Adopted(new Int32Array(d.buffer as ArrayBuffer))),
);
