/**
 * `RLock`: a recursive lock owned by a process (CPython's
 * `multiprocessing.RLock`).
 *
 * @module
 */

import {
  describe,
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";
import { state, stopRequested } from "../_core/state.ts";
import { ProcessError } from "../errors.ts";
import {
  acquireDeadline,
  type AcquireOptions,
  assertMayBlock,
  blockAsync,
  blockSync,
  kAcquireBrief,
  kAcquireRestore,
  kAcquireRestoreSync,
  kIsMine,
  kLockDepth,
  kLockOwner,
  kLockSlots,
  kLockState,
  kReleaseSave,
  releaser,
  tryLock,
  wakeOne,
} from "./_sync.ts";
import { Adopted, construct } from "../_memory/adopt.ts";

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
export class RLock {
  #a: Int32Array;
  #take: () => boolean;

  /** Creates an unlocked recursive lock. */
  constructor();
  constructor(from?: unknown) {
    const a = from instanceof Adopted
      ? from.memory as Int32Array
      : new Int32Array(new SharedArrayBuffer(kLockSlots * 4));
    this.#a = a;
    this.#take = () => tryLock(a, kLockState);
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

  #own(me: number, depth = 1): void {
    this.#a[kLockOwner] = me;
    this.#a[kLockDepth] = depth;
  }

  /**
   * Acquires the lock (again, when this process owns it), waiting without
   * blocking the thread.
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When `timeout` is negative.
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
    const deadline = acquireDeadline(options, "acquire lock");
    const me = state().pid;
    if (this.#reenter(me)) return true;
    const a = this.#a;
    if (tryLock(a, kLockState)) {
      this.#own(me);
      return true;
    }
    if (deadline === null) return false;
    const ok = await blockAsync(a, kLockState, 1, this.#take, deadline);
    if (ok) this.#own(me);
    return ok;
  }

  /**
   * Acquires the lock (again, when this process owns it), blocking the
   * thread while it waits (worker code).
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {ProcessError} On the main thread when another process holds it.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When `timeout` is negative.
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
    const deadline = acquireDeadline(options, "acquire lock");
    const me = state().pid;
    if (this.#reenter(me)) return true;
    const a = this.#a;
    if (tryLock(a, kLockState)) {
      this.#own(me);
      return true;
    }
    if (deadline === null) return false;
    assertMayBlock("acquire lock", "lock.acquire()");
    const ok = blockSync(a, kLockState, 1, this.#take, deadline);
    if (ok) this.#own(me);
    return ok;
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
   * Whether some process holds the lock right now.
   *
   * @returns `true` while locked.
   *
   * @example Using locked()
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new RLock().locked(), false);
   * ```
   */
  locked(): boolean {
    return Atomics.load(this.#a, kLockState) !== 0;
  }

  /**
   * Acquires the lock and returns a Disposable that releases one level:
   * `using _ = await lock.hold();`.
   *
   * @returns The release handle.
   *
   * @example Using hold()
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   *
   * const lock = new RLock();
   * {
   *   using _ = await lock.hold();
   * }
   * ```
   */
  async hold(): Promise<Disposable> {
    await this.acquire();
    return releaser(this);
  }

  /**
   * Acquires the lock, blocking the thread (worker code), and returns a
   * Disposable that releases one level: `using _ = lock.holdSync();`.
   *
   * @returns The release handle.
   * @throws {ProcessError} On the main thread when another process holds it.
   *
   * @example Using holdSync()
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   *
   * const lock = new RLock();
   * {
   *   using _ = lock.holdSync();
   * }
   * ```
   */
  holdSync(): Disposable {
    this.acquireSync();
    return releaser(this);
  }

  /** Internal: true when this process owns the lock. */
  [kIsMine](): boolean {
    return this.locked() && this.#a[kLockOwner] === state().pid;
  }

  /** Internal: releases every level for Condition.wait(). */
  [kReleaseSave](): number {
    const depth = this.#a[kLockDepth];
    this.#unlock();
    return depth;
  }

  /** Internal: takes the lock back, to the saved depth. */
  [kAcquireRestoreSync](depth: number): void {
    const a = this.#a;
    if (!tryLock(a, kLockState)) {
      blockSync(a, kLockState, 1, this.#take, Infinity);
    }
    this.#own(state().pid, depth);
  }

  /** Internal: takes the lock back, to the saved depth. */
  async [kAcquireRestore](depth: number): Promise<void> {
    const a = this.#a;
    if (!tryLock(a, kLockState)) {
      await blockAsync(a, kLockState, 1, this.#take, Infinity);
    }
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
