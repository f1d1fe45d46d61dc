// Shared objects passed to "subprocess" children: proxies whose calls the
// parent serves (src/_child/proxy_parent.ts). The suites of each class also
// run their tests with children once per start method (forEachStartMethod);
// these are what only an OS process child shows: a child killed while it
// holds a lock, a child blocked in a …Sync call, errors raised in the
// parent for the child, and what still cannot cross.
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
  Lock,
  Pipe,
  Queue,
  RLock,
  SharedArray,
  SharedMemory,
  Value,
} from "../mod.ts";
import {
  addToItems,
  barrierRounds,
  blockTwice,
  countUnderLock,
  errorsOf,
  holdAndWait,
  keepLock,
  passOn,
  sendAndLeave,
  timeouts,
  waitForValue,
} from "./fixtures/proxy_targets.ts";
import { runDeno } from "./_run.ts";

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

Deno.test("Errors raised on a subprocess child's shared objects reach it with their class", async () => {
  const q = new Queue<number>();
  const full = new Queue<number>(1);
  await full.put(1);
  const rlock = new RLock();
  await rlock.acquire();
  const out = new Queue<string[]>();
  const p = new ctx.Process({
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
});

Deno.test("A subprocess child's blocking waits take their timeouts", async () => {
  const lock = new Lock();
  await lock.acquire();
  const out = new Queue<boolean[]>();
  const p = new ctx.Process({
    target: timeouts,
    args: [lock, new Event(), out],
  });
  p.start();
  deepEqual(await out.get({ timeout: 30 }), [false, false, false]);
  equal(await p.join(30), 0);
  lock.release();
});

Deno.test("Condition.waitFor() in a subprocess child wakes on the parent's notify()", async () => {
  const cond = new Condition();
  const cell = new Value("i", 0, { lock: false });
  const ready = new Event();
  const out = new Queue<number>();
  const p = new ctx.Process({
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
});

Deno.test("Barrier.waitSync() keeps two subprocess children and the parent in step", async () => {
  const barrier = new Barrier(3);
  const out = new Queue<number>();
  const ps = [0, 1].map(() =>
    new ctx.Process({ target: barrierRounds, args: [barrier, 5, out] })
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
});

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
