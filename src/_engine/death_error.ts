// The error of the tasks a pool worker held when it died: the executor's
// BrokenProcessPoolError (CPython's executor breaks), or the pool's
// ProcessError for the task it ran (the pool replaces the worker and runs
// the others again).
//
// Tier 6 (pool engine).

import { BrokenProcessPoolError, ProcessError } from "../errors.ts";
import { rebuildError, type WireError } from "../_wire/error_codec.ts";

/**
 * The error for a worker `name` that exited with `code`, reporting `error`
 * (if it could); `breaks`: the executor's kind.
 */
export function deathError(
  name: string,
  code: number,
  { error, breaks }: { error?: WireError; breaks: boolean },
): Error {
  const reason = error === undefined ? "" : `: ${error.name}: ${error.message}`;
  const cause = error === undefined ? undefined : rebuildError(error);
  return breaks
    ? new BrokenProcessPoolError(
      `A process in the process pool was terminated abruptly while the future was running or pending (${name} exited with code ${code}${reason})`,
      { cause },
    )
    : new ProcessError(
      `Cannot complete task as pool worker ${name} exited with code ${code} while running it${reason}`,
      { cause },
    );
}
