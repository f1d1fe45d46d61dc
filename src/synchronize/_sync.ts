// What the synchronization primitives share: argument checks, the rule for
// `…Sync` calls on the main thread, and the spin-then-sleep slow path.
//
// Every primitive keeps *all* of its state in a SharedArrayBuffer: the
// objects are stateless facades, so the copy a child rebuilds from a
// descriptor behaves exactly like the original.
//
// The main-thread rule: a `…Sync` call never waits on the main thread. It
// succeeds when it need not wait (an uncontended acquire, a set event) and
// throws a ProcessError when it would have to, because Atomics.wait there
// freezes the event loop, and with it every postMessage this thread still
// has to flush (a child that has not started yet could never release the
// lock: a silent deadlock). Only the library's own tiny critical sections
// (a Value's accessors, a Barrier's bookkeeping) may block the main thread,
// for the few instructions another process holds them.

import { canBlock } from "../_memory/atomics.ts";
import { ProcessError } from "../errors.ts";
import { checkWaitOptions } from "../_core/validate.ts";
import { deadlineOf } from "../_core/time.ts";
import type { SharedDescriptor } from "../reduction.ts";

/** Options of the acquire calls (CPython's `block` and `timeout`). */
export interface AcquireOptions {
  /**
   * Whether to wait for the lock; `false` tries once and returns at once.
   *
   * @default {true}
   */
  block?: boolean;
  /**
   * Seconds to wait at most when `block` is true; `undefined` waits forever.
   * Ignored when `block` is false, as in CPython.
   */
  timeout?: number;
}

/**
 * Reads acquire options.
 *
 * @returns The deadline (performance.now() ms, Infinity for none), or
 * `null` for a non-blocking call.
 */
export function acquireDeadline(
  options: AcquireOptions | undefined,
  what: string,
): number | null {
  const { block, timeout } = checkWaitOptions(options, what);
  if (!block) return null;
  return deadlineOf(timeout);
}

/**
 * Throws when a `…Sync` call would have to wait on the main thread.
 *
 * @throws {ProcessError} On the main thread.
 */
export function assertMayBlock(what: string, asyncForm: string): void {
  if (canBlock()) return;
  throw new ProcessError(
    `Cannot ${what} synchronously on the main thread as it would have to wait, which freezes the event loop: use 'await ${asyncForm}' there (…Sync forms are for worker code)`,
  );
}

/**
 * The part of an acquire both forms share: reads the options, makes one
 * attempt, and refuses a `…Sync` wait on the main thread.
 *
 * @param what The operation, "acquire <noun>" (its async form, for the
 * error, is `<noun>.acquire()`).
 * @param sync Whether this is the `…Sync` form.
 * @returns `true` when `attempt()` took it, `false` when it did not and the
 * call must not wait, or else the deadline to wait until.
 * @throws {TypeError} When an option has the wrong type.
 * @throws {ProcessError} When a `…Sync` call would wait on the main thread.
 */
export function acquireStep(
  options: AcquireOptions | undefined,
  what: string,
  attempt: () => boolean,
  sync = false,
): boolean | number {
  const deadline = acquireDeadline(options, what);
  if (attempt()) return true;
  if (deadline === null) return false;
  if (sync) assertMayBlock(what, `${what.slice("acquire ".length)}.acquire()`);
  return deadline;
}

/**
 * What a Condition, a Barrier and a Value need from their lock (a Lock or
 * an RLock), reached through `lock[kLockCore]()`: whether this process
 * holds it, a way to release it completely and take it back (CPython's
 * `_release_save` / `_acquire_restore`), and a brief hold for the
 * library's own short critical sections.
 */
export interface ConditionLock {
  /** True when the current process holds the lock. */
  isMine(): boolean;
  /** Releases the lock fully; returns what restore needs (the depth). */
  releaseSave(): number;
  /** Takes the lock back to the saved depth, blocking the thread. */
  acquireRestoreSync(depth: number): void;
  /** Takes the lock back to the saved depth, without blocking. */
  acquireRestore(depth: number): Promise<void>;
  /**
   * Takes the lock for one of the library's own short critical sections
   * (a Value's accessors), blocking even the main thread, re-entering an
   * RLock this process holds.
   */
  acquireBrief(what: string): void;
}

/** What SemLock's methods run: a Lock's, an RLock's or a Semaphore's rules. */
export interface SemCore {
  /** See SemLock.acquire(). */
  acquire(options: AcquireOptions | undefined): Promise<boolean>;
  /** See SemLock.acquireSync(). */
  acquireSync(options: AcquireOptions | undefined): boolean;
  /** See SemLock.release(). */
  release(): void;
  /** Describes the primitive for a child (see reduction.ts). */
  describe(): SharedDescriptor;
  /** How `console.log` shows a `kind` (the class's name). */
  inspect(kind: string): string;
}

/**
 * The method of a SemLock that returns its {@linkcode SemCore}; a Lock's
 * and an RLock's is also a {@linkcode ConditionLock}.
 */
export const kSemCore: unique symbol = Symbol.for(
  "@dmp/multiprocessing.semCore",
);
