// The executor's way into a Future's private state. Future (src/futures.ts)
// fills this in from its static block, so that settling a future is no
// public method: users see only CPython's Future surface. FutureTask, the
// executor's task, settles its future through it.

import type { Future } from "../futures.ts";
import { Task } from "./task.ts";

/** What the executor may do to a Future that users may not. */
export interface FutureAccess {
  /**
   * Marks the future running (its call reached a worker); `started` says
   * whether the worker runs it yet, or might take it back.
   */
  run(future: Future<unknown>, started?: () => boolean): void;
  /** Settles the future with the call's result or error. */
  settle(future: Future<unknown>, result: unknown, error?: Error): void;
  /** Marks the future cancelled (its call was withdrawn). */
  withdraw(future: Future<unknown>): void;
  /** True when the call finished with an error. */
  failed(future: Future<unknown>): boolean;
}

/** Set by the Future class as it is defined. */
export const futureAccess: FutureAccess = {
  run: unset,
  settle: unset,
  withdraw: unset,
  failed: unset,
};

function unset(): never {
  throw new Error("Cannot reach a Future's state as futures.ts is not loaded");
}

/** A task whose outcome settles a Future. */
export class FutureTask extends Task {
  future!: Future<unknown>;

  finish(value: unknown, error?: Error): void {
    futureAccess.settle(this.future, value, error);
  }

  /** Whether a worker runs it (set by the executor). */
  running: (() => boolean) | undefined = undefined;

  override started(): void {
    futureAccess.run(this.future, this.running);
  }

  override withdrawn(): void {
    futureAccess.withdraw(this.future);
  }
}
