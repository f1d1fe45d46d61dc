// The entry of a Process child. The worker's data: entry imports this module
// first, then the target's module, then calls main() with the namespaces.

import { ExitSignal, fatal, finish } from "./bootstrap.ts";
import type { RunMessage } from "../_wire/protocol.ts";
import { revive } from "../reduction.ts";
import { state, workerScope } from "../_core/state.ts";
import { resolveTarget } from "../_core/target.ts";
import {
  activeChildren,
  adoptProcess,
  buildProcess,
  Process,
  setCurrentProcess,
} from "../process.ts";

type Namespace = Record<string, unknown>;

async function run(
  message: RunMessage,
  modules: Record<string, Namespace>,
): Promise<void> {
  const self = state();
  self.name = message.name;
  self.pid = message.pid;
  self.daemon = message.daemon;
  self.identity = message.identity;
  self.parent = message.parent;
  self.pidCounter = new Int32Array(message.pidCounter);
  self.control = new Int32Array(message.control);
  Object.assign(self.shared, message.shared);
  const args = revive(message.args) as unknown[];
  const ref = message.target;
  const options = { name: message.name, daemon: message.daemon, args };
  let process: Process;
  let target: ((...args: unknown[]) => unknown) | undefined;
  if (ref.url === "") {
    process = new Process(options);
  } else {
    const namespace = modules[ref.url] ?? await import(ref.url);
    const found = resolveTarget(ref, namespace);
    if (ref.kind === "class") {
      process = buildProcess(
        found as unknown as new () => Process,
        options,
        revive(message.fields) as Record<string, unknown>,
      );
    } else {
      process = new Process(options);
      target = found;
    }
  }
  adoptProcess(process, message.pid, target);
  setCurrentProcess(process);
  await process.run();
  // CPython's child joins its non-daemonic children and kills its daemonic
  // ones before it exits; so do we.
  for (const child of activeChildren()) {
    if (child.daemon) child.terminate();
    else await child.join();
  }
}

/** Called by the worker's entry once the target's module is imported. */
export function main(modules: Record<string, Namespace>): void {
  state().bootstrapping = false;
  workerScope.onmessage = (event: MessageEvent<RunMessage>) => {
    workerScope.onmessage = null;
    run(event.data, modules).then(
      () => finish(0),
      (error) => {
        if (error instanceof ExitSignal) return;
        fatal(error);
      },
    );
  };
}
