// Where else a target may be exported: the import declarations of the module
// that passed it. `pool.map(cube, xs)` in main.ts, with `cube` imported from
// ./lib/tasks.ts, hands us a function whose own module we cannot ask the
// runtime for synchronously (node:inspector knows it, but it needs
// --allow-sys and answers asynchronously, ~30 ms: unfit for a synchronous
// `Process.start()` under least privilege). The calling module's source is
// readable wherever workers can load it, so its imports are read once, and
// each (module, export) that could hold the function becomes a candidate the
// child tries in order; the child keeps the first whose export has the same
// source text, so a wrong guess costs a lookup, never a wrong function.
//
// Why this and not the runtime: measured on Deno 2.9.6 (a loaded 2-core VM),
// reading the head of a module takes 0.04-0.6 ms (plus ~10 ms of regular
// expression warm-up on the first call of a program), once per module
// (cached by URL); the candidates of a function are computed once per
// (function, caller) by targetRef()'s cache, and the pool's per-task path
// never comes here (poolRef() and the task keys are cached per function).
// The inspector would cost ~30 ms per function, asynchronously, and
// --allow-sys.
//
// Tier 1: imports only the workspace-member lookup of its own tier.

import { configResolve } from "./config_imports.ts";

/** One binding an import declaration makes. */
interface ImportBinding {
  /** The exported name, "default", or "*" for a namespace import. */
  imported: string;
  /** The resolved module URL. */
  url: string;
  /** The local name of a default import, or of a named one. */
  local?: string;
}

/** What the scan learned about one module. */
interface ModuleImports {
  bindings: ImportBinding[];
  /**
   * Every module it imports by relative or absolute URL, once (no JSON or
   * other attribute imports, no built-ins).
   */
  modules: string[];
  source: string;
}

const scanned = new Map<string, ModuleImports | undefined>();

// Only the module's head is read: its import (and export-from) declarations
// up to its first other statement, which is where they are in practice. So
// an import written in a comment, a string or a template further down is
// never taken for one (a wrong module in a sandboxed worker's static imports
// would end the worker).
const gap = /(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|^#![^\n]*)+/y;
// The clause may hold comments, with quotes or semicolons in them.
const importFrom =
  /import\s*(type\s+)?((?:\/\/[^\n]*|\/\*[\s\S]*?\*\/|[^;"'`])*?)\s*from\s*(["'])([^"'\n]+)\3\s*((?:with|assert)\s*\{[^}]*\})?\s*;?/y;
const bareImport =
  /import\s*(["'])([^"'\n]+)\1\s*((?:with|assert)\s*\{[^}]*\})?\s*;?/y;
const exportFrom =
  /export\s*(?:type\s+)?(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(["'])([^"'\n]+)\1\s*((?:with|assert)\s*\{[^}]*\})?\s*;?/y;
const absoluteUrl = /^[a-z][a-z0-9+.-]*:/i;
const identifier = /^[\p{L}_$][\p{L}\p{N}_$]*$/u;

/**
 * `specifier` as module `base` imports it: relative to it, as it is when it
 * is a URL, and through the import map when it is a bare name: the program's,
 * else that of the workspace member that holds `base` (config_imports.ts).
 */
export function resolveSpecifier(
  specifier: string,
  base: string,
): string | undefined {
  try {
    if (/^\.{0,2}\//.test(specifier)) return new URL(specifier, base).href;
    if (absoluteUrl.test(specifier)) return specifier;
  } catch {
    return undefined;
  }
  // A bare name goes through the import map Deno runs the program with (a
  // --config or --import-map one included), and only a name that map lacks
  // through the caller's workspace member's own map.
  try {
    return import.meta.resolve(specifier);
  } catch {
    return configResolve(specifier, base);
  }
}

function parseClause(clause: string, url: string, into: ImportBinding[]) {
  clause = clause.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, "");
  const braces = clause.indexOf("{");
  const head = braces < 0 ? clause : clause.slice(0, braces);
  for (const part of head.split(",")) {
    const text = part.trim();
    if (text === "") continue;
    const star = /^\*\s*as\s/.test(text);
    into.push({ imported: star ? "*" : "default", url, local: text });
  }
  if (braces < 0) return;
  const inner = clause.slice(braces + 1, clause.lastIndexOf("}"));
  for (const part of inner.split(",")) {
    const text = part.trim();
    if (text === "" || /^type\s/.test(text)) continue;
    const [name, alias] = text.split(/\s+as\s+/);
    const imported = name.replace(/^["']|["']$/g, "");
    into.push({ imported, url, local: alias?.trim() ?? imported });
  }
}

/** The import declarations at the head of `source` (see `gap` above). */
function readHead(source: string, url: string): ModuleImports {
  const bindings: ImportBinding[] = [];
  const modules = new Set<string>();
  const add = (specifier: string, attributes: string | undefined) => {
    const resolved = resolveSpecifier(specifier, url);
    // JSON and other attribute imports hold no function, and a bare name
    // resolved here (through the import map this library sees) is only a
    // guess: fine to try, not to load statically, where a wrong guess would
    // end the worker.
    if (resolved === undefined || attributes !== undefined) return undefined;
    const bare = !/^\.{0,2}\//.test(specifier) && !absoluteUrl.test(specifier);
    if (!bare && !resolved.startsWith("node:")) modules.add(resolved);
    return resolved;
  };
  let at = 0;
  for (;;) {
    gap.lastIndex = at;
    if (gap.exec(source) !== null) at = gap.lastIndex;
    let match: RegExpExecArray | null;
    if ((importFrom.lastIndex = at, match = importFrom.exec(source))) {
      const resolved = add(match[4], match[5]);
      if (resolved !== undefined && match[1] === undefined) {
        parseClause(match[2], resolved, bindings);
      }
      at = importFrom.lastIndex;
    } else if ((bareImport.lastIndex = at, match = bareImport.exec(source))) {
      add(match[2], match[3]);
      at = bareImport.lastIndex;
    } else if ((exportFrom.lastIndex = at, match = exportFrom.exec(source))) {
      add(match[2], match[3]);
      at = exportFrom.lastIndex;
    } else {
      return { bindings, modules: [...modules], source };
    }
  }
}

function scan(url: string): ModuleImports | undefined {
  if (scanned.has(url)) return scanned.get(url);
  let result: ModuleImports | undefined;
  try {
    // Only local modules can be read without a network round trip; a remote
    // caller gets no candidates (its own exports still work).
    if (url.startsWith("file:")) {
      result = readHead(Deno.readTextFileSync(new URL(url)), url);
    }
  } catch {
    // Unreadable: the worker's own start will say why, with the fix.
    result = undefined;
  }
  scanned.set(url, result);
  return result;
}

/** Most candidates one reference carries (a test file may import dozens). */
const kMaxCandidates = 32;

/**
 * The other places, as `"url#name"`, where the function `name` passed from
 * module `caller` may be exported: the modules `caller` imports, most
 * likely first. Empty when `caller` imports nothing that could hold it.
 *
 * @param caller The calling module's URL (its own exports are tried first,
 * by the reference itself).
 * @param name The function's own name (`fn.name`).
 */
export function importCandidates(caller: string, name: string): string[] {
  const found = scan(caller);
  if (found === undefined) return [];
  const named: string[] = [];
  const maybe: string[] = [];
  const renamed: string[] = [];
  for (const { imported, url, local } of found.bindings) {
    // A built-in's function travels by its name there (`basename` of
    // node:path, as CPython pickles os.path.basename), never by a rename.
    if (url.startsWith("node:")) {
      if (imported === name) named.push(`${url}#${name}`);
      else if (imported === "*" || imported === "default") {
        maybe.push(`${url}#${name}`);
      }
      continue;
    }
    if (imported === name) named.push(`${url}#${name}`);
    else if (imported === "default" && local === name) {
      named.push(`${url}#default`);
    } else if (imported === "*") maybe.push(`${url}#${name}`);
    else if (imported === "default") maybe.push(`${url}#default`);
    else if (identifier.test(imported)) renamed.push(`${url}#${imported}`);
  }
  // An import renamed along the way (`export { cube as kube }` in a barrel)
  // matches by no name: when no import has the function's name and the
  // caller does not declare it itself, every named import is worth a try.
  const declared = new RegExp(
    `^\\s*(?:export\\s+)?(?:default\\s+)?(?:async\\s+)?(?:function\\s*\\*?\\s*|(?:class|const|let|var)\\s+)${
      name.replace(/\$/g, "\\$")
    }(?![\\p{L}\\p{N}_$])`,
    "mu",
  );
  const all = named.length > 0 || declared.test(found.source)
    ? [...named, ...maybe]
    : [...maybe, ...renamed];
  return [...new Set(all)].slice(0, kMaxCandidates);
}

/**
 * The module `caller` imports `name` from under that same name (`import {
 * name } from "./tasks.ts"`), if it does: then `caller` cannot declare a
 * function `name` of its own, and a function of that name it passes is most
 * likely that module's export. Bare names and built-ins are left out.
 *
 * @param caller The calling module's URL.
 * @param name The function's own name (`fn.name`).
 */
export function namedImport(caller: string, name: string): string | undefined {
  const found = scan(caller);
  for (const { imported, url, local } of found?.bindings ?? []) {
    // Only a module the caller names by URL: a bare name resolved here is a
    // guess (see readHead()), fine as a candidate, not as the reference.
    if (imported === name && local === name && found!.modules.includes(url)) {
      return url;
    }
  }
  return undefined;
}

/**
 * The modules `caller` takes a default import from (`import Box from
 * "./box.ts"`), where an anonymous default-exported class may live.
 */
export function defaultImports(caller: string): string[] {
  return (scan(caller)?.bindings ?? []).filter(({ imported, url }) =>
    imported === "default" && !url.startsWith("node:")
  ).map(({ url }) => url);
}

/**
 * Every module `caller` imports: a child that may not import modules itself
 * (its permissions do not reach them) gets them from its entry instead.
 */
export function importedModules(caller: string): string[] {
  return scan(caller)?.modules ?? [];
}
