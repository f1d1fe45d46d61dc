// Runs first in every worker this library starts (it is the first static
// import of the worker's entry), before the target's module is evaluated.
//
// It marks the thread as a bootstrapping child (the missing-guard check reads
// that), and makes every way a worker can end report an exit code to the
// parent: Deno gives the parent no event when a worker ends, so `close()`,
// `Deno.exit()` and uncaught errors are routed through `finish()`.
//
// Tier 4 (child start-up), used by every child's entry module.

import { earlyMessages } from "./event_loop.ts";
import { ExitSignal, state, workerScope } from "../_core/state.ts";
import type { ExitMessage } from "../_wire/protocol.ts";
import { toWireError, type WireError } from "../_wire/error_codec.ts";
import { kChildEnded } from "../_wire/layouts.ts";

const self = state();
self.isChild = true;
self.bootstrapping = true;
self.name = (globalThis as { name?: string }).name || "Process";

export { ExitSignal };

const closeWorker = workerScope.close.bind(globalThis);
let finished = false;
let quiet = false;

/**
 * Keeps an uncaught error from being printed until the returned function is
 * called: a warm worker (./warm.ts) that fails before it becomes a child
 * only ends, and its parent starts that child afresh.
 */
export function quietUntilActive(): () => void {
  quiet = true;
  return () => {
    quiet = false;
  };
}

let parentReportsStartup = false;

/**
 * A pool worker's parent turns a failure while this child imports its
 * modules into the error of the pool's calls, so the child does not print
 * it too (a Process child prints it: its parent reports only an exit code).
 */
export function startupFailuresReportedByParent(): void {
  parentReportsStartup = true;
}

/** Reports the exit code (and error) to the parent, then ends this worker. */
export function finish(code: number, error?: WireError): void {
  if (finished) return;
  finished = true;
  // This child's own children see it end through parentProcess().
  if (self.control !== null) {
    Atomics.store(self.control, kChildEnded, 1);
    Atomics.notify(self.control, kChildEnded);
  }
  const message: ExitMessage = { t: "exit", code };
  if (error !== undefined) message.error = error;
  workerScope.postMessage(message);
  closeWorker();
}

/** Prints an uncaught error the way CPython does, then exits with code 1. */
export function fatal(error: unknown): void {
  if (error instanceof ExitSignal || finished) return;
  finish(1, reportError(error));
}

/** Prints an uncaught error the way CPython does; its form for the exit report. */
export function reportError(error: unknown): WireError {
  const wire = toWireError(error);
  // Deno's own event-dispatch frames say nothing to the user.
  wire.stack = wire.stack.split("\n").filter((line) => !/\(?ext:/.test(line))
    .join("\n");
  if (!quiet && !(parentReportsStartup && self.bootstrapping)) {
    console.error(`Process ${self.name}:\n${wire.stack}`);
  }
  return wire;
}

// Deno delivers messages while a module awaits (a dynamic import, or a
// module's top-level await), and drops those that find no handler (verified
// on 2.9.6). The parent posts its first message as the child starts, so
// until the entry's main() installs its handler, messages are kept here.
// Holds what arrives before main() sets its handler (installed here, or
// already by an entry that imports dynamically).
const early = earlyMessages().events;

/** Hands the messages kept during start-up to the handler main() set. */
export function deliverEarlyMessages(): void {
  for (const { data, ports } of early.splice(0)) {
    dispatchEvent(new MessageEvent("message", { data, ports: [...ports] }));
  }
}

workerScope.close = () => finish(0);
Deno.exit = ((code = 0) => {
  finish(code);
  throw new ExitSignal(code);
}) as typeof Deno.exit;

addEventListener("error", (event) => {
  event.preventDefault();
  fatal(event.error ?? event.message);
});
addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fatal(event.reason);
});
