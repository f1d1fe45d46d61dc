/**
 * Start methods and contexts (CPython's `multiprocessing.context`).
 *
 * Web Workers start like CPython's "spawn" (a fresh isolate that imports the
 * target's module), and that is the only method offered: "fork" and
 * "forkserver" cannot exist for isolates, and asking for them is a
 * `TypeError` rather than a silent substitute.
 *
 * @module
 */

import { Process } from "./process.ts";

/** The start methods this library offers. */
export type StartMethod = "spawn";

function checkMethod(
  method: unknown,
  what: string,
): asserts method is StartMethod {
  if (method === "spawn") return;
  const hint = method === "fork" || method === "forkserver"
    ? ` ('${method}' has no equivalent for Web Workers, which always start fresh like 'spawn')`
    : "";
  throw new TypeError(
    `Cannot ${what} as 'method' must be "spawn"${hint}: current value is ${
      Deno.inspect(method)
    }`,
  );
}

let chosen: StartMethod | undefined;

/**
 * A start-method context: the same factories as the module, bound to one
 * start method. Extended with Pool, Queue, Lock, … as those land.
 */
export class Context {
  /** The `Process` class of this context. */
  readonly Process: typeof Process = Process;

  /**
   * Creates a context; use {@linkcode getContext}.
   *
   * @param method The start method.
   */
  constructor(readonly method: StartMethod = "spawn") {
    checkMethod(method, "create context");
  }

  /**
   * The start method of this context.
   *
   * @returns `"spawn"`.
   */
  getStartMethod(): StartMethod {
    return this.method;
  }
}

/**
 * Returns a context for the start method (CPython's `get_context`).
 *
 * @param method Only `"spawn"`; `undefined` means the default.
 * @returns The context.
 * @throws {TypeError} For `"fork"`, `"forkserver"` or any other value.
 *
 * @example
 * ```ts
 * import { getContext } from "@dmp/multiprocessing";
 *
 * const ctx = getContext("spawn");
 * console.log(ctx.getStartMethod()); // "spawn"
 * ```
 */
export function getContext(method?: StartMethod): Context {
  if (method !== undefined) checkMethod(method, "get context");
  return new Context(method ?? "spawn");
}

/**
 * The start method in use.
 *
 * @returns `"spawn"`.
 *
 * @example
 * ```ts
 * import { getStartMethod } from "@dmp/multiprocessing";
 *
 * console.log(getStartMethod()); // "spawn"
 * ```
 */
export function getStartMethod(): StartMethod {
  return chosen ?? "spawn";
}

/**
 * Sets the start method, once (CPython raises when it is set twice unless
 * `force` is given).
 *
 * @param method Only `"spawn"`.
 * @param options `force: true` allows setting it again.
 * @throws {TypeError} For any other method.
 * @throws {Error} When already set and `force` is not true.
 *
 * @example
 * ```ts
 * import { setStartMethod } from "@dmp/multiprocessing";
 *
 * setStartMethod("spawn", { force: true });
 * ```
 */
export function setStartMethod(
  method: StartMethod,
  options: { force?: boolean } = {},
): void {
  checkMethod(method, "set start method");
  if (chosen !== undefined && !options.force) {
    throw new Error(
      "Cannot set start method as it has already been set: pass { force: true }",
    );
  }
  chosen = method;
}

/**
 * All start methods this platform supports.
 *
 * @returns `["spawn"]`.
 *
 * @example
 * ```ts
 * import { getAllStartMethods } from "@dmp/multiprocessing";
 *
 * console.log(getAllStartMethods()); // [ "spawn" ]
 * ```
 */
export function getAllStartMethods(): ["spawn"] {
  return ["spawn"];
}
