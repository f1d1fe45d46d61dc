import {
  deepEqual,
  equal,
  match,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import {
  AsyncResult,
  BrokenProcessPoolError,
  cpuCount,
  getContext,
  Pool,
  type PoolOptions,
  ProcessError,
  RemoteError,
  TimeoutError,
  Value,
} from "../mod.ts";
import { defaultChunksize } from "../src/_core/util.ts";
import { transportCounters } from "../src/_engine/engine.ts";
import { stopForkserver } from "../src/_child/forkserver.ts";
import { cells, fixture, letDueTimersRun, warningsOf } from "./_run.ts";
// Static import: restricted workers can load what the creating module imports.
import "./fixtures/pool_targets.ts";

const T = (name: string) => fixture("pool_targets", name);

async function started(flag: Int32Array): Promise<void> {
  // A pending Atomics.waitAsync does not keep Deno's event loop alive, and
  // an applyAsync task nobody waits for does not either.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await Atomics.waitAsync(flag, 0, 0).value;
  } finally {
    clearInterval(keepAlive);
  }
}

/** Bursts warmUp() sends at most before it gives up. */
const kWarmUpBursts = 100;

/**
 * Runs bursts of `count` tiny tasks until all `workers` have answered (they
 * start one per event-loop turn), so the pool also knows what one costs.
 */
async function warmUp(pool: Pool, workers: number, count: number) {
  const names = async () =>
    new Set(
      await Promise.all(
        Array.from({ length: count }, () => pool.applyAsync(T("whoAmI")).get()),
      ),
    );
  for (let burst = 1; burst <= kWarmUpBursts; burst++) {
    const seen = (await names()).size;
    if (seen >= workers) return;
    if (burst === kWarmUpBursts) {
      throw new Error(
        `Cannot warm up pool as only ${seen} of ${workers} workers answered ${kWarmUpBursts} bursts`,
      );
    }
  }
}

/**
 * Returns once `workers` workers have each run a task at the same time (they
 * meet on a barrier), so all of them are up whatever the pool's scheduling.
 */
async function allUp(pool: Pool, workers: number): Promise<void> {
  const barrier = cells(1);
  const tasks = Array.from({ length: workers }, () => [barrier, workers]);
  const names = await pool.starmap(T("meet"), tasks, 1);
  equal(new Set(names).size, workers);
}

/**
 * The whole suite, once with the ring fast path and once without, and once
 * more on the "forkserver" start method (as CPython runs its suite once per
 * start method).
 */
function suite(atomics: "enabled" | "disabled", method?: "forkserver"): void {
  const rings = atomics === "enabled";
  const made: Pool[] = [];
  const PoolOf = method === undefined ? Pool : getContext(method).Pool;
  // CPython's names: SpawnPoolWorker-1, ForkServerPoolWorker-1.
  const workerName = method === "forkserver"
    ? "ForkServerPoolWorker"
    : "SpawnPoolWorker";
  /** A pool in this run's mode; test() checks its transport afterwards. */
  const makePool = (processes?: number, options: PoolOptions = {}) => {
    const pool = new PoolOf(processes, { atomics, ...options });
    made.push(pool);
    return pool;
  };
  const suffix = method !== undefined
    ? ` [${method}]`
    : rings
    ? ""
    : " [atomics: disabled]";
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(name + suffix, async () => {
      made.length = 0;
      try {
        await fn();
      } finally {
        // Warm workers are the start method's, not a test's leftovers.
        if (method !== undefined) stopForkserver();
      }
      // Without atomics, not one task may have taken a ring.
      if (!rings) {
        for (const pool of made) equal(transportCounters(pool).ring, 0);
      }
    });

  test("Pool.map() returns results in input order", async () => {
    await using pool = makePool(2);
    deepEqual(await pool.map(T("square"), [1, 2, 3, 4, 5]), [1, 4, 9, 16, 25]);
    deepEqual(await pool.map(T("square"), []), []);
    const many = Array.from({ length: 1000 }, (_, i) => i);
    deepEqual(await pool.map(T("square"), many, 7), many.map((x) => x * x));
  });

  test("Pool.starmap() spreads each item as arguments", async () => {
    await using pool = makePool(2);
    deepEqual(await pool.starmap(T("add"), [[1, 2], [3, 4], [5, 6]]), [
      3,
      7,
      11,
    ]);
    await rejects(
      pool.starmap(T("add"), [1 as never]),
      /item 0 must be an array/,
    );
  });

  test("Pool awaits a thenable that a call returns, in map chunks as in apply, as await does", async () => {
    await using pool = makePool(2);
    deepEqual(await pool.map(T("thenable"), [1, 2, 3], 2), [2, 4, 6]);
    equal(await pool.apply(T("thenable"), [5]), 10);
  });

  test("Pool.apply() and applyAsync() carry any structured-cloneable value", async () => {
    await using pool = makePool(2);
    equal(await pool.apply(T("add"), [2, 3]), 5);
    const value = new Map<unknown, unknown>([[1, 2n], ["d", new Date(0)]]);
    deepEqual(await pool.apply(T("echo"), [value]), value);
    deepEqual(
      await pool.apply(T("echo"), [new Uint8Array([1, 2, 3])]),
      new Uint8Array([1, 2, 3]),
    );
    equal(await pool.apply(T("echo"), [undefined]), undefined);
    equal(Object.is(await pool.apply(T("echo"), [-0]), -0), true);
    equal(await pool.apply(T("echo"), [NaN]), NaN);
    const big = "x".repeat(1 << 20);
    equal(await pool.apply(T("echo"), [big]), big);
    const result = pool.applyAsync(T("add"), [1, 1]);
    assert(result instanceof AsyncResult);
    equal(await result.get(), 2);
    assert(result.ready());
    assert(result.successful());
  });

  test("Pool rethrows a task's error with its name, message and remote stack", async () => {
    await using pool = makePool(1);
    const error = await pool.apply(T("failIf"), [3, 3]).catch((e) => e);
    assert(error instanceof RangeError);
    equal(error.message, "item 3 is bad");
    assert(error.cause instanceof RemoteError);
    match(error.cause.remoteStack, /at failIf/);
    const custom = await pool.apply(T("throwCustom")).then(
      () => new Error("expected a rejection"),
      (e: Error) => e,
    );
    equal(custom.name, "CustomError");
    equal(custom.message, "custom failure");
    // The worker survives a task's error.
    equal(await pool.apply(T("add"), [1, 2]), 3);
  });

  test("Pool rethrows a task's AggregateError with its message and its errors", async () => {
    await using pool = makePool(1);
    const error = await pool.apply(T("throwAggregate")).catch((e) => e);
    assert(error instanceof AggregateError);
    equal(error.message, "two failures");
    deepEqual(
      error.errors.map((e: Error) => [e.constructor, e.message]),
      [[Error, "a"], [TypeError, "b"]],
    );
    assert(error.cause instanceof RemoteError);
    match(error.cause.remoteStack, /at throwAggregate/);
  });

  test("an imap made before close() is read to its end, then join() returns", async () => {
    // CPython checks that the pool runs when imap() is called, not later.
    const pool = makePool(2);
    const before = pool.imap(T("square"), [1, 2, 3, 4, 5]);
    const started = pool.imapUnordered(T("square"), [1, 2, 3], 1);
    const first = await started.next();
    pool.close();
    deepEqual(await Array.fromAsync(before), [1, 4, 9, 16, 25]);
    const rest = await Array.fromAsync(started);
    deepEqual([first.value, ...rest].sort(), [1, 4, 9]);
    await rejects(
      Array.fromAsync(pool.imap(T("square"), [1])),
      /Cannot imap as the pool is not running: it is closed/,
    );
    await pool.join();
  });

  test("an imap made before close() and never read lets join() return", async () => {
    const pool = makePool(1);
    const unread = pool.imap(T("square"), [1, 2]);
    pool.close();
    await pool.join();
    await rejects(
      Array.fromAsync(unread),
      /Cannot imap as the pool is not running: it is closed/,
    );
  });

  test("Pool.map() fails with the first failing item's error", async () => {
    await using pool = makePool(2);
    await rejects(
      pool.starmap(T("failIf"), [[1, 9], [2, 2], [3, 9]], 1),
      /item 2 is bad/,
    );
  });

  test("AsyncResult.get(timeout) throws TimeoutError while not ready", async () => {
    await using pool = makePool(1);
    const flag = cells(1);
    const result = pool.applyAsync(T("waitForever"), [flag]);
    await started(flag);
    await rejects(result.get(0.01), TimeoutError);
    await result.wait(0.01);
    equal(result.ready(), false);
    throws(() => result.successful(), /not ready/);
    pool.terminate();
    await rejects(result.get(), /pool was terminated/);
    equal(result.successful(), false);
  });

  test("Pool async methods call callback and errorCallback", async () => {
    await using pool = makePool(2);
    const seen: unknown[] = [];
    await pool.mapAsync(T("square"), [1, 2], { callback: (r) => seen.push(r) })
      .wait();
    await pool.starmapAsync(T("add"), [[1, 2]], {
      callback: (r) => seen.push(r),
    })
      .wait();
    await pool.applyAsync(T("failIf"), [1, 1], {
      errorCallback: (e) => seen.push(e.message),
    }).wait();
    deepEqual(seen, [[1, 4], [3], "item 1 is bad"]);
  });

  test("Pool: a callback that throws is reported, and the result stands", async () => {
    await using pool = makePool(1);
    const reported: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => reported.push(args);
    try {
      const result = pool.applyAsync(T("add"), [2, 3], {
        callback: () => {
          throw new Error("callback failed");
        },
      });
      equal(await result.get(), 5);
      assert(result.successful());
      equal(await pool.apply(T("add"), [1, 1]), 2);
    } finally {
      console.error = original;
    }
    equal(reported.length, 1);
    match(String((reported[0] as unknown[])[1]), /callback failed/);
  });

  test("Pool: thousands of tasks in flight, more than a ring holds, arrive intact", async () => {
    await using pool = makePool(2);
    await warmUp(pool, 2, 3000);
    // Once "echo" is measured, one flush holds hundreds of tasks of ~400
    // bytes per worker: more than one ring message, so the batch is split.
    await Promise.all(
      Array.from({ length: 1000 }, () => pool.apply(T("echo"), ["x"])),
    );
    const text = (i: number) => `${i}:`.padEnd(400, "x");
    const echoes = Array.from(
      { length: 2000 },
      (_, i) => pool.applyAsync(T("echo"), [text(i)]),
    );
    const squares = Array.from(
      { length: 10 },
      (_, i) => pool.applyAsync(T("square"), [i]),
    );
    const cloned = pool.applyAsync(T("echo"), [new Map([[1, 2n]])]);
    for (const [i, result] of echoes.entries()) {
      equal(await result.get(), text(i));
    }
    for (const [i, result] of squares.entries()) {
      equal(await result.get(), i * i);
    }
    deepEqual(await cloned.get(), new Map([[1, 2n]]));
    const counters = transportCounters(pool);
    // The Map cannot take the ring either way.
    assert(counters.posted >= 1);
    deepEqual(
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => pool.apply(T("square"), [i])),
      ),
      Array.from({ length: 10 }, (_, i) => i * i),
    );
  });

  test("Pool: a batch larger than one ring message goes in parts", async () => {
    await using pool = makePool(1);
    // One flush gives the worker both (it may always hold two): ~80 KB of
    // batch, more than a ring message takes (a quarter of the 256 KiB
    // ring), each task alone less.
    const texts = ["a", "b"].map((c) => c.repeat(40_000));
    const echoed = texts.map((text) => pool.apply(T("echo"), [text]));
    deepEqual(await Promise.all(echoed), texts);
    const counters = transportCounters(pool);
    deepEqual(
      [counters.ring, counters.posted, counters.splits],
      rings ? [2, 0, 2] : [0, 2, 0],
    );
  });

  test("Pool: a batch the ring cannot take goes by postMessage, and its new function is named again", async () => {
    await using pool = makePool(1);
    // One flush gives the worker both (it may always hold two): a batch too
    // large for a ring message, whose first use of "square" goes by
    // postMessage with it. The ring must name "square" again afterwards.
    const big = "x".repeat(70_000);
    const echoed = pool.apply(T("echo"), [big]);
    const first = pool.apply(T("square"), [3]);
    equal(await echoed, big);
    equal(await first, 9);
    const before = transportCounters(pool);
    deepEqual([before.ring, before.posted], [0, 2]);
    for (let i = 0; i < 5; i++) {
      equal(await pool.apply(T("square"), [i]), i * i);
    }
    equal(transportCounters(pool).ring, rings ? 5 : 0);
    // No worker died on the way (a dead one is replaced, and its unstarted
    // tasks run elsewhere, which would hide a lost function id).
    equal(await pool.apply(T("whoAmI")), `${workerName}-1`);
  });

  test("Pool.imap() yields in order and reads its input lazily", async () => {
    await using pool = makePool(2);
    let pulled = 0;
    function* naturals() {
      for (let i = 0;; i++) {
        pulled++;
        yield i;
      }
    }
    const out: number[] = [];
    for await (const r of pool.imap(T("square"), naturals())) {
      out.push(r as number);
      if (out.length === 10) break;
    }
    deepEqual(out, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    // Bounded read-ahead: 2 × processes chunks beyond what was consumed.
    assert(pulled <= 10 + 2 * 2 + 1, `pulled ${pulled} items`);
  });

  test("Pool.imap() accepts async iterables and chunks", async () => {
    await using pool = makePool(2);
    async function* source() {
      for (let i = 1; i <= 7; i++) yield i;
    }
    const out: number[] = [];
    for await (const r of pool.imap(T("square"), source(), 3)) {
      out.push(r as number);
    }
    deepEqual(out, [1, 4, 9, 16, 25, 36, 49]);
  });

  test("Pool.imap() throws a failing item's error at its position", async () => {
    await using pool = makePool(2);
    const out: number[] = [];
    const run = async () => {
      for await (const r of pool.imap(T("square"), [1, 2, "bad" as never, 4])) {
        if (Number.isNaN(r)) {
          throw new RangeError("NaN at position " + out.length);
        }
        out.push(r as number);
      }
    };
    await rejects(run, /NaN at position 2/);
    const failing = async () => {
      for await (
        const r of pool.imap(
          T("failIf"),
          [1, 2, 3, 4].map((x) => x),
        )
      ) {
        out.push(r as number);
      }
    };
    out.length = 0;
    await failing(); // failIf(x, undefined) never fails
    deepEqual(out, [1, 2, 3, 4]);
  });

  test("Pool.imapUnordered() yields every result", async () => {
    await using pool = makePool(2);
    const out: number[] = [];
    for await (const r of pool.imapUnordered(T("square"), [1, 2, 3, 4, 5])) {
      out.push(r as number);
    }
    deepEqual(out.sort((a, b) => a - b), [1, 4, 9, 16, 25]);
  });

  test("Pool methods reject once the pool is closed or terminated", async () => {
    const pool = makePool(1);
    equal(await pool.apply(T("add"), [1, 1]), 2);
    await rejects(pool.join(), /still running/);
    pool.close();
    await rejects(
      pool.apply(T("add"), [1, 1]),
      /pool is not running: it is closed/,
    );
    throws(() => pool.applyAsync(T("add"), [1, 1]), /it is closed/);
    throws(() => pool.mapAsync(T("square"), [1]), /it is closed/);
    await pool.join();
    pool.terminate();
    await rejects(
      pool.map(T("square"), [1]),
      /pool is not running: it is terminated/,
    );
  });

  test("Pool: a new function's burst goes to the free worker, not behind a busy one", async () => {
    await using pool = makePool(2);
    // Both workers up, and used to tiny tasks (under the old fixed window,
    // that let each take half of any burst at once).
    await warmUp(pool, 2, 2000);
    const flag = cells(2);
    const blocker = pool.apply(T("blockWorker"), [flag]);
    await started(flag);
    const burst = Array.from(
      { length: 20 },
      () => pool.applyAsync(T("workerName")).get(),
    );
    // The free worker runs all but what the blocked one already holds (at
    // most one task beside its running one) while the other stays blocked.
    // Were they piled behind it, 19 would never finish: fail, not hang.
    let finished = 0;
    const nineteen = Promise.withResolvers<void>();
    for (const result of burst) {
      result.then(() => ++finished === 19 && nineteen.resolve(), () => {});
    }
    const timer = setTimeout(
      () => nineteen.reject(new Error(`only ${finished} of 20 finished`)),
      30_000,
    );
    try {
      await nineteen.promise;
    } finally {
      clearTimeout(timer);
      Atomics.store(flag, 1, 1);
    }
    const blocked = await blocker;
    const ran = await Promise.all(burst);
    assert(ran.filter((name) => name === blocked).length <= 1, String(ran));
  });

  test("Pool.close() lets queued work finish before join() returns", async () => {
    const pool = makePool(2);
    const results = [1, 2, 3, 4].map((x) =>
      pool.applyAsync(T("slowSquare"), [x, 5])
    );
    pool.close();
    await pool.join();
    // Ready when join() resolved, not just eventually.
    deepEqual(results.map((r) => r.ready()), [true, true, true, true]);
    deepEqual(await Promise.all(results.map((r) => r.get())), [1, 4, 9, 16]);
  });

  test("Pool.terminate() with 10 000 queued tasks rejects them all", async () => {
    const pool = makePool(2);
    const flag = cells(1);
    const first = pool.applyAsync(T("waitForever"), [flag]);
    const queued = Array.from(
      { length: 10_000 },
      (_, i) => pool.applyAsync(T("square"), [i]),
    );
    await started(flag);
    pool.terminate();
    await pool.join();
    await rejects(first.get(), ProcessError);
    const outcomes = await Promise.allSettled(queued.map((r) => r.get()));
    // Some tiny tasks may have completed before terminate(); none is pending.
    assert(
      outcomes.every((o) =>
        o.status === "fulfilled" || o.reason instanceof ProcessError
      ),
    );
    assert(outcomes.some((o) => o.status === "rejected"));
  });

  test("Pool initializer runs in every worker before its tasks", async () => {
    await using pool = makePool(2, {
      initializer: T("init"),
      initargs: ["ready"],
    });
    // Each task waits until both workers hold one: two workers ran them.
    const barrier = cells(1);
    const seen = await pool.starmap(T("readInitTogether"), [
      [barrier, 2],
      [barrier, 2],
    ], 1) as [string, string][];
    deepEqual(seen.map(([, value]) => value), ["ready", "ready"]);
    equal(new Set(seen.map(([worker]) => worker)).size, 2);
  });

  test("Pool workers start at construction: the initializer runs without any task", async () => {
    const counter = new Value("i", 0);
    const pool = makePool(2, {
      initializer: fixture("lifecycle_targets", "countStart"),
      initargs: [counter],
    });
    pool.close();
    await pool.join();
    equal(counter.value, 2);
  });

  test("Pool terminated right after construction ends at once, with nothing left running", async () => {
    const counter = new Value("i", 0);
    const pool = makePool(2, {
      initializer: fixture("lifecycle_targets", "countStart"),
      initargs: [counter],
    });
    pool.terminate();
    await pool.join();
    // Deno's sanitizers fail this test if a timer or worker outlives it.
    equal(counter.value, 0);
  });

  test("Pool maxTasksPerChild replaces workers after that many tasks", async () => {
    await using pool = makePool(1, { maxTasksPerChild: 2 });
    const pids: unknown[] = [];
    for (let i = 0; i < 6; i++) pids.push(await pool.apply(T("pid")));
    equal(new Set(pids).size, 3);
  });

  test("Pool permissions apply to every worker", async () => {
    const file = await Deno.makeTempFile();
    try {
      // Each task waits until both workers hold one: two workers ran them.
      const both = async (pool: Pool) => {
        const barrier = cells(1);
        const args: [string, Int32Array, number] = [file, barrier, 2];
        const seen = await pool.starmap(
          T("canReadTogether"),
          [args, args],
          1,
        ) as [
          string,
          boolean,
        ][];
        equal(new Set(seen.map(([worker]) => worker)).size, 2);
        return seen.map(([, could]) => could);
      };
      await using denied = makePool(2, { permissions: "none" });
      deepEqual(await both(denied), [false, false]);
      await using granted = makePool(2, { permissions: { read: [file] } });
      deepEqual(await both(granted), [true, true]);
    } finally {
      await Deno.remove(file);
    }
  });

  test("Pool per-task timeout stops a running task and replaces its worker", async () => {
    await using pool = makePool(1);
    const flag = cells(1);
    await rejects(
      pool.apply(T("waitForever"), [flag], { timeout: 0.05 }),
      TimeoutError,
    );
    equal(await pool.apply(T("add"), [2, 2]), 4);
  });

  test("Pool per-task signal cancels a queued task", async () => {
    await using pool = makePool(1);
    const flag = cells(1);
    const blocker = new AbortController();
    const first = pool.apply(T("waitForever"), [flag], {
      signal: blocker.signal,
    });
    await started(flag);
    const controller = new AbortController();
    const queued = pool.apply(T("add"), [1, 1], { signal: controller.signal });
    controller.abort(new Error("not needed"));
    await rejects(queued, /not needed/);
    blocker.abort(new Error("stop the blocker"));
    await rejects(first, /stop the blocker/);
    await rejects(
      pool.apply(T("add"), [1, 1], {
        signal: AbortSignal.abort(new Error("early")),
      }),
      /early/,
    );
    equal(await pool.apply(T("add"), [1, 1]), 2);
  });

  test("Pool calls that share one signal add one listener to it, and each still hears its abort", async () => {
    await using pool = makePool(1);
    const flag = cells(1);
    const controller = new AbortController();
    const signal = controller.signal;
    const counts = { add: 0, remove: 0 };
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<typeof add>) => {
      counts.add++;
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<typeof remove>) => {
      counts.remove++;
      remove(...args);
    };
    // Settled calls give their place back; the last one takes the listener.
    deepEqual(
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => pool.apply(T("add"), [i, 1], { signal }),
        ),
      ),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    deepEqual(counts, { add: 1, remove: 1 });
    // One call runs, the others wait behind it: the abort reaches each.
    const running = pool.apply(T("waitForever"), [flag], { signal });
    await started(flag);
    const queued = Array.from(
      { length: 20 },
      () => pool.apply(T("add"), [1, 1], { signal }),
    );
    equal(counts.add, 2);
    controller.abort(new Error("all of them"));
    await rejects(running, /all of them/);
    for (const call of queued) await rejects(call, /all of them/);
    equal(
      await pool.apply(T("add"), [1, 1], {
        signal: new AbortController().signal,
      }),
      2,
    );
  });

  // The fault matrix: every case ends in a result or an error, never pending.

  test("Pool fault: the creating module throws at import in workers", async () => {
    // Imported here, not at the top: workers import this test file.
    const { makePool } = await import("./fixtures/broken_at_import.ts");
    const pool = makePool();
    await rejects(
      pool.apply(fixture("broken_at_import", "noop")),
      BrokenProcessPoolError,
    );
    await rejects(
      pool.apply(fixture("broken_at_import", "noop")),
      /pool is not running: it is broken/,
    );
    pool.terminate();
  });

  test("Pool fault: the task's module throws at import", async () => {
    await using pool = makePool(1);
    await rejects(
      pool.apply(fixture("throws_at_import", "unreachable")),
      /cannot be imported/,
    );
    equal(await pool.apply(T("add"), [1, 2]), 3);
  });

  test("Pool fault: the initializer throws", async () => {
    await using pool = makePool(1, { initializer: T("failingInit") });
    const error = await pool.apply(T("add"), [1, 2]).catch((e) => e);
    assert(error instanceof BrokenProcessPoolError);
    match(error.message, /initializer failed on purpose/);
  });

  test("Pool fault: an error thrown asynchronously after the task", async () => {
    await using pool = makePool(1);
    equal(await pool.apply(T("throwLater")), "returned");
    // The worker dies once idle; the pool replaces it and keeps working.
    for (let i = 0; i < 20; i++) {
      equal(await pool.apply(T("add"), [i, 1]), i + 1);
    }
  });

  test("Pool fault: exit(3) and self.close() inside a task", async () => {
    await using pool = makePool(1);
    await rejects(
      pool.apply(T("exitThree")),
      /exited with code 3 while running it/,
    );
    await rejects(
      pool.apply(T("closeSelf")),
      /exited with code 0 while running it/,
    );
    deepEqual(await pool.map(T("square"), [6, 7]), [36, 49]);
  });

  test("Pool fault: terminate() during a task rejects it", async () => {
    const pool = makePool(1);
    const flag = cells(2);
    const running = pool.apply(T("spinUntil"), [flag]);
    await started(flag);
    pool.terminate();
    await rejects(running, /pool was terminated/);
    Atomics.store(flag, 1, 1); // let the stuck thread finish
    await pool.join();
  });

  test("Pool as 'await using' terminates at the end of the block", async () => {
    let result: AsyncResult<unknown>;
    const flag = cells(1);
    {
      await using pool = makePool(1);
      result = pool.applyAsync(T("waitForever"), [flag]);
      await started(flag);
    }
    await rejects(result.get(), /pool was terminated/);
  });

  test("Pool.imap() yields the results before an input error, then raises it", async () => {
    await using pool = makePool(2);
    function* throwsAfter(n: number) {
      for (let i = 0; i < n; i++) yield i;
      throw new Error(`input failed after ${n} items`);
    }
    async function* throwsAfterAsync(n: number) {
      yield* throwsAfter(n);
    }
    const drain = async (results: AsyncIterable<unknown>) => {
      const seen: unknown[] = [];
      const error = await (async () => {
        for await (const result of results) seen.push(result);
      })().catch((e: Error) => e);
      return { seen, error: (error as Error | undefined)?.message };
    };
    const failed = "input failed after 3 items";
    for (const chunksize of [1, 2, 4]) {
      for (const input of [throwsAfter, throwsAfterAsync]) {
        deepEqual(await drain(pool.imap(T("square"), input(3), chunksize)), {
          seen: [0, 1, 4],
          error: failed,
        });
        const unordered = await drain(
          pool.imapUnordered(T("square"), input(3), chunksize),
        );
        deepEqual(unordered.seen.sort(), [0, 1, 4]);
        equal(unordered.error, failed);
      }
    }
    deepEqual(await drain(pool.imap(T("square"), throwsAfter(0))), {
      seen: [],
      error: "input failed after 0 items",
    });
    // The pool is unharmed.
    deepEqual(await pool.map(T("square"), [5, 6]), [25, 36]);
  });

  test("Pool workers report their own identity", async () => {
    await using pool = makePool(2);
    const names = await pool.map(T("whoAmI"), [1, 2, 3, 4], 1);
    assert(
      names.every((n) => new RegExp(`^${workerName}-\\d+$`).test(n as string)),
    );
  });

  test("Pool runs quick tasks on an idle worker while a long one runs", async () => {
    await using pool = makePool(2);
    const flag = cells(2);
    let longDone = false;
    const long = pool.apply(T("spinUntil"), [flag]).finally(() => {
      longDone = true;
    });
    await started(flag);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    // One task each: some land behind the long one before the idle worker
    // takes them back.
    deepEqual(await pool.map(T("square"), items, 1), items.map((x) => x * x));
    equal(longDone, false);
    Atomics.store(flag, 1, 1);
    equal(await long, "released");
  });

  test("Pool.map() keeps every result in order, numbers exact, over many chunks", async () => {
    const pool = makePool(2);
    // Numbers travel packed in Float64Arrays (chunks of 64 or more): every
    // double must come back as itself, -0 and NaN included (deepEqual tells
    // -0 from 0).
    const numbers = Array.from({ length: 5_000 }, (_, i) => (i - 2_500) / 7);
    numbers[10] = -0;
    numbers[11] = Number.NaN;
    numbers[12] = Number.MAX_VALUE;
    deepEqual(await pool.map(T("echo"), numbers, 100), numbers);
    // More chunks than one concat() call takes (1 024), each a small array.
    const items = Array.from({ length: 2_100 }, (_, i) => i);
    const squares = items.map((x) => x * x);
    deepEqual(await pool.map(T("square"), items, 2), squares);
    deepEqual(
      await pool.map(T("echo"), squares.map((x) => [x]), 1),
      squares.map((x) => [x]),
    );
  });

  test("Pool stays usable beside a task that never answers", async () => {
    const pool = makePool(2);
    const flag = cells(1);
    const stuck = pool.applyAsync(T("waitForever"), [flag]);
    await started(flag);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    for (let round = 0; round < 3; round++) {
      deepEqual(
        await pool.map(T("square"), items, 1),
        items.map((x) => x * x),
      );
      equal(await pool.apply(T("add"), [round, 1]), round + 1);
      const burst = items.map((x) => pool.applyAsync(T("add"), [x, round]));
      deepEqual(
        await Promise.all(burst.map((r) => r.get())),
        items.map((x) => x + round),
      );
    }
    pool.terminate();
    await rejects(stuck.get(), /pool was terminated/);
    await pool.join();
  });

  test("Pool with one worker runs tasks in submission order, whichever way each travels", async () => {
    await using pool = makePool(1);
    // A number takes the ring, a bigint postMessage (not JSON).
    const tags = Array.from(
      { length: 20 },
      (_, i) => i % 3 === 0 ? BigInt(i) : i,
    );
    const logs = await Promise.all(
      tags.map((tag) => pool.applyAsync(T("logCall"), [tag]).get()),
    );
    deepEqual(logs.at(-1), tags.map(String));
  });
}

suite("enabled");
suite("disabled");
suite("enabled", "forkserver");

Deno.test("new Pool(n) with n above 4 × cpuCount() works and warns once", async () => {
  const many = 4 * cpuCount() + 1;
  const lines = await warningsOf(async () => {
    const pool = new Pool(many);
    equal(pool.processes, many);
    equal(await pool.apply(T("square"), [3]), 9);
    deepEqual(await pool.map(T("square"), [1, 2]), [1, 4]);
    pool.terminate();
    await pool.join();
  });
  equal(lines.length, 1);
  match(
    lines[0],
    new RegExp(
      `'processes' is ${many}, more than 4 × cpuCount\\(\\) \\(${cpuCount()}\\)`,
    ),
  );
  const none = await warningsOf(async () => {
    const fair = new Pool(4 * cpuCount());
    fair.terminate();
    await fair.join();
  });
  deepEqual(none, []);
});

// Runs `body` and says how many workers it ended with terminate().
async function terminationsDuring(body: () => Promise<void>): Promise<number> {
  const terminate = Worker.prototype.terminate;
  let terminated = 0;
  Worker.prototype.terminate = function (this: Worker) {
    terminated++;
    terminate.call(this);
  };
  try {
    await body();
  } finally {
    Worker.prototype.terminate = terminate;
  }
  return terminated;
}

// Deno keeps part of the memory of a worker that terminate() stops while it
// runs JavaScript (bench/leak_check.ts), so workers with nothing to run end
// themselves on the stop flag.
Deno.test("Pool ends idle and retired workers without terminating them", async () => {
  const terminated = await terminationsDuring(async () => {
    const pool = new Pool(2, { maxTasksPerChild: 1 });
    const items = [1, 2, 3, 4, 5, 6];
    deepEqual(await pool.map(T("square"), items, 1), items.map((x) => x * x));
    await allUp(pool, 2);
    pool.terminate();
    await pool.join();
  });
  equal(terminated, 0);
});

// Without rings an idle worker waits in its event loop, not on the stop
// flag: a stop message ends it (terminated, each kept ~0.9 MB).
Deno.test("Pool with atomics disabled ends its idle workers without terminating them", async () => {
  const terminated = await terminationsDuring(async () => {
    const pool = new Pool(2, { atomics: "disabled" });
    const items = [1, 2, 3, 4];
    deepEqual(await pool.map(T("square"), items, 1), items.map((x) => x * x));
    await allUp(pool, 2);
    pool.terminate();
    await pool.join();
  });
  equal(terminated, 0);
});

Deno.test("Pool validates its arguments", async () => {
  throws(() => new Pool(0), RangeError);
  throws(() => new Pool(-1), RangeError);
  throws(() => new Pool(1.5), RangeError);
  throws(() => new Pool("2" as never), TypeError);
  throws(() => new Pool(1, { maxTasksPerChild: 0 }), RangeError);
  throws(() => new Pool(1, { initargs: 1 as never }), TypeError);
  throws(
    () => new Pool(1, { atomics: "sync" as never }),
    /'atomics' must be "enabled" or "disabled": current value is "sync"/,
  );
  await using pool = new Pool(1);
  await rejects(pool.map(T("square"), [1], 0), RangeError);
  await rejects(pool.map(T("square"), [1], "2" as never), TypeError);
  await rejects(pool.map(T("square"), 5 as never), /must be iterable/);
  await rejects(pool.apply(() => 1), /anonymous function/);
  await rejects(pool.apply(T("add"), 1 as never), /'args' must be an array/);
  await rejects(pool.apply(T("add"), [() => 1]), /structured-cloneable/);
});

Deno.test("Pool.apply() with a timeout of Infinity or past 24.8 days never times out early", async () => {
  await using pool = new Pool(2);
  const flags = [cells(2), cells(2)];
  const results = [Infinity, 3e6].map((timeout, i) =>
    pool.apply(T("spinUntil"), [flags[i]], { timeout })
  );
  // An overflowing timer would fail the tasks before they start.
  for (const [i, flag] of flags.entries()) {
    await Promise.race([started(flag), results[i]]);
  }
  await letDueTimersRun();
  for (const flag of flags) Atomics.store(flag, 1, 1);
  deepEqual(await Promise.all(results), ["released", "released"]);
  await rejects(
    pool.apply(T("square"), [1], { timeout: -1 }),
    /'timeout' must be a non-negative number of seconds/,
  );
});

Deno.test("AsyncResult.get() and wait() wait for Infinity and not at all for a negative timeout", async () => {
  const { promise, resolve } = Promise.withResolvers<number>();
  const result = new AsyncResult(promise);
  await rejects(result.get(-1), TimeoutError);
  equal(await result.wait(-1), undefined);
  equal(result.ready(), false);
  let settled = 0;
  const waits = [result.get(Infinity), result.wait(Infinity), result.get(3e6)]
    .map((wait) => wait.finally(() => settled++));
  await letDueTimersRun();
  equal(settled, 0);
  resolve(5);
  deepEqual(await Promise.all(waits), [5, undefined, 5]);
  equal(await result.get(-1), 5);
});

Deno.test("defaultChunksize() is ceil(n / (4 × workers)) as in CPython", () => {
  equal(defaultChunksize(200_000, 2), 25_000);
  equal(defaultChunksize(10, 4), 1);
  equal(defaultChunksize(17, 2), 3);
  equal(defaultChunksize(0, 2), 1);
});
