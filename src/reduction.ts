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

import { isFormTag, kTag, reduceInstance, reviveForm } from "./_core/forms.ts";
import { needsModule, reviverOf } from "./_core/revivers.ts";

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

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
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
  start();
  return walk(value, path, what, tags);
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
  const reducible = value as Partial<Reducible>;
  if (typeof reducible[kReduce] === "function") {
    const descriptor = reducible[kReduce]!();
    if (tags !== undefined) tagsOf(descriptor, tags);
    return descriptor;
  }
  // Past kDeep levels, a cycle is possible: each object is walked once
  // from there on, and a cycle goes on as it is (structured clone keeps
  // it). Counting depth costs next to nothing; a Set per object did (the
  // pool reduces every task's arguments).
  if (depth > kDeep) {
    if (deep.has(value)) return value;
    deep.add(value);
  }
  depth++;
  const out = reduceObject(value, path, what, tags);
  depth--;
  return out;
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

const kDeep = 100;
// Reset by every outside call, so an error thrown mid-walk leaves no trace.
let depth = 0;
const deep = new Set<object>();

function start(): void {
  depth = 0;
  if (deep.size > 0) deep.clear();
}

function reduceObject(
  value: object,
  path: string,
  what: string,
  tags: Set<string> | undefined,
): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
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
  if (value instanceof Map) {
    let changed = false;
    const out = new Map();
    for (const [k, v] of value) {
      const rv = walk(v, `${path}.get(${String(k)})`, what, tags);
      const rk = walk(k, `${path}.keys()`, what, tags);
      changed ||= rv !== v || rk !== k;
      out.set(rk, rv);
    }
    return changed ? out : value;
  }
  if (value instanceof Set) {
    let changed = false;
    const out = new Set();
    for (const item of value) {
      const reduced = walk(item, `${path}.values()`, what, tags);
      changed ||= reduced !== item;
      out.add(reduced);
    }
    return changed ? out : value;
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = value[key];
      const reduced = walk(item, `${path}.${key}`, what, tags);
      if (reduced !== item) {
        out ??= { ...value };
        out[key] = reduced;
      }
    }
    return out ?? value;
  }
  const form = reduceInstance(
    value,
    path,
    what,
    (item, at) => walk(item, at, what, tags),
  );
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

/**
 * The inverse of {@linkcode reduce}: rebuilds shareable objects from their
 * descriptors, in place where possible.
 *
 * @param value A value as received from another process.
 * @returns The value with shareable objects rebuilt.
 * @throws {TypeError} When a descriptor's tag has no registered reviver.
 *
 * Internal: not exported from mod.ts.
 */
export function revive(value: unknown): unknown {
  start();
  return reviveWalk(value);
}

function reviveWalk(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth > kDeep) {
    if (deep.has(value)) return value;
    deep.add(value);
  }
  depth++;
  const out = reviveObject(value);
  depth--;
  return out;
}

function reviveObject(value: object): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item === "object" && item !== null) {
        value[i] = reviveWalk(item);
      }
    }
    return value;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const rk = reviveWalk(k);
      if (rk === k) value.set(k, reviveWalk(v));
      else {
        // Entries of rebuilt keys move to the end: rebuild the whole map
        // in its order.
        return new Map(
          [...value].map(([k, v]) => [reviveWalk(k), reviveWalk(v)]),
        );
      }
    }
    return value;
  }
  if (value instanceof Set) {
    const items = [...value];
    const revived = items.map(reviveWalk);
    return revived.some((item, i) => item !== items[i])
      ? new Set(revived)
      : value;
  }
  if (!isPlainObject(value)) return value;
  const tag = value[kTag];
  if (typeof tag === "string" && isFormTag(tag)) {
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (typeof item === "object" && item !== null) {
        value[key] = reviveWalk(item);
      }
    }
    return reviveForm(value);
  }
  if (typeof tag === "string") {
    const reviver = reviverOf(tag);
    if (reviver === undefined) {
      throw new TypeError(
        `Cannot revive a shared object as its tag must be registered: current value is '${tag}'`,
      );
    }
    return reviver(value as SharedDescriptor);
  }
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (typeof item === "object" && item !== null) {
      value[key] = reviveWalk(item);
    }
  }
  return value;
}
