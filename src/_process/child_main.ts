// The entry of a Process child. The worker's generated entry imports
// src/_child/bootstrap.ts first, then the target's module and the reviver
// modules, then calls main() with their namespaces.
//
// Tier 5 (process): a child's entry module lives in the tier of what it
// starts (here a Process), and uses the start-up tier (src/_child/) below.

import {
  deliverEarlyMessages,
  ExitSignal,
  fatal,
  finish,
  reportError,
} from "../_child/bootstrap.ts";
import { watchMessagePoll, whenDrained } from "../_child/event_loop.ts";
import type { RunMessage } from "../_wire/protocol.ts";
import { revive } from "../reduction.ts";
import { adoptIdentity, state, workerScope } from "../_core/state.ts";
import { loadTarget, type Namespaces } from "../_core/target.ts";
import { registerNamespaces, withClasses } from "../_core/classes.ts";

/**
 * Builds and runs the child's own Process object. Part of the entry's
 * static graph only where the child cannot import modules itself (see
 * ./popen.ts); otherwise imported when needed.
 */
export const ownProcessModule =
  new URL("./own_process.ts", import.meta.url).href;

type OwnProcess = typeof import("./own_process.ts");

async function run(message: RunMessage, modules: Namespaces): Promise<void> {
  adoptIdentity(message);
  registerNamespaces(modules);
  const args = await withClasses(() => revive(message.args)) as unknown[];
  const ref = message.target;
  // Modules imported now (a candidate the entry did not import) run their
  // top level as the entry's did: still bootstrapping (see main()).
  const found = ref === undefined ? undefined : await loadTarget(ref, modules);
  // A child whose code never loaded the library's Process (a target's module
  // that imports nothing of it) calls its target as Process.run() would,
  // without loading the Process class and the parent's side of starting
  // children (~9 ms of a child's start-up on 2 cores): nothing there could
  // ask for that object. currentProcess() then describes this child from its
  // identity, as in a pool worker.
  if (ref?.kind === "class" || state().processApiLoaded) {
    const own = (modules[ownProcessModule] ??
      await import(ownProcessModule)) as OwnProcess;
    return own.runOwnProcess(message, { args, found });
  }
  state().bootstrapping = false;
  if (found !== undefined) await Reflect.apply(found, undefined, args);
}

// CPython's child, once its threads are done, joins its non-daemonic
// children and kills its daemonic ones before it exits; so do we.
async function endChildren(): Promise<void> {
  for (const child of [...state().children]) {
    if (!child.isAlive()) continue;
    if (child.daemon) child.terminate();
    else await child.join();
  }
}

/** Called by the worker's entry once the target's module is imported. */
export function main(modules: Namespaces): void {
  // Bootstrapping ends in run(), once the target and its arguments are
  // loaded: a module the child imports for them may not start processes.
  workerScope.onmessage = (event: MessageEvent<RunMessage>) => {
    // A message held during start-up and handed over by bootstrap.ts or
    // warm.ts is not the runtime's dispatch: the op they saw stands.
    if (event.isTrusted) watchMessagePoll();
    workerScope.onmessage = null;
    const failed = (error: unknown) => {
      if (error instanceof ExitSignal) return;
      fatal(error);
    };
    // As a Deno program, the child ends once its target has returned and
    // its event loop has drained (timers, I/O and non-daemonic children).
    // A target that threw ends it too, after its children, as CPython's
    // _bootstrap() runs its exit function after printing the traceback.
    run(event.data, modules).then(
      () => whenDrained(() => endChildren().then(() => finish(0), failed)),
      (error) => {
        if (error instanceof ExitSignal) return;
        const wire = reportError(error);
        endChildren().finally(() => finish(1, wire));
      },
    );
  };
  deliverEarlyMessages();
}
