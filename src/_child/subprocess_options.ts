// What only "subprocess" children have: resource limits, and the check
// that what they receive holds no shared memory but the shared objects
// their parent serves them (./proxy_parent.ts).
//
// Tier 4 (child start-up).

import { checkKnownKeys } from "../_core/known_keys.ts";
import { isFormTag, kTag } from "../_core/forms.ts";
import type { StartMethod } from "./start_method.ts";
import type { ResourceLimits } from "./subprocess_flags.ts";
import { isProxyable } from "./proxy_parent.ts";

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
  if (typeof limits !== "object" || limits === null) {
    throw new TypeError(
      `Cannot ${what} as 'resourceLimits' must be an object: current value is ${
        Deno.inspect(limits)
      }`,
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

function crossingError(path: string, what: string, kind: string): TypeError {
  return new TypeError(
    `Cannot ${what} as '${path}' must not be shared memory: it is ${kind}, which cannot cross to an OS process (the "subprocess" start method shares no memory with its children)`,
  );
}

/**
 * Checks that a reduced value (src/reduction.ts) holds no SharedArrayBuffer
 * and no shared object but those a "subprocess" child reaches through its
 * parent (Queue, Lock, Value, …): what such a child cannot receive.
 *
 * @throws {TypeError} Naming the path of the first one found.
 */
export function assertCanCross(
  value: unknown,
  path: string,
  what: string,
  seen: Set<object> = new Set(),
): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  if (value instanceof SharedArrayBuffer) {
    throw crossingError(path, what, "a SharedArrayBuffer");
  }
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof SharedArrayBuffer) {
      throw crossingError(path, what, "a view of a SharedArrayBuffer");
    }
    return;
  }
  const tag = (value as Record<string, unknown>)[kTag];
  if (typeof tag === "string" && !isFormTag(tag)) {
    if (isProxyable(tag)) return;
    if (tag === "SharedMemory") {
      throw new TypeError(
        `Cannot ${what} as '${path}' must not be a SharedMemory: its bytes cannot be mapped into an OS process (Deno has no mmap), and its buf is a plain Uint8Array whose accesses no call to the parent can stand for; pass a SharedArray, a Queue or a Pipe instead, which a "subprocess" child reaches through its parent`,
      );
    }
    throw crossingError(path, what, `a ${tag}`);
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertCanCross(k, `${path}.keys()`, what, seen);
      assertCanCross(v, `${path}.get(${String(k)})`, what, seen);
    }
  } else if (value instanceof Set) {
    for (const v of value) assertCanCross(v, `${path}.values()`, what, seen);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertCanCross(v, `${path}[${i}]`, what, seen));
  } else {
    for (const [k, v] of Object.entries(value)) {
      assertCanCross(v, `${path}.${k}`, what, seen);
    }
  }
}
