// Classes by reference: an instance travels as its own fields plus where to
// import its class (module URL + export name), and the receiver rebuilds it
// on that class's prototype. This is CPython's "pickle a class by qualified
// name", with the same rule: only exported, module-level classes travel.
//
// How the sender learns a class's module, in order:
// 1. module namespaces this process holds (a child's target module and the
//    modules it imported for earlier values): exact, by identity;
// 2. the source of the calling module (the first stack frame outside the
//    library): `export class Name`, `export { Name }`, `export default class`;
// 3. that module's imports of the name (`import { Name } from "./x.ts"`,
//    aliases, default and namespace imports), checked against the source of
//    the imported module.
// The parent cannot import its own main module for a look (a main module
// inside its top-level await would wait for itself), hence the source.
// What the sender guessed, the receiver checks: the export it finds must
// have the same source text, as targets do (src/_core/target.ts).
//
// Tier 1.

import { callerUrl } from "./target.ts";
import { defaultImports, resolveSpecifier } from "./imports.ts";

/** Where a class lives: the receiver imports `url` and takes export `name`. */
export interface ClassRef {
  /** Module URL, without a hash. */
  url: string;
  /** Export name in that module (`"default"` for a default export). */
  name: string;
  /** The class's source text, compared with the export the receiver finds. */
  source: string;
}

// deno-lint-ignore no-explicit-any
type Ctor = abstract new (...args: any[]) => unknown;

const namespaces = new Map<string, Record<string, unknown>>();
// Per class: its reference, once found.
const found = new WeakMap<Ctor, ClassRef>();
// Per "url#name": the class, once this process has met it.
const byKey = new Map<string, Ctor>();
const sources = new Map<string, string | undefined>();

const keyOf = (url: string, name: string) => `${url}#${name}`;
const sourceOf = (ctor: Ctor) => Function.prototype.toString.call(ctor);

/**
 * Records modules this process has imported, so that their exported classes
 * are found by identity (sending) and without an import (receiving).
 *
 * @param modules Module namespaces by URL.
 */
export function registerNamespaces(
  modules: Record<string, Record<string, unknown>>,
): void {
  for (const [url, namespace] of Object.entries(modules)) {
    if (namespaces.get(url) === namespace) continue;
    namespaces.set(url, namespace);
    for (const name of Object.keys(namespace)) {
      const value = namespace[name];
      if (typeof value === "function") {
        byKey.set(keyOf(url, name), value as Ctor);
      }
    }
  }
}

function readSource(url: string): string | undefined {
  if (sources.has(url)) return sources.get(url);
  let text: string | undefined;
  try {
    if (url.startsWith("file:")) text = Deno.readTextFileSync(new URL(url));
  } catch {
    // Unreadable (no read permission, gone): that module is not a candidate.
  }
  sources.set(url, text);
  return text;
}

const escape = (name: string) => name.replace(/\$/g, "\\$");

// The code of a module without its comments and the text of its strings,
// where an export written in a comment or a string would be taken for one.
function codeOf(source: string): string {
  return source.replace(
    /\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g,
    (match) => /^["'`]/.test(match) ? match[0] + match[0] : " ",
  );
}

// The export lists of `code` (not re-exports from another module): each
// entry as [local, exported].
function exportLists(code: string): [string, string][] {
  const entries: [string, string][] = [];
  for (const list of code.matchAll(/export\s*\{([^}]*)\}(\s*from\b)?/g)) {
    if (list[2] !== undefined) continue;
    for (const entry of list[1].split(",")) {
      const [inner, outer] = entry.trim().replace(/^type\s+/, "").split(
        /\s+as\s+/,
      );
      if (inner !== "") entries.push([inner, outer ?? inner]);
    }
  }
  return entries;
}

const codes = new Map<string, string | undefined>();

// A module's code (codeOf()), made once per module as its source is read.
function readCode(url: string): string | undefined {
  if (!codes.has(url)) {
    const source = readSource(url);
    codes.set(url, source === undefined ? undefined : codeOf(source));
  }
  return codes.get(url);
}

/** The name `local` is exported under by `code` (codeOf()), if it is. */
function exportedAs(code: string, local: string): string | undefined {
  const name = escape(local);
  const declared = new RegExp(
    `export\\s+(default\\s+)?(?:(?:abstract\\s+)?class|(?:async\\s+)?function\\s*\\*?|const|let|var)\\s+${name}\\b`,
  ).exec(code);
  if (declared !== null) return declared[1] ? "default" : local;
  const listed = exportLists(code).find(([inner]) => inner === local);
  if (listed !== undefined) return listed[1];
  if (new RegExp(`export\\s+default\\s+${name}\\s*;`).test(code)) {
    return "default";
  }
  return undefined;
}

/** Whether `code` exports something under `name` itself (not re-exported). */
function exportsName(code: string, name: string): boolean {
  if (name === "default") return /export\s+default\s/.test(code);
  return exportedAs(code, name) === name ||
    exportLists(code).some(([, outer]) => outer === name);
}

/** Modules `source` imports `local` from, with the export name there. */
function importsOf(
  source: string,
  local: string,
): { specifier: string; name: string }[] {
  const out: { specifier: string; name: string }[] = [];
  const clauses =
    /import\s+(?:type\s+)?([\w$*\s{},]+?)\s+from\s*["']([^"']+)["']/g;
  for (const [, clause, specifier] of source.matchAll(clauses)) {
    const named = /\{([^}]*)\}/.exec(clause);
    for (const entry of named?.[1].split(",") ?? []) {
      const [outer, inner] = entry.trim().replace(/^type\s+/, "").split(
        /\s+as\s+/,
      );
      if ((inner ?? outer) === local) out.push({ specifier, name: outer });
    }
    const rest = clause.replace(/\{[^}]*\}/, "");
    const star = /\*\s*as\s+[\w$]+/.test(rest);
    // `import * as ns`: the instance's class is `ns.Name`.
    if (star) out.push({ specifier, name: local });
    const fallback = /^\s*([\w$]+)/.exec(rest);
    if (fallback !== null && fallback[1] === local) {
      out.push({ specifier, name: "default" });
    }
  }
  return out;
}

function fromNamespaces(ctor: Ctor): ClassRef | undefined {
  for (const [url, namespace] of namespaces) {
    for (const name of Object.keys(namespace)) {
      if (namespace[name] === ctor) {
        return { url, name, source: sourceOf(ctor) };
      }
    }
  }
  return undefined;
}

// V8 names an anonymous `export default class` "default": the module's own
// default export, or one of a module it imports by default.
function fromDefault(ctor: Ctor, module: string): ClassRef | undefined {
  const urls = [module, ...defaultImports(module)].filter((url) =>
    /export\s+default\s+(?:abstract\s+)?class\b/.test(readCode(url) ?? "")
  );
  // The one whose text holds the class's, spacing aside (Deno reformats
  // it), else the first: the receiver checks the source anyway.
  const text = sourceOf(ctor);
  const bare = (code: string) => code.replace(/\s+/g, "");
  const url = urls.find((url) => bare(readSource(url)!).includes(bare(text)));
  return urls[0]
    ? { url: url ?? urls[0], name: "default", source: text }
    : undefined;
}

function fromSource(ctor: Ctor, module: string): ClassRef | undefined {
  const source = readSource(module);
  if (source === undefined) return undefined;
  if (ctor.name === "default") return fromDefault(ctor, module);
  const name = exportedAs(readCode(module)!, ctor.name);
  if (name !== undefined) return { url: module, name, source: sourceOf(ctor) };
  for (const { specifier, name } of importsOf(source, ctor.name)) {
    const url = resolveSpecifier(specifier, module);
    if (url === undefined) continue;
    const imported = readCode(url);
    // A module it cannot read (npm:, jsr:, remote) is taken at its word:
    // the receiver checks the export.
    if (imported === undefined) {
      if (!url.startsWith("file:") && /^[a-z]+:/.test(specifier)) {
        return { url, name, source: sourceOf(ctor) };
      }
      continue;
    }
    const declared = exportsName(imported, name) ||
      new RegExp(`export\\s*\\{[^}]*\\b${escape(name)}\\b[^}]*\\}\\s*from`)
        .test(imported);
    if (declared) return { url, name, source: sourceOf(ctor) };
  }
  // Imported under another name than its own (`export { A as B }` there):
  // a module the caller imports that exports the class's name under any.
  for (const [, specifier] of source.matchAll(/from\s*["']([^"']+)["']/g)) {
    const url = resolveSpecifier(specifier, module);
    const imported = url === undefined ? undefined : readCode(url);
    const name = imported && exportedAs(imported, ctor.name);
    if (url !== undefined && name) return { url, name, source: sourceOf(ctor) };
  }
  return undefined;
}

/**
 * Finds where `ctor` can be imported from, or says why it cannot.
 *
 * @param ctor The class of a value about to travel.
 * @param near A module to look in too (for a reduction's callable: the
 * module of the class that names it).
 * @returns Its reference, or the reason there is none (a sentence end).
 */
export function classRef(ctor: Ctor, near?: string): ClassRef | string {
  const known = found.get(ctor);
  if (known !== undefined) return known;
  let result: ClassRef | string | undefined = fromNamespaces(ctor);
  if (result === undefined && ctor.name !== "") {
    const caller = callerUrl();
    const modules = [caller, near, ...namespaces.keys()].filter((
      url,
    ): url is string => url !== undefined);
    for (const module of modules) {
      result = fromSource(ctor, module.replace(/#.*$/, ""));
      if (result !== undefined) break;
    }
  }
  result ??= ctor.name === ""
    ? "an anonymous class cannot be found by reference"
    : `'${ctor.name}' is not exported from the calling module or imported into it from a module that exports it`;
  // A failure is not kept: another calling module may import the class.
  if (typeof result !== "string") {
    found.set(ctor, result);
    byKey.set(keyOf(result.url, result.name), ctor);
  }
  return result;
}

/** Why `ref` does not name the class it was sent for, or undefined. */
function mismatch(ref: ClassRef, value: unknown): string | undefined {
  if (typeof value !== "function") {
    return `class '${ref.name}' is not exported from ${ref.url}`;
  }
  if (sourceOf(value as Ctor) !== ref.source) {
    return `class '${ref.name}' of ${ref.url} is not the class that was sent (its source differs)`;
  }
  return undefined;
}

/**
 * The class `ref` names, when this process already holds its module.
 *
 * @returns The class, or undefined when its module must be imported first.
 * @throws {TypeError} When the module is held and does not export it.
 */
export function findClass(ref: ClassRef): Ctor | undefined {
  const ctor = byKey.get(keyOf(ref.url, ref.name));
  if (ctor === undefined) {
    const namespace = namespaces.get(ref.url);
    if (namespace === undefined) return undefined;
    throw classError(ref, mismatch(ref, namespace[ref.name])!);
  }
  const why = mismatch(ref, ctor);
  if (why !== undefined) throw classError(ref, why);
  return ctor;
}

function classError(ref: ClassRef, why: string): TypeError {
  return new TypeError(
    `Cannot receive value as its class must be exported from its module: ${why}. Fix: export the class from ${ref.url}`,
  );
}

/**
 * Imports the modules of `refs` (skipping those already held), so that
 * {@linkcode findClass} finds their classes.
 */
export async function loadClasses(refs: Iterable<ClassRef>): Promise<void> {
  const urls = new Set<string>();
  for (const ref of refs) if (!namespaces.has(ref.url)) urls.add(ref.url);
  for (const url of urls) {
    registerNamespaces({ [url]: await import(url) });
  }
}

/** Thrown by classOf() when the module of a class is not loaded here. */
export class MissingModule extends Error {
  constructor(readonly ref: ClassRef) {
    super(`Cannot receive value as the module of '${ref.name}' is not loaded`);
  }
}

/** The class `ref` names; throws MissingModule when it must be imported. */
export function classOf(ref: ClassRef): Ctor {
  const ctor = findClass(ref);
  if (ctor === undefined) throw new MissingModule(ref);
  return ctor;
}

let mainLoaded = false;
globalThis.addEventListener?.("load", () => mainLoaded = true);

/**
 * Runs `revive` and, while it meets classes whose modules are not loaded
 * here, imports them and runs it again (revive works in place, so a rerun
 * only rebuilds what is left).
 *
 * @throws {TypeError} When a module cannot be imported now: the main
 * module while it still runs its top-level code.
 */
export async function withClasses<T>(revive: () => T): Promise<T> {
  for (;;) {
    try {
      return revive();
    } catch (error) {
      if (!(error instanceof MissingModule)) throw error;
      const { url, name } = error.ref;
      if (url === Deno.mainModule && !mainLoaded && isMainThread()) {
        throw new TypeError(
          `Cannot receive value as class '${name}' must be known to the main thread: it is defined in the main module, which is still running its top-level code, and the main thread has not sent one. Fix: define the class in a module of its own and import it`,
        );
      }
      await loadClasses([error.ref]);
    }
  }
}

/**
 * Runs `revive` where no import can wait (a blocking receive).
 *
 * @throws {TypeError} When a class's module is not loaded in this process.
 */
export function withLoadedClasses<T>(revive: () => T): T {
  try {
    return revive();
  } catch (error) {
    if (!(error instanceof MissingModule)) throw error;
    throw new TypeError(
      `Cannot receive value as the module of class '${error.ref.name}' must be loaded in this process first: current module is ${error.ref.url}. Fix: receive it with the awaited form (get(), recv()), which imports it`,
    );
  }
}

function isMainThread(): boolean {
  return typeof (globalThis as { WorkerGlobalScope?: unknown })
    .WorkerGlobalScope === "undefined";
}

/**
 * Runs `revive` now when it can, else once the modules of its classes are
 * imported; either way hands the result to `done` (or the error to
 * `failed`). The pool's results take this: most never wait.
 */
export function reviveThen<T>(
  revive: () => T,
  done: (value: T) => void,
  failed: (error: unknown) => void,
): void {
  let value: T;
  try {
    value = revive();
  } catch (error) {
    if (error instanceof MissingModule) {
      withClasses(revive).then(done, failed);
    } else failed(error);
    return;
  }
  done(value);
}
