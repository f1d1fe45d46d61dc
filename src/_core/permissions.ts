// Per-worker permissions: validation, and the check that Deno's unstable
// worker options are enabled. Without them Deno ends the whole OS process
// with exit code 70 the moment a Worker is created with `deno.permissions`;
// nothing can catch that, so we must refuse before creating the worker.
//
// Tier 1: imports only the closed-options check and the command line, of its
// own tier.

import { checkKnownKeys } from "./known_keys.ts";
import { ownCommandLine, scriptUrl } from "./command_line.ts";

/** A permission value: inherit the parent's, all or nothing, or a list. */
export type PermissionValue = "inherit" | boolean | string[];

/**
 * Deno's worker permission options: `"inherit"`, `"none"`, or one entry per
 * permission kind (a kind left out is denied, as in Deno).
 */
export type WorkerPermissions = "inherit" | "none" | {
  env?: PermissionValue;
  ffi?: PermissionValue;
  import?: PermissionValue;
  net?: PermissionValue;
  read?: PermissionValue;
  run?: PermissionValue;
  sys?: PermissionValue;
  write?: PermissionValue;
};

/** Deno's permission kinds, as a worker's permissions object names them. */
export const kPermissionKinds = [
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
] as const;

const kinds = new Set<string>(kPermissionKinds);

/**
 * Checks the shape of `permissions` and that this Deno can honour it.
 * Returns the value to hand to `new Worker` (undefined: inherit, no flag needed).
 */
export function checkPermissions(
  permissions: unknown,
  what: string,
  workerOptions = true,
): WorkerPermissions | undefined {
  if (permissions === undefined || permissions === "inherit") return undefined;
  if (permissions !== "none") {
    if (
      typeof permissions !== "object" || permissions === null ||
      Array.isArray(permissions)
    ) {
      throw new TypeError(
        `Cannot ${what} as 'permissions' must be "inherit", "none" or an object of permission kinds: current value is ${
          Deno.inspect(permissions)
        }`,
      );
    }
    checkKnownKeys(permissions, [...kinds], what, "permissions");
    for (const [key, value] of Object.entries(permissions)) {
      const ok = value === "inherit" || typeof value === "boolean" ||
        (Array.isArray(value) && value.every((v) => typeof v === "string"));
      if (!ok) {
        throw new TypeError(
          `Cannot ${what} as 'permissions.${key}' must be "inherit", a boolean or an array of strings: current value is ${
            Deno.inspect(value)
          }`,
        );
      }
    }
  }
  // A child that is an OS process gets its permissions as flags instead.
  const support = workerOptions ? workerOptionsEnabled() : true;
  if (support !== true) {
    throw new TypeError(
      `Cannot ${what} as 'permissions' needs Deno's worker options: ${support}. Run with --unstable-worker-options, or add "worker-options" to "unstable" in the deno.json of your project`,
    );
  }
  return permissions as WorkerPermissions;
}

let cached: true | string | undefined;

function readable(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state ===
      "granted";
  } catch {
    return false;
  }
}

/** The text of the config file at `path`, or undefined if it cannot be read. */
export function readConfig(path: string): string | undefined {
  if (!readable(path)) return undefined;
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function listsWorkerOptions(text: string): boolean {
  // deno.jsonc may hold comments; the "unstable" array rarely does.
  const match = /"unstable"\s*:\s*\[([^\]]*)\]/.exec(text);
  return match !== null && /"worker-options"/.test(match[1]);
}

/**
 * The nearest deno.json or deno.jsonc this program may read, from the folder
 * `startDir` up, as Deno looks for one.
 */
export function findConfig(startDir: string): string | undefined {
  let dir = startDir;
  while (true) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const path = `${dir}/${name}`;
      if (!readable(path)) continue;
      try {
        Deno.statSync(path);
        return path;
      } catch {
        // not here; keep walking up
      }
    }
    const parent = dir.replace(/\/[^/]*$/, "");
    if (parent === dir || parent === "") return undefined;
    dir = parent;
  }
}

function folderOfPath(path: string): string {
  return path.replace(/\/[^/]*$/, "") || "/";
}

/**
 * Whether `config`, or the root of the workspace it belongs to (a member
 * takes its root's "unstable" list), enables the worker options; undefined
 * when a file on the way cannot be read.
 */
function configEnables(config: string): boolean | undefined {
  let text = readConfig(config);
  if (text === undefined) return undefined;
  if (listsWorkerOptions(text)) return true;
  // The nearest deno.json above with a "workspace" key is the root whose
  // unstable list a member uses.
  let path = config;
  while (!/"workspace"\s*:/.test(text)) {
    const dir = folderOfPath(path);
    const above = folderOfPath(dir);
    if (above === dir) return false;
    const next = findConfig(above);
    if (next === undefined) return false;
    path = next;
    text = readConfig(path);
    if (text === undefined) return undefined;
  }
  return listsWorkerOptions(text);
}

/** The folder of a file: URL as a path, without its last slash. */
export function folderOf(url: string | undefined): string | undefined {
  // A Web Worker has no main module (Deno.mainModule is undefined there).
  return url?.startsWith("file:")
    ? decodeURIComponent(new URL(".", url).pathname).replace(/\/$/, "")
    : undefined;
}

/**
 * The deno.json Deno found for this program when no flag named one, if
 * this program may read it: the nearest one from the main module's folder
 * up (verified on 2.9.6; under `deno test` and `deno bench` the main module
 * is the test or bench file), or from the cwd, a guess, for a remote main
 * module.
 */
export function discoveredConfig(): string | undefined {
  const main = folderOf(Deno.mainModule ?? scriptUrl(ownCommandLine()?.script));
  return main !== undefined
    ? findConfig(main)
    : (readable(".") ? findConfig(Deno.cwd()) : undefined);
}

/**
 * `true` when worker permissions will not kill the process, or when nothing
 * this program may read can tell (then the caller is trusted: should the
 * flag truly be missing, Deno ends the program with its own message naming
 * it); else the reason why the options are known to be off.
 *
 * Only the command line can prove them off, and Deno shows it only under
 * --allow-all: under narrower permissions the flag is invisible (no API, no
 * env var, no Deno key differs), so a deno.json that does not list them
 * proves nothing.
 */
export function workerOptionsEnabled(): true | string {
  if (cached !== undefined) return cached;
  // Only the flags: the same words among the program's own arguments mean
  // nothing to Deno.
  const args = ownCommandLine()?.flags;
  let config: string | undefined;
  if (args !== undefined) {
    if (
      args.includes("--unstable-worker-options") || args.includes("--unstable")
    ) {
      return cached = true;
    }
    if (args.includes("--no-config")) {
      return cached =
        "they are not enabled (no --unstable-worker-options flag, and --no-config)";
    }
    const explicit = args.findIndex((a) => a === "--config" || a === "-c");
    const inline = args.find((a) => a.startsWith("--config="));
    config = inline?.slice("--config=".length) ??
      (explicit >= 0 ? args[explicit + 1] : undefined);
  }
  config ??= discoveredConfig();
  const enabled = config === undefined ? false : configEnables(config);
  // Without the command line, the flag may be there: trust the caller.
  if (enabled !== false || args === undefined) return cached = true;
  return cached = config === undefined
    ? "they are not enabled (no --unstable-worker-options flag, and no deno.json was found)"
    : `they are not enabled (no --unstable-worker-options flag, and ${config} does not list them)`;
}

/**
 * True when a worker with these permissions may import the program's modules
 * itself, as the parent could (src/_child/spawn.ts says why that matters);
 * a sandboxed one gets them as static imports of its entry instead.
 */
export function importsOwnModules(permissions?: WorkerPermissions): boolean {
  return permissions === undefined || permissions === "inherit";
}
