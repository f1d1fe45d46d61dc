// The "spawn" start method (see ./start_method.ts), and the only place that
// creates a Worker (createWorker, which "forkserver" uses too). Web Workers
// start like CPython's "spawn": a fresh isolate that imports the target's
// module again.
//
// The entry is a generated module that imports the bootstrap and the target
// modules. How it imports them is a trade measured on Deno 2.9.6:
// - static imports (and dynamic ones with literal specifiers, which Deno
//   analyses the same way) load with the parent's permissions, so a worker
//   with `permissions: "none"` can still load its own code; but under
//   `deno test`, `deno bench` and `deno run --check` the new graph is
//   type-checked at the worker's start: a `Check blob:…` line in
//   the output (in the middle of a bench table) and ~0.7 s, each time the
//   code changed;
// - dynamic imports of computed specifiers are never type-checked (no
//   output, same start-up: ~15 ms either way) but load with the worker's own
//   permissions, which a sandboxed worker lacks.
// So a worker with the parent's permissions (the default) imports
// dynamically, and only a sandboxed one imports statically.
//
// Tier 4 (child start-up).

import { earlyMessages } from "./event_loop.ts";
import {
  importsOwnModules,
  type WorkerPermissions,
} from "../_core/permissions.ts";
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
 * The source of a generated entry module: imports `head` (in order, the
 * bootstrap's module first), then `modules`, and runs `call(heads, table)`,
 * where `heads` are the expressions of the head modules' namespaces and
 * `table` that of an object mapping each of `modules` to its namespace.
 */
export function entrySource(
  imports: { head: string[]; modules: string[] },
  permissions: WorkerPermissions | undefined,
  call: (heads: string[], table: string) => string,
): string {
  const { head, modules } = imports;
  let source: string;
  if (importsOwnModules(permissions)) {
    // Computed specifiers, in order, as static imports would evaluate.
    const urls = JSON.stringify([...head, ...modules]);
    const heads = head.map((_, i) => `ns[${i}]`);
    const table =
      `Object.fromEntries(urls.slice(${head.length}).map((url, i) => [url, ns[${head.length} + i]]))`;
    // Messages that arrive while the modules load are held from the start.
    source = `(${earlyMessages.toString()})();
const urls = ${urls};
const ns = [];
for (const url of urls) ns.push(await import(url));
${call(heads, table)}`;
  } else {
    const lines = head.map((url, i) =>
      `import * as h${i} from ${JSON.stringify(url)};`
    );
    modules.forEach((url, i) => {
      lines.push(`import * as m${i} from ${JSON.stringify(url)};`);
    });
    const table = modules.map((url, i) => `[${JSON.stringify(url)}]: m${i}`);
    lines.push(call(head.map((_, i) => `h${i}`), `{ ${table.join(", ")} }`));
    source = lines.join("\n");
  }
  return source;
}

/** A data: URL of module `source`, for another OS process to run. */
export function dataUrl(source: string): string {
  return `data:application/javascript;base64,${
    btoa(unescape(encodeURIComponent(source)))
  }`;
}

const moduleUrls = new Map<string, string>();

// A blob: URL for a worker's generated entry `source`, one per distinct
// source and reused. Deno 2.9.6 keeps the source of every data: module a
// worker loads, for good (a byte per byte of source, per worker: ~2.4 KB of
// each pool worker's growth in bench/leak_check.ts), and nothing per load of
// a blob: one. A blob: URL means nothing to another OS process (dataUrl()).
function moduleUrl(source: string): string {
  let url = moduleUrls.get(source);
  if (url === undefined) {
    const blob = new Blob([source], { type: "application/javascript" });
    url = URL.createObjectURL(blob);
    moduleUrls.set(source, url);
  }
  return url;
}

/**
 * Creates a worker running module `source` (from {@linkcode entrySource}).
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
    return new Worker(moduleUrl(source), workerOptions);
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
      { head: [options.entry], modules: options.modules },
      options.permissions,
      ([entry], table) => `${entry}.main(${table});`,
    );
    const worker = createWorker(source, { ...options, modules }, options.what);
    return wireWorker(worker, options);
  },
};
