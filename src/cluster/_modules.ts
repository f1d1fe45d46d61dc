// Functions by reference across hosts. A client names a function by its
// module (a path relative to its root, or a jsr:/npm:/https: URL), its
// export name and a hash of the module's source; an agent maps the module
// to its own copy under its own root, and runs it only if it is one of the
// modules it was started with and the hashes agree.
//
// Tier 8: the cluster export only.

import { dirname, join, relative, resolve } from "node:path";
import {
  fileURLToPath as fromFileUrl,
  pathToFileURL as toFileUrl,
} from "node:url";

const kRemote = /^(jsr|npm|https?):/;

/**
 * The default root: the folder of the nearest deno.json (or deno.jsonc)
 * from the working directory upwards, else the working directory.
 */
export function defaultRoot(): string {
  const cwd = Deno.cwd();
  for (let dir = cwd;; dir = dirname(dir)) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      try {
        if (Deno.statSync(join(dir, name)).isFile) return dir;
      } catch { /* not here: look higher */ }
    }
    if (dirname(dir) === dir) return cwd;
  }
}

/** SHA-256 of a module's source, hex ("" for remote specifiers). */
export async function hashModule(url: string): Promise<string> {
  if (!url.startsWith("file:")) return "";
  const bytes = await Deno.readFile(new URL(url));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/**
 * The name of a module as it travels: relative to `root` with forward
 * slashes, or the remote specifier itself.
 *
 * @throws {TypeError} A local module outside the root.
 */
export function moduleName(url: string, root: string, what: string): string {
  if (kRemote.test(url)) return url;
  if (!url.startsWith("file:")) {
    throw new TypeError(
      `Cannot ${what} as the function's module must be a file under the root or a jsr:, npm: or https: module: current value is '${url}'`,
    );
  }
  const path = relative(root, fromFileUrl(url));
  if (path.startsWith("..") || resolve(root, path) !== fromFileUrl(url)) {
    throw new TypeError(
      `Cannot ${what} as the function's module must be under the root '${root}': current value is '${url}'`,
    );
  }
  return path.replaceAll("\\", "/");
}

/** A module an agent serves. */
export interface Served {
  url: string;
  hash: string;
}

/**
 * An agent's table of the modules it serves, by their travelling name.
 *
 * @param modules Paths (relative to `root`), file URLs or remote specifiers.
 * @throws {TypeError} A module outside the root, or one that cannot be read.
 */
export async function servedModules(
  modules: (string | URL)[],
  root: string,
  what: string,
): Promise<Map<string, Served>> {
  if (!Array.isArray(modules) || modules.length === 0) {
    throw new TypeError(
      `Cannot ${what} as 'modules' must be a non-empty list of modules: current value is ${
        Deno.inspect(modules)
      }`,
    );
  }
  const table = new Map<string, Served>();
  for (const entry of modules) {
    if (typeof entry !== "string" && !(entry instanceof URL)) {
      throw new TypeError(
        `Cannot ${what} as each of 'modules' must be a path or URL: current value is ${
          Deno.inspect(entry)
        }`,
      );
    }
    const text = entry instanceof URL ? entry.href : entry;
    const url = kRemote.test(text) || text.startsWith("file:")
      ? text
      : toFileUrl(resolve(root, text)).href;
    const name = moduleName(url, root, what);
    let hash: string;
    try {
      hash = await hashModule(url);
    } catch (error) {
      throw new TypeError(
        `Cannot ${what} as the module '${text}' must be readable under the root '${root}': ${
          (error as Error).message
        }`,
      );
    }
    table.set(name, { url, hash });
  }
  return table;
}
