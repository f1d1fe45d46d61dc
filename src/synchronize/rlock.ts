/**
 * `RLock`: a recursive lock owned by a process (CPython's
 * `multiprocessing.RLock`).
 *
 * @module
 */

import { registerReviver } from "../reduction.ts";
import { kSemCore } from "./_sync.ts";
import { LockCore } from "./_lock_core.ts";
import { SemLock } from "./sem_lock.ts";
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
export class RLock extends SemLock {
  #core: LockCore;

  /** Creates an unlocked recursive lock. */
  constructor();
  constructor(from?: unknown) {
    super();
    this.#core = new LockCore(from, true);
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
    return this.#core.locked();
  }

  /** @ignore Internal: the state and rules of the lock. */
  [kSemCore](): LockCore {
    return this.#core;
  }
}

registerReviver(
  "RLock",
  (d) => construct(RLock, new Adopted(new Int32Array(d.buffer as ArrayBuffer))),
);
