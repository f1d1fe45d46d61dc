import {
  deepEqual,
  equal,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import {
  BrokenPipeError,
  BufferTooShortError,
  type Connection,
  EOFError,
  Pipe,
  Process,
  ProcessError,
  waitConnections,
} from "../mod.ts";
import { wait } from "../src/connection/wait.ts";
import { cells, fixture, letDueTimersRun, runDeno } from "./_run.ts";
import { forEachStartMethod } from "./_start_methods.ts";

const T = (name: string) => fixture("queue_targets", name);

// Tests with children run once per start method (forEachStartMethod), but
// those whose children report through cells(), raw SharedArrayBuffers that
// only a Worker child shares: those run on "spawn" only.

function start(target: string, args: unknown[], P = Process): Process {
  const p = new P({ target: T(target), args });
  p.start();
  return p;
}

Deno.test("Connection.recv() returns each message whole, in order, in both directions", async () => {
  const [a, b] = Pipe();
  const messages: unknown[] = [
    "x",
    "",
    null,
    [1, [2, [3]]],
    new Map([[1, new Set(["a"])]]),
    new Date(5),
    2n ** 70n,
    new Uint16Array([1, 65535]),
    "z".repeat(20_000_000),
  ];
  for (const m of messages) a.send(m);
  for (const m of messages) deepEqual(await b.recv(), m);
  b.send("back");
  equal(a.recvSync(), "back");
  assert(a.readable && a.writable && b.readable && b.writable);
});

forEachStartMethod(
  "Connection round-trips values and bytes through a child",
  async (P) => {
    const [parent, child] = Pipe();
    const p = start("echo", [child], P);
    child.close();
    for (const m of [{ n: 1 }, "two", [undefined, NaN], new Set([3])]) {
      parent.send(m);
      deepEqual(await parent.recv(), m);
    }
    parent.close();
    equal(await p.join(), 0);

    const [pb, cb] = Pipe();
    const q = start("echoBytes", [cb], P);
    cb.close();
    for (const size of [0, 1, 5, 60_000]) {
      const data = new Uint8Array(size).map((_, i) => i * 7);
      pb.sendBytes(data);
      deepEqual(await pb.recvBytes(), data);
    }
    pb.close();
    equal(await q.join(), 0);
  },
);

Deno.test("Connection.recvBytes() never merges messages and counts empty ones", async () => {
  const [a, b] = Pipe(false);
  b.sendBytes(new Uint8Array([1, 2]));
  b.sendBytes(new Uint8Array(0));
  b.sendBytes(new Uint8Array([3]));
  b.sendBytes(new Int16Array([1, 2, 3, 4]), 2, 4); // bytes 2 to 5
  b.sendBytes(new ArrayBuffer(3));
  deepEqual(await a.recvBytes(), new Uint8Array([1, 2]));
  deepEqual(await a.recvBytes(), new Uint8Array(0));
  deepEqual(a.recvBytesSync(), new Uint8Array([3]));
  deepEqual(
    await a.recvBytes(),
    new Uint8Array(new Int16Array([2, 3]).buffer),
  );
  equal((await a.recvBytes()).length, 3);
});

Deno.test("Connection.recvBytes() refuses a message over maxlength and keeps it", async () => {
  const [a, b] = Pipe();
  b.sendBytes(new Uint8Array(10));
  await rejects(a.recvBytes(4), (e: Error) => {
    assert(e instanceof ProcessError);
    assert(e.message.includes("10 bytes"), e.message);
    return true;
  });
  equal((a.recvBytesSync(10)).length, 10);
  await rejects(a.recvBytes(-1), RangeError);
});

Deno.test("Connection.recvBytesInto() writes at the offset or throws BufferTooShortError with the message", async () => {
  const [a, b] = Pipe();
  b.sendBytes(new Uint8Array([9, 8, 7]));
  const buf = new Uint8Array(5);
  equal(await a.recvBytesInto(buf, 1), 3);
  deepEqual(buf, new Uint8Array([0, 9, 8, 7, 0]));
  b.sendBytes(new Uint8Array([1, 2, 3, 4]));
  await rejects(a.recvBytesInto(new Uint8Array(8), 6), (e: Error) => {
    assert(e instanceof BufferTooShortError);
    deepEqual(e.message_, new Uint8Array([1, 2, 3, 4]));
    return true;
  });
  throws(() => a.recvBytesIntoSync(buf, 6), RangeError);
});

// The bytes of a typed array, in the host's byte order.
const bytesOf = (view: ArrayBufferView) =>
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();

Deno.test("Connection.sendBytes() counts offset and size in bytes for any element type", async () => {
  const [a, b] = Pipe();
  const sent = async (...args: Parameters<Connection["sendBytes"]>) => {
    a.sendBytes(...args);
    return await b.recvBytes();
  };
  // Bytes: as before.
  const u8 = new Uint8Array([1, 2, 3, 4]);
  deepEqual(await sent(u8, 1), new Uint8Array([2, 3, 4]));
  deepEqual(await sent(u8, 1, 2), new Uint8Array([2, 3]));
  deepEqual(await sent(u8, 4), new Uint8Array(0));
  // 16-bit numbers: CPython 3.11 sends [1, 4, 3] and [1, 4] here (the
  // bytes are 2, 1, 4, 3 on a little-endian host, as every Deno host is).
  const u16 = new Uint16Array([0x0102, 0x0304]);
  deepEqual(await sent(u16, 1), new Uint8Array([1, 4, 3]));
  deepEqual(await sent(u16, 1, 2), new Uint8Array([1, 4]));
  deepEqual(await sent(u16, 3, 1), new Uint8Array([3]));
  deepEqual(await sent(u16, 4), new Uint8Array(0));
  // A view that starts inside its buffer counts from its own first byte.
  const inner = new Uint16Array(u16.buffer, 2, 1);
  deepEqual(await sent(inner, 1), new Uint8Array([3]));
  // 64-bit floats: any byte range, element boundaries or not.
  const f64 = new Float64Array([1.5, -2.25]);
  deepEqual(await sent(f64, 3, 9), bytesOf(f64).subarray(3, 12));
  deepEqual(await sent(f64, 8), bytesOf(new Float64Array([-2.25])));
  deepEqual(await sent(f64, 16), new Uint8Array(0));
  // Out of range, counted in bytes.
  for (
    const [buf, offset, size] of [
      [u8, 5, undefined],
      [u8, 1, 4],
      [u16, 5, undefined],
      [u16, 1, 4],
      [u16, 2, 3],
      [u16, -1, undefined],
      [u16, 0, -1],
      [u16, 0.5, undefined],
      [u16, 0, 1.5],
      [f64, 17, undefined],
      [f64, 3, 14],
    ] as const
  ) {
    throws(() => a.sendBytes(buf, offset, size), RangeError);
  }
  throws(
    () => a.sendBytes(u16, 5),
    /'offset' must be an integer from 0 to the buffer's byte length 4: current value is 5$/,
  );
  throws(
    () => a.sendBytes(f64, 3, 14),
    /'size' must be an integer from 0 to 13 \(the buffer's byte length less 'offset'\): current value is 14$/,
  );
  equal(await a.poll(), false);
});

Deno.test("Connection.recvBytesInto() writes from byte offset for any element type", async () => {
  const [a, b] = Pipe();
  // 16-bit numbers: offset 2 is byte 2 (words[1]), as in CPython.
  const words = new Uint16Array(4);
  b.sendBytes(new Uint8Array([1, 2, 3, 4]));
  equal(await a.recvBytesInto(words, 2), 4);
  deepEqual(bytesOf(words), new Uint8Array([0, 0, 1, 2, 3, 4, 0, 0]));
  // An odd offset writes inside an element.
  b.sendBytes(new Uint8Array([9]));
  equal(a.recvBytesIntoSync(words, 7), 1);
  deepEqual(bytesOf(words), new Uint8Array([0, 0, 1, 2, 3, 4, 0, 9]));
  // The room is counted in bytes: 2 bytes from byte 6 fit, 3 do not.
  b.sendBytes(new Uint8Array([5, 6]));
  equal(a.recvBytesIntoSync(words, 6), 2);
  deepEqual(bytesOf(words), new Uint8Array([0, 0, 1, 2, 3, 4, 5, 6]));
  b.sendBytes(new Uint8Array([7, 8, 9]));
  await rejects(a.recvBytesInto(words, 6), (e: Error) => {
    assert(e instanceof BufferTooShortError);
    deepEqual(e.message_, new Uint8Array([7, 8, 9]));
    return true;
  });
  b.sendBytes(new Uint8Array(0));
  equal(await a.recvBytesInto(words, 8), 0);
  await rejects(a.recvBytesInto(words, 9), RangeError);
  throws(() => a.recvBytesIntoSync(words, -2), RangeError);
  throws(() => a.recvBytesIntoSync(words, 1.5), RangeError);
  // 64-bit floats: the bytes of a float land from byte 3, whole.
  const floats = new Float64Array(2);
  const x = bytesOf(new Float64Array([Math.PI]));
  b.sendBytes(x);
  equal(a.recvBytesIntoSync(floats, 3), 8);
  deepEqual(bytesOf(floats).subarray(3, 11), x);
  b.sendBytes(new Float64Array([1, 2]), 3);
  equal(await a.recvBytesInto(floats, 3), 13);
  b.sendBytes(new Uint8Array(14));
  throws(() => a.recvBytesIntoSync(floats, 3), BufferTooShortError);
  b.sendBytes(new Float64Array([-1.25]));
  equal(await a.recvBytesInto(floats, 8), 8);
  equal(floats[1], -1.25);
  // Bytes: as before.
  const u8 = new Uint8Array(4);
  b.sendBytes(new Uint8Array([1, 2]));
  equal(a.recvBytesIntoSync(u8, 2), 2);
  deepEqual(u8, new Uint8Array([0, 0, 1, 2]));
  equal(await a.poll(), false);
});

Deno.test("Connection.send() is sendBytes() of the value's bytes: recvBytes() of a sent value sends it again", async () => {
  const [a, b] = Pipe();
  a.send([1, 2.25, null]);
  b.sendBytes(await b.recvBytes());
  deepEqual(await a.recv(), [1, 2.25, null]);
  // Every encoding: JSON, text, typed arrays, structured clone.
  const values = ["tü", new Float64Array([0.5, -1]), new Map([[1, 2n]])];
  for (const value of values) {
    a.send(value);
    const bytes = b.recvBytesSync();
    assert(bytes instanceof Uint8Array);
    b.sendBytes(bytes);
    deepEqual(await a.recv(), value);
    // Into a buffer, and as the exact bytes again.
    a.send(value);
    const into = new Uint8Array(bytes.length + 2);
    equal(await b.recvBytesInto(into, 2), bytes.length);
    deepEqual(into.subarray(2), bytes);
  }
  // Bytes that frame no value stay bytes, both ways.
  b.sendBytes(new TextEncoder().encode("plain text"));
  deepEqual(await a.recv(), new TextEncoder().encode("plain text"));
  a.send(new Uint8Array([1, 2]));
  deepEqual(await b.recvBytes(), new Uint8Array([1, 2]));
});

Deno.test("Connection.recvBytes() counts a sent value's whole bytes against maxlength", async () => {
  const [a, b] = Pipe();
  a.send("abcd");
  const length = (await b.recvBytes()).length;
  a.send("abcd");
  await rejects(b.recvBytes(length - 1), (e: Error) => {
    assert(e instanceof ProcessError);
    assert(e.message.includes(`${length} bytes`), e.message);
    return true;
  });
  equal((await b.recvBytes(length)).length, length);
});

Deno.test("Connection.poll() says whether a message is waiting", async () => {
  const [a, b] = Pipe();
  equal(await a.poll(), false);
  equal(a.pollSync(0.01), false);
  equal(await a.poll(0.01), false);
  const later = a.poll(null);
  b.send(1);
  equal(await later, true);
  equal(a.pollSync(), true);
  equal(await a.recv(), 1);
  equal(await a.poll(), false);
  equal(await a.poll(-1), false); // negative: no wait, as in CPython
});

Deno.test("Connection of a one-way pipe refuses the wrong direction", async () => {
  const [reader, writer] = Pipe(false);
  equal(reader.writable, false);
  equal(writer.readable, false);
  throws(() => reader.send(1), /read-only/);
  throws(() => reader.sendBytes(new Uint8Array(1)), /read-only/);
  await rejects(writer.recv(), /write-only/);
  throws(() => writer.recvSync(), /write-only/);
  await rejects(writer.poll(), /write-only/);
  throws(() => Pipe("yes" as unknown as boolean), TypeError);
});

Deno.test("Connection.recv() drains the pipe, then throws EOFError once the other end is closed", async () => {
  const [a, b] = Pipe();
  b.send("last");
  b.close();
  equal(await a.poll(), true);
  equal(await a.recv(), "last");
  await rejects(a.recv(), EOFError);
  throws(() => a.recvSync(), EOFError);
  equal(await a.poll(), true); // a receive would not wait
  throws(() => a.send("x"), BrokenPipeError);
  throws(() => b.send("x"), /connection is closed/);
  await rejects(b.recv(), /connection is closed/);
  b.close(); // closing twice is harmless
});

Deno.test("Connection.recv() wakes with EOFError when the other end closes while it waits", async () => {
  const [a, b] = Pipe();
  const pending = a.recv();
  // recv() has checked the ring and is waiting by the time it yields: the
  // close lands on a waiting receiver.
  await Promise.resolve();
  b.close();
  await rejects(pending, EOFError);
});

Deno.test("Connection sees EOF after the child ends when the parent closed its copy", async () => {
  // The child closes its end itself.
  const [r1, w1] = Pipe(false);
  const p1 = start("sendHello", [w1]);
  w1.close();
  deepEqual(await r1.recv(), [42, null, "hello"]);
  await rejects(r1.recv(), EOFError);
  equal(await p1.join(), 0);
  // The child returns without closing: its handle dies with it.
  const [r2, w2] = Pipe(false);
  const p2 = start("sendAndLeave", [w2, 3]);
  w2.close();
  deepEqual([await r2.recv(), await r2.recv(), await r2.recv()], [0, 1, 2]);
  await rejects(r2.recv(), EOFError);
  equal(await p2.join(), 0);
  // The child is terminated while it holds the end.
  const [r3, w3] = Pipe();
  const flag = cells();
  const p3 = start("holdOpen", [w3, flag]);
  w3.close();
  equal(await r3.recv(), "holding");
  p3.terminate();
  await rejects(r3.recv(), EOFError);
  throws(() => r3.send("anyone?"), BrokenPipeError);
});

// A Worker child cannot be interrupted in synchronous code: a killed one
// stops at its next library call, here its next send. The program reports
// what it saw and what the child printed (a worker writes to the process's
// stderr itself).
for (
  const [call, method] of [
    ["send", "spawn"],
    ["send", "forkserver"],
    ["sendBytes", "spawn"],
  ]
) {
  Deno.test(`Connection.${call}() stops a killed child that sends in a loop [${method}]`, async () => {
    const result = await runDeno([
      "run",
      "--allow-read",
      "tests/fixtures/pipe_kill_program.ts",
      method,
      call,
    ], 120);
    equal(result.code, 0, `exit code ${result.code}: ${result.stderr}`);
    const seen = JSON.parse(result.stdout);
    equal(seen.code, -9);
    // The child left its loop before sending a million more...
    assert(seen.stopped, `the child went on sending: ${result.stdout}`);
    // ...and at most the send under way at kill() landed after the join.
    assert(seen.extra <= 1, result.stdout);
    // The pipe held exactly what the child sent, in order, then EOF.
    equal(seen.received, seen.sent);
    assert(seen.inOrder);
    // A killed child reports nothing (it never saw the reader close).
    assert(
      !/BrokenPipeError|Process Process-/.test(result.stderr),
      result.stderr,
    );
  });
}

Deno.test("Connection.send() throws a TypeError for a value that cannot travel", () => {
  const [a, b] = Pipe();
  throws(() => a.send({ f: Symbol("x") }), TypeError);
  const [c] = Pipe();
  throws(() => a.send(c), /shared/);
  throws(() => a.sendBytes("abc" as unknown as Uint8Array), TypeError);
  throws(() => a.sendBytes(new Uint8Array(4), 2, 3), RangeError);
  throws(() => a.sendBytes(new Uint8Array(4), -1), RangeError);
  equal(b.pollSync(), false);
});

Deno.test("wait() returns the ready connections and ended processes", async () => {
  equal(waitConnections, wait);
  const [a, b] = Pipe();
  const [c, d] = Pipe();
  deepEqual(await wait([a, c], 0), []);
  deepEqual(await wait([a, c], 0.01), []);
  d.send("hi");
  deepEqual(await wait([a, c]), [c]);
  const flag = cells();
  const p = start("holdOpen", [b, flag]);
  equal(await a.recv(), "holding");
  const pending = wait<Connection | Process>([a, p], null);
  p.terminate();
  deepEqual(await pending, [p]);
  await rejects(wait([{}] as unknown as Connection[]), TypeError);
  const [reader, writer] = Pipe(false);
  await rejects(wait([writer]), TypeError);
  reader.close();
  await rejects(wait([reader]), TypeError);
});

Deno.test("Connection.poll() and waitConnections() wait for Infinity or past 24.8 days, and treat a negative timeout as 0", async () => {
  const [a, b] = Pipe();
  equal(await a.poll(-1), false);
  deepEqual(await waitConnections([a], -1), []);
  let settled = 0;
  const waits = [
    a.poll(Infinity),
    a.poll(3e6),
    waitConnections([a], Infinity),
    waitConnections([a], 3e6),
  ].map((w) => w.finally(() => settled++));
  await letDueTimersRun();
  equal(settled, 0);
  b.send(1);
  deepEqual(await Promise.all(waits), [true, true, [a], [a]]);
  equal(await a.poll(-1), true);
  deepEqual(await waitConnections([a], -1), [a]);
  a.close();
  b.close();
});
