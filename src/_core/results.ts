// Results and thrown errors of pool tasks, between a worker and the pool:
// a thrown error travels as name, message and stack (a ring can carry
// that), plus its travelling form when its class or own properties would be
// lost otherwise; the pool revives a result as soon as it can, importing
// the modules of its classes first where it must.
//
// Tier 1.

import { MissingModule, reviveThen } from "./classes.ts";
import { thrownForm } from "./forms.ts";
import { reduce, revive } from "../reduction.ts";
import { RemoteError } from "../errors.ts";
import { ResultStatus } from "../_wire/protocol.ts";
import { unpackNumbers } from "../_wire/codec.ts";
import {
  explainRefusal,
  rebuildError,
  toWireError,
  type WireError,
} from "../_wire/error_codec.ts";

/**
 * A thrown error's wire form, with its travelling form (class, own
 * properties) when name, message and stack alone would lose something.
 * Internal: not exported from mod.ts.
 */
export function wireError(error: unknown): WireError {
  const wire = toWireError(error);
  let form: unknown;
  try {
    form = thrownForm(error, (item, at) => reduce(item, at, "return an error"));
  } catch {
    // A property that cannot travel: the error goes as name and message.
  }
  return form === undefined ? wire : { ...wire, form };
}

/**
 * The inverse of {@linkcode wireError}: the error as its own class with
 * its own properties where its form can be revived here, else as
 * rebuildError() makes it. Either way the worker's stack is its `cause`
 * (a RemoteError) unless it had a cause of its own.
 * @throws {MissingModule} When its class's module must be imported first.
 * Internal: not exported from mod.ts.
 */
export function errorFromWire(wire: WireError): Error {
  if (wire.form !== undefined) {
    try {
      const error = revive(wire.form) as Error;
      // A refusal by the worker's own permissions says so, as rebuilt ones do.
      const explained = explainRefusal(wire);
      if (explained !== wire) error.message = explained.message;
      if (!("cause" in error)) {
        Object.defineProperty(error, "cause", {
          value: new RemoteError(explained.stack),
          configurable: true,
          writable: true,
        });
      }
      return error;
    } catch (error) {
      // An awaiting receiver imports the module and calls again.
      if (error instanceof MissingModule) throw error;
      // Its class cannot be found here: name, message and stack still can.
    }
  }
  return rebuildError(wire);
}

/**
 * Revives a pool result that came by postMessage (a value, numbers, or a
 * thrown error's wire form) and hands it to `done`: at once, or once the
 * modules of its classes are imported. A value that cannot be revived here
 * becomes an error result. Internal: not exported from mod.ts.
 */
export function reviveResult(
  message: { status: ResultStatus; value?: unknown; numbers?: Float64Array },
  done: (status: ResultStatus, value: unknown) => void,
): void {
  const { status, value, numbers } = message;
  if (numbers !== undefined) return done(status, unpackNumbers(numbers));
  const error = status === ResultStatus.Error;
  reviveThen(
    () => error ? errorFromWire(value as WireError) : revive(value),
    (revived) => done(status, revived),
    (failure) =>
      done(
        ResultStatus.Error,
        error ? rebuildError(value as WireError) : failure,
      ),
  );
}

/**
 * A failed task's error: already an Error (revived from a postMessage), or
 * rebuilt from its wire form (a ring result). Internal.
 */
export function errorOf(value: unknown): Error {
  return value instanceof Error ? value : rebuildError(value as WireError);
}
