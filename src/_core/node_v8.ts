// node:v8's serializer, loaded on first use rather than imported.
//
// A static import of node:v8 loads Deno's Node compatibility layer (buffer,
// util, inspect, errors…) into every worker as it starts: ~5–10 ms of each
// spawn child's start-up on Deno 2.9.6, paid even by a child that never
// sends a value JSON cannot carry. In a Web Worker it is loaded on first use
// instead (once per thread, ~10–20 ms then: the compatibility layer's
// `process` comes with it), through Node's synchronous
// process.getBuiltinModule(), which Deno has since 2.1.
//
// Tier 1.

/** What the library uses of node:v8. */
export interface NodeV8 {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

let loaded: NodeV8 | undefined;

// A program's main thread (the parent, or a "subprocess" child, which
// frames its first message at once) loads it now, in the background, as the
// static import did: getBuiltinModule() would bring Node's `process` too
// (~10 ms more). Only Web Workers, whose start-up it slowed, wait for a use.
if (!("WorkerGlobalScope" in globalThis)) {
  import("node:v8").then((module) => loaded ??= module, () => {});
}

/**
 * node:v8, loaded now if it is not yet.
 *
 * @throws {Error} On a Deno without process.getBuiltinModule() (before 2.1).
 */
export function nodeV8(): NodeV8 {
  if (loaded !== undefined) return loaded;
  const process = (globalThis as {
    process?: { getBuiltinModule?(id: string): unknown };
  }).process;
  const module = process?.getBuiltinModule?.("node:v8") as NodeV8 | undefined;
  if (module === undefined) {
    throw new Error(
      `Cannot load node:v8 as this Deno must have process.getBuiltinModule(): current version is ${Deno.version.deno} (2.1 or later has it)`,
    );
  }
  return loaded = module;
}
