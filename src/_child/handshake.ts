// Parent side of the one handshake every child goes through, Process
// children and pool workers alike:
//
//  parent                                          child
//  startChild(spec)
//    strategy.launch(entry, modules) ──────────▶  bootstrap.ts (marks child)
//                                                 static imports: target and
//                                                 reviver modules; main()
//    post {...ChildInit, ...spec.message} ─────▶  adoptIdentity(init)
//                                                 loadTarget(ref, modules)
//    spec.onMessage ◀── anything else ──────────  (results, "ready", …)
//    spec.onExit    ◀── {t:"exit", code, error?}  finish(code)
//                   ◀── error event (reported: false, e.g. a module that
//                       fails to load)
//
// Tier 4 (child start-up).

import type { WorkerPermissions } from "../_core/permissions.ts";
import { nextPid, state } from "../_core/state.ts";
import { claimLife, endLife, kNoLife } from "../_core/lives.ts";
import {
  kChildControlSlots,
  kChildEnded,
  kChildStop,
} from "../_wire/layouts.ts";
import type { ChildInit, ExitMessage } from "../_wire/protocol.ts";
import type { WireError } from "../_wire/error_codec.ts";
import {
  type ChildPort,
  type ResourceLimits,
  type StartMethod,
  startStrategy,
} from "./start_method.ts";

/** How a child ended, as its parent learns it. */
export interface ChildExit {
  code: number;
  /** The uncaught error that ended it, if any. */
  error?: WireError;
  /**
   * False when the child could not report its end itself (its modules
   * failed to load, say) and the runtime told the parent instead.
   */
  reported: boolean;
}

/** One child to start. */
export interface ChildSpec<M extends ChildInit> {
  /** The operation, for error messages ("start process"). */
  what: string;
  name: string;
  identity: number[];
  daemon: boolean;
  /** The child-side module (its `main(modules)` export). */
  entry: string;
  /** Target and reviver modules, imported statically by the child. */
  modules: string[];
  permissions?: WorkerPermissions;
  /** Only for "subprocess" children. */
  resourceLimits?: ResourceLimits;
  /** The start method (a Context's); the program's when absent. */
  method?: StartMethod;
  /** The rest of the first message, by kind of child. */
  message: Omit<M, keyof ChildInit>;
  /** Every message of the child but its exit report. */
  onMessage?(message: unknown): void;
  /** Called once, when the child has ended. */
  onExit(exit: ChildExit): void;
}

/** The parent's handle on a started child. */
export interface Child extends ChildPort {
  /** The child's pid (unique within the OS process, or the OS pid). */
  readonly pid: number;
  /** The child's control block (src/_wire/layouts.ts, kChild*). */
  readonly control: Int32Array;
  /**
   * Asks the child to stop (its blocking waits see the flag), lets it no
   * longer keep the program alive, and ends it (an OS process with
   * `signal`, default SIGTERM).
   */
  stop(signal?: "SIGTERM" | "SIGKILL"): void;
}

/** Tells the child's own children (parentProcess()) that it has ended. */
function markEnded(control: Int32Array): void {
  Atomics.store(control, kChildEnded, 1);
  Atomics.notify(control, kChildEnded);
}

function isExit(message: unknown): message is ExitMessage {
  return (message as { t?: unknown } | null)?.t === "exit";
}

/**
 * Starts a child with the current start method, sends it its identity and
 * `spec.message`, and reports how it ended through `spec.onExit`.
 *
 * @throws {Deno.errors.NotCapable} When the child may not load its modules
 * or asks for more permissions than this program has.
 * @throws {DOMException} When the message cannot be structured-cloned (the
 * child is ended first).
 */
export function startChild<M extends ChildInit>(spec: ChildSpec<M>): Child {
  const s = state();
  const control = new Int32Array(
    new SharedArrayBuffer(4 * kChildControlSlots),
  );
  let ended = false;
  // Set once the child's pid is known (the port reports it or not).
  let gone = () => {};
  const end = (exit: ChildExit) => {
    if (ended) return;
    ended = true;
    markEnded(control);
    gone();
    spec.onExit(exit);
  };
  const onMessage = spec.onMessage;
  const port = startStrategy(spec.method).launch({
    name: spec.name,
    entry: spec.entry,
    modules: [...new Set(spec.modules)],
    permissions: spec.permissions,
    resourceLimits: spec.resourceLimits,
    control,
    what: spec.what,
    onMessage: (message) => {
      if (isExit(message)) {
        end({ code: message.code, error: message.error, reported: true });
      } else onMessage?.(message);
    },
    onError: (message) =>
      end({
        code: 1,
        error: { name: "Error", message, stack: message },
        reported: false,
      }),
  });
  const pid = port.pid ?? nextPid();
  // A Web Worker child may wait in this OS process's shared memory; an OS
  // process child waits through its proxy host, which has a word of its own
  // (./proxy_parent.ts).
  const life = port.pid === undefined && !ended ? claimLife(pid) : kNoLife;
  gone = () => endLife(life, pid);
  const init: ChildInit = {
    ...spec.message,
    name: spec.name,
    pid,
    life,
    identity: spec.identity,
    daemon: spec.daemon,
    parent: { name: s.name, pid: s.pid },
    pidCounter: s.pidCounter.buffer as SharedArrayBuffer,
    control: control.buffer as SharedArrayBuffer,
    parentControl: (s.control?.buffer as SharedArrayBuffer) ?? null,
    shared: s.shared,
  };
  try {
    port.postMessage(init);
  } catch (error) {
    gone();
    port.terminate();
    throw error;
  }
  return {
    pid,
    control,
    ended: port.ended,
    postMessage: port.postMessage,
    ref: port.ref,
    terminate: port.terminate,
    stop(signal) {
      // Waits inside the child poll this flag, so a child blocked in one of
      // our …Sync calls ends too; terminate() alone would not interrupt it.
      Atomics.store(control, kChildStop, 1);
      Atomics.notify(control, kChildStop);
      markEnded(control);
      gone();
      port.ref(false);
      port.terminate(signal);
    },
  };
}
