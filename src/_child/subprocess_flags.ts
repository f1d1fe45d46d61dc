// The command-line flags of a "subprocess" child (./subprocess.ts): its
// permissions become Deno's --allow-* flags, never more than this program
// has, and its resource limits V8's flags.
//
// Tier 4 (child start-up).

import {
  kPermissionKinds,
  type PermissionValue,
  type WorkerPermissions,
} from "../_core/permissions.ts";
import { checkKnownKeys } from "../_core/known_keys.ts";
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

/**
 * The flags that give a child `permissions` (absent: the parent's own,
 * those it holds in full) and `limits`.
 *
 * @throws {Deno.errors.NotCapable} When `permissions` ask for more than
 * this program has.
 */
export function childFlags(
  permissions: WorkerPermissions | undefined,
  limits: ResourceLimits | undefined,
  what: string,
): string[] {
  const flags: string[] = [];
  if (permissions !== "none") {
    for (const kind of kinds) {
      const value = permissions === undefined || permissions === "inherit"
        ? "inherit"
        : permissions[kind] ?? false;
      flags.push(...flagOf(kind, value, what));
    }
  }
  if (limits?.maxHeapMb !== undefined) {
    flags.push(`--v8-flags=--max-old-space-size=${limits.maxHeapMb}`);
  }
  return flags;
}
