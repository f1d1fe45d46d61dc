// Errors across the wire, both ways: toWireError() in the child that threw,
// rebuildError() in the parent that receives it. Only name, message and stack
// survive; the parent's error gets the same name and message, and the child's
// stack as a RemoteError `cause`.

import * as errors from "../errors.ts";

/** An error as it travels: only these fields survive structured clone. */
export interface WireError {
  name: string;
  message: string;
  stack: string;
  /**
   * The error's travelling form (src/_core/forms.ts) when its class or own
   * properties would be lost otherwise.
   */
  form?: unknown;
}

/** Turns any thrown value into its wire form. */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      stack: error.stack ?? `${error.name}: ${error.message}`,
    };
  }
  const text = typeof error === "string" ? error : Deno.inspect(error);
  return { name: "Error", message: text, stack: `Uncaught ${text}` };
}

/** Rebuilds a worker's error in this process: same name and message. */
export function rebuildError(wire: WireError): Error {
  const table: Record<string, ErrorConstructor> = {
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
    ...(Deno.errors as unknown as Record<string, ErrorConstructor>),
    ...(errors as unknown as Record<string, ErrorConstructor>),
  };
  const Ctor = table[wire.name] ?? Error;
  const cause = new errors.RemoteError(wire.stack);
  let error: Error;
  try {
    // BufferTooShortError takes bytes, not a message: rebuild it as Error.
    error = (Ctor as unknown) === errors.BufferTooShortError
      ? new Error(wire.message, { cause })
      : new Ctor(wire.message, { cause });
  } catch {
    error = new Error(wire.message, { cause });
  }
  if (error.name !== wire.name) {
    Object.defineProperty(error, "name", {
      value: wire.name,
      configurable: true,
      writable: true,
    });
  }
  return error;
}
