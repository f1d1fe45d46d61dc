// A bare specifier as Deno resolves it for the module that wrote it. In a
// workspace, each member's deno.json may hold an "imports" map of its own,
// which Deno applies to that member's modules only; import.meta.resolve() in
// this library sees the root's map alone (the library is no member), so a
// function a member's module imports through its own map (`"@lib/"` in
// app/deno.json) was never found where it is exported. Only a name the
// program's own map lacks comes here (imports.ts asks import.meta.resolve()
// first: the map Deno runs with, --config or --import-map included, which
// the nearest deno.json need not be); the nearest config at or above the
// module's folder is read once per folder.
//
// Tier 1: imports only the config lookup of permissions.ts, of its own tier.

import { findConfig, folderOf, readConfig } from "./permissions.ts";

/** An "imports" map, its values resolved against their config's folder. */
type ImportMap = Map<string, string>;

const byFolder = new Map<string, ImportMap | undefined>();
const byConfig = new Map<string, ImportMap | undefined>();

const absoluteUrl = /^[a-z][a-z0-9+.-]*:/i;

/** `text` as JSON: a deno.json(c) may hold comments and trailing commas. */
function parseJsonc(text: string): unknown {
  const string = /"(?:[^"\\]|\\.)*"/.source;
  const json = text
    .replace(
      new RegExp(`(${string})|//[^\\n]*|/\\*[\\s\\S]*?\\*/`, "g"),
      (_, kept) => kept ?? "",
    )
    .replace(
      new RegExp(`(${string})|,(\\s*[}\\]])`, "g"),
      (_, kept, end) => kept ?? end,
    );
  try {
    return JSON.parse(json);
  } catch {
    // Deno will say what is wrong with it; here it maps nothing.
    return undefined;
  }
}

function fileUrl(path: string): URL {
  return new URL(path.replace(/[%?#]/g, encodeURIComponent), "file:///");
}

function readImports(config: string): ImportMap | undefined {
  if (byConfig.has(config)) return byConfig.get(config);
  const text = readConfig(config);
  const imports = text === undefined
    ? undefined
    : (parseJsonc(text) as { imports?: unknown } | undefined)?.imports;
  let map: ImportMap | undefined;
  if (typeof imports === "object" && imports !== null) {
    map = new Map();
    const base = fileUrl(config);
    for (const [key, value] of Object.entries(imports)) {
      if (typeof value !== "string") continue;
      try {
        map.set(
          key,
          absoluteUrl.test(value) ? value : new URL(value, base).href,
        );
      } catch {
        continue;
      }
      // Deno maps a package's subpaths too: "@std/path" ("jsr:@std/path@1")
      // also maps "@std/path/join".
      if (/^(?:jsr|npm):/.test(value) && !key.endsWith("/")) {
        if (!(`${key}/` in imports)) map.set(`${key}/`, `${value}/`);
      }
    }
  }
  byConfig.set(config, map);
  return map;
}

/**
 * `specifier`, a bare name, as the "imports" of the nearest deno.json or
 * deno.jsonc at or above the file: module `base` map it; undefined when they
 * do not (or when none can be read).
 */
export function configResolve(
  specifier: string,
  base: string,
): string | undefined {
  const folder = folderOf(base);
  if (folder === undefined) return undefined;
  let map = byFolder.get(folder);
  if (!byFolder.has(folder)) {
    const config = findConfig(folder);
    map = config === undefined ? undefined : readImports(config);
    byFolder.set(folder, map);
  }
  if (map === undefined) return undefined;
  const exact = map.get(specifier);
  if (exact !== undefined) return exact;
  let prefix = "";
  for (const key of map.keys()) {
    if (
      key.endsWith("/") && key.length > prefix.length &&
      specifier.startsWith(key)
    ) {
      prefix = key;
    }
  }
  if (prefix === "") return undefined;
  const target = map.get(prefix)! + specifier.slice(prefix.length);
  try {
    return new URL(target).href;
  } catch {
    return undefined;
  }
}
