// The one implementation behind Lock and RLock: both are a word of shared
// memory taken with a compare-and-swap, plus the holder's pid and a depth.
// They differ only in whether the holder may take the lock again (and must
// release it as often) and in who may release it; that is one flag here,
// so the acquire paths, the Condition protocol and the release rules are
// written once.

import { state, stopRequested } from "../_core/state.ts";
import { ProcessError } from "../errors.ts";
import { assertNotRelayed } from "../_core/relayed.ts";
import {
  type AcquireOptions,
  acquireStep,
  type ConditionLock,
  kSemCore,
  type SemCore,
} from "./_sync.ts";
import {
  kLockDepth,
  kLockOwner,
  kLockSlots,
  kLockState,
} from "../_wire/layouts.ts";
import { describe, type SharedDescriptor } from "../reduction.ts";
import { Adopted } from "../_memory/adopt.ts";
import { lockAsync, lockSync, tryLock, wakeOne } from "../_memory/mutex.ts";

/** The state and rules of a Lock (`reentrant: false`) or an RLock. */
export class LockCore implements SemCore, ConditionLock {
  readonly #a: Int32Array;
  readonly #reentrant: boolean;
  // One attempt: re-enter when this process holds a reentrant lock, else take it.
  #try = (): boolean =>
    this.#reenter() || (tryLock(this.#a, kLockState) && this.#own(1));

  /**
   * @param from The memory a revived lock adopts; a new lock makes its own.
   * @param reentrant True for an RLock.
   */
  constructor(from: unknown, reentrant: boolean) {
    this.#a = from instanceof Adopted
      ? from.memory as Int32Array
      : new Int32Array(new SharedArrayBuffer(kLockSlots * 4));
    this.#reentrant = reentrant;
  }

  describe(): SharedDescriptor {
    return describe(this.#reentrant ? "RLock" : "Lock", {
      buffer: this.#a.buffer,
    });
  }

  // True (and one level deeper) when this process holds a reentrant lock.
  #reenter(): boolean {
    if (!this.#reentrant || !this.isMine()) return false;
    this.#a[kLockDepth]++;
    return true;
  }

  // Records this process as the holder, `depth` deep; true, for acquire.
  #own(depth: number): true {
    this.#a[kLockOwner] = state().pid;
    this.#a[kLockDepth] = depth;
    return true;
  }

  async acquire(options: AcquireOptions | undefined): Promise<boolean> {
    // The uncontended acquire skips reading options: one compare-and-swap.
    if (options === undefined && tryLock(this.#a, kLockState)) {
      return this.#own(1);
    }
    const step = acquireStep(options, "acquire lock", this.#try);
    if (typeof step === "boolean") return step;
    return await lockAsync(this.#a, kLockState, step) && this.#own(1);
  }

  acquireSync(options: AcquireOptions | undefined): boolean {
    if (options === undefined && tryLock(this.#a, kLockState)) {
      return this.#own(1);
    }
    const step = acquireStep(options, "acquire lock", this.#try, true);
    if (typeof step === "boolean") return step;
    return lockSync(this.#a, kLockState, step) && this.#own(1);
  }

  release(): void {
    if (this.#reentrant) {
      if (!this.isMine()) {
        return this.#refuse("it is not owned by this process");
      }
      if (--this.#a[kLockDepth] > 0) return;
    }
    if (!this.#unlock()) this.#refuse("it is not locked");
  }

  // Clears the holder and unlocks; false when the lock was not locked.
  #unlock(): boolean {
    const a = this.#a;
    a[kLockOwner] = 0;
    a[kLockDepth] = 0;
    if (Atomics.compareExchange(a, kLockState, 1, 0) !== 1) return false;
    wakeOne(a, kLockState);
    return true;
  }

  #refuse(why: string): void {
    // A child unwinding from terminate() runs its `finally`s and disposers;
    // one for a lock it no longer holds must not replace the unwinding
    // with an error.
    if (stopRequested()) return;
    throw new ProcessError(`Cannot release lock as ${why}`);
  }

  locked(): boolean {
    return Atomics.load(this.#a, kLockState) !== 0;
  }

  isMine(): boolean {
    return this.locked() && this.#a[kLockOwner] === state().pid;
  }

  releaseSave(): number {
    const depth = this.#a[kLockDepth];
    if (!this.#unlock()) this.#refuse("it is not locked");
    return depth;
  }

  acquireRestoreSync(depth: number): void {
    lockSync(this.#a, kLockState);
    this.#own(depth);
  }

  async acquireRestore(depth: number): Promise<void> {
    await lockAsync(this.#a, kLockState);
    this.#own(depth);
  }

  acquireBrief(what: string): void {
    if (this.#reenter()) return;
    if (this.isMine()) {
      throw new ProcessError(
        `Cannot ${what} as this process already holds its Lock, so waiting for it would never end (an RLock lets its holder re-enter)`,
      );
    }
    if (!tryLock(this.#a, kLockState)) {
      const holder = this.#a[kLockOwner];
      assertNotRelayed(
        this.#a.buffer,
        what,
        "its lock's acquire() first",
        holder,
      );
      lockSync(this.#a, kLockState);
    }
    this.#own(1);
  }

  inspect(kind: string): string {
    const a = this.#a;
    if (this.#reentrant) {
      return this.locked()
        ? `${kind} { owner: ${a[kLockOwner]}, depth: ${a[kLockDepth]} }`
        : `${kind} { locked: false }`;
    }
    const owner = a[kLockOwner];
    return `${kind} { locked: ${this.locked()}${
      owner ? `, owner: ${owner}` : ""
    } }`;
  }
}

/** True when `lock` is a Lock or an RLock (what a Condition may wrap). */
export function hasLockCore(lock: unknown): boolean {
  if (typeof lock !== "object" || lock === null) return false;
  const core = (lock as { [kSemCore]?: unknown })[kSemCore];
  return typeof core === "function" && core.call(lock) instanceof LockCore;
}
