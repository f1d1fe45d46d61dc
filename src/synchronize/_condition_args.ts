// Argument checks of Condition: its lock and the predicates of waitFor().

import { type ConditionLock, kIsMine } from "./_sync.ts";

/**
 * Checks a Condition's lock: a Lock or an RLock.
 *
 * @throws {TypeError} For anything else.
 */
export function checkLock(lock: unknown): ConditionLock {
  const candidate = lock as Partial<ConditionLock> | null;
  if (
    typeof candidate !== "object" || candidate === null ||
    typeof candidate[kIsMine] !== "function"
  ) {
    throw new TypeError(
      `Cannot create condition as 'lock' must be a Lock or an RLock: current value is ${
        Deno.inspect(lock)
      }`,
    );
  }
  return candidate as ConditionLock;
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
