import {
  deepEqual,
  equal,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Event,
  getContext,
  Lock,
  Process,
  ProcessError,
  RLock,
  Semaphore,
  SharedArray,
  Value,
} from "../mod.ts";
import { cells, fixture, letDueTimersRun, runAll } from "./_run.ts";
import { forEachStartMethod } from "./_start_methods.ts";
import { stopForkserver, warmReady } from "../src/_child/forkserver.ts";
import {
  enterSlot,
  kConditionWords,
  notifyOldest,
} from "../src/synchronize/_condition_slots.ts";
import { claimLife, endLife } from "../src/_core/lives.ts";
import { nextPid, state } from "../src/_core/state.ts";
import { kWaiterAbandoned, kWaiterNotified } from "../src/_wire/layouts.ts";

const T = (name: string) => fixture("sync_targets", name);

// Tests with children run once per start method (forEachStartMethod), but
// those whose children report through cells(), raw SharedArrayBuffers that
// only a Worker child shares: those run on "spawn" only.

/** Polls a condition that only other processes can make true. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

// ---------------------------------------------------------------- Lock

Deno.test("Lock.acquire() locks and release() unlocks", async () => {
  const lock = new Lock();
  equal(lock.locked(), false);
  equal(await lock.acquire(), true);
  equal(lock.locked(), true);
  lock.release();
  equal(lock.locked(), false);
});

Deno.test("Lock.release() throws when the lock is not locked", () => {
  const lock = new Lock();
  throws(() => lock.release(), ProcessError);
  lock.acquireSync();
  lock.release();
  throws(() => lock.release(), /not locked/);
});

Deno.test("Lock.acquire() returns false when block is false or the timeout passes", async () => {
  const lock = new Lock();
  await lock.acquire();
  equal(await lock.acquire({ block: false }), false);
  equal(await lock.acquire({ timeout: 0.01 }), false);
  equal(await lock.acquire({ timeout: 0 }), false);
  equal(lock.acquireSync({ block: false }), false);
  lock.release();
  equal(await lock.acquire({ block: false }), true);
  lock.release();
});

Deno.test("Lock.acquire() rejects bad options with TypeError", async () => {
  const lock = new Lock();
  await rejects(
    lock.acquire({ block: "yes" as unknown as boolean }),
    /'block' must be a boolean: current value is "yes"/,
  );
  await rejects(
    lock.acquire({ timeout: "1" as unknown as number }),
    TypeError,
  );
  throws(() => lock.acquireSync({ timeout: NaN }), TypeError);
  throws(() => lock.acquireSync(null as unknown as undefined), TypeError);
  equal(lock.locked(), false);
});

Deno.test("Lock.acquireSync() throws on the main thread only when it would wait", () => {
  const lock = new Lock();
  equal(lock.acquireSync(), true);
  throws(() => lock.acquireSync(), /main thread.*await lock.acquire\(\)/);
  throws(() => lock.holdSync(), ProcessError);
  lock.release();
  {
    using _ = lock.holdSync();
    assert(lock.locked());
  }
  equal(lock.locked(), false);
});

Deno.test("Lock.hold() returns a Disposable that releases the lock once", async () => {
  const lock = new Lock();
  {
    using held = await lock.hold();
    assert(lock.locked());
    held[Symbol.dispose]();
    equal(lock.locked(), false);
    await lock.acquire();
  } // the second dispose is a no-op: the lock taken above stays held
  assert(lock.locked());
  lock.release();
});

forEachStartMethod(
  "Lock.acquire() waits until a child releases the lock",
  async (P) => {
    const lock = new Lock();
    const held = new Event();
    const release = new Event();
    const p = new P({
      target: T("holdUntil"),
      args: [lock, held, release],
    });
    p.start();
    try {
      assert(await held.wait(30));
      equal(await lock.acquire({ timeout: 0.01 }), false);
      const waiting = lock.acquire({ timeout: 30 });
      release.set();
      equal(await waiting, true);
      lock.release();
      equal(await p.join(30), 0);
    } finally {
      if (p.isAlive()) p.terminate();
    }
  },
);

forEachStartMethod(
  "A Condition, Value and SharedArray over a Lock of their own reach a child that imports only the library's types",
  async (P) => {
    // The child rebuilds each object's lock too: it must load the module
    // that rebuilds a Lock, which only the outer objects named.
    const condition = new Condition(new Lock());
    const value = new Value("i", 1, { lock: new Lock() });
    const array = new SharedArray("i", [5], { lock: new Lock() });
    const p = new P({
      target: fixture("type_only_targets", "bumpAll"),
      args: [condition, value, array],
    });
    p.start();
    equal(await p.join(30), 0);
    equal(value.value, 2);
    equal(array.get(0), 6);
  },
);

Deno.test("Lock.acquireSync() in a child returns false for block false and on timeout", async () => {
  for (const lock of [new Lock(), new RLock()]) {
    const out = cells();
    await lock.acquire();
    deepEqual(await runAll("tryAcquire", [[lock, out]]), [0]);
    deepEqual([out[0], out[1]], [0, 0]);
    lock.release();
  }
});

forEachStartMethod(
  "Lock.release() from another process unlocks it",
  async (P) => {
    const lock = new Lock();
    await lock.acquire();
    deepEqual(await runAll("releaseLock", [[lock]], 120, P), [0]);
    equal(lock.locked(), false);
  },
);

Deno.test("Lock keeps non-atomic increments exact across 8 processes", async () => {
  const lock = new Lock();
  const cell = cells(1);
  const codes = await runAll(
    "lockedIncrements",
    Array.from({ length: 8 }, () => [lock, cell, 20_000]),
  );
  deepEqual(codes, Array(8).fill(0));
  equal(cell[0], 160_000);
  equal(lock.locked(), false);
});

forEachStartMethod(
  "Lock.acquireSync() in a child ends when the child is terminated",
  async (P) => {
    const lock = new Lock();
    const started = new Event();
    await lock.acquire();
    const p = new P({ target: T("blockOnLock"), args: [lock, started] });
    p.start();
    try {
      assert(await started.wait(30));
      p.terminate();
      equal(await p.join(30), -15);
    } finally {
      if (p.isAlive()) p.terminate();
      lock.release();
    }
  },
);

// --------------------------------------------------------------- RLock

Deno.test("RLock.acquire() nests and release() counts down", async () => {
  const lock = new RLock();
  await lock.acquire();
  assert(lock.acquireSync()); // the owner re-enters, even synchronously
  assert(await lock.acquire({ block: false }));
  lock.release();
  lock.release();
  assert(lock.locked());
  lock.release();
  equal(lock.locked(), false);
  throws(() => lock.release(), /not owned by this process/);
});

Deno.test("RLock.release() throws in a process that does not own it", async () => {
  const lock = new RLock();
  const out = cells();
  await lock.acquire();
  deepEqual(await runAll("releaseNotOwned", [[lock, out]]), [0]);
  equal(out[0], 1);
  assert(lock.locked());
  lock.release();
});

Deno.test("RLock excludes other processes while held at depth 2", async () => {
  const lock = new RLock();
  const cell = cells(1);
  const codes = await runAll(
    "nestedIncrements",
    Array.from({ length: 4 }, () => [lock, cell, 10_000]),
  );
  deepEqual(codes, [0, 0, 0, 0]);
  equal(cell[0], 40_000);
  equal(lock.locked(), false);
});

// ----------------------------------------------------------- Semaphore

Deno.test("Semaphore.acquire() decrements and release() increments getValue()", async () => {
  const sem = new Semaphore(2);
  equal(sem.getValue(), 2);
  assert(await sem.acquire());
  assert(sem.acquireSync());
  equal(sem.getValue(), 0);
  equal(await sem.acquire({ block: false }), false);
  equal(await sem.acquire({ timeout: 0.01 }), false);
  throws(() => sem.acquireSync(), /main thread/);
  sem.release();
  sem.release();
  sem.release(); // a plain Semaphore may pass its initial value
  equal(sem.getValue(), 3);
  equal(new Semaphore().getValue(), 1);
});

Deno.test("Semaphore() rejects a bad initial value", () => {
  throws(() => new Semaphore(-1), RangeError);
  throws(() => new Semaphore(1.5), TypeError);
  throws(
    () => new Semaphore("2" as unknown as number),
    /'value' must be an integer/,
  );
  throws(() => new BoundedSemaphore(2 ** 31), RangeError);
});

Deno.test("BoundedSemaphore.release() throws past the initial value", async () => {
  const sem = new BoundedSemaphore(2);
  throws(() => sem.release(), /released too many times/);
  await sem.acquire();
  sem.release();
  throws(() => sem.release(), ProcessError);
  equal(sem.getValue(), 2);
});

Deno.test("Semaphore admits at most its value of holders across 4 processes", async () => {
  const sem = new BoundedSemaphore(2);
  const stats = cells(2);
  const codes = await runAll(
    "semaphoreWorker",
    Array.from({ length: 4 }, () => [sem, stats, 2_000]),
  );
  deepEqual(codes, [0, 0, 0, 0]);
  assert(stats[1] >= 1 && stats[1] <= 2, `max holders ${stats[1]}`);
  equal(stats[0], 0);
  equal(sem.getValue(), 2);
});

forEachStartMethod(
  "Semaphore.acquire() on the main thread wakes when a child releases",
  async (P) => {
    const sem = new Semaphore(0);
    const waiting = sem.acquire({ timeout: 30 });
    deepEqual(await runAll("releaseLock", [[sem]], 120, P), [0]);
    equal(await waiting, true);
    equal(sem.getValue(), 0);
  },
);

// ----------------------------------------------------------- Condition

Deno.test("Condition.wait() and notify() throw without the lock", async () => {
  const cond = new Condition();
  await rejects(cond.wait(0), /must hold the condition's lock/);
  throws(() => cond.notify(), ProcessError);
  throws(() => cond.notifyAll(), ProcessError);
  throws(() => new Condition({} as Lock), TypeError);
  using _ = await cond.hold();
  throws(() => cond.notify(-1), RangeError);
  throws(() => cond.notify(1.5), TypeError);
  equal(await cond.wait(-1), false); // negative: no wait, as in CPython
  throws(() => cond.waitSync(), /main thread/);
});

Deno.test("Condition.wait() returns false after the timeout and keeps the lock", async () => {
  const cond = new Condition();
  using _ = await cond.hold();
  equal(await cond.wait(0.01), false);
  equal(await cond.waitFor(() => 0, 0.01), 0);
  cond.release(); // still held once: release() works and
  await cond.acquire(); // the lock can be taken again
});

Deno.test("Condition.notify(n) wakes exactly n waiting tasks of one process", async () => {
  const cond = new Condition(new Lock());
  let round = 0;
  let ready = 0;
  const rounds: number[] = [];
  const waiters = Array.from({ length: 5 }, async () => {
    using _ = await cond.hold();
    ready++;
    assert(await cond.wait(30));
    rounds.push(round);
  });
  await cond.acquire();
  while (ready < 5) {
    cond.release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await cond.acquire();
  }
  round = 1;
  cond.notify(2);
  cond.release();
  while (rounds.length < 2) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await cond.acquire();
  round = 2;
  cond.notifyAll();
  cond.release();
  await Promise.all(waiters);
  deepEqual(rounds, [1, 1, 2, 2, 2]);
});

Deno.test("Condition.notify(n) wakes exactly n waiters across 8 processes", async () => {
  const shared = new RLock();
  const c = new Condition(shared);
  const done = new Condition(shared);
  const book = cells(3 + 8);
  const ps = Array.from(
    { length: 8 },
    (_, me) =>
      new Process({
        target: T("conditionWaiter"),
        args: [c, done, book, me, me % 2 === 0],
      }),
  );
  try {
    for (const p of ps) p.start();
    {
      using _ = await c.hold();
      assert(await done.waitFor(() => book[0] === 8, 60));
      book[2] = 1;
      c.notify(3);
      assert(await done.waitFor(() => book[1] === 3, 60));
      book[2] = 2;
      c.notify(2);
      assert(await done.waitFor(() => book[1] === 5, 60));
      book[2] = 3;
      c.notifyAll();
      assert(await done.waitFor(() => book[1] === 8, 60));
    }
    for (const p of ps) equal(await p.join(30), 0);
    const seen = Array.from(book.slice(3)).sort();
    deepEqual(seen, [1, 1, 1, 2, 2, 3, 3, 3]);
  } finally {
    for (const p of ps) if (p.isAlive()) p.terminate();
  }
});

Deno.test("Condition.notify() loses no wake-up between a producer and 8 consumers", async () => {
  const cond = new Condition();
  const state = cells(2 + 8);
  const items = 2_000;
  const ps = Array.from(
    { length: 8 },
    (_, me) =>
      new Process({
        target: T("conditionConsumer"),
        args: [cond, state, me],
      }),
  );
  try {
    for (const p of ps) p.start();
    for (let i = 0; i < items; i++) {
      using _ = await cond.hold();
      state[0]++;
      cond.notify();
    }
    {
      using _ = await cond.hold();
      state[1] = 1;
      cond.notifyAll();
    }
    for (const p of ps) equal(await p.join(60), 0);
    equal(state[0], 0);
    equal(state.slice(2).reduce((a, b) => a + b, 0), items);
  } finally {
    for (const p of ps) if (p.isAlive()) p.terminate();
  }
});

Deno.test("Condition.notify() skips a waiter whose process was terminated", async () => {
  const shared = new RLock();
  const cond = new Condition(shared);
  const done = new Condition(shared);
  const book = cells(3 + 2);
  const first = new Process({
    target: T("conditionWaiter"),
    args: [cond, done, book, 0, false],
  });
  const second = new Process({
    target: T("conditionWaiter"),
    args: [cond, done, book, 1, false],
  });
  try {
    first.start();
    {
      using _ = await cond.hold();
      assert(await done.waitFor(() => book[0] === 1, 30));
    }
    first.terminate();
    equal(await first.join(30), -15);
    // The dying waiter gives its slot up within one 50 ms wait slice.
    await until(
      () => Deno.inspect(cond).includes("waiting: 0"),
      "the terminated waiter to leave",
    );
    second.start();
    using _ = await cond.hold();
    assert(await done.waitFor(() => book[0] === 2, 30));
    book[2] = 7;
    cond.notify(1);
    assert(await done.waitFor(() => book[1] === 1, 30), "the live waiter woke");
    equal(book[3 + 1], 7);
    cond.release();
    equal(await second.join(30), 0);
    await cond.acquire();
  } finally {
    for (const p of [first, second]) if (p.isAlive()) p.terminate();
  }
});

// A waiter killed while it sleeps in wait() never leaves its slot: its
// parent frees its life word (src/_core/lives.ts) and notify() passes over
// it. The old code notified the dead waiter, and the live one woke only when
// its timeout ran out (2, not 1, in `woke`).
async function notifyPastDeadWaiter(
  P: typeof Process,
  how: "kill" | "terminate",
  { warm, grandchild = false }: {
    warm?: () => Promise<void>;
    /** The waiter is the child of the process ended, which ends with it. */
    grandchild?: boolean;
  } = {},
): Promise<void> {
  const cond = new Condition();
  const ready = new Event();
  const woke = new Value("i", 0);
  const dead = grandchild
    ? new P({ target: T("waitInGrandchild"), args: [cond, ready] })
    : new P({ target: T("waitOnceAsync"), args: [cond, ready, null] });
  const live = new P({
    target: T("waitOnceAsync"),
    args: [cond, ready, woke, 30],
  });
  try {
    dead.start();
    assert(await ready.wait(30));
    {
      using _ = await cond.hold(); // `dead` waits now
    }
    dead[how]();
    equal(await dead.join(30), how === "kill" ? -9 : -15);
    ready.clear();
    await warm?.();
    live.start();
    assert(await ready.wait(30));
    {
      using _ = await cond.hold(); // `live` waits now
      cond.notify();
    }
    equal(await live.join(60), 0);
    equal(woke.value, 1, "the live waiter was notified, not timed out");
  } finally {
    for (const p of [dead, live]) if (p.isAlive()) p.kill();
  }
}

for (
  const [how, done] of [["kill", "killed"], [
    "terminate",
    "terminated",
  ]] as const
) {
  const name =
    `Condition.notify() wakes a live waiter, not one whose process was ${done} while it waited`;
  forEachStartMethod(name, (P) => notifyPastDeadWaiter(P, how));
  Deno.test(`${name} [forkserver]`, async () => {
    try {
      // The live waiter is taken warm, from the worker the first one's
      // start warmed.
      await notifyPastDeadWaiter(getContext("forkserver").Process, how, {
        warm: warmReady,
      });
    } finally {
      stopForkserver();
    }
  });
}

// A child ended while its own child waits: Deno ends the grandchild with
// it, and nobody is left to report the grandchild's end. Freeing a life
// word frees those its process claimed (src/_core/lives.ts). Web Worker
// children only: a "subprocess" child cannot pass its Condition on.
for (const how of ["kill", "terminate"] as const) {
  Deno.test(`Condition.notify() wakes a live waiter, not a grandchild ended with its parent while it waited [${how}]`, () =>
    notifyPastDeadWaiter(Process, how, { grandchild: true }));
}

Deno.test("a child whose target throws joins its non-daemonic children before it exits, as CPython's does", async () => {
  const go = new Event();
  const ready = new Event();
  const done = new Value("i", 0);
  const p = new Process({
    target: T("throwAfterChild"),
    args: [go, ready, done],
  });
  try {
    p.start();
    // The grandchild runs on after the throw, until told to end.
    assert(await ready.wait(30));
    go.set();
    equal(await p.join(30), 1);
    equal(done.value, 1);
  } finally {
    if (p.isAlive()) p.kill();
  }
});

Deno.test("notifyOldest() withdraws a dead waiter's slot and passes on the notification it never took", () => {
  const a = new Int32Array(new SharedArrayBuffer(kConditionWords * 4));
  // Two waiters of another process: the first is notified, then that
  // process ends before either takes the lock back.
  const self = state();
  const [life, pid] = [self.life, self.pid];
  const other = nextPid();
  const otherLife = claimLife(other);
  self.life = otherLife;
  self.pid = other;
  let dead: number[];
  try {
    dead = [enterSlot(a), enterSlot(a)];
  } finally {
    self.life = life;
    self.pid = pid;
  }
  notifyOldest(a, 1);
  endLife(otherLife, other);
  const mine = [enterSlot(a), enterSlot(a)];
  notifyOldest(a, 1);
  const states = (slots: number[]) => slots.map((i) => Atomics.load(a, i));
  deepEqual(states(dead), [kWaiterAbandoned, kWaiterAbandoned]);
  deepEqual(states(mine), [kWaiterNotified, kWaiterNotified]);
});

Deno.test("Condition.waitFor() returns the predicate's value once it is truthy", async () => {
  const cond = new Condition(new Lock());
  let value: string | null = null;
  const waiter = (async () => {
    using _ = await cond.hold();
    return await cond.waitFor(async () => await Promise.resolve(value), 30);
  })();
  await new Promise((resolve) => setTimeout(resolve, 0));
  {
    using _ = await cond.hold();
    value = "ready";
    cond.notifyAll();
  }
  equal(await waiter, "ready");
});

// --------------------------------------------------------------- Event

Deno.test("Event.set() raises and clear() lowers the flag", async () => {
  const event = new Event();
  equal(event.isSet(), false);
  equal(await event.wait(0.01), false);
  throws(() => event.waitSync(0.01), /main thread/);
  event.set();
  event.set();
  assert(event.isSet());
  equal(await event.wait(), true);
  equal(event.waitSync(), true);
  event.clear();
  event.clear();
  equal(event.isSet(), false);
  equal(await event.wait(-1), false); // negative: no wait, as in CPython
});

Deno.test("Event.wait() returns true when set() and clear() both happen while it sleeps", async () => {
  const event = new Event();
  const waiting = event.wait(30);
  event.set();
  event.clear();
  equal(await waiting, true);
  equal(event.isSet(), false);
});

forEachStartMethod(
  "Event.set() in a child wakes a waiting parent",
  async (P) => {
    const event = new Event();
    const waiting = event.wait(30);
    deepEqual(await runAll("setEvent", [[event]], 120, P), [0]);
    equal(await waiting, true);
  },
);

Deno.test("Event.set() wakes every waiter of 8 processes and the parent", async () => {
  const event = new Event();
  const counts = cells(2);
  const ps = Array.from(
    { length: 8 },
    (_, i) =>
      new Process({
        target: T("eventWaiter"),
        args: [event, counts, i % 2 === 0],
      }),
  );
  try {
    for (const p of ps) p.start();
    const mine = event.wait(30);
    event.set();
    for (const p of ps) equal(await p.join(60), 0);
    equal(await mine, true);
    deepEqual([counts[0], counts[1]], [8, 0]);
  } finally {
    for (const p of ps) if (p.isAlive()) p.terminate();
  }
});

// ------------------------------------------------------------- Barrier

Deno.test("Barrier.wait() gives each party a distinct index and runs the action once", async () => {
  let calls = 0;
  const barrier = new Barrier(3, () => calls++);
  equal(barrier.parties, 3);
  for (let generation = 1; generation <= 3; generation++) {
    const indices = await Promise.all([
      barrier.wait(),
      barrier.wait(),
      barrier.wait(),
    ]);
    deepEqual(indices.sort(), [0, 1, 2]);
    equal(calls, generation);
  }
  equal(barrier.nWaiting, 0);
  equal(barrier.broken, false);
});

Deno.test("Barrier.waitSync() throws on the main thread unless it completes the generation", () => {
  const barrier = new Barrier(2);
  throws(
    () => barrier.waitSync(),
    /wait on barrier synchronously on the main thread.*await barrier.wait\(\)/,
  );
  equal(barrier.nWaiting, 0);
  equal(barrier.broken, false);
  equal(new Barrier(1).waitSync(), 0);
});

Deno.test("Barrier() rejects bad arguments", () => {
  throws(() => new Barrier(0), RangeError);
  throws(() => new Barrier(1.5), TypeError);
  throws(() => new Barrier(2, "x" as unknown as () => void), TypeError);
});

Deno.test("Barrier.wait() breaks the barrier when it times out", async () => {
  const barrier = new Barrier(2);
  await rejects(barrier.wait(0.01), BrokenBarrierError);
  assert(barrier.broken);
  await rejects(barrier.wait(), BrokenBarrierError);
  barrier.reset();
  equal(barrier.broken, false);
  deepEqual((await Promise.all([barrier.wait(), barrier.wait()])).sort(), [
    0,
    1,
  ]);
});

Deno.test("Barrier.wait() uses the default timeout given to the constructor", async () => {
  const barrier = new Barrier(2, undefined, 0.01);
  await rejects(barrier.wait(), BrokenBarrierError);
});

Deno.test("Barrier.wait() rethrows the action's error and breaks the barrier", async () => {
  const barrier = new Barrier(1, () => {
    throw new RangeError("bad action");
  });
  await rejects(barrier.wait(), /bad action/);
  assert(barrier.broken);
});

Deno.test("Barrier.abort() breaks waiting processes with BrokenBarrierError", async () => {
  const barrier = new Barrier(4);
  const out = cells(3);
  const ps = [0, 1, 2].map((me) =>
    new Process({
      target: T("barrierExpectBroken"),
      args: [barrier, out, me, me === 0],
    })
  );
  try {
    for (const p of ps) p.start();
    await until(() => barrier.nWaiting === 3, "3 parties waiting");
    barrier.abort();
    for (const p of ps) equal(await p.join(30), 0);
    deepEqual(Array.from(out), [1, 1, 1]);
    assert(barrier.broken);
    equal(barrier.nWaiting, 0);
  } finally {
    for (const p of ps) if (p.isAlive()) p.terminate();
  }
});

Deno.test("Barrier.reset() breaks current waiters and leaves it reusable", async () => {
  const barrier = new Barrier(3);
  const out = cells(2);
  const ps = [0, 1].map((me) =>
    new Process({
      target: T("barrierExpectBroken"),
      args: [barrier, out, me, me === 1],
    })
  );
  try {
    for (const p of ps) p.start();
    await until(() => barrier.nWaiting === 2, "2 parties waiting");
    barrier.reset();
    for (const p of ps) equal(await p.join(30), 0);
    deepEqual(Array.from(out), [1, 1]);
    equal(barrier.broken, false);
    const indices = await Promise.all([
      barrier.wait(),
      barrier.wait(),
      barrier.wait(),
    ]);
    deepEqual(indices.sort(), [0, 1, 2]);
  } finally {
    for (const p of ps) if (p.isAlive()) p.terminate();
  }
});

Deno.test("Barrier keeps 8 processes in lockstep for 1000 generations", async () => {
  const parties = 8;
  const generations = 1_000;
  const barrier = new Barrier(parties, T("countGeneration"));
  const phases = cells(parties);
  const zeros = cells(generations);
  const calls = cells(generations);
  const stats = cells(1);
  const codes = await runAll(
    "barrierParty",
    Array.from(
      { length: parties },
      (_, me) => [barrier, me, generations, phases, zeros, calls, stats],
    ),
  );
  deepEqual(codes, Array(parties).fill(0));
  equal(stats[0], 0, "a party ran ahead of the barrier");
  deepEqual(Array.from(zeros), Array(generations).fill(1));
  deepEqual(Array.from(calls), Array(generations).fill(1));
  equal(barrier.broken, false);
});

Deno.test("Barrier cannot be sent to a child with a non-exported action", () => {
  const barrier = new Barrier(2, () => {});
  const p = new Process({ target: T("setEvent"), args: [barrier] });
  throws(() => p.start(), /'action' must be/);
});

Deno.test("Lock, Semaphore, Event, Condition and Barrier waits take Infinity or past 24.8 days, and a negative timeout as 0", async () => {
  const lock = new Lock();
  await lock.acquire();
  equal(await lock.acquire({ timeout: -1 }), false);
  const sem = new Semaphore(0);
  equal(await sem.acquire({ timeout: -1 }), false);
  const event = new Event();
  equal(await event.wait(-1), false);
  const cond = new Condition();
  await cond.acquire();
  equal(await cond.wait(-1), false);
  await rejects(new Barrier(2).wait(-1), BrokenBarrierError);
  const barrier = new Barrier(2, undefined, 3e6);
  let settled = 0;
  const waits = [
    lock.acquire({ timeout: Infinity }),
    sem.acquire({ timeout: 3e6 }),
    event.wait(Infinity),
    cond.wait(3e6),
    barrier.wait(Infinity),
  ].map((w) => w.finally(() => settled++));
  await letDueTimersRun();
  equal(settled, 0);
  lock.release();
  sem.release();
  event.set();
  await cond.acquire();
  cond.notify();
  cond.release();
  const last = await barrier.wait();
  const [locked, acquired, set, notified, index] = await Promise.all(waits);
  deepEqual([locked, acquired, set, notified], [true, true, true, true]);
  deepEqual([index, last].sort(), [0, 1]);
  cond.release();
  lock.release();
});
