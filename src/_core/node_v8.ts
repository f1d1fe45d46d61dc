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
  /** Each typed array and DataView in the value owns its bytes. */
  deserialize(bytes: Uint8Array): unknown;
}

let loaded: NodeV8 | undefined;

type V8Module = typeof import("node:v8");

// node:v8's deserialize() returns the typed arrays and DataViews of a value
// as views into its input (Node's behaviour): a Uint8Array sent alone
// arrived as 4 bytes at offset 50 of the whole message's 64 KiB read
// buffer, which the reader then reuses under it. Each gets a buffer of its
// own, of its size, as structured clone gives for a view of a whole buffer.
function owning(v8: V8Module): NodeV8 {
  // The hook Node documents for host objects, missing from its types.
  const Base = v8.DefaultDeserializer as unknown as new (
    bytes: Uint8Array,
  ) => InstanceType<V8Module["DefaultDeserializer"]> & {
    _readHostObject(): ArrayBufferView;
  };
  class Owning extends Base {
    override _readHostObject(): ArrayBufferView {
      const view = super._readHostObject();
      const own = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
        .slice().buffer;
      if (view instanceof DataView) return new DataView(own);
      // A Buffer is a Uint8Array with Buffer's prototype, made so without
      // its constructor, which warns (DEP0005).
      if (view instanceof Uint8Array) {
        return Reflect.construct(Uint8Array, [own], view.constructor);
      }
      const Kind = view.constructor as new (
        buffer: ArrayBuffer,
      ) => ArrayBufferView;
      return new Kind(own);
    }
  }
  return {
    serialize: v8.serialize,
    deserialize(bytes) {
      const reader = new Owning(bytes);
      reader.readHeader();
      return reader.readValue();
    },
  };
}

// A program's main thread (the parent, or a "subprocess" child, which
// frames its first message at once) loads it now, in the background, as the
// static import did: getBuiltinModule() would bring Node's `process` too
// (~10 ms more). Only Web Workers, whose start-up it slowed, wait for a use.
if (!("WorkerGlobalScope" in globalThis)) {
  import("node:v8").then((module) => loaded ??= owning(module), () => {});
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
  const module = process?.getBuiltinModule?.("node:v8") as
    | V8Module
    | undefined;
  if (module === undefined) {
    throw new Error(
      `Cannot load node:v8 as this Deno must have process.getBuiltinModule(): current version is ${Deno.version.deno} (2.1 or later has it)`,
    );
  }
  return loaded = owning(module);
}
