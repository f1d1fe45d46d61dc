/**
 * How values cross into a child process.
 *
 * Everything travels by structured clone, except objects that must be *the
 * same* on both sides (a Lock, a Queue, a Value): those implement the
 * {@linkcode kReduce} hook, which returns a plain descriptor holding their
 * SharedArrayBuffers, and the receiving side rebuilds an object of the same
 * kind over the same memory with the reviver registered for its tag
 * (CPython's `reduction.register` + `__reduce__`). Values that structured
 * clone would change on the way (instances of exported classes, errors,
 * values with a `[kReduceValue]()` reduction) travel in the forms of
 * src/_core/forms.ts, and host objects are refused, naming their path.
 *
 * @module
 */

import { kPlainTag, kTag, reduceInstance } from "./_core/forms.ts";
import { needsModule } from "./_core/revivers.ts";
import { isPlainObject } from "./_core/rebuild.ts";

export { revive } from "./_core/rebuild.ts";

export {
  registerReviver,
  registerReviverOf,
  reviverModule,
  reviverModules,
} from "./_core/revivers.ts";

/** The hook a shareable object implements to describe itself for a child. */
export const kReduce: unique symbol = Symbol.for(
  "@dmp/multiprocessing.reduce",
) as never;

/** The plain, cloneable description of a shareable object. */
export interface SharedDescriptor {
  /** The reviver tag, as given to {@linkcode registerReviver}. */
  readonly __dmp_shared__: string;
  /** Anything the reviver needs (SharedArrayBuffers, sizes, flags). */
  readonly [key: string]: unknown;
}

/** An object that crosses into children as itself, not as a copy. */
export interface Reducible {
  /** Returns the descriptor the child rebuilds this object from. */
  [kReduce](): SharedDescriptor;
}

/**
 * Builds a descriptor for `[kReduce]()` implementations (exported from
 * mod.ts as `sharedDescriptor`).
 *
 * @param tag The reviver tag.
 * @param fields What the reviver needs.
 * @returns The descriptor.
 *
 * @example The descriptor keeps the fields and the tag
 * ```ts
 * import { sharedDescriptor } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const buffer = new SharedArrayBuffer(4);
 * const d = sharedDescriptor("example.Flag", { buffer });
 * assert.equal(d.buffer, buffer);
 * assert.equal(d.__dmp_shared__, "example.Flag");
 * ```
 */
export function describe(
  tag: string,
  fields: Record<string, unknown>,
): SharedDescriptor {
  return { ...fields, [kTag]: tag } as SharedDescriptor;
}

function kindOf(value: unknown): string {
  if (typeof value === "function") {
    return `a function${value.name ? ` (${value.name})` : ""}`;
  }
  if (typeof value === "symbol") return `a symbol (${String(value)})`;
  if (value instanceof Promise) return "a Promise";
  if (value instanceof WeakMap || value instanceof WeakSet) {
    return `a ${value.constructor.name}`;
  }
  return typeof value;
}

function uncloneable(path: string, value: unknown, what: string): TypeError {
  return new TypeError(
    `Cannot ${what} as '${path}' must be structured-cloneable: current value is ${
      kindOf(value)
    }`,
  );
}

// What reduce() made already, on its way again: a "subprocess" child's
// item that its proxy host puts, a client's arguments that an agent hands
// its pool. reduce() passes it on as it is: its tagged objects are the
// library's, where in a caller's value every object with its own tag key is
// the caller's data.
class Reduced {
  constructor(readonly value: unknown) {}
}

/**
 * Marks `value`, the output of reduce(), so that reduce() passes it on
 * untouched. Internal: not exported from mod.ts.
 */
export function reducedAlready(value: unknown): unknown {
  return typeof value === "object" && value !== null
    ? new Reduced(value)
    : value;
}

/**
 * Replaces every shareable object inside `value` (arrays, plain objects, Map
 * and Set are walked) with its descriptor, and rejects what structured clone
 * would refuse (functions, symbols, promises) with a `TypeError` that names
 * the path of the offending value.
 *
 * @param value The value to send.
 * @param path How to name `value` in an error message.
 * @param what What the caller was doing, for the error message.
 * @param tags Collects the tags of the shared objects found.
 * @returns `value` itself when nothing needed replacing, else a copy.
 * @throws {TypeError} When part of `value` cannot cross a worker boundary.
 *
 * Internal: not exported from mod.ts.
 */
export function reduce(
  value: unknown,
  path = "value",
  what = "send value",
  tags?: Set<string>,
): unknown {
  // A first walk keeps no record of the objects it meets (the pool reduces
  // every task's arguments). When it made a form (a class instance's, ...)
  // or went deep enough for a cycle, a second walk keeps which object
  // became what, as pickle's memo does: an object met twice is one object
  // on arrival, and a cycle stays a cycle.
  depth = 0;
  made = false;
  try {
    const out = walk(value, path, what, tags);
    if (!made) return out;
  } catch (error) {
    if (error !== restart) throw error;
  }
  depth = 0;
  memo = new Map();
  try {
    return walk(value, path, what, tags);
  } finally {
    memo = undefined;
  }
}

function walk(
  value: unknown,
  path: string,
  what: string,
  tags: Set<string> | undefined,
): unknown {
  switch (typeof value) {
    case "function":
    case "symbol":
      throw uncloneable(path, value, what);
    case "object":
      break;
    default:
      return value;
  }
  if (value === null) return value;
  if (value instanceof Reduced) return value.value;
  const reducible = value as Partial<Reducible>;
  if (typeof reducible[kReduce] === "function") {
    const descriptor = reducible[kReduce]!();
    if (tags !== undefined) tagsOf(descriptor, tags);
    return descriptor;
  }
  if (memo !== undefined) {
    const known = memo.get(value);
    if (known !== undefined) {
      return typeof known === "function" ? known(path) : known;
    }
    memo.set(value, (at: string) => cycle(at, what));
  } else if (depth > kDeep) throw restart; // maybe a cycle: walk with memo
  depth++;
  const out = reduceObject(value, path, what, tags);
  depth--;
  memo?.set(value, out);
  return out;
}

// The second walk's record: each object met, and what it became; while an
// object is being walked, a function that gives what it will become (a
// copy made now, which the walk then fills in) or refuses the cycle.
let memo: Map<object, unknown> | undefined;
let made = false;
const restart = Symbol("restart");

function cycle(path: string, what: string): never {
  throw new TypeError(
    `Cannot ${what} as '${path}' must not lead back to itself through a [kReduceValue]() or an error, which are rebuilt from their parts`,
  );
}

// A descriptor's tag, and those of the descriptors it holds (a Condition's
// lock): the child imports each one's reviver.
function tagsOf(descriptor: SharedDescriptor, tags: Set<string>): void {
  tags.add(descriptor[kTag]);
  for (const field of Object.values(descriptor)) {
    const inner = field as Partial<SharedDescriptor> | null;
    if (typeof inner?.[kTag] === "string") {
      tagsOf(inner as SharedDescriptor, tags);
    }
  }
}

// Past kDeep levels a cycle is possible. Counting depth costs next to
// nothing; a record per object did.
const kDeep = 100;
// Reset by every outside call, so an error thrown mid-walk leaves no trace.
let depth = 0;

function reduceObject(
  value: object,
  path: string,
  what: string,
  tags: Set<string> | undefined,
): unknown {
  // Exactly these containers: a subclass's instance is a class's (forms).
  if (Array.isArray(value) && value.constructor === Array) {
    let out: unknown[] | undefined;
    // In a cycle, its copy stands for it: made then, filled in below.
    if (memo !== undefined) memo.set(value, () => out ??= value.slice());
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const reduced = typeof item === "object" || typeof item === "function" ||
          typeof item === "symbol"
        ? walk(item, `${path}[${i}]`, what, tags)
        : item;
      if (reduced !== item) {
        out ??= value.slice();
        out[i] = reduced;
      }
    }
    return out ?? value;
  }
  if (value instanceof Map && value.constructor === Map) {
    let changed = false;
    const out = new Map();
    if (memo !== undefined) memo.set(value, () => (changed = true, out));
    for (const [k, v] of value) {
      const rv = walk(v, `${path}.get(${String(k)})`, what, tags);
      const rk = walk(k, `${path}.keys()`, what, tags);
      changed ||= rv !== v || rk !== k;
      out.set(rk, rv);
    }
    return changed ? out : value;
  }
  if (value instanceof Set && value.constructor === Set) {
    let changed = false;
    const out = new Set();
    if (memo !== undefined) memo.set(value, () => (changed = true, out));
    for (const item of value) {
      const reduced = walk(item, `${path}.values()`, what, tags);
      changed ||= reduced !== item;
      out.add(reduced);
    }
    return changed ? out : value;
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | undefined;
    if (memo !== undefined) memo.set(value, () => out ??= { ...value });
    for (const key of Object.keys(value)) {
      const item = value[key];
      const reduced = walk(item, `${path}.${key}`, what, tags);
      if (reduced !== item) {
        out ??= { ...value };
        out[key] = reduced;
      }
    }
    // The caller's own key of that name is data, not a tag, whatever it
    // holds: wrapped (what the library made comes as reducedAlready()).
    if (typeof value[kTag] !== "string") return out ?? value;
    made = true;
    return { [kTag]: kPlainTag, data: out ?? value, v: undefined };
  }
  const recurse = (item: unknown, at: string) => walk(item, at, what, tags);
  const form = reduceInstance(
    value,
    path,
    what,
    Object.assign(recurse, {
      started: (instance: object, shell: object) => memo?.set(instance, shell),
    }),
  );
  if (form !== value) made = true;
  // A child imports the module of each class it receives statically, as it
  // does a reviver's module, so that even one without permissions can (a
  // Process: the classes of its arguments; a pool worker: those met before
  // it started).
  const url = (form as { ref?: { url: string } }).ref?.url;
  if (url !== undefined) {
    const tag = `module ${url}`;
    needsModule(tag, url);
    tags?.add(tag);
  }
  return form;
}
