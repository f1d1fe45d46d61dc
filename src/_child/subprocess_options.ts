// The check that what a "subprocess" child receives holds no shared memory
// but the shared objects its parent serves it (./proxy_parent.ts). Its
// resource limits are checked in ./subprocess_flags.ts, which a child's
// own graph holds; this module loads with the strategy (./subprocess.ts).
//
// Tier 4 (child start-up).

import { isFormTag, kPlainTag, kTag } from "../_core/forms.ts";
import {
  cannot,
  kPlainDataFix,
  nodeV8Refusal,
} from "../_core/runtime_objects.ts";
import { isProxyable } from "./proxy_parent.ts";

function crossingError(path: string, what: string, kind: string): TypeError {
  return new TypeError(
    `Cannot ${what} as '${path}' must not be shared memory: it is ${kind}, which cannot cross to an OS process (the "subprocess" start method shares no memory with its children)`,
  );
}

/**
 * Checks that a reduced value (src/reduction.ts) holds no SharedArrayBuffer,
 * no shared object but those a "subprocess" child reaches through its
 * parent (Queue, Lock, Value, …), and no object of the runtime that
 * structured clone keeps but the child's node:v8 frames would copy as {}
 * (a Blob, a CryptoKey): what such a child cannot receive.
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
  if (tag === kPlainTag) {
    // The caller's object with a key named kTag: its fields are the value.
    const data = (value as { data: Record<string, unknown> }).data;
    for (const key of Object.keys(data)) {
      if (key !== kTag) assertCanCross(data[key], `${path}.${key}`, what, seen);
    }
    return;
  }
  if (typeof tag === "string" && !isFormTag(tag)) {
    if (isProxyable(tag)) return;
    if (tag === "SharedMemory") {
      throw new TypeError(
        `Cannot ${what} as '${path}' must not be a SharedMemory: its bytes cannot be mapped into an OS process (Deno has no mmap), and its buf is a plain Uint8Array whose accesses no call to the parent can stand for; pass a SharedArray, a Queue or a Pipe instead, which a "subprocess" child reaches through its parent`,
      );
    }
    throw crossingError(path, what, `a ${tag}`);
  }
  const refused = nodeV8Refusal(value);
  if (refused !== undefined) {
    throw cannot(
      path,
      what,
      refused,
      kPlainDataFix,
    );
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
