// The registry of revivers: how each tag of shared object is rebuilt, and
// the module a child imports to have it (src/reduction.ts says why).
//
// Tier 1.

import type { SharedDescriptor } from "../reduction.ts";
import { callSiteUrls } from "./call_sites.ts";

const revivers = new Map<string, (descriptor: SharedDescriptor) => unknown>();
const modulesByTag = new Map<string, string>();

// The module that called registerReviver(): a child must import it to
// rebuild objects of that tag. Read from the stack once per registration.
function registeringModule(): string | undefined {
  return callSiteUrls().find((url) => url !== import.meta.url);
}

/**
 * The module that registered the reviver for `tag`: a child process imports
 * it (statically, so even a worker with no permissions can) before it
 * rebuilds objects of that tag. Internal: not exported from mod.ts.
 *
 * @param tag A reviver tag.
 * @returns The module's URL, if known.
 */
export function reviverModule(tag: string): string | undefined {
  return modulesByTag.get(tag);
}

/**
 * Every module that has registered a reviver so far, each once: what a pool
 * worker imports at start. Internal: not exported from mod.ts.
 */
export function reviverModules(): string[] {
  return [...new Set(modulesByTag.values())];
}

/**
 * Registers how to rebuild objects reduced under `tag`. Called once by each
 * shareable class's module, at import time; a child process imports that
 * module before it rebuilds objects of that tag.
 *
 * @param tag The tag the class's `[kReduce]()` puts in its descriptor.
 * @param revive Builds the object back from its descriptor.
 *
 * @example A shareable counter: its descriptor carries its memory
 * ```ts
 * import { kReduce, registerReviver, sharedDescriptor } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * class Counter {
 *   constructor(readonly cell = new Int32Array(new SharedArrayBuffer(4))) {}
 *   [kReduce]() {
 *     return sharedDescriptor("example.Counter", { buffer: this.cell.buffer });
 *   }
 * }
 * // A child passed a Counter in Process args rebuilds it with this reviver,
 * // over the same SharedArrayBuffer.
 * registerReviver("example.Counter", (d) =>
 *   new Counter(new Int32Array(d.buffer as SharedArrayBuffer)));
 *
 * const counter = new Counter();
 * const descriptor = counter[kReduce]();
 * assert.equal(descriptor.__dmp_shared__, "example.Counter");
 * assert.equal(descriptor.buffer, counter.cell.buffer);
 * ```
 */
export function registerReviver(
  tag: string,
  revive: (descriptor: SharedDescriptor) => unknown,
): void {
  registerReviverOf(tag, revive, registeringModule());
}

/** registerReviver() naming the module a child imports (internal). */
export function registerReviverOf(
  tag: string,
  revive: (descriptor: SharedDescriptor) => unknown,
  module: string | undefined,
): void {
  revivers.set(tag, revive);
  if (module !== undefined) modulesByTag.set(tag, module);
}

/** The reviver registered for `tag`, if any. */
export function reviverOf(
  tag: string,
): ((descriptor: SharedDescriptor) => unknown) | undefined {
  return revivers.get(tag);
}

/** Records that objects of `tag` need module `url` in a child. */
export function needsModule(tag: string, url: string): void {
  modulesByTag.set(tag, url);
}
