// Errors between processes: thrown by a task or sent as a value, an error
// keeps its class, its own properties and its own cause, whatever carries it
// (structured clone to a Web Worker, node:v8 through queues, pipes and a
// "subprocess" child's frames). An error with no cause of its own gets the
// worker's stack as its cause (a RemoteError).

import {
  deepEqual,
  equal,
  match,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import { getContext, Queue, RemoteError, TimeoutError } from "../mod.ts";
import { errorFromWire, wireError } from "../src/_core/results.ts";
import { reduce, revive } from "../src/reduction.ts";
import { decodeValue, encodeValue } from "../src/_memory/record_codec.ts";
import { fixture } from "./_run.ts";
import { forEachStartMethod } from "./_start_methods.ts";

const T = (name: string) => fixture("value_errors", name);

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

// A DOMException as itself: class, name, message and the code its name
// gives.
const isDomException =
  (name: string, message: string, code: number) => (e: unknown) => {
    assert(
      e instanceof DOMException,
      `${e} (${(e as object)?.constructor?.name})`,
    );
    equal(e.name, name);
    equal(e.message, message);
    equal(e.code, code);
    return true;
  };

Deno.test("a DOMException keeps its class, name, message and code by structured clone, node:v8 and thrown", () => {
  const check = isDomException("NotFoundError", "gone", 8);
  const value = new DOMException("gone", "NotFoundError");
  check(revive(structuredClone(reduce(value))));
  const { tag, bytes } = encodeValue([value], "item", "put item");
  check((decodeValue(tag, bytes.slice()) as unknown[])[0]);
  const thrown = thrownAcross(Object.assign(value, { step: 2 }));
  check(thrown);
  equal((thrown as DOMException & { step: number }).step, 2);
  // A subclass that cannot be found keeps DOMException, its nearest base.
  class LocalAbort extends DOMException {}
  isDomException("AbortError", "local", 20)(
    thrownAcross(new LocalAbort("local", "AbortError")),
  );
});

forEachStartMethod(
  "a DOMException keeps its class thrown by a task, returned by one and put on a Queue by a child",
  async (P, method) => {
    await using pool = new (getContext(method).Pool)(1);
    await rejects(pool.apply(T("throwDomException"), []), (e: Error) => {
      isDomException("AbortError", "stopped", 20)(e);
      equal((e as Error & { step: number }).step, 3);
      assert(e.cause instanceof RemoteError, String(e.cause));
      return true;
    });
    isDomException("NotFoundError", "gone", 8)(
      await pool.apply(T("returnDomException"), []),
    );
    const queue = new Queue<unknown>();
    const p = new P({ target: T("putDomException"), args: [queue] });
    p.start();
    isDomException("TimeoutError", "late", 23)(
      await queue.get({ timeout: 60 }),
    );
    equal(await p.join(), 0);
  },
);

Deno.test("a thrown error leaves out only the own properties that cannot travel; one sent as a value is refused", () => {
  const error = thrownAcross(
    Object.assign(new TypeError("t"), { code: 5, fn: () => 1 }),
  ) as TypeError & { code: number };
  assert(error instanceof TypeError);
  equal(error.code, 5);
  assert(!("fn" in error));
  assert(error.cause instanceof RemoteError);
  // A cause that cannot travel is left out: the worker's stack stands in.
  const causeless = thrownAcross(new Error("e", { cause: Symbol("s") }));
  assert(causeless.cause instanceof RemoteError, String(causeless.cause));
  // So is an AggregateError's member that cannot, and only that one.
  const aggregate = thrownAcross(
    new AggregateError([new RangeError("a"), () => 1, "b"], "all"),
  ) as AggregateError;
  equal(aggregate.errors.length, 2);
  assert(aggregate.errors[0] instanceof RangeError);
  equal(aggregate.errors[1], "b");
  // A cause that leads back to the error is a cycle, left out too.
  const cyclic = new Error("cyclic") as Error & { again?: Error };
  cyclic.cause = cyclic;
  cyclic.again = cyclic;
  const back = thrownAcross(cyclic);
  equal(back.message, "cyclic");
  assert(back.cause instanceof RemoteError, String(back.cause));
  assert(!("again" in back));
  // Sent as a value, an error is refused as any value, naming the path.
  throws(
    () => reduce([Object.assign(new Error("v"), { fn: () => 1 })]),
    (e: Error) => e instanceof TypeError && /'value\[0\]\.fn'/.test(e.message),
  );
});

forEachStartMethod(
  "a task's thrown error keeps the own properties that can travel on its way",
  async (_, method) => {
    await using pool = new (getContext(method).Pool)(1);
    await rejects(pool.apply(T("throwWithBadFields"), []), (e: Error) => {
      assert(e instanceof RangeError, String(e));
      const fields = e as RangeError & Record<string, unknown>;
      equal(fields.code, 5);
      assert(!("fn" in e));
      // Structured clone carries a Blob to a Worker's parent; node:v8 cannot.
      if (method === "spawn") assert(fields.blob instanceof Blob);
      else deepEqual(Object.keys(e).sort(), ["code"]);
      match(e.stack ?? "", /throwWithBadFields/);
      return true;
    });
  },
);
