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

/** JavaScript's own error classes, by name: every process has them. */
export const kBuiltinErrors: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError: AggregateError as unknown as ErrorConstructor,
};

/** Rebuilds a worker's error in this process: same name and message. */
export function rebuildError(wire: WireError): Error {
  wire = explainRefusal(wire);
  const table: Record<string, ErrorConstructor> = {
    ...kBuiltinErrors,
    ...(Deno.errors as unknown as Record<string, ErrorConstructor>),
    ...(errors as unknown as Record<string, ErrorConstructor>),
  };
  const Ctor = table[wire.name] ?? Error;
  const cause = new errors.RemoteError(wire.stack);
  let error: Error;
  try {
    // BufferTooShortError takes bytes, not a message: rebuild it as Error;
    // AggregateError takes its errors first (here unknown: none).
    if ((Ctor as unknown) === errors.BufferTooShortError) {
      error = new Error(wire.message, { cause });
    } else if ((Ctor as unknown) === AggregateError) {
      error = new AggregateError([], wire.message, { cause });
    } else error = new Ctor(wire.message, { cause });
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

// Deno's text for a refused access, in every thread alike: its first line
// (a refused static import adds the importing module on the next lines).
const kRefused =
  /^Requires (read|write|net|env|run|ffi|sys|import) access to "(.*)", run again with the --allow-\1 flag(?=\n|$)/;
/** Whether `message` is Deno's refusal of an access (a `NotCapable`, or a refused import's `TypeError`). */
export function isRefusal(message: string): boolean {
  return kRefused.test(message);
}

const kDescriptorKey = {
  read: "path",
  write: "path",
  ffi: "path",
  net: "host",
  import: "host",
  env: "variable",
  run: "command",
  sys: "kind",
} as const;

/**
 * A worker's refusal (`NotCapable`, or the `TypeError` of a refused
 * import) as this process should word it. Deno
 * tells a worker "run again with the --allow-read flag" even when the
 * program has that flag; when this process does hold the access, the
 * worker's own `permissions` refused it, so the message says so and names
 * the option that grants it. Otherwise (the program lacks it too) Deno's
 * advice is right and the error is returned as it is.
 */
export function explainRefusal(wire: WireError): WireError {
  // A refused dynamic import is a TypeError with the same text.
  if (wire.name !== "NotCapable" && wire.name !== "TypeError") return wire;
  const match = kRefused.exec(wire.message);
  if (match === null) return wire;
  const [, kind, value] = match as unknown as [
    string,
    keyof typeof kDescriptorKey,
    string,
  ];
  let state: Deno.PermissionState;
  try {
    const descriptor = { name: kind, [kDescriptorKey[kind]]: value };
    state = Deno.permissions.querySync(descriptor as Deno.PermissionDescriptor)
      .state;
  } catch {
    return wire;
  }
  if (state !== "granted") return wire;
  const message = `Requires ${kind} access to ${
    JSON.stringify(value)
  }, refused by the worker's own permissions: grant it with permissions: { ${kind}: [${
    JSON.stringify(value)
  }] }${wire.message.slice(match[0].length)}`;
  return { ...wire, message, stack: wire.stack.replace(wire.message, message) };
}
