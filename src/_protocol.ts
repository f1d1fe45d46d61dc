// The wire protocol between a parent and its workers: every message type in
// one place, as discriminated unions on `t`.

import type { ProcessIdentity } from "./_state.ts";
import type { TargetRef } from "./_target.ts";

/** An error as it travels: only these fields survive structured clone. */
export interface WireError {
  name: string;
  message: string;
  stack: string;
}

/** What a Process child needs to run its target. */
export interface RunMessage {
  t: "run";
  target: TargetRef;
  /** The Process's own fields, for a subclass's `run()`. */
  fields: Record<string, unknown>;
  args: unknown[];
  name: string;
  pid: number;
  identity: number[];
  daemon: boolean;
  parent: ProcessIdentity;
  pidCounter: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** The program-wide buffers of processWide(). */
  shared: Record<string, SharedArrayBuffer>;
}

/** A child reports how it ended; the parent never guesses from Worker events. */
export interface ExitMessage {
  t: "exit";
  code: number;
  /** The uncaught error that ended the worker, if any. */
  error?: WireError;
}

/** Messages from a parent to a Process child. */
export type ToProcessChild = RunMessage;
/** Messages from a Process child to its parent. */
export type FromProcessChild = { t: "started" } | ExitMessage;

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
