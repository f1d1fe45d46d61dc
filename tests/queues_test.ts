import {
  deepEqual,
  equal,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import {
  JoinableQueue,
  Process,
  ProcessError,
  Queue,
  QueueEmptyError,
  QueueFullError,
  SimpleQueue,
} from "../mod.ts";
import { waitAsync } from "../src/_memory/atomics.ts";
import { deadlineOf } from "../src/_core/time.ts";
import { cells, fixture, letDueTimersRun } from "./_run.ts";
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

/**
 * Waits (without blocking the event loop, but keeping it alive: a
 * terminated child no longer does) until flag[index] ≥ value.
 */
async function reach(flag: Int32Array, value: number, index = 0) {
  const deadline = deadlineOf(60);
  while (true) {
    const now = Atomics.load(flag, index);
    if (now >= value) return;
    if (await waitAsync(flag, index, now, deadline) === "timed-out") {
      throw new Error(`flag[${index}] stayed at ${now}, below ${value}`);
    }
  }
}

Deno.test("Queue.get() returns items in put order with exact qsize/empty/full", async () => {
  const q = new Queue<number>(3);
  assert(q.empty());
  equal(q.full(), false);
  for (const n of [1, 2, 3]) await q.put(n);
  equal(q.qsize(), 3);
  assert(q.full());
  equal(q.empty(), false);
  deepEqual([await q.get(), q.getSync(), q.getNowait()], [1, 2, 3]);
  equal(q.qsize(), 0);
  assert(q.empty());
  equal(new Queue().full(), false);
  equal(new Queue(-1).maxsize, 0);
});

Deno.test("Queue.putNowait() and getNowait() throw at once when full or empty", () => {
  const q = new Queue<string>(1);
  throws(() => q.getNowait(), QueueEmptyError);
  throws(() => q.getSync({ block: false }), QueueEmptyError);
  q.putNowait("a");
  throws(() => q.putNowait("b"), QueueFullError);
  throws(() => q.putSync("b", { block: false, timeout: 10 }), QueueFullError);
  equal(q.qsize(), 1);
  equal(q.getNowait(), "a");
});

Deno.test("Queue.put() and get() reject after the timeout when nothing changes", async () => {
  const q = new Queue<number>(1);
  await rejects(q.get({ timeout: 0.02 }), QueueEmptyError);
  throws(() => q.getSync({ timeout: 0.02 }), QueueEmptyError);
  await q.put(1);
  await rejects(q.put(2, { timeout: 0.02 }), QueueFullError);
  throws(() => q.putSync(2, { timeout: 0 }), QueueFullError);
  equal(q.qsize(), 1);
});

forEachStartMethod(
  "Queue.put() waits for room that a child consumer makes",
  async (P) => {
    const q = new Queue<number>(2);
    const out = new Queue<number>();
    const p = start("relay", [q, out], P);
    for (let i = 0; i < 50; i++) await q.put(i);
    await q.put(null as unknown as number);
    const got: (number | null)[] = [];
    for (let i = 0; i <= 50; i++) got.push(await out.get());
    equal(await p.join(), 0);
    deepEqual(got, [...Array(50).keys(), null]);
  },
);

forEachStartMethod(
  "Queue carries structured-cloneable values and large messages through a child",
  async (P) => {
    const q = new Queue<unknown>();
    const out = new Queue<unknown>();
    const values: unknown[] = [
      { id: 1, name: "item", tags: ["a", "b"] },
      new Map<unknown, unknown>([["k", new Set([1, 2])], [3, new Date(7)]]),
      12345678901234567890n,
      [undefined, -0, NaN],
      new Float64Array([1.5, -2.25]),
      "",
      "ü".repeat(9_000_000), // 18 MB of UTF-8
      new Uint8Array(17 * 1024 * 1024).map((_, i) => i & 0xff),
      new Uint8Array(0),
    ];
    const p = start("relay", [q, out], P);
    for (const v of values) await q.put(v);
    await q.put(null);
    for (const v of values) deepEqual(await out.get(), v);
    equal(await out.get(), null);
    equal(await p.join(), 0);
  },
);

Deno.test("Queue.put() throws a TypeError for a value that cannot travel and puts nothing", async () => {
  const q = new Queue();
  await rejects(q.put({ f: () => 1 }), (e: Error) => {
    assert(e instanceof TypeError);
    assert(e.message.includes("'item.f'"), e.message);
    return true;
  });
  throws(() => q.putNowait(new SharedArrayBuffer(8)), TypeError);
  throws(() => q.putSync([new Queue()]), TypeError);
  equal(q.qsize(), 0);
});

Deno.test("Queue rejects bad arguments with TypeError or RangeError", async () => {
  throws(() => new Queue("3" as unknown as number), TypeError);
  throws(() => new Queue(1.5), RangeError);
  const q = new Queue();
  await rejects(q.get({ timeout: "1" as unknown as number }), TypeError);
  throws(() => q.putSync(1, { block: "no" as unknown as boolean }), TypeError);
  throws(() => q.getSync(null as unknown as undefined), TypeError);
});

Deno.test("Queue.close() makes this copy's put and get throw while others go on", async () => {
  const q = new Queue<string>();
  const out = new Queue<string>();
  const p = start("relay", [q, out]);
  await q.put("before");
  q.close();
  await rejects(q.put("after"), ProcessError);
  throws(() => q.getNowait(), /queue is closed/);
  equal(await out.get(), "before");
  // The child's copy is still open: it can still relay (and end on null).
  out.putSync(null as unknown as string);
  equal(await out.get(), null);
  p.terminate();
  await p.join();
});

Deno.test("JoinableQueue.join() waits until every item is marked done", async () => {
  const q = new JoinableQueue<number>();
  const done = cells();
  for (let i = 0; i < 20; i++) await q.put(i);
  const p = start("work", [q, 20, done]);
  await q.join();
  equal(Atomics.load(done, 0), 20);
  equal(await p.join(), 0);
  q.joinSync();
});

Deno.test("JoinableQueue.taskDone() throws when called more times than items were put", async () => {
  const q = new JoinableQueue<string>();
  await q.put("one");
  await q.get();
  q.taskDone();
  throws(() => q.taskDone(), (e: Error) => {
    assert(e instanceof ProcessError);
    assert(e.message.includes("more times than items were put"));
    return true;
  });
});

forEachStartMethod("SimpleQueue passes items between processes", async (P) => {
  const q = new SimpleQueue<string>();
  assert(q.empty());
  const p = start("simplePut", [q, "from child"], P);
  equal(await q.get(), "from child");
  equal(await p.join(), 0);
  q.put("x");
  equal(q.getSync(), "x");
  q.close();
  throws(() => q.put("y"), ProcessError);
});

Deno.test("Queue stays whole when a producer is terminated mid-stream", async () => {
  const q = new Queue<number>();
  const flag = cells();
  const p = start("produceForever", [q, flag]);
  await reach(flag, 1000);
  p.terminate();
  await p.join();
  await reach(flag, 1, 1); // its thread has left the loop
  // Every item the producer managed to put is there, whole and in order.
  const n = q.qsize();
  assert(n >= 1000);
  for (let i = 0; i < n; i++) equal(q.getNowait(), i);
  throws(() => q.getNowait(), QueueEmptyError);
  await q.put(-1);
  equal(await q.get(), -1);
});

Deno.test("Queue keeps serving others when a consumer is terminated", async () => {
  const q = new Queue<number>();
  // A consumer blocked in getSync() on an empty queue.
  const blocked = cells();
  const b = start("blockInGet", [q, blocked]);
  await reach(blocked, 1);
  b.terminate();
  equal(await b.join(), -15);
  // A consumer terminated while it takes items as fast as they come.
  const taken = cells();
  const c = start("consumeForever", [q, taken]);
  for (let i = 0; i < 2000; i++) await q.put(i);
  await reach(taken, 100);
  c.terminate();
  await c.join();
  await reach(taken, 1, 1); // its thread has left the loop
  // Whatever it left is intact and in order, and a new consumer gets it all.
  const left: number[] = [];
  while (!q.empty()) left.push(q.getNowait());
  // getSync() and the count it is followed by are one synchronous step, so
  // every item is either counted as taken or still in the queue.
  const took = Atomics.load(taken, 0);
  equal(took + left.length, 2000);
  deepEqual(left, Array.from({ length: left.length }, (_, i) => took + i));
  const out = new Queue<number>();
  const r = start("relay", [q, out]);
  await q.put(7);
  equal(await out.get(), 7);
  r.terminate();
  await r.join();
});

Deno.test("Queue stays usable when a producer blocked on a full queue is terminated", async () => {
  const q = new Queue<string>(3);
  const flag = cells();
  const p = start("blockInPut", [q, flag]);
  await reach(flag, 1);
  p.terminate();
  equal(await p.join(), -15);
  deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [
    "filler",
    "filler",
    "filler",
  ]);
  throws(() => q.getNowait(), QueueEmptyError);
  q.putNowait("again");
  equal(q.qsize(), 1);
});

Deno.test({
  name:
    "Queue delivers 4 producers × 4 consumers × 250 000 messages exactly once, in order per producer",
  async fn() {
    const producers = 4, consumers = 4, perProducer = 250_000;
    const q = new Queue<{ p: number; i: number } | null>();
    const seen = new Int32Array(
      new SharedArrayBuffer(4 * producers * perProducer),
    );
    const errors = cells();
    const cs = Array.from(
      { length: consumers },
      () => start("consume", [q, seen, errors, perProducer, producers]),
    );
    const ps = Array.from(
      { length: producers },
      (_, p) => start("produce", [q, p, perProducer]),
    );
    for (const p of ps) equal(await p.join(), 0);
    for (let i = 0; i < consumers; i++) await q.put(null);
    for (const c of cs) equal(await c.join(), 0);
    equal(Atomics.load(errors, 0), 0, "a producer's items came out of order");
    let missing = 0, duplicated = 0;
    for (const n of seen) {
      if (n === 0) missing++;
      else if (n > 1) duplicated++;
    }
    deepEqual({ missing, duplicated }, { missing: 0, duplicated: 0 });
    assert(q.empty());
  },
});

Deno.test("Queue.get() and put() wait for Infinity or past 24.8 days, and treat a negative timeout as 0", async () => {
  const q = new Queue<number>(1);
  await rejects(q.get({ timeout: -1 }), QueueEmptyError);
  await q.put(1, { timeout: -1 });
  await rejects(q.put(2, { timeout: -1 }), QueueFullError);
  equal(await q.get({ timeout: -1 }), 1);
  let settled = 0;
  const gets = [q.get({ timeout: Infinity }), q.get({ timeout: 3e6 })]
    .map((get) => get.finally(() => settled++));
  await letDueTimersRun();
  equal(settled, 0);
  await q.put(5, { timeout: Infinity });
  await q.put(6, { timeout: 3e6 });
  deepEqual((await Promise.all(gets)).sort(), [5, 6]);
});

Deno.test("Queue, JoinableQueue and SimpleQueue: empty(), full() and qsize() throw once closed in this process", () => {
  for (const q of [new Queue(2), new JoinableQueue(2)]) {
    q.putNowait(1);
    equal(q.qsize(), 1);
    q.close();
    throws(
      () => q.empty(),
      /Cannot check whether queue is empty as the queue is closed in this process/,
    );
    throws(
      () => q.full(),
      /Cannot check whether queue is full as the queue is closed/,
    );
    throws(() => q.qsize(), /Cannot get queue size as the queue is closed/);
    throws(() => q.empty(), ProcessError);
  }
  const simple = new SimpleQueue();
  equal(simple.empty(), true);
  simple.close();
  throws(() => simple.empty(), ProcessError);
});
