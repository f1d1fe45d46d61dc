/**
 * `RLock`: a recursive lock owned by a process (CPython's
 * `multiprocessing.RLock`).
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
import {
  kLockDepth,
  kLockOwner,
  kLockSlots,
  kLockState,
} from "../_wire/layouts.ts";
import { Adopted, construct } from "../_memory/adopt.ts";
import { lockAsync, lockSync, tryLock, wakeOne } from "../_memory/mutex.ts";

/**
 * A recursive lock: the process that holds it may acquire it again, and
 * must release it as many times as it acquired it before another process
 * can take it. Only the owner may release it.
 *
 * The owner is the current *process* (its pid): on the main thread, two
 * async tasks count as the same owner, as two coroutines of one Python
 * thread do. Use a {@linkcode Lock} to exclude tasks of one process from
 * each other.
 *
 * `acquire()`/`hold()` never block the thread; `acquireSync()`/`holdSync()`
 * block the calling worker, and on the main thread throw rather than wait.
 *
 * @example Nested acquisition
 * ```ts
 * import { RLock } from "@dmp/multiprocessing";
 * import { ok as assert } from "node:assert/strict";
 *
 * const lock = new RLock();
 * {
 *   using _outer = await lock.hold();
 *   using _inner = await lock.hold(); // the owner may re-enter
 *   assert(lock.locked());
 * }
 * assert(!lock.locked());
 * ```
 */
export class RLock extends SemLock {
  #a: Int32Array;
  // One attempt: re-enter when this process owns the lock, else take it.
  #try = (): boolean => {
    const me = state().pid;
    if (this.#reenter(me)) return true;
    if (!tryLock(this.#a, kLockState)) return false;
    this.#own(me);
    return true;
  };

  /** Creates an unlocked recursive lock. */
  constructor();
  constructor(from?: unknown) {
    super();
    const a = from instanceof Adopted
      ? from.memory as Int32Array
      : new Int32Array(new SharedArrayBuffer(kLockSlots * 4));
    this.#a = a;
  }

  // True (and one level deeper) when this process already owns the lock.
  #reenter(me: number): boolean {
    const a = this.#a;
    if (a[kLockOwner] !== me || Atomics.load(a, kLockState) === 0) {
      return false;
    }
    a[kLockDepth]++;
    return true;
  }

  // Records this process as the holder, `depth` deep; true, for acquire.
  #own(me = state().pid, depth = 1): true {
    this.#a[kLockOwner] = me;
    this.#a[kLockDepth] = depth;
    return true;
  }

  /**
   * Acquires the lock (again, when this process owns it), waiting without
   * blocking the thread.
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {TypeError} When an option has the wrong type.
   *
   * @example Using acquire()
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const lock = new RLock();
   * assert(await lock.acquire());
   * assert(await lock.acquire({ block: false })); // re-entered
   * lock.release();
   * lock.release();
   * ```
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const step = acquireStep(options, "acquire lock", this.#try);
    if (typeof step === "boolean") return step;
    return await lockAsync(this.#a, kLockState, step) && this.#own();
  }

  /**
   * Acquires the lock (again, when this process owns it), blocking the
   * thread while it waits (worker code).
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {ProcessError} On the main thread when another process holds it.
   * @throws {TypeError} When an option has the wrong type.
   *
   * @example Using acquireSync()
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const lock = new RLock();
   * assert(lock.acquireSync());
   * lock.release();
   * ```
   */
  acquireSync(options?: AcquireOptions): boolean {
    const step = acquireStep(options, "acquire lock", this.#try, true);
    if (typeof step === "boolean") return step;
    return lockSync(this.#a, kLockState, step) && this.#own();
  }

  /**
   * Releases one level of the lock; the last release unlocks it.
   *
   * @throws {ProcessError} When this process does not own the lock.
   *
   * @example Using release()
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   * import { throws } from "node:assert/strict";
   *
   * throws(() => new RLock().release());
   * ```
   */
  release(): void {
    const a = this.#a;
    if (a[kLockOwner] !== state().pid || Atomics.load(a, kLockState) === 0) {
      // See Lock.release(): a terminated child's disposers must not throw.
      if (stopRequested()) return;
      throw new ProcessError(
        "Cannot release lock as it is not owned by this process",
      );
    }
    if (--a[kLockDepth] > 0) return;
    this.#unlock();
  }

  #unlock(): void {
    const a = this.#a;
    a[kLockOwner] = 0;
    a[kLockDepth] = 0;
    Atomics.store(a, kLockState, 0);
    wakeOne(a, kLockState);
  }

  /**
   * Whether some process holds the lock right now, at any depth.
   *
   * @returns `true` while locked.
   *
   * @example Locked until the last release
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const lock = new RLock();
   * await lock.acquire();
   * await lock.acquire();
   * lock.release();
   * assert.equal(lock.locked(), true); // one level is still held
   * lock.release();
   * assert.equal(lock.locked(), false);
   * ```
   */
  locked(): boolean {
    return Atomics.load(this.#a, kLockState) !== 0;
  }

  /** Internal: true when this process owns the lock. */
  [kIsMine](): boolean {
    // Only the owner's acquires raise the depth, and the last release
    // clears the owner with it.
    return this.#a[kLockDepth] > 0 && this.#a[kLockOwner] === state().pid;
  }

  /** Internal: releases every level for Condition.wait(). */
  [kReleaseSave](): number {
    const depth = this.#a[kLockDepth];
    this.#unlock();
    return depth;
  }

  /** Internal: takes the lock back, to the saved depth. */
  [kAcquireRestoreSync](depth: number): void {
    lockSync(this.#a, kLockState);
    this.#own(state().pid, depth);
  }

  /** Internal: takes the lock back, to the saved depth. */
  async [kAcquireRestore](depth: number): Promise<void> {
    await lockAsync(this.#a, kLockState);
    this.#own(state().pid, depth);
  }

  /** Internal: takes the lock for a Value accessor (re-entering if owned). */
  [kAcquireBrief](_what: string): void {
    const me = state().pid;
    if (this.#reenter(me)) return;
    this[kAcquireRestoreSync](1);
  }

  /** Describes the lock for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return describe("RLock", { buffer: this.#a.buffer });
  }

  /** Shows the state in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    const a = this.#a;
    return this.locked()
      ? `RLock { owner: ${a[kLockOwner]}, depth: ${a[kLockDepth]} }`
      : "RLock { locked: false }";
  }
}

registerReviver(
  "RLock",
  (d) => construct(RLock, new Adopted(new Int32Array(d.buffer as ArrayBuffer))),
);
