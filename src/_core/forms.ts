// The travelling forms of values structured clone would change on the way:
// instances of classes (their prototype), errors (their class and own
// properties), and values with their own reduction ([kReduceValue]()).
// src/reduction.ts walks a value and calls reduceInstance() for every object
// that is not a plain object, array, Map or Set; revive() calls
// reviveForm() for every form it meets.
//
// Every form holds an `undefined` on purpose: that keeps it from being
// JSON-safe, so a form never takes a ring's JSON route (which does not
// revive) and always a structured-clone one (which does).
//
// Tier 1.

import { kBuiltinErrors } from "../_wire/error_codec.ts";
import {
  containerBase,
  emptyInstance,
  fillItems,
} from "./container_subclass.ts";
import * as errors from "../errors.ts";
import { classOf, type ClassRef, classRef } from "./classes.ts";
import {
  builtin,
  builtinRefusal,
  cannot,
  cloneable,
  hostKind,
  kPlainDataFix,
} from "./runtime_objects.ts";

/**
 * The hook of a class that needs its own reduction, as Python's
 * `__reduce__`: `[kReduceValue]()` returns `[callable, args]`, where the
 * callable is an exported function or class (found by reference, as a
 * target is), and the receiving process rebuilds the value by calling it
 * with `args` (with `new` for a class).
 *
 * @example A value rebuilt by its factory
 * ```ts
 * import { kReduceValue } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * export function celsius(degrees: number): Temperature {
 *   return new Temperature(degrees);
 * }
 * export class Temperature {
 *   #degrees: number; // private fields do not travel by themselves
 *   constructor(degrees: number) {
 *     this.#degrees = degrees;
 *   }
 *   get degrees(): number {
 *     return this.#degrees;
 *   }
 *   [kReduceValue]() {
 *     return [celsius, [this.#degrees]] as const;
 *   }
 * }
 * const [fn, args] = new Temperature(21)[kReduceValue]();
 * assert.equal(fn(...args).degrees, 21);
 * ```
 */
export const kReduceValue: unique symbol = Symbol.for(
  "@dmp/multiprocessing.reduceValue",
) as never;

/** A value with its own reduction (Python's `__reduce__`). */
export interface ValueReducible {
  /** Returns the exported callable that rebuilds this value, and its arguments. */
  [kReduceValue](): readonly [
    // deno-lint-ignore no-explicit-any
    callable: ((...args: any[]) => unknown) | (new (...args: any[]) => unknown),
    args: readonly unknown[],
  ];
}

/** The key of every form's tag (shared with src/reduction.ts's descriptors). */
export const kTag = "__dmp_shared__";
/**
 * The form of a plain object of the caller's that has a key named kTag
 * itself: `data` is the object, whose key is data (`v: undefined` keeps a
 * form off the pool's JSON ring, where nothing would unwrap it).
 */
export const kPlainTag = "@dmp/plain";
const kClass = "@dmp/class";
const kError = "@dmp/error";
const kCall = "@dmp/call";

/** Whether `tag` is one of the forms below. */
export function isFormTag(tag: string): boolean {
  return tag === kClass || tag === kError || tag === kCall;
}

// deno-lint-ignore no-explicit-any
type Ctor = abstract new (...args: any[]) => any;
// Walks a part of the value; `started` learns a class instance's form
// before its fields are walked (a field may lead back to the instance).
type Recurse = ((value: unknown, path: string) => unknown) & {
  started?: (value: object, form: object) => void;
};

// JavaScript's error classes and the runtime's DOMException, by name: every
// process has them. node:v8 copies a DOMException as a plain Error, so it
// travels in a form too.
const builtinErrors = { ...kBuiltinErrors, DOMException } as Record<
  string,
  Ctor
>;
const libraryErrors = errors as unknown as Record<string, Ctor>;

function ownFields(
  value: object,
  path: string,
  part: Part,
  skip?: Set<string>,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (skip?.has(key)) continue;
    const field = part(
      (value as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (field !== kLeftOut) fields[key] = field;
  }
  return fields;
}

const errorKeys = new Set(["name", "message", "stack", "cause"]);

// While thrownForm() makes a thrown error's form, a part of an error
// (an own property, its cause, one of an AggregateError's errors) that
// cannot travel is left out and the rest arrives: a task's error must
// arrive, and no call is there to refuse it at. An error sent as a value
// is refused as any value is, naming the path.
let leavingOut = false;
const kLeftOut = Symbol("left out");
type Part = (value: unknown, path: string) => unknown;

function partOf(recurse: Recurse): Part {
  if (!leavingOut) return recurse;
  return (value, path) => {
    try {
      return recurse(value, path);
    } catch (error) {
      // reduce() refuses with a TypeError; anything else is not ours.
      if (error instanceof TypeError) return kLeftOut;
      throw error;
    }
  };
}

function errorForm(error: Error, path: string, recurse: Recurse): object {
  const part = partOf(recurse);
  const ctor = error.constructor as Ctor;
  let builtin: string | undefined;
  let ref: ClassRef | undefined;
  if (builtinErrors[ctor.name] === ctor) builtin = ctor.name;
  else if (libraryErrors[ctor.name] === ctor) builtin = `lib.${ctor.name}`;
  else if ((Deno.errors as Record<string, unknown>)[ctor.name] === ctor) {
    builtin = `Deno.${ctor.name}`;
  } else {
    // An error of a class that cannot be found keeps its nearest built-in
    // base: a thrown error must still arrive, as itself as far as possible.
    const found = classRef(ctor);
    if (typeof found !== "string") ref = found;
    else {
      let base = Object.getPrototypeOf(ctor);
      while (typeof base === "function" && builtinErrors[base.name] !== base) {
        base = Object.getPrototypeOf(base);
      }
      builtin = typeof base === "function" ? base.name : "Error";
    }
  }
  const cause = "cause" in error
    ? part(error.cause, `${path}.cause`)
    : kLeftOut;
  let errors: unknown;
  if (error instanceof AggregateError) {
    errors = leavingOut
      ? (error.errors as unknown[]).map((item, i) =>
        part(item, `${path}.errors[${i}]`)
      ).filter((item) => item !== kLeftOut)
      : recurse(error.errors, `${path}.errors`);
  }
  return {
    [kTag]: kError,
    builtin,
    ref,
    name: error.name,
    message: error.message,
    stack: error.stack,
    cause: cause === kLeftOut ? undefined : cause,
    hasCause: cause !== kLeftOut,
    errors,
    fields: ownFields(error, path, part, errorKeys),
  };
}

/**
 * The travelling form of an object that is not a plain object, array, Map
 * or Set: itself when structured clone copies it faithfully, else a form.
 *
 * @throws {TypeError} For host objects and classes that cannot be found.
 */
export function reduceInstance(
  value: object,
  path: string,
  what: string,
  recurse: Recurse,
): unknown {
  const hook = (value as Partial<ValueReducible>)[kReduceValue];
  if (typeof hook === "function") {
    const reduced = hook.call(value);
    const callable = Array.isArray(reduced) ? reduced[0] : undefined;
    if (typeof callable !== "function" || !Array.isArray(reduced[1])) {
      throw cannot(
        path,
        what,
        `a value whose [kReduceValue]() returned ${Deno.inspect(reduced)}`,
        "return [exportedFunctionOrClass, [args]]",
      );
    }
    const own = classRef(value.constructor as Ctor);
    const ref = classRef(
      callable as Ctor,
      typeof own === "string" ? undefined : own.url,
    );
    if (typeof ref === "string") {
      throw cannot(
        path,
        what,
        `a value whose [kReduceValue]() callable cannot be found by reference (${ref})`,
        "return a function or class exported at module level",
      );
    }
    return {
      [kTag]: kCall,
      ref,
      args: recurse(reduced[1], `${path}[kReduceValue]`),
      v: undefined,
    };
  }
  if (value instanceof Error) return errorForm(value, path, recurse);
  const base = containerBase(value);
  if (base === undefined && cloneable(value)) return value;
  const host = hostKind(value);
  if (host !== undefined) {
    throw cannot(
      path,
      what,
      host,
      "pass what the other process needs to make its own (a path, an address, the data) instead",
    );
  }
  const ctor = value.constructor as Ctor | undefined;
  if (ctor !== undefined && builtin(value, ctor)) {
    const refused = builtinRefusal(value, ctor.name);
    if (refused === undefined) return value;
    throw cannot(
      path,
      what,
      refused,
      kPlainDataFix,
    );
  }
  const ref = typeof ctor === "function" &&
      Object.getPrototypeOf(value) === ctor.prototype
    ? classRef(ctor)
    : "its prototype is not the prototype of its constructor";
  if (typeof ref === "string") {
    throw cannot(
      path,
      what,
      `an instance of ${
        ctor?.name ? `class '${ctor.name}'` : "a class"
      }: ${ref}`,
      "export the class at module level (as a target function is), give it a [kReduceValue]() method, or pass a plain object",
    );
  }
  const form: Record<string, unknown> = { [kTag]: kClass, ref, v: undefined };
  recurse.started?.(value, form);
  let skip: Set<string> | undefined;
  if (base !== undefined) {
    // An Array's, a Map's or a Set's items travel beside its own fields.
    form.base = base;
    const items = [...(value as Iterable<unknown>)];
    if (base === "Array") skip = new Set(items.map((_, i) => String(i)));
    form.items = recurse(items, `${path}.items`);
  }
  form.fields = ownFields(value, path, recurse, skip);
  return form;
}

function reviveError(form: Record<string, unknown>): Error {
  const builtin = form.builtin as string | undefined;
  const ctor = builtin === undefined
    ? classOf(form.ref as ClassRef)
    : builtin.startsWith("Deno.")
    ? (Deno.errors as unknown as Record<string, Ctor>)[builtin.slice(5)]
    : builtin.startsWith("lib.")
    ? libraryErrors[builtin.slice(4)]
    : builtinErrors[builtin];
  // A real error object on the class's prototype, without running a
  // constructor whose parameters may be anything (as pickle does). A
  // DOMException keeps its name, message and code in internal slots, which
  // only its own constructor makes.
  const target = (ctor ?? Error) as unknown as new () => unknown;
  const error: Error =
    target === DOMException || target.prototype instanceof DOMException
      ? Reflect.construct(DOMException, [form.message, form.name], target)
      : Reflect.construct(Error, [form.message], target);
  if (form.hasCause) own(error, "cause", form.cause);
  for (const key of ["name", "stack"] as const) {
    if (error[key] !== form[key]) own(error, key, form[key]);
  }
  if (form.errors !== undefined) own(error, "errors", form.errors);
  return Object.assign(error, form.fields);
}

// An error's own property as its constructor makes one: not enumerable.
function own(error: Error, key: string, value: unknown): void {
  Object.defineProperty(error, key, {
    value,
    configurable: true,
    writable: true,
  });
}

/**
 * Rebuilds a form whose inner values are already revived.
 *
 * @throws {MissingModule} When the class's module is not loaded here.
 * @throws {TypeError} When the module does not export that class.
 */
export function reviveForm(form: Record<string, unknown>): unknown {
  switch (form[kTag]) {
    case kClass:
      return fillShell(classShell(form)!, form);
    case kCall: {
      const callable = classOf(form.ref as ClassRef);
      const args = form.args as unknown[];
      return /^class\b/.test((form.ref as ClassRef).source)
        ? Reflect.construct(callable, args)
        : (callable as unknown as (...args: unknown[]) => unknown)(...args);
    }
    default:
      return reviveError(form);
  }
}

/**
 * A class instance's form's instance, without its fields (they may lead
 * back to it); undefined for other forms.
 */
export function classShell(form: Record<string, unknown>): object | undefined {
  if (form[kTag] !== kClass) return undefined;
  return emptyInstance(classOf(form.ref as ClassRef), form.base);
}

/** Fills a class shell (classShell()) from its form's items and fields. */
export function fillShell(
  shell: object,
  form: Record<string, unknown>,
): object {
  fillItems(shell, form.items as unknown[] | undefined);
  return Object.assign(shell, form.fields);
}

/**
 * The travelling form of a thrown error when its name alone would lose
 * something (its own properties, its own cause, an AggregateError's
 * errors, a class that is not built in), else undefined: most errors
 * travel as name, message and stack only.
 */
export function thrownForm(
  error: unknown,
  recurse: Recurse,
): object | undefined {
  if (!(error instanceof Error)) return undefined;
  const ctor = error.constructor as Ctor;
  // An AggregateError's errors and a cause given to the constructor are
  // own properties that Object.keys() does not list.
  const plain = (kBuiltinErrors[ctor.name] === ctor ||
    libraryErrors[ctor.name] === ctor) &&
    !(error instanceof AggregateError) && !Object.hasOwn(error, "cause") &&
    Object.keys(error).length === 0;
  if (plain) return undefined;
  leavingOut = true;
  try {
    // One walk of reduce() (src/reduction.ts): a part that leads back to
    // the error is a cycle, left out as it cannot travel.
    return recurse(error, "error") as object;
  } catch {
    return undefined;
  } finally {
    leavingOut = false;
  }
}
