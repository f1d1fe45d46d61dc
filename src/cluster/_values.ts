// Values between hosts, in the library's own value codec (src/reduction.ts,
// as a local pool's): instances of exported classes, errors and values with
// a [kReduceValue]() reduction travel as forms that name their class by
// module and export, and arrive as themselves. Only the module's name
// changes on the way: a URL of the sending host becomes the module's
// travelling name (as a function's: relative to the root), and the
// receiving host maps it to its own copy. An agent maps only the modules
// it serves, so no value can make it import another; a client, only
// modules under its root.
//
// Tier 8: the cluster export only.

import { reduce, revive } from "../reduction.ts";
import { isFormTag, kPlainTag, kTag } from "../_core/forms.ts";
import { byNodeV8 } from "../_core/runtime_objects.ts";
import { type ClassRef, withClasses } from "../_core/classes.ts";
import { errorFromWire, wireError } from "../_core/results.ts";
import type { WireError } from "../_wire/error_codec.ts";
import { RemoteError } from "../errors.ts";
import { pathToFileURL as toFileUrl } from "node:url";
import { isAbsolute, resolve } from "node:path";
import { moduleName, type Served } from "./_modules.ts";

type Rename = (module: string, cls: string) => string;

/**
 * Renames, in place, the module of every class form inside a reduced or
 * received value (forms are fresh objects, never the caller's).
 *
 * @throws {TypeError} A shared object (Lock, Queue, Value…), which holds
 * memory of this host, or a module `rename` refuses.
 */
function renameModules(
  value: unknown,
  rename: Rename,
  what: string,
  seen = new Set<object>(),
): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  const items: Iterable<unknown> | undefined = Array.isArray(value)
    ? value
    : value instanceof Map
    ? [...value.keys(), ...value.values()]
    : value instanceof Set
    ? value
    : undefined;
  if (items !== undefined) {
    for (const item of items) renameModules(item, rename, what, seen);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return;
  const record = value as Record<string, unknown>;
  const tag = record[kTag];
  if (tag === kPlainTag) {
    // The caller's object with a key named kTag: its fields are the value.
    const data = record.data as Record<string, unknown>;
    for (const key of Object.keys(data)) {
      if (key !== kTag) renameModules(data[key], rename, what, seen);
    }
    return;
  }
  if (typeof tag === "string") {
    if (!isFormTag(tag)) {
      throw new TypeError(
        `Cannot ${what} as its values must be able to travel to another host: current value holds a shared object ('${tag}'), whose memory stays on this host`,
      );
    }
    const ref = record.ref as ClassRef | undefined;
    if (ref !== undefined) {
      record.ref = { ...ref, url: rename(ref.url, ref.name) };
    }
  }
  for (const key of Object.keys(record)) {
    renameModules(record[key], rename, what, seen);
  }
}

/**
 * The client's arguments, ready to travel: reduced as for a local pool,
 * each class's module by its travelling name.
 *
 * @throws {TypeError} A value that cannot travel, or a class whose module
 * is outside the root.
 */
export function sendArgs(
  args: readonly unknown[],
  root: string,
  what: string,
) {
  // Messages between hosts are node:v8's (./_protocol.ts).
  const reduced = byNodeV8(() => reduce(args, "args", what)) as unknown[];
  renameModules(reduced, (url, cls) => {
    try {
      return moduleName(url, root, what);
    } catch {
      throw new TypeError(
        `Cannot ${what} as class '${cls}' must come from a module under the root '${root}' or a jsr:, npm: or https: module: current value is '${url}'`,
      );
    }
  }, what);
  return reduced;
}

/**
 * An agent's copy of a task's arguments: each class's module as the agent
 * serves it (the local pool's workers revive them).
 *
 * @throws {TypeError} A class of a module this agent does not serve.
 */
export function agentArgs(
  args: unknown[],
  served: Map<string, Served>,
  what: string,
): unknown[] {
  renameModules(args, (name, cls) => {
    const url = served.get(name)?.url;
    if (url !== undefined) return url;
    throw new TypeError(
      `Cannot ${what} as class '${cls}' must come from a module the agent serves: current value is ${name} (it serves ${
        [...served.keys()].join(", ")
      })`,
    );
  }, what);
  return args;
}

// The travelling names of the modules an agent serves, by URL.
function namesOf(served: Map<string, Served>): Rename {
  return (url, cls) => {
    for (const [name, module] of served) if (module.url === url) return name;
    throw new TypeError(
      `Cannot return the result as class '${cls}' must come from a module the agent serves: current value is '${url}'`,
    );
  };
}

/**
 * A result as the agent sends it.
 *
 * @throws {TypeError} A value that cannot travel.
 */
export function sendResult(value: unknown, served: Map<string, Served>) {
  const what = "return the result";
  const reduced = byNodeV8(() => reduce(value, "result", what));
  renameModules(reduced, namesOf(served), what);
  return reduced;
}

/**
 * A task's error as the agent sends it: its class and own properties
 * where they can travel, and the worker's stack marked with the agent.
 */
export function sendError(
  error: unknown,
  served: Map<string, Served>,
  host: string,
): WireError {
  // The local pool's cause holds the worker's stack: it travels as the
  // stack, and the client makes it the cause again.
  const cause = (error as Error | undefined)?.cause;
  if (cause instanceof RemoteError) delete (error as Error).cause;
  const wire = byNodeV8(() => wireError(error));
  if (cause instanceof RemoteError) wire.stack = cause.remoteStack;
  wire.stack = `${wire.stack}\n    (on agent ${host})`;
  if (wire.form !== undefined) {
    try {
      renameModules(wire.form, namesOf(served), "return the error");
    } catch {
      delete wire.form; // its class cannot travel: name and message can
    }
  }
  return wire;
}

// A client's copy of a module that travels by name: under its root only.
function underRoot(root: string, what: string): Rename {
  return (name, cls) => {
    if (
      /^[a-z][a-z0-9+.-]*:/i.test(name) || isAbsolute(name) ||
      name.split("/").includes("..")
    ) {
      throw new TypeError(
        `Cannot ${what} as class '${cls}' must come from a module under the client's root '${root}': current value is '${name}'`,
      );
    }
    return toFileUrl(resolve(root, name)).href;
  };
}

/**
 * Revives a result on the client, importing the modules of its classes
 * (under the root) where they are not loaded yet.
 *
 * @throws {TypeError} A class of a module outside the root, or not exported.
 */
export async function receiveResult(
  value: unknown,
  root: string,
): Promise<unknown> {
  renameModules(value, underRoot(root, "receive the result"), "receive");
  return await withClasses(() => revive(value));
}

/**
 * Rebuilds a task's error on the client: its own class where it can be
 * revived here, else as the local pool rebuilds one (same name, message).
 */
export async function receiveError(
  wire: WireError,
  root: string,
): Promise<Error> {
  if (wire.form !== undefined) {
    try {
      renameModules(wire.form, underRoot(root, "receive the error"), "");
    } catch {
      delete wire.form;
    }
  }
  return await withClasses(() => errorFromWire(wire));
}
