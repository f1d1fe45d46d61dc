// Shared objects passed to "subprocess" children: proxies whose calls the
// parent serves (src/_child/proxy_parent.ts). Tests of the objects' surface,
// errors and waits run once per start method (forEachStartMethod), so a
// proxy is checked against the object itself in a Worker child; the others
// are what only an OS process child shows: a child killed while it holds a
// lock or that outlives its parent, a child blocked in a …Sync call, and
// what still cannot cross.
import {
  deepEqual,
  equal,
  match,
  ok,
  rejects,
  throws,
} from "node:assert/strict";
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  EOFError,
  Event,
  getContext,
  JoinableQueue,
  Lock,
  Pipe,
  Queue,
  QueueEmptyError,
  RawValue,
  RLock,
  Semaphore,
  SharedArray,
  SharedMemory,
  SimpleQueue,
  Value,
} from "../mod.ts";
import {
  addToItems,
  barrierRounds,
  blockTwice,
  countUnderLock,
  errorsOf,
  holdAndWait,
  holdValueLock,
  keepLock,
  passOn,
  sendAndLeave,
  surface,
  timeouts,
  waitForValue,
} from "./fixtures/proxy_targets.ts";
import { runDeno } from "./_run.ts";
import { reduce } from "../src/reduction.ts";
import { toPlaceholders } from "../src/_child/proxy_parent.ts";
import { forEachStartMethod } from "./_start_methods.ts";

const ctx = getContext("subprocess");

Deno.test("A subprocess child SIGKILLed while holding a Lock leaves it held, and the parent's timed acquire() returns false", async () => {
  const lock = new Lock();
  const held = new Event();
  const p = new ctx.Process({ target: holdAndWait, args: [lock, held] });
  p.start();
  try {
    ok(await held.wait(30));
    p.kill();
    equal(await p.join(30), -9);
    ok(lock.locked());
    equal(await lock.acquire({ timeout: 0.05 }), false);
  } finally {
    if (p.isAlive()) p.kill();
  }
});

Deno.test("The thread that relays a subprocess child's calls refuses a blocking wait only that child could end", async () => {
  // The child's release and put reach the objects through this thread:
  // a wait here that blocked it would never end. It is refused at once.
  const value = new Value("i", 7);
  const [held, release] = [new Event(), new Event()];
  const q = new Queue<string>();
  const p = new ctx.Process({
    target: holdValueLock,
    args: [value, held, release, q],
  });
  p.start();
  try {
    ok(await held.wait(30));
    throws(() => value.value, /"subprocess" child holds its lock/);
    throws(
      () => q.getSync({ timeout: 30 }),
      /Cannot get item by blocking this thread .* use 'await queue\.get\(\)'/,
    );
    // What does not wait still works, and so do the awaited forms.
    throws(() => q.getSync({ block: false }), QueueEmptyError);
    release.set();
    equal(await q.get({ timeout: 30 }), "done");
    equal(await p.join(30), 0);
    equal(value.value, 7);
    // The child has ended: nothing of it is relayed, and waits may block.
    throws(() => q.getSync({ timeout: 0.01 }), QueueEmptyError);
  } finally {
    if (p.isAlive()) p.kill();
  }
});

Deno.test("A subprocess child's calls to its shared objects fail once its parent is killed", async () => {
  const { code, stdout } = await runDeno([
    "run",
    "-A",
    "tests/fixtures/subprocess_program.ts",
    "orphan-shared",
  ]);
  equal(code, 137);
  // The child outlives its parent; wait for its two lines.
  match(
    stdout,
    /ProcessError: Cannot use shared object as the parent process that holds it has ended\nProcessError: Cannot use shared object as the parent/,
  );
});

Deno.test("A subprocess child blocked in acquireSync() and then getSync() is released by the parent", async () => {
  const lock = new Lock();
  const started = new Event();
  const q = new Queue<string>();
  const out = new Queue<string>();
  await lock.acquire();
  const p = new ctx.Process({
    target: blockTwice,
    args: [lock, started, q, out],
  });
  p.start();
  try {
    ok(await started.wait(30));
    lock.release();
    await q.put("x");
    equal(await out.get({ timeout: 30 }), "got x");
    equal(await p.join(30), 0);
    equal(lock.locked(), false);
  } finally {
    if (p.isAlive()) p.kill();
  }
});

forEachStartMethod(
  "Errors raised on a child's shared objects reach it with their class",
  async (P) => {
    const q = new Queue<number>();
    const full = new Queue<number>(1);
    await full.put(1);
    const rlock = new RLock();
    await rlock.acquire();
    const out = new Queue<string[]>();
    const p = new P({
      target: errorsOf,
      args: [q, full, new BoundedSemaphore(1), new Barrier(2), rlock, out],
    });
    p.start();
    deepEqual(await out.get({ timeout: 30 }), [
      "QueueEmptyError",
      "QueueEmptyError",
      "QueueFullError",
      "ProcessError", // released too many times
      "BrokenBarrierError",
      "ProcessError", // an RLock the parent owns
      "TypeError", // a function cannot travel
    ]);
    equal(await p.join(30), 0);
    rlock.release();
  },
);

// The same calls on both start methods: a proxy behaves as the object does.
forEachStartMethod(
  "A child uses the whole surface of the shared objects it receives",
  async (P) => {
    const jq = new JoinableQueue<number>(5);
    await jq.put(1);
    await jq.put(2);
    const sq = new SimpleQueue<string>();
    const [mine, theirs] = Pipe();
    mine.sendBytes(new Uint8Array([7, 8, 9]));
    const barrier = new Barrier(2);
    const out = new Queue<unknown[]>();
    const objects = {
      rlock: new RLock(),
      sem: new Semaphore(3),
      event: new Event(),
      barrier,
      jq,
      sq,
      arr: new SharedArray("d", [1, 2, 3]),
      raw: RawValue("q"),
      conn: theirs,
    };
    const p = new P({ target: surface, args: [objects, out] });
    p.start();
    theirs.close();
    deepEqual(await out.get({ timeout: 30 }), [
      ...[true, true, true], // RLock
      2, // Semaphore
      ...[true, true, false, false], // Event
      ...[2, 0, false, true], // Barrier
      ...[5, 2, false, 1, 2, true], // JoinableQueue
      ...["from child", true], // SimpleQueue
      ...["d", 3, [1, 5, 6], 6], // SharedArray
      2n ** 40n,
      "TypeError", // RawValue
      ...[true, true, true, true, 3, [0, 0, 7, 8, 9, 0]], // Connection
      true,
    ]);
    equal(await mine.recv(), "bye");
    equal(await p.join(30), 0);
    ok(barrier.broken);
    equal(objects.rlock.locked(), false);
    equal(objects.sem.getValue(), 3);
  },
);

forEachStartMethod(
  "A child's blocking waits on shared objects take their timeouts",
  async (P) => {
    const lock = new Lock();
    await lock.acquire();
    const out = new Queue<boolean[]>();
    const p = new P({
      target: timeouts,
      args: [lock, new Event(), out],
    });
    p.start();
    deepEqual(await out.get({ timeout: 30 }), [false, false, false]);
    equal(await p.join(30), 0);
    lock.release();
  },
);

forEachStartMethod(
  "Condition.waitFor() in a child wakes on the parent's notify()",
  async (P) => {
    const cond = new Condition();
    const cell = new Value("i", 0, { lock: false });
    const ready = new Event();
    const out = new Queue<number>();
    const p = new P({
      target: waitForValue,
      args: [cond, cell, 3, ready, out],
    });
    p.start();
    ok(await ready.wait(30));
    for (let i = 1; i <= 3; i++) {
      using _ = await cond.hold();
      cell.value = i;
      cond.notifyAll();
    }
    equal(await out.get({ timeout: 30 }), 3);
    equal(await p.join(30), 0);
  },
);

forEachStartMethod(
  "Barrier.waitSync() keeps two children and the parent in step",
  async (P) => {
    const barrier = new Barrier(3);
    const out = new Queue<number>();
    const ps = [0, 1].map(() =>
      new P({ target: barrierRounds, args: [barrier, 5, out] })
    );
    try {
      for (const p of ps) p.start();
      const mine: number[] = [];
      for (let i = 0; i < 5; i++) mine.push(await barrier.wait(30));
      const theirs: number[] = [];
      for (let i = 0; i < 10; i++) theirs.push(await out.get({ timeout: 30 }));
      for (const p of ps) equal(await p.join(30), 0);
      // Each generation hands out 0, 1 and 2 once.
      deepEqual(
        [...mine, ...theirs].sort(),
        [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2],
      );
    } finally {
      for (const p of ps) if (p.isAlive()) p.kill();
    }
  },
);

Deno.test("A subprocess Pool's initializer and tasks get shared objects", async () => {
  const lock = new Lock();
  const counter = new Value("i", 0);
  const arr = new SharedArray("i", [1, 2, 3]);
  const pool = new ctx.Pool(2, { initializer: keepLock, initargs: [lock] });
  try {
    const seen = await pool.map(
      countUnderLock as (c: unknown) => number,
      Array(6).fill(counter),
    );
    deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6]);
    equal(counter.value, 6);
    equal(await pool.apply(addToItems, [arr, 10]), 36);
    deepEqual(arr.slice(), [11, 12, 13]);
  } finally {
    pool.terminate();
    await pool.join();
  }
  const executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
  try {
    equal(await executor.submit(addToItems, arr, 1), 39);
  } finally {
    await executor.shutdown();
  }
});

Deno.test("A pipe end a subprocess child held is closed when it ends", async () => {
  const [reader, writer] = Pipe(false);
  const p = new ctx.Process({ target: sendAndLeave, args: [writer, 3] });
  p.start();
  writer.close();
  deepEqual([await reader.recv(), await reader.recv(), await reader.recv()], [
    0,
    1,
    2,
  ]);
  await rejects(reader.recv(), EOFError);
  equal(await p.join(30), 0);
});

Deno.test("A proxy cannot be sent on by a subprocess child", async () => {
  const out = new Queue<unknown>();
  const p = new ctx.Pool(1);
  try {
    match(
      await p.apply(passOn, [new Lock(), out]),
      /Cannot send a Lock as .*its proxy in a "subprocess" child/,
    );
  } finally {
    p.terminate();
    await p.join();
  }
});

Deno.test("A SharedMemory or a SharedArrayBuffer passed to a subprocess child is a TypeError that says why", async () => {
  const shm = new SharedMemory({ create: true, size: 8 });
  try {
    throws(
      () =>
        new ctx.Process({ target: sendAndLeave, args: [{ shm }] as never })
          .start(),
      /Cannot start process as 'args\[0\].shm' must not be a SharedMemory: its bytes cannot be mapped into an OS process/,
    );
    const pool = new ctx.Pool(1);
    try {
      await rejects(
        pool.apply(sendAndLeave, [new SharedArrayBuffer(4) as never, 0]),
        /'args\[0\]' must not be shared memory: it is a SharedArrayBuffer, which cannot cross to an OS process/,
      );
    } finally {
      pool.terminate();
      await pool.join();
    }
  } finally {
    shm.close();
    shm.unlink();
  }
});

Deno.test("toPlaceholders() gives each shared object an id and the facts its proxy needs", () => {
  const [reader] = Pipe(false);
  const message = {
    t: "task",
    args: reduce([
      new SharedArray("h", 5),
      new BoundedSemaphore(2),
      reader,
      [1, "two"],
    ]) as unknown[],
  };
  const adopted: unknown[] = [];
  const out = toPlaceholders(message, (d) => adopted.push(d)) as {
    args: Record<string, unknown>[];
  };
  const tag = "__dmp_shared__";
  // The array's lock is an object of its own, adopted after the array.
  deepEqual(out.args[0], {
    [tag]: "@dmp/proxy",
    kind: "SharedArray",
    id: 1,
    code: "h",
    length: 5,
    lock: { [tag]: "@dmp/proxy", kind: "RLock", id: 2 },
  });
  deepEqual(out.args[1], {
    [tag]: "@dmp/proxy",
    kind: "Semaphore",
    id: 3,
    bounded: true,
  });
  deepEqual(out.args[2], {
    [tag]: "@dmp/proxy",
    kind: "Connection",
    id: 4,
    readable: true,
    writable: false,
  });
  equal(out.args[3], message.args[3]);
  equal(adopted.length, 4);
  const plain = { t: "task", args: [[1, 2], { a: new Uint8Array(2) }] };
  equal(toPlaceholders(plain, () => 0), plain);
  reader.close();
});
