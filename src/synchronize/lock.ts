/**
 * `Lock`: a non-recursive lock shared by processes (CPython's
 * `multiprocessing.Lock`).
 *
 * @module
 */

import { registerReviver } from "../reduction.ts";
import { kSemCore } from "./_sync.ts";
import { LockCore } from "./_lock_core.ts";
import { SemLock } from "./sem_lock.ts";
import { Adopted, construct } from "../_memory/adopt.ts";

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
  #core: LockCore;

  /** Creates an unlocked lock. */
  constructor();
  constructor(from?: unknown) {
    super();
    this.#core = new LockCore(from, false);
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
    return this.#core.locked();
  }

  /** @ignore Internal: the state and rules of the lock. */
  [kSemCore](): LockCore {
    return this.#core;
  }
}

registerReviver(
  "Lock",
  (d) => construct(Lock, new Adopted(new Int32Array(d.buffer as ArrayBuffer))),
);
