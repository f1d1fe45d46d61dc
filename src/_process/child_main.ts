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
} from "../_child/bootstrap.ts";
import { watchMessagePoll, whenDrained } from "../_child/event_loop.ts";
import type { RunMessage } from "../_wire/protocol.ts";
import { revive } from "../reduction.ts";
import { adoptIdentity, state, workerScope } from "../_core/state.ts";
import { loadTarget, type Namespaces } from "../_core/target.ts";
import { registerNamespaces, withClasses } from "../_core/classes.ts";
import { adoptProcess, Process } from "../process.ts";
import { kProcessClass, trustNextOptions } from "./options.ts";
import { activeChildren, setCurrentProcess } from "./current.ts";

type ChildOptions = { name: string; daemon: boolean; args: unknown[] };

/**
 * Builds the child's own Process (of class `cls`, Process or a subclass)
 * from what its parent checked, as CPython unpickles one: neither a
 * subclass's constructor runs nor the option checks, whose first run (with a
 * stack trace for a subclass) costs a warm child ~0.4 ms.
 */
function newChildProcess(
  cls: new (...args: never[]) => Process,
  options: ChildOptions,
): Process {
  trustNextOptions({
    target: undefined,
    ref: undefined,
    permissions: undefined,
    resourceLimits: undefined,
    signal: undefined,
    identity: [...state().identity],
    ...options,
  });
  return Reflect.construct(Process, [options], cls) as Process;
}

/**
 * Builds the Process object a child runs, without calling a subclass's
 * constructor (CPython unpickles it the same way).
 */
function buildProcess(
  cls: new (...args: never[]) => Process,
  options: ChildOptions,
  fields: Record<string, unknown>,
): Process {
  let base: unknown = cls;
  // The class that declares the mark itself (a subclass inherits it).
  while (typeof base === "function" && !Object.hasOwn(base, kProcessClass)) {
    base = Object.getPrototypeOf(base);
  }
  // Another copy of the library's Process checks its options itself.
  const process = base === Process || base === null
    ? newChildProcess(cls, options)
    : Reflect.construct(base as typeof Process, [options], cls) as Process;
  return Object.assign(process, fields);
}

async function run(message: RunMessage, modules: Namespaces): Promise<void> {
  adoptIdentity(message);
  registerNamespaces(modules);
  const args = await withClasses(() => revive(message.args)) as unknown[];
  const ref = message.target;
  const options = { name: message.name, daemon: message.daemon, args };
  let process: Process;
  let target: ((...args: unknown[]) => unknown) | undefined;
  if (ref === undefined) {
    process = newChildProcess(Process, options);
  } else {
    // Modules imported now (a candidate the entry did not import) run their
    // top level as the entry's did: still bootstrapping (see main()).
    const found = await loadTarget(ref, modules);
    if (ref.kind === "class") {
      process = buildProcess(
        found as unknown as new () => Process,
        options,
        await withClasses(() => revive(message.fields)) as Record<
          string,
          unknown
        >,
      );
    } else {
      process = newChildProcess(Process, options);
      target = found;
    }
  }
  state().bootstrapping = false;
  adoptProcess(process, message.pid, target);
  setCurrentProcess(process);
  await process.run();
}

// CPython's child, once its threads are done, joins its non-daemonic
// children and kills its daemonic ones before it exits; so do we.
async function endChildren(): Promise<void> {
  for (const child of activeChildren()) {
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
    run(event.data, modules).then(
      () => whenDrained(() => endChildren().then(() => finish(0), failed)),
      failed,
    );
  };
  deliverEarlyMessages();
}
