// Values that one carrier keeps and the other would change: structured
// clone (postMessage to a Web Worker) keeps a Blob, a File or a CryptoKey;
// node:v8 (queue items, pipe messages, everything to or from a
// "subprocess" child) would copy them as a plain {}, so there they are a
// TypeError naming the path, never a silent {}.

import {
  equal,
  match,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import { getContext, Pipe, Queue } from "../mod.ts";
import { reduce } from "../src/reduction.ts";
import { encodeValue } from "../src/_memory/record_codec.ts";
import { assertCanCross } from "../src/_child/subprocess_options.ts";
import { fixture } from "./_run.ts";
import { forEachStartMethod } from "./_start_methods.ts";

const T = (name: string) => fixture("value_carriers", name);

// A refusal of node:v8's: names the path and the object, and says why.
const refusedByNodeV8 = (path: string, kind: string) => (e: Error) => {
  assert(e instanceof TypeError, String(e));
  assert(e.message.includes(`'${path}'`), e.message);
  match(e.message, new RegExp(`a ${kind} \\(.*node:v8`));
  match(e.message, /Fix:/);
  return true;
};

Deno.test("queue and pipe records refuse a Blob, a File and a CryptoKey naming the path", async () => {
  const key = await crypto.subtle.generateKey(
    { name: "HMAC", hash: "SHA-256" },
    true,
    ["sign"],
  );
  const cases: [unknown, string][] = [
    [new Blob(["x"]), "Blob"],
    [new File(["x"], "x.txt"), "File"],
    [key, "CryptoKey"],
  ];
  for (const [value, kind] of cases) {
    throws(
      () => encodeValue({ a: [value] }, "item", "put item"),
      refusedByNodeV8("item.a[0]", kind),
    );
    // Structured clone keeps it: reduce() for postMessage lets it through.
    equal((reduce([value]) as unknown[])[0], value);
  }
});

Deno.test("a value reduced for structured clone with a Blob cannot cross to a subprocess child", () => {
  const reduced = reduce({ blob: new Blob(["x"]) }, "args", "apply");
  throws(
    () => assertCanCross(reduced, "args", "apply"),
    refusedByNodeV8("args.blob", "Blob"),
  );
});

Deno.test("Queue.put() and Connection.send() refuse a Blob in the parent", async () => {
  const queue = new Queue<unknown>();
  await rejects(queue.put(new Blob(["x"])), refusedByNodeV8("item", "Blob"));
  const [a, b] = Pipe();
  throws(() => a.send(new File(["x"], "f")), refusedByNodeV8("obj", "File"));
  a.close();
  b.close();
  queue.close();
});

forEachStartMethod(
  "a child's Queue.put() and Connection.send() refuse a Blob naming the path",
  async (P) => {
    const queue = new Queue<unknown>();
    const putter = new P({ target: T("putBlob"), args: [queue] });
    putter.start();
    match(
      String(await queue.get({ timeout: 60 })),
      /^TypeError: Cannot put item as 'item' must .* a Blob \(.*node:v8/,
    );
    equal(await putter.join(), 0);
    const [parent, child] = Pipe();
    const sender = new P({ target: T("sendFile"), args: [child] });
    sender.start();
    match(
      String(await parent.recv()),
      /^TypeError: Cannot send (value )?as 'obj\[0\]' must .* a File \(.*node:v8/,
    );
    equal(await sender.join(), 0);
  },
);

forEachStartMethod(
  "Process args with a Blob reach a Worker child; a subprocess child refuses them at start()",
  async (P, method) => {
    const queue = new Queue<unknown>();
    const p = new P({
      target: T("reportBlob"),
      args: [queue, new Blob(["hi"])],
    });
    if (method === "subprocess") {
      throws(() => p.start(), refusedByNodeV8("args[1]", "Blob"));
      return;
    }
    p.start();
    equal(JSON.stringify(await queue.get({ timeout: 60 })), '[true,"hi"]');
    equal(await p.join(), 0);
  },
);

forEachStartMethod(
  "Pool args and results with a Blob or a CryptoKey: kept by a Worker, refused by a subprocess child",
  async (_, method) => {
    await using pool = new (getContext(method).Pool)(1);
    const sent = pool.apply(T("blobText"), [new Blob(["hi"])]);
    const made = pool.apply(T("makeBlob"), []);
    const key = pool.apply(T("makeKey"), []);
    if (method === "subprocess") {
      await rejects(sent, refusedByNodeV8("args[0]", "Blob"));
      await rejects(made, refusedByNodeV8("result", "Blob"));
      await rejects(key, refusedByNodeV8("result", "CryptoKey"));
      return;
    }
    equal(JSON.stringify(await sent), '[true,"hi"]');
    const blob = await made;
    assert(blob instanceof Blob);
    equal(await blob.text(), "made");
    assert(await key instanceof CryptoKey);
  },
);
