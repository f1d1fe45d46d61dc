// The runtime's own objects in a value that travels (Date, Blob, a
// Deno.FsFile, a stream, …): which cross as they are, and which are refused
// and why. src/_core/forms.ts asks about every object that is not a plain
// object, an array, a Map or a Set.
//
// Two carriers copy values, and they keep different objects. Structured
// clone (postMessage to a Web Worker) keeps a Blob, a File or a CryptoKey.
// node:v8's serializer, which writes the same format, knows only
// JavaScript's own objects: the runtime's arrive as a plain {} (their state
// is in private fields and symbols it does not copy). It carries queue
// items and pipe messages (src/_memory/record_codec.ts) and everything
// between a "subprocess" child and its parent (src/_child/frames.ts).
//
// Tier 1.

/** Objects both carriers copy faithfully: they travel as they are. */
export function cloneable(value: object): boolean {
  return value instanceof Date || value instanceof RegExp ||
    value instanceof ArrayBuffer || value instanceof SharedArrayBuffer ||
    ArrayBuffer.isView(value) || value instanceof Boolean ||
    value instanceof Number || value instanceof String ||
    value instanceof BigInt || value instanceof Map || value instanceof Set;
}

const kHostNames = new Set([
  "FsFile",
  "Conn",
  "TcpConn",
  "UnixConn",
  "TlsConn",
  "QuicConn",
  "Listener",
  "TcpListener",
  "UnixListener",
  "TlsListener",
  "Datagram",
  "DatagramConn",
  "ChildProcess",
  "Kv",
  "HttpServer",
]);

/** What a host object is, for the error, or undefined for other values. */
export function hostKind(value: object): string | undefined {
  const name = value.constructor?.name ?? "";
  if (value instanceof Deno.FsFile) return "a Deno.FsFile (an open file)";
  if (kHostNames.has(name)) {
    return `a Deno.${name} (a resource of this process)`;
  }
  if (
    value instanceof ReadableStream || value instanceof WritableStream ||
    value instanceof TransformStream
  ) {
    return `a ${
      name || "stream"
    } (streams belong to the process that made them)`;
  }
  if (value instanceof Promise) return "a Promise";
  // A generator or an iterator is code paused in this process, as CPython
  // cannot pickle a generator.
  const tag = Object.prototype.toString.call(value);
  if (/^\[object (Async)?Generator\]$/.test(tag) || / Iterator\]$/.test(tag)) {
    return `${
      tag.includes("Async")
        ? "an async generator"
        : tag.includes("Generator")
        ? "a generator"
        : "an iterator"
    } (it runs in this process: collect its items with Array.from() or Array.fromAsync() and pass the array)`;
  }
  if (
    value instanceof WeakMap || value instanceof WeakSet ||
    value instanceof WeakRef
  ) {
    return `a ${name}`;
  }
  if (typeof EventTarget === "function" && value instanceof EventTarget) {
    return `a ${name || "EventTarget"} (an object of this process's runtime)`;
  }
  if (value instanceof Request || value instanceof Response) {
    return `a ${name} (its body is a stream)`;
  }
  return undefined;
}

/**
 * Whether `value` is an instance of a class of the runtime (URL, Headers,
 * Blob, TextEncoder, …): one found as a global, never by reference.
 */
export function builtin(
  value: object,
  ctor: { readonly name: string; readonly prototype: unknown },
): boolean {
  return (globalThis as Record<string, unknown>)[ctor.name] === ctor &&
    Object.getPrototypeOf(value) === ctor.prototype;
}

// How many reduce() calls in progress are for node:v8 (byNodeV8()), and
// whether everything this thread sends is (a "subprocess" child's).
let nodeV8Calls = 0;
let nodeV8Thread = false;

/**
 * Runs `reduce`, a reduce() call (src/reduction.ts) whose value node:v8
 * will serialize: the runtime's objects structured clone would keep are
 * refused in it.
 */
export function byNodeV8<T>(reduce: () => T): T {
  nodeV8Calls++;
  try {
    return reduce();
  } finally {
    nodeV8Calls--;
  }
}

/**
 * Marks this thread as one whose every message leaves by node:v8: the main
 * thread of a "subprocess" child, whose postMessage writes a frame.
 */
export function sendsByNodeV8(): void {
  nodeV8Thread = true;
}

/**
 * Why a built-in object (see {@linkcode builtin}) cannot travel on the
 * carrier of the reduce() call in progress, or undefined when it can.
 */
export function builtinRefusal(
  value: object,
  name: string,
): string | undefined {
  if (nodeV8Calls > 0 || nodeV8Thread) {
    return `a ${name} (a built-in object that node:v8, which carries queue items, pipe messages and every value to or from a "subprocess" child, copies as a plain {})`;
  }
  // Structured clone copies Blob and File as themselves; URL and Headers
  // throw; TextEncoder and FormData arrive as plain objects. Deno's
  // structured clone of a CryptoKey received from another thread gives {}.
  try {
    const copy = structuredClone(value);
    if (Object.getPrototypeOf(copy) === Object.getPrototypeOf(value)) {
      return undefined;
    }
  } catch {
    // Refused below.
  }
  return `a ${name} (a built-in object that structured clone cannot copy as itself)`;
}

/**
 * Why node:v8 cannot carry an object of a value reduce() has made, or
 * undefined when it can: for a value reduced for structured clone that
 * turns out to leave by node:v8 (a "subprocess" child's arguments).
 */
export function nodeV8Refusal(value: object): string | undefined {
  // Plain objects and arrays are reduce()'s own output.
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null || Array.isArray(value)) {
    return undefined;
  }
  const ctor = value.constructor;
  if (typeof ctor !== "function" || cloneable(value) || !builtin(value, ctor)) {
    return undefined;
  }
  return byNodeV8(() => builtinRefusal(value, ctor.name));
}

/** The fix {@linkcode cannot} names for a built-in object that cannot travel. */
export const kPlainDataFix =
  "pass plain data instead (its bytes, its string form, its fields)";

/** The TypeError for a part of a value that cannot travel. */
export function cannot(
  path: string,
  what: string,
  current: string,
  fix: string,
): TypeError {
  return new TypeError(
    `Cannot ${what} as '${path}' must be a value that can travel to another process: current value is ${current}. Fix: ${fix}`,
  );
}
