// The "spawn" start method (see ./start_method.ts), and the only place that
// creates a Worker (createWorker, which "forkserver" uses too). Web Workers
// start like CPython's "spawn": a fresh isolate that imports the target's
// module again.
//
// The entry is a data: module that *statically* imports the bootstrap and the
// target modules. Static imports load with the parent's permissions, dynamic
// ones with the worker's (verified on Deno 2.9.6), so a worker with
// `permissions: "none"` can still load its own code.
//
// Tier 4 (child start-up).

import type { WorkerPermissions } from "../_core/permissions.ts";
import type { ChildLaunch, ChildPort, StartStrategy } from "./start_method.ts";

/** How to create one worker. */
export interface WorkerSpec {
  /** Shown in Deno's own error messages. */
  name: string;
  /** Modules the entry imports statically, in the parent's permission scope. */
  modules: string[];
  /** Already validated by checkPermissions(). */
  permissions?: WorkerPermissions;
}

const readable = new Set<string>();

// Deno checks a worker's file: imports against the parent's read permission,
// and reports a refusal only as an error event in the worker. Checking here
// turns it into a clear error at the call that started the worker.
export function assertReadable(url: string, what: string): void {
  if (!url.startsWith("file:") || readable.has(url)) return;
  const path = decodeURIComponent(new URL(url).pathname);
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Cannot ${what} as the worker must be able to load ${path}: run with --allow-read (or --allow-read=<folder of your code>), which workers need to import modules`,
    );
  }
  readable.add(url);
}

/**
 * The data: entry of a worker: `head` (import lines that come first), then
 * `import * as mN` of each module, then `call(table)` with the source of an
 * object that maps each module's URL to its namespace.
 */
export function entrySource(
  head: string[],
  modules: string[],
  call: (table: string) => string,
): string {
  const lines = [...head];
  modules.forEach((url, i) => {
    lines.push(`import * as m${i} from ${JSON.stringify(url)};`);
  });
  const table = modules.map((url, i) => `[${JSON.stringify(url)}]: m${i}`);
  lines.push(call(`{ ${table.join(", ")} }`));
  return `data:application/javascript;base64,${
    btoa(unescape(encodeURIComponent(lines.join("\n"))))
  }`;
}

/**
 * Creates a worker running `source` (from {@linkcode entrySource}).
 *
 * @throws {Deno.errors.NotCapable} When this program may not read the
 * modules the worker imports, or on permission escalation.
 */
export function createWorker(
  source: string,
  spec: WorkerSpec,
  what: string,
): Worker {
  for (const url of spec.modules) assertReadable(url, what);
  const workerOptions: WorkerOptions & {
    deno?: { permissions?: WorkerPermissions };
  } = {
    type: "module",
    name: spec.name,
  };
  if (spec.permissions !== undefined) {
    workerOptions.deno = { permissions: spec.permissions };
  }
  try {
    return new Worker(source, workerOptions);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(
        `Cannot ${what} as 'permissions' must not exceed the parent's: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

// Deno's Web Worker has no public unref(); 2.9.6 keeps a ref-count method
// under an unnamed symbol (its node:worker_threads shim uses it). We look it
// up by shape, once, and fall back to "always referenced" where it is gone:
// then an idle daemon child keeps the program alive until terminated.
type RefFn = (this: Worker, ref: boolean) => void;
let refFn: RefFn | null | undefined;

function findRefFn(): RefFn | null {
  for (const symbol of Object.getOwnPropertySymbols(Worker.prototype)) {
    if (symbol.description) continue;
    const fn = (Worker.prototype as unknown as Record<symbol, unknown>)[symbol];
    if (typeof fn === "function" && /unrefOpPromise/.test(String(fn))) {
      return fn as RefFn;
    }
  }
  return null;
}

/** True where workers can be unreferenced (daemon semantics hold). */
function canUnref(): boolean {
  refFn ??= findRefFn();
  return refFn !== null;
}

const refState = new WeakMap<Worker, boolean>();

/**
 * Marks whether `worker` keeps the program alive. Idempotent: Deno counts
 * refs, so we only forward changes.
 */
export function setRef(worker: Worker, ref: boolean): void {
  if (!canUnref() || (refState.get(worker) ?? true) === ref) return;
  refState.set(worker, ref);
  refFn!.call(worker, ref);
}

/**
 * Hands `worker` to a child's launch: its messages and errors go to the
 * launch's callbacks, and the launch gets the parent's end.
 */
export function wireWorker(worker: Worker, launch: ChildLaunch): ChildPort {
  const { onMessage, onError } = launch;
  worker.onmessage = (event: MessageEvent) => onMessage(event.data);
  worker.onerror = (event) => {
    // Unhandled, an error event would end the parent too.
    event.preventDefault();
    onError(event.message);
  };
  return {
    postMessage: (message, transfer) =>
      transfer === undefined
        ? worker.postMessage(message)
        : worker.postMessage(message, transfer),
    ref: (on) => setRef(worker, on),
    terminate: () => worker.terminate(),
  };
}

/**
 * "spawn": each child is a fresh Web Worker. Deno gives the parent no event
 * when a worker ends, so the child's own exit report (a message) is how the
 * parent learns it; an error event arrives only for what the child's
 * bootstrap could not catch, such as a module that fails to load.
 */
export const spawnStrategy: StartStrategy = {
  launch(options: ChildLaunch): ChildPort {
    const modules = [options.entry, ...options.modules];
    const source = entrySource(
      [`import { main } from ${JSON.stringify(options.entry)};`],
      options.modules,
      (table) => `main(${table});`,
    );
    const worker = createWorker(source, { ...options, modules }, options.what);
    return wireWorker(worker, options);
  },
};
