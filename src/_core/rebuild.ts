// The receiving side of src/reduction.ts: rebuilds shared objects from
// their descriptors and values from their forms, in place where it can.
//
// Tier 1.

import type { SharedDescriptor } from "../reduction.ts";
import {
  classShell,
  fillShell,
  isFormTag,
  kPlainTag,
  kTag,
  reviveForm,
} from "./forms.ts";
import { reviverOf } from "./revivers.ts";

/** Whether `value` is a plain object (its prototype Object's, or null). */
export function isPlainObject(
  value: object,
): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Past kDeep levels a cycle is possible: the walk starts again, with a
// record of what it has seen. Counting depth costs next to nothing; a
// record per object did (a pool rebuilds every task's arguments).
const kDeep = 100;
const restart = Symbol("restart");
let depth = 0;

/**
 * The inverse of reduce() (src/reduction.ts): rebuilds shareable objects from their
 * descriptors, in place where possible.
 *
 * @param value A value as received from another process.
 * @returns The value with shareable objects rebuilt.
 * @throws {TypeError} When a descriptor's tag has no registered reviver.
 *
 * Internal: not exported from mod.ts.
 */
export function revive(value: unknown): unknown {
  depth = 0;
  rebuilt = undefined;
  // As reduce(): past kDeep levels, again with a record of what was seen.
  // Rebuilding works in place, so what the first walk did stays done.
  try {
    return reviveWalk(value);
  } catch (error) {
    if (error !== restart) throw error;
  }
  depth = 0;
  seen = new Set();
  try {
    return reviveWalk(value);
  } finally {
    seen = undefined;
  }
}

// What each form revive() met became (made when it meets one), and on a
// second walk, every object met.
let rebuilt: Map<object, unknown> | undefined;
let seen: Set<object> | undefined;

function reviveWalk(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const known = rebuilt?.get(value);
  if (known !== undefined) return known;
  if (seen !== undefined) {
    if (seen.has(value)) return value;
    seen.add(value);
  } else if (depth > kDeep) throw restart;
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
  if (tag === kPlainTag) {
    // The caller's object, whose own key named kTag is data. Rebuilding is
    // in place: a container met again holds the data itself now, which must
    // not be read as a tag.
    const data = value.data as Record<string, unknown>;
    (rebuilt ??= new Map()).set(value, data).set(data, data);
    reviveFields(data);
    return data;
  }
  if (typeof tag === "string" && isFormTag(tag)) {
    // A form met twice (an object sent twice) is one object; an instance
    // exists before its fields, which may lead back to it.
    const shell = classShell(value);
    (rebuilt ??= new Map()).set(value, shell);
    reviveFields(value);
    if (shell !== undefined) return fillShell(shell, value);
    const out = reviveForm(value);
    rebuilt.set(value, out);
    return out;
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
  reviveFields(value);
  return value;
}

// Rebuilds, in place, what the fields of `record` hold.
function reviveFields(record: Record<string, unknown>): void {
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === "object" && item !== null) {
      record[key] = reviveWalk(item);
    }
  }
}
