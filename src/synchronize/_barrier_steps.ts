// The Barrier's algorithm (CPython's threading.Barrier, word for word, over
// the Barrier block of src/_wire/layouts.ts), written once as a generator
// of the blocking steps it needs, which wait() drives with awaits and
// waitSync() with blocking calls; and the checks of its arguments.

import { BrokenBarrierError } from "../errors.ts";
import { type TargetRef, targetRef } from "../_core/target.ts";
import type { Condition } from "./condition.ts";
import type { Lock } from "./lock.ts";
import { deadlineOf } from "../_core/time.ts";
import {
  kBarrierBroken as kBroken,
  kBarrierCount as kCount,
  kBarrierDraining as kDraining,
  kBarrierFilling as kFilling,
  kBarrierResetting as kResetting,
  kBarrierState as kState,
} from "../_wire/layouts.ts";

/** The action's descriptor: where a child imports it from. */
export type ActionRef = TargetRef | null;

/** What a revived barrier adopts: its words, lock, condition and action. */
export type BarrierMemory = {
  state: Int32Array;
  lock: Lock;
  cond: Condition;
  action: ActionRef;
};

/** A blocking step of the barrier: a condition wait until a deadline, or the action. */
export type Step = number | "action";

/** Breaks the barrier: every waiter wakes with BrokenBarrierError. */
export function breakBarrier(s: Int32Array, cond: Condition): void {
  Atomics.store(s, kState, kBroken);
  cond.notifyAll();
}

/**
 * CPython's Barrier.wait over the words `s`, as blocking steps; runs with
 * the lock held. Yields a deadline to wait on `cond` until, or "action".
 */
export function* barrierSteps(
  s: Int32Array,
  parties: number,
  cond: Condition,
  timeout: number | undefined,
): Generator<Step, number, boolean> {
  // Block while the previous generation drains or a reset completes.
  while (s[kState] === kResetting || s[kState] === kDraining) yield Infinity;
  if (s[kState] === kBroken) throw new BrokenBarrierError();
  const index = s[kCount]++;
  try {
    if (index + 1 === parties) {
      try {
        yield "action";
      } catch (error) {
        breakBarrier(s, cond);
        throw error;
      }
      Atomics.store(s, kState, kDraining);
      cond.notifyAll();
    } else {
      const deadline = deadlineOf(timeout);
      while (s[kState] === kFilling) {
        if (performance.now() >= deadline) {
          breakBarrier(s, cond);
          throw new BrokenBarrierError(
            "Barrier is broken: a wait timed out",
          );
        }
        yield deadline;
      }
      if (s[kState] < 0) throw new BrokenBarrierError();
    }
    return index;
  } finally {
    s[kCount]--;
    const st = s[kState];
    if (s[kCount] === 0 && (st === kResetting || st === kDraining)) {
      Atomics.store(s, kState, kFilling);
      cond.notifyAll();
    }
  }
}

// targetRef() speaks of 'target': the same rules, under the right name.
export function actionRef(
  action: unknown,
  caller: string | undefined,
  what: string,
): TargetRef {
  try {
    return targetRef(action, caller, what);
  } catch (error) {
    throw new TypeError(
      (error as Error).message.replaceAll("'target'", "'action'"),
      { cause: error },
    );
  }
}

/** What a wait on the condition gave the steps: its result, or its error. */
export type Outcome = { result: boolean } | { error: unknown };

/**
 * Feeds the last wait's outcome to the steps and runs them on (the action
 * included) until one asks for a wait: how long it may take, in seconds
 * (undefined: no limit), or the index the steps ended with. Both wait forms
 * drive the steps through it; only the wait itself differs.
 */
export function advance(
  steps: Generator<Step, number, boolean>,
  outcome: Outcome,
  runAction: () => void,
): { seconds: number | undefined } | { index: number } {
  let next = "error" in outcome
    ? steps.throw(outcome.error)
    : steps.next(outcome.result);
  while (!next.done) {
    const step = next.value;
    if (step === Infinity) return { seconds: undefined };
    if (step !== "action") {
      return { seconds: Math.max(0, step - performance.now()) / 1000 };
    }
    try {
      runAction();
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(true);
  }
  return { index: next.value };
}
