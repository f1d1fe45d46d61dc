// The option only "subprocess" children have: resource limits.
//
// Tier 4 (child start-up).

import { checkKnownKeys } from "../_core/known_keys.ts";
import type { StartMethod } from "./start_method.ts";
import type { ResourceLimits } from "./subprocess_flags.ts";

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
