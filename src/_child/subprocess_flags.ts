// The command-line flags of a "subprocess" child (./subprocess.ts): its
// permissions become Deno's --allow-* flags, never more than this program
// has, and its resource limits V8's flags. It gets the program's other
// flags that decide how code runs, as CPython's spawn passes the
// interpreter's on: the --deny-* ones (Deno's permission queries do not
// show them, and a child without them could read what the program may
// not), the unstable features, --location, --seed, --v8-flags, the config
// and import map, and how modules are found (--cached-only, …).
//
// Those flags are on Deno's command line, which Deno shows only to a
// program run with --allow-all and no --deny-* flag. Otherwise the program
// can still read it through Deno itself, as `deno eval` (all permissions)
// reading /proc/<pid>/cmdline: this module does so once, synchronously, the
// first time a child starts (it takes a start of deno, ~60 ms). The program
// may run deno already (--allow-run is needed for this start method), so
// this reads nothing it could not. Where there is no /proc (not Linux) the
// flags stay unknown and only the permissions are passed.
//
// Tier 4 (child start-up).

import {
  discoveredConfig,
  kPermissionKinds,
  type PermissionValue,
  type WorkerPermissions,
} from "../_core/permissions.ts";
import { checkKnownKeys } from "../_core/known_keys.ts";
import {
  argvOf,
  type CommandLine,
  commandLineOf,
  ownCommandLine,
} from "../_core/command_line.ts";
import type { StartMethod } from "./start_method.ts";

/** Limits of a "subprocess" child's resources. */
export interface ResourceLimits {
  /** The child's V8 heap limit, in MB (`--max-old-space-size`). */
  maxHeapMb?: number;
}

/**
 * Checks `resourceLimits` for a child started with `method` (the program's
 * default when undefined).
 *
 * @throws {TypeError} For a bad value, or any start method but "subprocess".
 */
export function checkResourceLimits(
  limits: unknown,
  method: StartMethod | undefined,
  what: string,
): ResourceLimits | undefined {
  if (limits === undefined) return undefined;
  if (method !== "subprocess") {
    throw new TypeError(
      `Cannot ${what} as 'resourceLimits' needs the "subprocess" start method: current start method is "${
        method ?? "spawn"
      }"`,
    );
  }
  checkKnownKeys(limits, ["maxHeapMb"], what, "resourceLimits");
  const { maxHeapMb } = limits as ResourceLimits;
  if (
    maxHeapMb !== undefined &&
    (typeof maxHeapMb !== "number" || !Number.isInteger(maxHeapMb) ||
      maxHeapMb < 1)
  ) {
    throw new TypeError(
      `Cannot ${what} as 'resourceLimits.maxHeapMb' must be a positive integer: current value is ${
        Deno.inspect(maxHeapMb)
      }`,
    );
  }
  return { maxHeapMb };
}

type Kind = typeof kPermissionKinds[number];

const kinds: readonly Kind[] = kPermissionKinds;

// The field of Deno's permission descriptor that names one item of a kind.
const itemKey: Record<Kind, string> = {
  env: "variable",
  ffi: "path",
  import: "host",
  net: "host",
  read: "path",
  run: "command",
  sys: "kind",
  write: "path",
};

function granted(kind: Kind, item?: string): boolean {
  const descriptor = item === undefined
    ? { name: kind }
    : { name: kind, [itemKey[kind]]: item };
  try {
    return Deno.permissions.querySync(descriptor as Deno.PermissionDescriptor)
      .state === "granted";
  } catch {
    // A malformed item (a net host Deno cannot parse, say).
    return false;
  }
}

function flagOf(kind: Kind, value: PermissionValue, what: string): string[] {
  if (value === false) return [];
  if (value === true || value === "inherit") {
    if (granted(kind)) return [`--allow-${kind}`];
    if (value === "inherit") return [];
    throw new Deno.errors.NotCapable(
      `Cannot ${what} as 'permissions.${kind}' must not exceed the parent's: this program has no full --allow-${kind}`,
    );
  }
  if (value.length === 0) return [];
  for (const item of value) {
    if (!granted(kind, item)) {
      throw new Deno.errors.NotCapable(
        `Cannot ${what} as 'permissions.${kind}' must not exceed the parent's: this program may not use ${kind} ${
          JSON.stringify(item)
        }`,
      );
    }
  }
  return [`--allow-${kind}=${value.join(",")}`];
}

// Flags that narrow what the program may do: a child keeps them all.
const kNarrowing = /^--(deny|ignore)-[a-z]+(=|$)/;
// Flags that decide how the program's code runs.
const kRuntime = new RegExp(
  "^(--unstable(-[a-z-]+)?|--location|--seed|--v8-flags|--cached-only|" +
    "--no-remote|--no-npm|--node-modules-dir|--vendor|--cert|" +
    "--unsafely-ignore-certificate-errors|--lock|--no-lock|--frozen|" +
    "--conditions|--import-map|-c|--config|--no-config)(=|$)",
);
const kPermissionSet = /^(-P|--permission-set)(=|$)/;
const kConfigChoice = /^(-c|--config|--no-config)(=|$)/;
// Deno's short forms of the --allow-* flags.
const kShort: Record<string, Kind> = {
  R: "read",
  W: "write",
  N: "net",
  E: "env",
  S: "sys",
  I: "import",
};

let program: CommandLine | null | undefined;

/** This program's command line (see above), or undefined where unknown. */
function programLine(): CommandLine | undefined {
  if (program !== undefined) return program ?? undefined;
  program = ownCommandLine() ?? null;
  if (program === null && Deno.build.os === "linux") {
    try {
      const read = `const b = Deno.readFileSync("/proc/${Deno.pid}/cmdline");` +
        "for (let i = 0; i < b.length;) i += Deno.stdout.writeSync(b.subarray(i));";
      const out = new Deno.Command(Deno.execPath(), {
        args: ["eval", "--quiet", "--no-config", read],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      const argv = out.success ? argvOf(out.stdout) : undefined;
      if (argv !== undefined) program = commandLineOf(argv);
    } catch {
      // Deno may not be run (its own error comes at the child's start).
    }
  }
  return program ?? undefined;
}

/** The program's flags that match `pattern`, each with its value. */
function flagsLike(line: CommandLine, pattern: RegExp): string[] {
  const out: string[] = [];
  const { flags } = line;
  for (let i = 0; i < flags.length; i++) {
    if (!pattern.test(flags[i])) continue;
    out.push(flags[i]);
    // A value given as the next argument (--config deno.json).
    const next = flags[i + 1];
    if (
      !flags[i].includes("=") && next !== undefined && !next.startsWith("-")
    ) {
      out.push(flags[++i]);
    }
  }
  return out;
}

// The items of `kind` the program was given as a list (--allow-read=a,b),
// which Deno's queries cannot list: each still granted now.
function listedItems(line: CommandLine, kind: Kind): string[] {
  const items: string[] = [];
  for (const flag of line.flags) {
    const match = /^(?:--allow-([a-z]+)|-([A-Z]))=(.*)$/.exec(flag);
    if (match === null || (match[1] ?? kShort[match[2]]) !== kind) continue;
    for (const item of match[3].split(",")) {
      if (item !== "" && granted(kind, item)) items.push(item);
    }
  }
  return items;
}

/**
 * The flags that give a child `permissions` (absent: the parent's own) and
 * `limits`, and the program's flags it runs with too (see above).
 *
 * @throws {Deno.errors.NotCapable} When `permissions` ask for more than
 * this program has, or name kinds when the program's come from a
 * permission set (-P), which a child's own flags could not narrow.
 */
export function childFlags(
  permissions: WorkerPermissions | undefined,
  limits: ResourceLimits | undefined,
  what: string,
): string[] {
  const line = programLine();
  const inherit = permissions === undefined || permissions === "inherit";
  const flags: string[] = [];
  const permissionSet = line === undefined
    ? []
    : flagsLike(line, kPermissionSet);
  if (permissionSet.length > 0) {
    if (!inherit) {
      throw new Deno.errors.NotCapable(
        `Cannot ${what} as 'permissions' must be "inherit" when the program's come from a permission set (-P): a child's own flags cannot take away what the set denies. Use the "spawn" start method, or run with --allow-* flags`,
      );
    }
    flags.push(...permissionSet);
  }
  if (permissions !== "none") {
    for (const kind of kinds) {
      const value = inherit ? "inherit" : permissions[kind] ?? false;
      const kindFlags = flagOf(kind, value, what);
      if (kindFlags.length === 0 && inherit && line !== undefined) {
        const items = listedItems(line, kind);
        if (items.length > 0) kindFlags.push(`--allow-${kind}=${items}`);
      }
      flags.push(...kindFlags);
    }
  }
  const runtime = line === undefined ? [] : flagsLike(line, kRuntime);
  // Several --v8-flags: Deno keeps the last. The heap limit goes last in it.
  const v8 = runtime.filter((flag) => flag.startsWith("--v8-flags="))
    .map((flag) => flag.slice("--v8-flags=".length));
  if (limits?.maxHeapMb !== undefined) {
    v8.push(`--max-old-space-size=${limits.maxHeapMb}`);
  }
  flags.push(...runtime.filter((flag) => !flag.startsWith("--v8-flags=")));
  if (v8.length > 0) flags.push(`--v8-flags=${v8.join(",")}`);
  if (line === undefined || flagsLike(line, kConfigChoice).length === 0) {
    flags.push(...configFlags());
  }
  if (line !== undefined) flags.push(...flagsLike(line, kNarrowing));
  return flags;
}

let config: string[] | undefined;

// Deno finds a deno.json from the main module's folder up, but not for a
// data: main module, as a child's is: the child is given the one this
// program found (its import map, its "unstable" list).
function configFlags(): string[] {
  if (config === undefined) {
    const path = discoveredConfig();
    config = path === undefined ? [] : [`--config=${path}`];
  }
  return config;
}
