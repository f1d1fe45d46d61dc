/**
 * `SemLock`: what every primitive that is acquired and released has in
 * common (CPython's `multiprocessing.synchronize.SemLock`, the base of its
 * Lock, RLock and Semaphore).
 *
 * @module
 */

import { type AcquireOptions, kSemCore, type SemCore } from "./_sync.ts";
import { kReduce, type SharedDescriptor } from "../reduction.ts";

// A class, not an object literal: a literal with a computed
// [Symbol.dispose] key is built in dictionary mode, several times slower.
class Held implements Disposable {
  #owner: SemLock | null;
  constructor(owner: SemLock) {
    this.#owner = owner;
  }
  [Symbol.dispose](): void {
    const owner = this.#owner;
    if (owner === null) return;
    this.#owner = null;
    owner.release();
  }
}

/**
 * The base of {@linkcode Lock}, {@linkcode RLock}, {@linkcode Semaphore} and
 * {@linkcode BoundedSemaphore}: each acquires (`acquire()` without blocking
 * the thread, `acquireSync()` blocking it) and releases, and so each can be
 * held for a block. CPython's `with lock:` reads
 * `using _ = await lock.hold();`.
 *
 * Not constructed directly: write code that accepts any of the four.
 *
 * @example Code that accepts any of the primitives
 * ```ts
 * import { Lock, RLock, Semaphore, type SemLock } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * async function guarded(gate: SemLock, work: () => number): Promise<number> {
 *   using _ = await gate.hold();
 *   return work();
 * }
 *
 * for (const gate of [new Lock(), new RLock(), new Semaphore(2)]) {
 *   assert.equal(await guarded(gate, () => 42), 42);
 * }
 * ```
 */
export abstract class SemLock {
  /** @ignore Internal: the state and rules behind the methods below. */
  abstract [kSemCore](): SemCore;

  /**
   * Acquires, waiting without blocking the thread. An RLock's holder takes
   * it again at once (one level deeper); a Semaphore takes one count.
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example Try once, then wait a little
   * ```ts
   * import { Lock } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert(await lock.acquire());
   * assert(!(await lock.acquire({ block: false })));
   * assert(!(await lock.acquire({ timeout: 0.01 })));
   * lock.release();
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this[kSemCore]().acquire(options);
  }

  /**
   * Acquires, blocking the thread while it waits (worker code).
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once acquired; `false` when not acquired in time.
   * @throws {ProcessError} On the main thread when it would have to wait
   * (use `await acquire()` there).
   * @throws {TypeError} When an option is unknown or has the wrong type.
   *
   * @example An RLock's holder re-enters without waiting
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const lock = new RLock();
   * assert(lock.acquireSync());
   * assert(lock.acquireSync({ block: false })); // one level deeper
   * lock.release();
   * lock.release();
   * ```
   */
  acquireSync(options?: AcquireOptions): boolean {
    return this[kSemCore]().acquireSync(options);
  }

  /**
   * Releases once. Any process may release a Lock or a Semaphore; only the
   * holder may release an RLock, and its last release unlocks it.
   *
   * @throws {ProcessError} When a Lock is not locked, this process does not
   * hold the RLock, or a BoundedSemaphore would rise above its initial value.
   *
   * @example Releasing an unlocked Lock throws
   * ```ts
   * import { Lock } from "@dmp/multiprocessing";
   * import { throws } from "node:assert/strict";
   *
   * throws(() => new Lock().release());
   * ```
   */
  release(): void {
    this[kSemCore]().release();
  }

  /**
   * Acquires and returns a Disposable that releases once, at the end of the
   * block: `using _ = await lock.hold();` (an RLock's hold takes and gives
   * back one level; a Semaphore's one count).
   *
   * @returns The release handle.
   *
   * @example Held for a block
   * ```ts
   * import { Lock, Semaphore } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * {
   *   using _ = await lock.hold();
   *   assert.equal(await lock.acquire({ block: false }), false);
   * }
   * assert.equal(lock.locked(), false); // released at the block's end
   *
   * const slots = new Semaphore(2);
   * {
   *   using _ = await slots.hold();
   *   assert.equal(slots.getValue(), 1);
   * }
   * assert.equal(slots.getValue(), 2);
   * ```
   */
  async hold(): Promise<Disposable> {
    await this.acquire();
    return new Held(this);
  }

  /**
   * Acquires, blocking the thread (worker code), and returns a Disposable
   * that releases once: `using _ = lock.holdSync();`.
   *
   * @returns The release handle.
   * @throws {ProcessError} On the main thread when acquiring would have to
   * wait (use `await hold()` there).
   *
   * @example Re-entering an RLock with holdSync()
   * ```ts
   * import { RLock } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const lock = new RLock();
   * {
   *   using _outer = lock.holdSync(); // free, so even the main thread may take it
   *   using _inner = lock.holdSync(); // the owner never waits for itself
   *   assert.equal(lock.locked(), true);
   * }
   * assert.equal(lock.locked(), false); // each level released
   * ```
   */
  holdSync(): Disposable {
    this.acquireSync();
    return new Held(this);
  }

  /** Describes the primitive for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return this[kSemCore]().describe();
  }

  /** Shows the state in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this[kSemCore]().inspect(this.constructor.name);
  }
}
