// Function references: a child cannot receive a function, so it receives
// where to import it from (module URL + export name) and checks that what it
// imports is the same function (same source text). This is CPython's
// "pickle functions by qualified name", with the same failure mode made
// explicit: only functions some module exports can be targets. The module is
// the caller's own, or one the caller imports the function from (named,
// renamed, a namespace, a default export, a barrel), or, for a caller with
// neither (a helper module that makes the pool for a function main.ts
// passes in), those of the modules above it on the stack: ./imports.ts
// lists those as candidates, and the child keeps the first that is the
// same function.
//
// Tier 1. The wire shape of a reference (TargetRef) is the protocol's.

import type { TargetRef } from "../_wire/protocol.ts";
import { isRefusal } from "../_wire/error_codec.ts";
import { callSiteUrls } from "./call_sites.ts";
import { importCandidates, namedImport } from "./imports.ts";
import { ProcessError } from "../errors.ts";

/** A target function, or `"./module.ts#exportName"`, or a URL with a hash. */
// deno-lint-ignore no-explicit-any
export type Target = ((...args: any[]) => unknown) | string | URL;

export type { TargetRef } from "../_wire/protocol.ts";

const libraryDir = new URL("../", import.meta.url).href;

/**
 * The URL of the first module on the call stack outside this library: the
 * module that called `new Process()` / `pool.map()`.
 */
export function callerUrl(): string | undefined {
  return callSiteUrls().find((url) => !url.startsWith(libraryDir));
}

const identifier = /^[\p{L}_$][\p{L}\p{N}_$]*$/u;
const methodSyntax =
  /^(?:async\s*)?\*?\s*(?:get\s+|set\s+|static\s+)?[\p{L}_$][\p{L}\p{N}_$]*\s*\(/u;

function describeFunction(fn: (...args: never[]) => unknown): string {
  return fn.name ? `function '${fn.name}'` : "an anonymous function";
}

/**
 * Turns a user-supplied target into a reference a child can import.
 *
 * @param target The function, `"./mod.ts#name"` string or URL.
 * @param caller The calling module's URL (relative strings resolve against it).
 * @param what The operation, for error messages ("start process").
 */
export function targetRef(
  target: unknown,
  caller: string | undefined,
  what: string,
): TargetRef {
  if (typeof target === "string" || target instanceof URL) {
    let url: URL;
    try {
      url = new URL(target, caller ?? Deno.mainModule);
    } catch {
      throw new TypeError(
        `Cannot ${what} as 'target' must be a function or a module URL with '#exportName': current value is '${target}'`,
      );
    }
    const name = decodeURIComponent(url.hash.slice(1));
    if (!identifier.test(name)) {
      throw new TypeError(
        `Cannot ${what} as 'target' must name an export after '#', as in './tasks.ts#work': current value is '${target}'`,
      );
    }
    url.hash = "";
    return { url: url.href, name, kind: "function" };
  }
  if (typeof target !== "function") {
    throw new TypeError(
      `Cannot ${what} as 'target' must be an exported function or a './module.ts#name' string: current value is ${
        target === null ? "null" : typeof target
      }`,
    );
  }
  const fn = target as (...args: never[]) => unknown;
  const source = Function.prototype.toString.call(fn);
  // `{ target: () => 1 }` names the arrow "target": still anonymous to us.
  const inline = fn.name === "target" && !/^(async\s+)?function\b/.test(source);
  if (
    !fn.name || inline || fn.name === "anonymous" || !identifier.test(fn.name)
  ) {
    const bound = fn.name.startsWith("bound ");
    throw new TypeError(
      `Cannot ${what} as 'target' must be an exported, named function: current value is ${
        bound
          ? `a bound function ('${fn.name}')`
          : inline
          ? "an anonymous function"
          : describeFunction(fn)
      }. Declare it at module level with 'export function', and pass extra values through 'args'`,
    );
  }
  if (source.includes("[native code]")) {
    throw new TypeError(
      `Cannot ${what} as 'target' must be an exported function of your own module: current value is the built-in ${
        describeFunction(fn)
      }`,
    );
  }
  if (methodSyntax.test(source) && !source.startsWith("function")) {
    throw new TypeError(
      `Cannot ${what} as 'target' must be an exported, module-level function: current value is the method '${fn.name}'. Methods cannot travel to another process (as in CPython, only module-level functions pickle): move its body into an 'export function'`,
    );
  }
  if (caller === undefined || caller.startsWith("data:")) {
    throw new TypeError(
      `Cannot ${what} as the module of 'target' must be importable by a worker: current value is ${
        describeFunction(fn)
      } called from ${
        caller ?? "an unknown module"
      }. Pass the target as 'file:///path/to/module.ts#name'`,
    );
  }
  const url = caller.replace(/#.*$/, "");
  // The same function from the same module always makes the same reference:
  // a Process started in a loop reads the caller's imports once.
  let byCaller = refs.get(fn);
  if (byCaller === undefined) refs.set(fn, byCaller = new Map());
  let ref = byCaller.get(url);
  if (ref === undefined) {
    ref = { url, name: fn.name, source, kind: "function" };
    let also = importCandidates(url, fn.name);
    // `import { work } from "./tasks.ts"`: the caller cannot declare `work`
    // itself, so the reference names tasks.ts and keeps the caller as a
    // candidate. A child that imports its own modules then loads tasks.ts
    // alone, not the caller (often the main module, with this library and
    // everything else it imports: ~20 ms of a child's start on Deno 2.9.6).
    const from = namedImport(url, fn.name);
    if (from !== undefined) {
      ref.url = from;
      const self = `${from}#${fn.name}`;
      also = [`${url}#${fn.name}`, ...also.filter((c) => c !== self)];
    }
    // A helper module that makes the pool (lib/parallel.ts) runs a
    // function main.ts passed in: the modules further up the stack.
    if (from === undefined) {
      also = [...new Set([...also, ...outerCandidates(url, fn.name)])];
    }
    if (also.length > 0) ref.also = also;
    byCaller.set(url, ref);
  }
  return ref;
}

const refs = new WeakMap<object, Map<string, TargetRef>>();

// Where the modules above the caller on the stack have the function: each
// one's named import of it, then the module itself, then its other imports.
function outerCandidates(caller: string, name: string): string[] {
  const out: string[] = [];
  const seen = new Set([caller]);
  for (const url of callSiteUrls()) {
    if (url.startsWith(libraryDir) || url.startsWith("data:")) continue;
    if (seen.has(url)) continue;
    seen.add(url);
    const from = namedImport(url, name);
    if (from !== undefined) out.push(`${from}#${name}`);
    out.push(`${url}#${name}`, ...importCandidates(url, name));
  }
  return [...new Set(out)];
}

/**
 * How workers know a function: `"url#name"`, followed for a reference with
 * candidates by each of them and a hash of the source, one per line (two
 * functions imported under one name from two modules share candidates, and
 * must not share a key).
 */
export function refKey(ref: TargetRef): string {
  const head = `${ref.url}#${ref.name}`;
  if (ref.also === undefined) return head;
  let hash = 0x811c9dc5;
  const source = ref.source ?? "";
  for (let i = 0; i < source.length; i++) {
    hash = Math.imul(hash ^ source.charCodeAt(i), 0x01000193);
  }
  return [head, ...ref.also, `~${(hash >>> 0).toString(36)}`].join("\n");
}

/** The reference a key names (the inverse of refKey), with its source. */
export function refFromKey(key: string, source: string | null): TargetRef {
  const lines = key.split("\n");
  const head = lines[0];
  const hash = head.lastIndexOf("#");
  const ref: TargetRef = {
    url: head.slice(0, hash),
    name: head.slice(hash + 1),
    source: source ?? undefined,
    kind: "function",
  };
  if (lines.length > 1) ref.also = lines.slice(1, -1);
  return ref;
}

/**
 * Every module a child may need to find `ref`, the reference's own first.
 *
 * @param ref The reference.
 * @param importsItself Whether the child may import modules itself: then
 * only the reference's own module, as loadTarget() imports a candidate's
 * only when the modules before it do not hold the function.
 */
export function refModules(ref: TargetRef, importsItself = false): string[] {
  const urls = [ref.url];
  if (importsItself) return urls;
  for (const candidate of ref.also ?? []) {
    urls.push(candidate.slice(0, candidate.lastIndexOf("#")));
  }
  return [...new Set(urls)];
}

/** Why a reference could not be resolved in the child. */
function notExported(ref: TargetRef, found: unknown): TypeError {
  if (ref.kind === "class") {
    const detail = found === undefined
      ? `is not exported from ${ref.url}`
      : `is not the same as the export of that name in ${ref.url}`;
    return new TypeError(
      `Cannot run the target as the class '${ref.name}' must be exported from its module: it ${detail}. Fix: add 'export' to the class declaration`,
    );
  }
  const where = ref.also === undefined
    ? ref.url
    : `${ref.url} nor from the modules it imports it from (${
      refModules(ref).slice(1).join(", ")
    })`;
  const detail = found === undefined
    ? `is not exported from ${where}`
    : `is not the same as the export of that name in ${ref.url}`;
  return new TypeError(
    `Cannot run the target as the function '${ref.name}' must be exported from its module: it ${detail}. Fix: declare it at module level and add 'export' (in this module, or in the module you import it from, with a static import at the top: one imported with import() cannot be found), or pass './module.ts#${ref.name}'; nested functions, closures and methods cannot be targets: move the code to a module-level function and pass what it uses through 'args'`,
  );
}

/**
 * Child side: finds the referenced export in the (already imported) module
 * namespace and checks it is the function the parent meant.
 */
export function resolveTarget(
  ref: TargetRef,
  namespace: Record<string, unknown>,
): (...args: unknown[]) => unknown {
  const found = namespace[ref.name];
  if (typeof found !== "function") throw notExported(ref, found);
  if (
    ref.source !== undefined &&
    Function.prototype.toString.call(found) !== ref.source
  ) {
    throw notExported(ref, found);
  }
  return found as (...args: unknown[]) => unknown;
}

/** Imported module namespaces, by URL. */
export type Namespaces = Record<string, Record<string, unknown>>;

/**
 * Child side: imports the module of `ref` (unless `modules` already holds
 * it, as the static imports of a child's entry do) and finds the export.
 * The one way a child goes from a reference to the function: Process
 * targets, pool functions and initializers, Barrier actions.
 *
 * @param ref The reference the parent sent.
 * @param modules Namespaces already imported; a dynamic import is added.
 * @returns The function (or class, for `kind: "class"`).
 * @throws {TypeError} When the export is missing or is another function.
 */
export async function loadTarget(
  ref: TargetRef,
  modules: Namespaces = {},
): Promise<(...args: unknown[]) => unknown> {
  const namespace = modules[ref.url] ??= await import(ref.url);
  if (ref.also === undefined) return resolveTarget(ref, namespace);
  if (isSame(ref, namespace[ref.name])) return namespace[ref.name] as Fn;
  const refused: string[] = [];
  for (const candidate of ref.also) {
    const hash = candidate.lastIndexOf("#");
    const url = candidate.slice(0, hash);
    let other = modules[url];
    if (other === undefined) {
      try {
        other = modules[url] = await import(url);
      } catch (error) {
        // A module that started a process at import time is broken (the
        // bootstrapping error); one this child may not load cannot be the
        // one: try the next.
        if (error instanceof ProcessError) throw error;
        // Deno refuses a dynamic import as a TypeError, by its message.
        if (isRefusal(String((error as Error)?.message))) refused.push(url);
        continue;
      }
    }
    const found = other[candidate.slice(hash + 1)];
    if (isSame(ref, found)) return found as Fn;
  }
  if (refused.length > 0) {
    // A sandboxed worker imports only what it was started with.
    throw new TypeError(
      `Cannot run the target as the function '${ref.name}' must be in a module this worker may import: its own permissions refused ${
        refused.join(", ")
      }. Fix: make the pool or process in the module that imports the function (a sandboxed worker gets that module's imports at its start), or grant it read access to those modules with permissions: { read: [...] }`,
    );
  }
  throw notExported(ref, undefined);
}

type Fn = (...args: unknown[]) => unknown;

function isSame(ref: TargetRef, found: unknown): boolean {
  return typeof found === "function" &&
    (ref.source === undefined ||
      Function.prototype.toString.call(found) === ref.source);
}
