// The "subprocess" start method (see ./start_method.ts): each child is a
// `deno` OS process, started from Deno.execPath() with its permissions as
// flags (./subprocess_flags.ts). Messages travel as frames (./frames.ts):
// to the child on its stdin, from it on its stderr, which otherwise passes
// through to this program's stderr; its stdout is this program's.
//
// Unlike a Worker, an OS process can be killed in the middle of
// synchronous code, has its own V8 heap (which may run out without ending
// this program), and its end is seen: when it ends without its own exit
// report (a signal, out of memory, a crash), the report is made here.
//
// Tier 4 (child start-up).

import {
  type ChildLaunch,
  type ChildPort,
  registerStrategy,
  type StartStrategy,
} from "./start_method.ts";
import { dataUrl, entrySource } from "./spawn.ts";
import { childFlags } from "./subprocess_flags.ts";
import { concat, encodeFrame, FrameReader } from "./frames.ts";
import type { ExitMessage } from "../_wire/protocol.ts";
import { kChildTask } from "../_wire/layouts.ts";
import { ProxyRelay } from "./proxy_parent.ts";
import { assertCanCross } from "./subprocess_options.ts";

const shim = new URL("./subprocess_main.ts", import.meta.url).href;

// V8 and Deno print these when a heap limit is reached.
const kOutOfMemory = /out of memory|heap limit/i;
/** The end of a child's printed text kept for an exit it could not report. */
const kPrintedKept = 4096;
// Terminal colour codes (ESC [ … m), built from the code: no control
// character in a regular expression literal.
const kColour = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

const signals: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

function spawnChild(args: string[], what: string): Deno.ChildProcess {
  try {
    return new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "inherit",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(
        `Cannot ${what} as the "subprocess" start method runs deno as a child process: run with --allow-run (${error.message})`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Why a child ended without its own report, as its exit message. */
function unreported(
  name: string,
  status: Deno.CommandStatus,
  { outOfMemory, printed }: { outOfMemory: boolean; printed: string },
): ExitMessage {
  if (outOfMemory) {
    return {
      t: "exit",
      code: status.signal === null
        ? status.code
        : -(signals[status.signal] ?? 1),
      error: {
        name: "ProcessError",
        message: `Process ${name} ran out of memory`,
        stack: `ProcessError: Process ${name} ran out of memory`,
      },
    };
  }
  if (status.signal !== null) {
    const message = `Process ${name} was killed by ${status.signal}`;
    return {
      t: "exit",
      code: -(signals[status.signal] ?? 1),
      error: {
        name: "ProcessError",
        message,
        stack: `ProcessError: ${message}`,
      },
    };
  }
  // Deno's own last word (a module that could not load, say): the child's
  // bootstrap never ran to report it.
  const said = printed.replace(kColour, "").split("\n")
    .findLast((line) => line.startsWith("error: "));
  const message = `Process ${name} exited with code ${status.code}${
    said === undefined ? "" : ` (${said})`
  }`;
  return {
    t: "exit",
    code: status.code,
    error: { name: "ProcessError", message, stack: `ProcessError: ${message}` },
  };
}

/**
 * The handshake without the shared memory that cannot cross to an OS
 * process (the child makes its own, ./subprocess_main.ts).
 */
function localOnly(message: unknown): unknown {
  if (
    message === null || typeof message !== "object" ||
    !("pidCounter" in message)
  ) return message;
  return {
    ...message,
    pidCounter: null,
    control: null,
    parentControl: null,
    shared: {},
  };
}

// Children that do not keep this program alive (daemonic ones, pool
// workers). A daemonic child ends when it sees its stdin close, which a
// child busy in synchronous code does not see: those still running when
// this program ends are killed here, as CPython's atexit terminates them.
const unreferenced = new Set<Deno.ChildProcess>();
let watching = false;

function killUnreferenced(): void {
  for (const child of unreferenced) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already ended.
    }
  }
}

function setRef(child: Deno.ChildProcess, on: boolean): void {
  if (on) {
    child.ref();
    unreferenced.delete(child);
  } else {
    child.unref();
    unreferenced.add(child);
    if (!watching) {
      watching = true;
      addEventListener("unload", killUnreferenced);
    }
  }
}

/** "subprocess": each child is a `deno run` OS process. */
export const subprocessStrategy: StartStrategy = {
  checkSendable: (value, path, what) => assertCanCross(value, path, what),
  launch(options: ChildLaunch): ChildPort {
    const flags = childFlags(
      options.permissions,
      options.resourceLimits,
      options.what,
    );
    // Static imports (permissions "none" asks entrySource for them): the
    // child loads its code whatever its own read permission.
    const source = entrySource(
      { head: [shim, options.entry], modules: options.modules },
      "none",
      ([, entry], table) => `${entry}.main(${table});`,
    );
    const child = spawnChild(
      [
        "run",
        "--quiet",
        ...flags,
        dataUrl(source),
        options.name,
        ...Deno.args,
      ],
      options.what,
    );
    const writer = child.stdin.getWriter();
    let writing: Promise<void> = Promise.resolve();
    let queued: Uint8Array[] = [];
    const flush = () => {
      const bytes = concat(queued);
      queued = [];
      writing = writing.then(() => writer.write(bytes)).catch(() => {
        // The child has ended: its exit is reported by its status.
      });
    };
    const send = (frame: Uint8Array) => {
      // Frames posted in one turn (a dispatch's tasks) go in one write.
      if (queued.push(frame) === 1) queueMicrotask(flush);
    };
    // The child's shared objects, served from here (./proxy_parent.ts).
    const relay = new ProxyRelay(
      options.name,
      options.what,
      (reply, sync) => send(encodeFrame(reply, sync)),
    );
    let reported = false;
    let outOfMemory = false;
    const reader = new FrameReader();
    // A pool worker announces the task it runs in its control block
    // (kChildTask), which an OS process cannot share. It runs the tasks it
    // is sent by message one at a time, in order, so the oldest without a
    // result is the one it runs (or is about to): kept there from here.
    const tasks: number[] = [];
    const running = () =>
      Atomics.store(options.control, kChildTask, tasks[0] ?? 0);
    const onMessage = (message: unknown) => {
      const m = message as { t?: unknown; id?: unknown } | null;
      if (m?.t === "result") {
        const at = tasks.indexOf(m.id as number);
        if (at !== -1) tasks.splice(at, 1);
        if (at === 0) running();
      } else if (m?.t === "exit") reported = true;
      else if (m?.t === "proxy" || m?.t === "proxy-drop") {
        return relay.call(message);
      }
      options.onMessage(message);
    };
    // The end of what it printed, for an exit it could not report.
    let printed = "";
    const onText = (bytes: Uint8Array) => {
      const text = new TextDecoder().decode(bytes);
      if (kOutOfMemory.test(text)) outOfMemory = true;
      printed = (printed + text).slice(-kPrintedKept);
      for (let at = 0; at < bytes.length;) {
        at += Deno.stderr.writeSync(bytes.subarray(at));
      }
    };
    const pump = (async () => {
      for await (const chunk of child.stderr) {
        reader.push(chunk, onMessage, onText);
      }
      const rest = reader.rest();
      if (rest.length > 0) onText(rest);
    })();
    const ended = Promise.all([child.status, pump]).then(async ([status]) => {
      unreferenced.delete(child);
      relay.end();
      if (!reported) {
        onMessage(unreported(options.name, status, { outOfMemory, printed }));
      }
      await writing;
      await writer.close().catch(() => {});
    });
    return {
      pid: child.pid,
      ended,
      postMessage(message) {
        const shared = relay.translate(localOnly(message));
        if (shared.first) send(encodeFrame({ t: "proxy-start" }));
        const frame = encodeFrame(shared.message);
        const m = message as { t?: unknown; id?: unknown } | null;
        if (m?.t === "task" && tasks.push(m.id as number) === 1) running();
        send(frame);
      },
      ref: (on) => setRef(child, on),
      terminate(signal = "SIGTERM") {
        try {
          child.kill(signal);
        } catch {
          // Already ended.
        }
      },
    };
  },
};

registerStrategy("subprocess", subprocessStrategy);
