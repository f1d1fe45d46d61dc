// The rules behind Semaphore and BoundedSemaphore: a counter word that
// acquire takes one from (waiting while it is zero) and release gives one
// back, up to a bound word (2³¹−1 for an unbounded semaphore).

import { describe, type SharedDescriptor } from "../reduction.ts";
import { ProcessError } from "../errors.ts";
import { type AcquireOptions, acquireStep, type SemCore } from "./_sync.ts";
import { blockAsync, blockSync, type Gate, wakeOne } from "../_memory/mutex.ts";
import {
  kSemaphoreBound as kBound,
  kSemaphoreSlots as kSlots,
  kSemaphoreUnbounded as kUnbounded,
  kSemaphoreValue as kValue,
} from "../_wire/layouts.ts";

/** The state and rules of a Semaphore. */
export class SemaphoreCore implements SemCore {
  readonly #a: Int32Array;
  #take = (): boolean => {
    const c = Atomics.load(this.#a, kValue);
    return c > 0 && Atomics.compareExchange(this.#a, kValue, c, c - 1) === c;
  };
  // Acquirers sleep while the count is 0.
  readonly #gate: Gate;

  /**
   * @param memory The memory of a revived semaphore, or null for a new one.
   * @param value A new semaphore's count.
   */
  constructor(memory: Int32Array | null, value = 0) {
    if (memory === null) {
      memory = new Int32Array(new SharedArrayBuffer(kSlots * 4));
      memory[kValue] = value;
      memory[kBound] = kUnbounded;
    }
    this.#a = memory;
    this.#gate = { a: memory, i: kValue, busy: 0, take: this.#take };
  }

  /** Makes the count the highest it may reach (a BoundedSemaphore). */
  bound(): void {
    this.#a[kBound] = this.#a[kValue];
  }

  async acquire(options: AcquireOptions | undefined): Promise<boolean> {
    const step = acquireStep(options, "acquire semaphore", this.#take);
    if (typeof step === "boolean") return step;
    return await blockAsync(this.#gate, step);
  }

  acquireSync(options: AcquireOptions | undefined): boolean {
    const step = acquireStep(options, "acquire semaphore", this.#take, true);
    if (typeof step === "boolean") return step;
    return blockSync(this.#gate, step);
  }

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

  value(): number {
    return Atomics.load(this.#a, kValue);
  }

  describe(): SharedDescriptor {
    return describe("Semaphore", {
      buffer: this.#a.buffer,
      bounded: this.#a[kBound] !== kUnbounded,
    });
  }

  inspect(kind: string): string {
    return `${kind} { value: ${this.value()} }`;
  }
}
