// What a pool worker imports after its start (./workers.ts says when): the
// module of a task's function, another candidate of its initializer, the
// module of a reviver. Such a module runs its top level as the entry's
// modules did, under the same bootstrapping guard, so a module that creates
// a pool or starts a process at import time (a missing `import.meta.main`
// guard) is refused as at the start, and ends this worker as a failed start
// would: its pool reports it once, with the fix (./startup_error.ts).
//
// Tier 6 (pool engine).

import { fatal } from "../_child/bootstrap.ts";
import { isBootstrapMessage } from "../_child/guard.ts";
import { expectRevivers } from "../_core/classes.ts";
import { state } from "../_core/state.ts";
import {
  loadTarget,
  type Namespaces,
  type TargetRef,
} from "../_core/target.ts";
import { ProcessError } from "../errors.ts";
import type { PoolInitMessage } from "../_wire/protocol.ts";

type Fn = (...args: unknown[]) => unknown;

/** Records the reviver modules a worker imports on first need. */
export function expectLateRevivers(init: PoolInitMessage): void {
  if (init.revivers !== undefined) expectRevivers(init.revivers);
}

/**
 * The function `ref` names, its modules imported if they are not yet.
 *
 * @returns A promise that never settles once this worker is ending because
 * a module it imported started a process or a pool.
 */
export async function loadLate(
  ref: TargetRef,
  modules: Namespaces,
): Promise<Fn> {
  const self = state();
  self.bootstrapping = true;
  try {
    return await loadTarget(ref, modules);
  } catch (error) {
    if (!(error instanceof ProcessError && isBootstrapMessage(error.message))) {
      throw error;
    }
    // No result for the task: the exit report says it all, and a result
    // would reach the pool first.
    fatal(error);
    return new Promise<never>(() => {});
  } finally {
    self.bootstrapping = false;
  }
}
