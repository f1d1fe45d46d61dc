/**
 * `Semaphore` and `BoundedSemaphore` shared by processes (CPython's
 * `multiprocessing.Semaphore` / `BoundedSemaphore`).
 *
 * @module
 */

import { registerReviver } from "../reduction.ts";
import { checkIntegerIn } from "../_core/validate.ts";
import { kSemCore } from "./_sync.ts";
import { SemLock } from "./sem_lock.ts";
import { SemaphoreCore } from "./_semaphore_core.ts";
import { kSemaphoreUnbounded as kUnbounded } from "../_wire/layouts.ts";
import { Adopted, construct } from "../_memory/adopt.ts";

/**
 * A counter that `acquire()` decrements, waiting while it is zero, and
 * `release()` increments.
 *
 * `acquire()`/`hold()` never block the thread; `acquireSync()`/`holdSync()`
 * block the calling worker, and on the main thread throw rather than wait.
 *
 * @example Limit how many holders run at once
 * ```ts
 * import { Semaphore } from "@dmp/multiprocessing";
 * import { ok as assert } from "node:assert/strict";
 *
 * const slots = new Semaphore(2);
 * using _a = await slots.hold();
 * using _b = await slots.hold();
 * assert(slots.getValue() === 0);
 * assert(!(await slots.acquire({ block: false })));
 * ```
 */
export class Semaphore extends SemLock {
  #core: SemaphoreCore;

  /**
   * Creates a semaphore.
   *
   * @param value The initial count.
   * @throws {TypeError} When `value` is not an integer.
   * @throws {RangeError} When `value` is negative or above 2³¹−1.
   */
  constructor(value?: number);
  constructor(value: unknown = 1) {
    super();
    if (value instanceof Adopted) {
      this.#core = new SemaphoreCore(value.memory as Int32Array);
      return;
    }
    const what = `create ${
      new.target.name === "BoundedSemaphore" ? "bounded " : ""
    }semaphore`;
    checkIntegerIn(value, "value", what, [0, kUnbounded]);
    this.#core = new SemaphoreCore(null, value as number);
  }

  /**
   * The current count (CPython's `get_value()`).
   *
   * @returns The count.
   *
   * @example Using getValue()
   * ```ts
   * import { Semaphore } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new Semaphore(3).getValue(), 3);
   * ```
   */
  getValue(): number {
    return this.#core.value();
  }

  /** @ignore Internal: the state and rules of the semaphore. */
  [kSemCore](): SemaphoreCore {
    return this.#core;
  }
}

/**
 * A {@linkcode Semaphore} whose `release()` throws when the count would pass
 * its initial value: a release without a matching acquire is a bug caught
 * early.
 *
 * @example Using BoundedSemaphore
 * ```ts
 * import { BoundedSemaphore } from "@dmp/multiprocessing";
 * import { throws } from "node:assert/strict";
 *
 * const sem = new BoundedSemaphore(1);
 * throws(() => sem.release());
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /**
   * Creates a bounded semaphore.
   *
   * @param value The initial count, which is also the highest it may reach.
   * @throws {TypeError} When `value` is not an integer.
   * @throws {RangeError} When `value` is negative or above 2³¹−1.
   */
  constructor(value?: number);
  constructor(value: unknown = 1) {
    super(value as number);
    if (!(value instanceof Adopted)) this[kSemCore]().bound();
  }
}

registerReviver("Semaphore", (d) => {
  const memory = new Adopted(new Int32Array(d.buffer as ArrayBuffer));
  return construct(d.bounded ? BoundedSemaphore : Semaphore, memory);
});
