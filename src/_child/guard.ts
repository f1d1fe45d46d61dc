// The missing `if (import.meta.main)` guard: a child imports its target's
// module again, so code at that module's top level that starts processes
// would start them once more in every child, recursively. CPython raises
// the same error from its bootstrap.
//
// Tier 4 (child start-up).

import { ProcessError } from "../errors.ts";
import { state } from "../_core/state.ts";

const bootstrapMessage =
  `An attempt has been made to start a new process before the current process has finished its bootstrapping phase.

This probably means that your module starts processes at import time. A child
process imports the module of its target again, so code at the top level runs
once more in every child. Use the proper idiom in the main module:

    if (import.meta.main) {
      const p = new Process({ target: work });
      p.start();
      await p.join();
    }

No process was started.`;

/** True for the message of the error assertNotBootstrapping() throws. */
export function isBootstrapMessage(message: string): boolean {
  return message === bootstrapMessage;
}

/**
 * Throws the bootstrapping error while a child is importing its target.
 *
 * @throws {ProcessError} While this thread is a child still importing the
 * modules of its target.
 */
export function assertNotBootstrapping(): void {
  if (state().bootstrapping) throw new ProcessError(bootstrapMessage);
}

/**
 * Checks that this thread may start a child now.
 *
 * @throws {ProcessError} While this thread is a child still importing its
 * target's modules, or when it is a daemonic child (which may not have
 * children, as in CPython).
 */
export function assertMayStart(): void {
  assertNotBootstrapping();
  const s = state();
  if (s.isChild && s.daemon) {
    throw new ProcessError(
      "Cannot start process as daemonic processes are not allowed to have children",
    );
  }
}
