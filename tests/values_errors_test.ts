// Errors between processes: thrown by a task or sent as a value, an error
// keeps its class, its own properties and its own cause, whatever carries it
// (structured clone to a Web Worker, node:v8 through queues, pipes and a
// "subprocess" child's frames). An error with no cause of its own gets the
// worker's stack as its cause (a RemoteError).

import { equal, ok as assert, rejects } from "node:assert/strict";
import { getContext, RemoteError, TimeoutError } from "../mod.ts";
import { errorFromWire, wireError } from "../src/_core/results.ts";
import { forEachStartMethod } from "./_start_methods.ts";

const T = (name: string) =>
  new URL(`./fixtures/value_errors.ts#${name}`, import.meta.url);

// A thrown error as the receiving process sees it, without a child.
const thrownAcross = (error: unknown) =>
  errorFromWire(structuredClone(wireError(error)));

Deno.test("a thrown error keeps a cause given to its constructor, of every class", () => {
  const typed = thrownAcross(
    new TypeError("outer", { cause: new RangeError("inner") }),
  );
  assert(typed instanceof TypeError);
  assert(typed.cause instanceof RangeError, String(typed.cause));
  equal(typed.cause.message, "inner");
  const timeout = thrownAcross(new TimeoutError("slow", { cause: "the disk" }));
  assert(timeout instanceof TimeoutError);
  equal(timeout.cause, "the disk");
  // No cause of its own: the worker's stack is its cause.
  const plain = thrownAcross(new RangeError("plain"));
  assert(plain.cause instanceof RemoteError);
  assert(plain.cause.remoteStack.includes("RangeError: plain"));
});

forEachStartMethod(
  "a task's thrown error keeps its own cause; without one, the cause is the worker's stack",
  async (_, method) => {
    await using pool = new (getContext(method).Pool)(1);
    await rejects(pool.apply(T("throwWithCause"), []), (e: Error) => {
      assert(e instanceof TypeError, String(e));
      equal(e.message, "outer");
      assert(e.cause instanceof RangeError, String(e.cause));
      equal(e.cause.message, "inner");
      // The worker's stack is still the error's own.
      assert(e.stack?.includes("throwWithCause"), e.stack);
      return true;
    });
    await rejects(pool.apply(T("throwLibraryWithCause"), []), (e: Error) => {
      assert(e instanceof TimeoutError, String(e));
      equal(e.cause, "the disk");
      return true;
    });
    await rejects(pool.apply(T("throwPlain"), []), (e: Error) => {
      assert(e instanceof RangeError, String(e));
      assert(e.cause instanceof RemoteError, String(e.cause));
      return true;
    });
  },
);
