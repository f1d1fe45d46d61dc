/**
 * `Semaphore` and `BoundedSemaphore` shared by processes (CPython's
 * `multiprocessing.Semaphore` / `BoundedSemaphore`).
 *
 * @module
 */

import {
  describe,
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";
import { ProcessError } from "../errors.ts";
import { checkIntegerIn } from "../_core/validate.ts";
import { type AcquireOptions, acquireStep } from "./_sync.ts";
import { SemLock } from "./sem_lock.ts";
import { blockAsync, blockSync, wakeOne } from "../_memory/mutex.ts";
import {
  kSemaphoreBound as kBound,
  kSemaphoreSlots as kSlots,
  kSemaphoreUnbounded as kUnbounded,
  kSemaphoreValue as kValue,
} from "../_wire/layouts.ts";
import { Adopted, construct } from "../_memory/adopt.ts";

// Layout: the Semaphore block of src/_wire/layouts.ts.

// Set in Semaphore's static block: lets BoundedSemaphore set its bound
// without a public or protected member.
let setBound: (semaphore: Semaphore, bound: number) => void;

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
  #a: Int32Array;
  #take: () => boolean;

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
    let a: Int32Array;
    if (value instanceof Adopted) {
      a = value.memory as Int32Array;
    } else {
      const what = `create ${
        new.target.name === "BoundedSemaphore" ? "bounded " : ""
      }semaphore`;
      checkIntegerIn(value, "value", what, [0, kUnbounded]);
      a = new Int32Array(new SharedArrayBuffer(kSlots * 4));
      a[kValue] = value as number;
      a[kBound] = kUnbounded;
    }
    const words = a;
    this.#a = words;
    this.#take = () => {
      const c = Atomics.load(words, kValue);
      return c > 0 && Atomics.compareExchange(words, kValue, c, c - 1) === c;
    };
  }

  static {
    setBound = (semaphore, bound) => {
      semaphore.#a[kBound] = bound;
    };
  }

  /**
   * Decrements the counter, waiting without blocking the thread while it
   * is zero.
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once decremented; `false` when not in time.
   * @throws {TypeError} When an option has the wrong type.
   *
   * @example Using acquire()
   * ```ts
   * import { Semaphore } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const sem = new Semaphore(1);
   * assert(await sem.acquire());
   * assert(!(await sem.acquire({ timeout: 0.01 })));
   * ```
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const step = acquireStep(options, "acquire semaphore", this.#take);
    if (typeof step === "boolean") return step;
    return await blockAsync(this.#a, kValue, 0, this.#take, step);
  }

  /**
   * Decrements the counter, blocking the thread while it is zero (worker
   * code).
   *
   * @param options `block: false` tries once; `timeout` bounds the wait (seconds).
   * @returns `true` once decremented; `false` when not in time.
   * @throws {ProcessError} On the main thread when the counter is zero.
   * @throws {TypeError} When an option has the wrong type.
   *
   * @example Using acquireSync()
   * ```ts
   * import { Semaphore } from "@dmp/multiprocessing";
   * import { ok as assert } from "node:assert/strict";
   *
   * const sem = new Semaphore(1);
   * assert(sem.acquireSync());
   * assert(!sem.acquireSync({ block: false }));
   * ```
   */
  acquireSync(options?: AcquireOptions): boolean {
    const step = acquireStep(options, "acquire semaphore", this.#take, true);
    if (typeof step === "boolean") return step;
    return blockSync(this.#a, kValue, 0, this.#take, step);
  }

  /**
   * Increments the counter, waking one waiter.
   *
   * @throws {ProcessError} For a BoundedSemaphore, when the counter would
   * pass its initial value; for any semaphore, past 2³¹−1.
   *
   * @example Using release()
   * ```ts
   * import { Semaphore } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(0);
   * sem.release();
   * assert.deepEqual(sem.getValue(), 1);
   * ```
   */
  release(): void {
    const a = this.#a;
    const bound = a[kBound];
    while (true) {
      const c = Atomics.load(a, kValue);
      if (c >= bound) {
        throw new ProcessError(
          bound === kUnbounded
            ? `Cannot release semaphore as its value would pass ${kUnbounded}`
            : `Cannot release bounded semaphore as it was released too many times: its value would pass ${bound}`,
        );
      }
      if (Atomics.compareExchange(a, kValue, c, c + 1) === c) break;
    }
    wakeOne(a, kValue);
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
    return Atomics.load(this.#a, kValue);
  }

  /** Describes the semaphore for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return describe("Semaphore", {
      buffer: this.#a.buffer,
      bounded: this.#a[kBound] !== kUnbounded,
    });
  }

  /** Shows the state in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `${this.constructor.name} { value: ${this.getValue()} }`;
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
    if (!(value instanceof Adopted)) setBound(this, value as number);
  }
}

registerReviver("Semaphore", (d) => {
  const memory = new Adopted(new Int32Array(d.buffer as ArrayBuffer));
  return construct(d.bounded ? BoundedSemaphore : Semaphore, memory);
});
