// The error a pool gives when a worker dies before its first task: its
// modules or its initializer are broken, and a replacement would die the
// same way.
//
// The commonest case is a pool created at the top level of a module that its
// workers import again: a bench file's natural `const pool = new Pool()`. Its
// report is printed once, by the parent, with the fix for where it happened
// (the worker itself stays quiet: see startupFailuresReportedByParent()), not
// once per link of a cause chain that repeats the same text.
//
// Tier 6 (pool engine).

import { BrokenProcessPoolError, RemoteError } from "../errors.ts";
import { rebuildError, type WireError } from "../_wire/error_codec.ts";
import { isBootstrapMessage } from "../_child/guard.ts";

const libraryDir = new URL("../", import.meta.url).href;
const frameUrl = /((?:file|https?|jsr|npm):[^\s()]*:\d+:\d+)\)?\s*$/;

const poolFix =
  `A worker imports the module that created its pool again, so code at that module's top level runs once more in every worker, and a pool created there would start workers of its own. Create pools where only the main program runs:

    if (import.meta.main) {
      await using pool = new Pool();
      …
    }

In a 'deno test' or 'deno bench' file (import.meta.main is false there), create the pool inside the test or bench function, or lazily on first use, and close it at the end (see the README, "A pool in deno test and deno bench").`;

/**
 * The BrokenProcessPoolError for a worker that exited with `code` before
 * its first task, with `error` as the worker reported it.
 */
export function startupError(
  name: string,
  code: number,
  error: WireError | undefined,
): BrokenProcessPoolError {
  const head =
    `Cannot start pool worker ${name}: it exited with code ${code} during start-up`;
  if (error !== undefined && isBootstrapMessage(error.message)) {
    const frames = error.stack.split("\n").filter((line) =>
      /^\s+at /.test(line)
    );
    const where = frames.map((line) => frameUrl.exec(line)?.[1]).find((url) =>
      url !== undefined && !url.startsWith(libraryDir)
    );
    return new BrokenProcessPoolError(
      `${head}, as its module creates a pool at import time${
        where ? ` (${where})` : ""
      }.\n\n${poolFix}`,
      { cause: new RemoteError(frames.join("\n")) },
    );
  }
  const cause = error === undefined ? undefined : rebuildError(error);
  return new BrokenProcessPoolError(
    `${head}${cause ? ` (${cause.name}: ${cause.message})` : ""}`,
    { cause },
  );
}
