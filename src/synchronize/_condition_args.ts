// Argument checks of Condition: its lock and the predicates of waitFor().

import { hasLockCore } from "./_lock_core.ts";

/**
 * Checks a Condition's lock: a Lock or an RLock.
 *
 * @throws {TypeError} For anything else.
 */
export function checkLock(lock: unknown): void {
  if (!hasLockCore(lock)) {
    throw new TypeError(
      `Cannot create condition as 'lock' must be a Lock or an RLock: current value is ${
        Deno.inspect(lock)
      }`,
    );
  }
}

/**
 * Checks a waitFor() predicate.
 *
 * @throws {TypeError} When it is not a function.
 */
export function checkPredicate(predicate: unknown, what: string): void {
  if (typeof predicate !== "function") {
    throw new TypeError(
      `Cannot ${what} as 'predicate' must be a function: current value is ${
        Deno.inspect(predicate)
      }`,
    );
  }
}
