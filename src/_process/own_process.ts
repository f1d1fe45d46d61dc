// The Process object a child runs, built as CPython unpickles one: neither a
// subclass's constructor nor the option checks run. A child loads this module
// (and with it src/process.ts and the parent's side of starting children)
// only when its code uses the library's Process: a class target, or a
// target's module that imported the library (see ./child_main.ts).
//
// Tier 5 (process).

import type { RunMessage } from "../_wire/protocol.ts";
import { state } from "../_core/state.ts";
import { revive } from "../reduction.ts";
import { withClasses } from "../_core/classes.ts";
import { adoptProcess, Process } from "../process.ts";
import { kProcessClass, trustNextOptions } from "./options.ts";
import { setCurrentProcess } from "./current.ts";

type ChildOptions = {
  name: string;
  daemon: boolean;
  args: unknown[];
};

/**
 * Builds the child's own Process (of class `cls`, Process or a subclass)
 * from what its parent checked: the option checks' first run (with a stack
 * trace for a subclass) would cost a warm child ~0.4 ms.
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

/**
 * Builds the child's Process from its start `message` and runs it, with the
 * arguments revived and the target loaded (a function, or a Process
 * subclass for a class target).
 */
export async function runOwnProcess(
  message: RunMessage,
  loaded: { args: unknown[]; found?: (...args: unknown[]) => unknown },
): Promise<void> {
  const options = {
    name: message.name,
    daemon: message.daemon,
    args: loaded.args,
  };
  let process: Process;
  let target: ((...args: unknown[]) => unknown) | undefined;
  if (message.target?.kind === "class") {
    const fields = await withClasses(() => revive(message.fields));
    process = buildProcess(
      loaded.found as unknown as new () => Process,
      options,
      fields as Record<string, unknown>,
    );
  } else {
    process = newChildProcess(Process, options);
    target = loaded.found;
  }
  state().bootstrapping = false;
  adoptProcess(process, message.pid, target);
  setCurrentProcess(process);
  await process.run();
}
