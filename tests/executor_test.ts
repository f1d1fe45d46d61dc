import {
  deepEqual,
  equal,
  match,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import {
  ALL_COMPLETED,
  asCompleted,
  BrokenProcessPoolError,
  CancelledError,
  cpuCount,
  type ExecutorOptions,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  getContext,
  ProcessError,
  ProcessPoolExecutor,
  RemoteError,
  TimeoutError,
  wait,
} from "../mod.ts";
import { transportCounters } from "../src/_engine/engine.ts";
import { stopForkserver } from "../src/_child/forkserver.ts";
import { cells, fixture, letDueTimersRun, warningsOf } from "./_run.ts";

const T = (name: string) => fixture("pool_targets", name);

async function started(flag: Int32Array): Promise<void> {
  await Atomics.waitAsync(flag, 0, 0).value;
}

/**
 * The whole suite, once with the ring fast path and once without, and once
 * more on the "forkserver" start method.
 */
function suite(atomics: "enabled" | "disabled", method?: "forkserver"): void {
  const rings = atomics === "enabled";
  const made: ProcessPoolExecutor[] = [];
  const ExecutorOf = method === undefined
    ? ProcessPoolExecutor
    : getContext(method).ProcessPoolExecutor;
  /** An executor in this run's mode; test() checks its transport afterwards. */
  const makeExecutor = (options: ExecutorOptions = {}) => {
    const executor = new ExecutorOf({ atomics, ...options });
    made.push(executor);
    return executor;
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
      // Without atomics, not one call may have taken a ring.
      if (!rings) {
        for (const executor of made) {
          equal(transportCounters(executor).ring, 0);
        }
      }
    });

  test("ProcessPoolExecutor.submit() returns an awaitable Future", async () => {
    await using executor = makeExecutor({ maxWorkers: 2 });
    const future = executor.submit(T("add"), 2, 3);
    assert(future instanceof Future);
    equal(await future, 5);
    equal(await future.result(), 5);
    equal(await future.exception(), undefined);
    assert(future.done());
    assert(!future.running());
    assert(!future.cancelled());
    equal(future.cancel(), false);
    // Plain numbers: the ring takes them, unless atomics are disabled.
    const { ring, posted } = transportCounters(executor);
    if (rings) deepEqual([ring > 0, posted], [true, 0]);
    else deepEqual([ring, posted > 0], [0, true]);
  });

  test("Future.result() rethrows the call's error with a remote stack", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    const future = executor.submit(T("failIf"), 1, 1);
    const error = await future.result().catch((e) => e);
    assert(error instanceof RangeError);
    equal(error.message, "item 1 is bad");
    assert(error.cause instanceof RemoteError);
    equal((await future.exception())?.message, "item 1 is bad");
    // A task's error does not break the executor.
    equal(await executor.submit(T("add"), 1, 1), 2);
  });

  test("Future.result(timeout) throws TimeoutError; running() tells", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    const flag = cells(1);
    const stop = new AbortController();
    const future = executor.submitWith(T("waitForever"), [flag], {
      signal: stop.signal,
    });
    await started(flag);
    assert(future.running());
    await rejects(future.result(0.01), TimeoutError);
    await rejects(future.exception(0.01), TimeoutError);
    stop.abort(new Error("done waiting"));
    await rejects(future.result(), /done waiting/);
  });

  test("Future.cancel() cancels a call that has not started", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    const flag = cells(1);
    const stop = new AbortController();
    const blocker = executor.submitWith(T("waitForever"), [flag], {
      signal: stop.signal,
    });
    try {
      await started(flag);
      const queued = Array.from(
        { length: 300 },
        () => executor.submit(T("add"), 1, 1),
      );
      const last = queued[queued.length - 1];
      equal(last.cancel(), true);
      assert(last.cancelled());
      assert(last.done());
      await rejects(last.result(), CancelledError);
      await rejects(last.exception(), CancelledError);
      equal(blocker.cancel(), false);
      await executor.shutdown({ cancelFutures: true, wait: false });
      // At most a couple were already handed to the busy worker; those still
      // run once it is free. Nothing is lost either way.
      const cancelled = queued.filter((f) => f.cancelled()).length;
      assert(cancelled >= 295, `${cancelled} cancelled`);
      stop.abort(new Error("end the blocker"));
      await rejects(blocker.result(), /end the blocker/);
      for (const f of queued.filter((f) => !f.cancelled())) {
        equal(await f.result(), 2);
      }
    } finally {
      stop.abort(new Error("end the blocker"));
    }
  });

  test("a call handed to a busy worker but not started is not running, and cancel() withdraws it", async () => {
    // CPython: running() only for a call that runs; cancel() for any other.
    await using executor = makeExecutor({ maxWorkers: 1 });
    const flag = cells(2);
    const blocker = executor.submit(T("spinUntil"), flag);
    // A new function's calls go to the worker behind the running one (up to
    // four for a function not yet measured).
    const behind = [1, 2, 3].map((x) => executor.submit(T("square"), x));
    await started(flag);
    assert(blocker.running());
    deepEqual(behind.map((f) => f.running()), [false, false, false]);
    deepEqual(behind.map((f) => f.state), ["PENDING", "PENDING", "PENDING"]);
    equal(behind[1].cancel(), true);
    assert(behind[1].cancelled());
    await rejects(behind[1].result(), CancelledError);
    Atomics.store(flag, 1, 1);
    equal(await blocker, "released");
    // The others still run, once each.
    deepEqual(await Promise.all([behind[0], behind[2]]), [1, 9]);
  });

  test("Future.addDoneCallback() runs on completion, or at once when done", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    const seen: string[] = [];
    const future = executor.submit(T("add"), 1, 2);
    future.addDoneCallback((f) => seen.push(`first ${f.done()}`));
    await future;
    future.addDoneCallback(() => seen.push("second"));
    deepEqual(seen, ["first true", "second"]);
    throws(() => future.addDoneCallback(1 as never), TypeError);
  });

  test("ProcessPoolExecutor.map() zips iterables and yields in order", async () => {
    await using executor = makeExecutor({ maxWorkers: 2 });
    const out: unknown[] = [];
    for await (const r of executor.map(T("add"), [1, 2, 3], [10, 20, 30, 40])) {
      out.push(r);
    }
    deepEqual(out, [11, 22, 33]);
    out.length = 0;
    for await (
      const r of executor.map(T("square"), [1, 2, 3, 4, 5], { chunksize: 2 })
    ) out.push(r as number);
    deepEqual(out, [1, 4, 9, 16, 25]);
    throws(() => executor.map(T("square")), /at least one iterable/);
    throws(() => executor.map(T("square"), 3 as never), /must be iterable/);
    throws(() => executor.map(T("square"), [1], { chunksize: 0 }), RangeError);
  });

  test("ProcessPoolExecutor.map() throws TimeoutError when too slow", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    const results = executor.map(T("slowSquare"), [3], [500], {
      timeout: 0.01,
    });
    // The message names the timeout given, not what was left of it.
    await rejects(
      results.next(),
      (error: Error) =>
        error instanceof TimeoutError &&
        error.message ===
          "Cannot get map result as it is not ready 0.01s after the call",
    );
  });

  test("ProcessPoolExecutor.shutdown() refuses new work and waits for old", async () => {
    const executor = makeExecutor({ maxWorkers: 2 });
    const futures = [1, 2, 3].map((x) =>
      executor.submit(T("slowSquare"), x, 5)
    );
    await executor.shutdown();
    assert(futures.every((f) => f.done()));
    deepEqual(await Promise.all(futures.map((f) => f.result())), [1, 4, 9]);
    throws(() => executor.submit(T("add"), 1, 1), /has been shut down/);
  });

  test("ProcessPoolExecutor.terminateWorkers() and killWorkers() end a call that never returns", async () => {
    for (const end of ["terminateWorkers", "killWorkers"] as const) {
      const executor = makeExecutor({ maxWorkers: 1 });
      const flag = cells(1);
      const stuck = executor.submit(T("waitForever"), flag);
      const queued = executor.submit(T("square"), 3);
      await started(flag);
      executor[end]();
      await rejects(
        stuck.result(),
        (error: Error) =>
          error instanceof BrokenProcessPoolError &&
          /Cannot complete call as the executor's workers were (terminated|killed)/
            .test(error.message),
      );
      // Cancelled if still queued; a worker may hold it ahead already.
      const outcome = queued.cancelled()
        ? "cancelled"
        : (await queued.exception())?.name;
      assert(["cancelled", "BrokenProcessPoolError"].includes(outcome!));
      throws(() => executor.submit(T("add"), 1, 1), /has been shut down/);
      // Nothing left to wait for: shutdown() and `await using` end at once.
      await executor.shutdown();
      executor[end]();
    }
  });

  test("ProcessPoolExecutor starts workers on demand", async () => {
    await using executor = makeExecutor({ maxWorkers: 4 });
    const names = new Set<unknown>();
    for (let i = 0; i < 10; i++) names.add(await executor.submit(T("whoAmI")));
    equal(names.size, 1);
    match([...names][0] as string, /^ProcessPoolExecutorWorker-\d+$/);
  });

  test("ProcessPoolExecutor maxTasksPerChild and initializer", async () => {
    await using executor = makeExecutor({
      maxWorkers: 1,
      maxTasksPerChild: 2,
      initializer: T("init"),
      initargs: ["set"],
    });
    const pids = new Set<unknown>();
    for (let i = 0; i < 4; i++) pids.add(await executor.submit(T("pid")));
    equal(pids.size, 2);
    equal(await executor.submit(T("readInit")), "set");
  });

  test("wait() returns by FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED", async () => {
    await using executor = makeExecutor({ maxWorkers: 2 });
    const flag = cells(1);
    const stop = new AbortController();
    const slow = executor.submitWith(T("waitForever"), [flag], {
      signal: stop.signal,
    });
    const fast = executor.submit(T("add"), 1, 1);
    const first = await wait([slow, fast], { returnWhen: FIRST_COMPLETED });
    assert(first.done.has(fast) && first.notDone.has(slow));
    const failing = executor.submit(T("failIf"), 2, 2);
    const exception = await wait([slow, failing], {
      returnWhen: FIRST_EXCEPTION,
    });
    assert(exception.done.has(failing) && exception.notDone.has(slow));
    const timed = await wait([slow, fast], { timeout: 0.02 });
    assert(timed.notDone.has(slow));
    const all = await wait([fast, failing], { returnWhen: ALL_COMPLETED });
    equal(all.done.size, 2);
    await rejects(
      wait([slow], { returnWhen: "SOMETIMES" as never }),
      TypeError,
    );
    await rejects(wait([1] as never), TypeError);
    stop.abort(new Error("end"));
    await rejects(slow.result(), /end/);
  });

  test("asCompleted() yields futures as they finish, with a timeout", async () => {
    await using executor = makeExecutor({ maxWorkers: 2 });
    const futures = [3, 1, 2].map((x) =>
      executor.submit(T("slowSquare"), x, x * 5)
    );
    const seen: number[] = [];
    for await (const future of asCompleted(futures)) {
      assert(future instanceof Future);
      seen.push((await future.result()) as number);
    }
    deepEqual(seen.sort(), [1, 4, 9]);
    const flag = cells(1);
    const stop = new AbortController();
    const stuck = executor.submitWith(T("waitForever"), [flag], {
      signal: stop.signal,
    });
    const iterator = asCompleted([stuck], 0.02);
    await rejects(iterator.next(), /1 \(of 1\) futures unfinished/);
    stop.abort(new Error("end"));
    await rejects(stuck.result(), /end/);
  });

  // The fault matrix: a worker that dies breaks the executor, as in CPython.

  async function assertBroken(executor: ProcessPoolExecutor): Promise<void> {
    throws(() => executor.submit(T("add"), 1, 1), BrokenProcessPoolError);
    await executor.shutdown({ wait: false });
  }

  test("executor fault: the creating module throws at import in workers", async () => {
    const { makeExecutor } = await import("./fixtures/broken_at_import.ts");
    const executor = makeExecutor();
    await rejects(
      executor.submit(fixture("broken_at_import", "noop")).result(),
      BrokenProcessPoolError,
    );
    await assertBroken(executor);
  });

  test("executor fault: the initializer throws", async () => {
    const executor = makeExecutor({
      maxWorkers: 1,
      initializer: T("failingInit"),
    });
    const error = await executor.submit(T("add"), 1, 2).result().catch((e) =>
      e
    );
    assert(error instanceof BrokenProcessPoolError);
    match(error.message, /initializer failed on purpose/);
    await assertBroken(executor);
  });

  test("executor fault: the task throws (not a break)", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    await rejects(
      executor.submit(fixture("throws_at_import", "unreachable")).result(),
      /cannot be imported/,
    );
    await rejects(executor.submit(T("throwCustom")).result(), /custom failure/);
    equal(await executor.submit(T("add"), 2, 2), 4);
  });

  test("executor fault: an error thrown asynchronously after the task", async () => {
    const executor = makeExecutor({ maxWorkers: 1 });
    equal(await executor.submit(T("throwLater")), "returned");
    // The worker dies once it is idle: from then on the executor is broken.
    let broken = false;
    // Busy workers give timers a turn at least every 100 ms of back-to-back
    // tasks; 50 000 tiny tasks take well over that.
    for (let i = 0; i < 50_000 && !broken; i++) {
      try {
        await executor.submit(T("add"), 1, 1).result();
      } catch (error) {
        assert(error instanceof BrokenProcessPoolError, String(error));
        broken = true;
      }
    }
    assert(broken);
    await assertBroken(executor);
  });

  test("executor fault: exit(3) and self.close() break the executor", async () => {
    for (const target of ["exitThree", "closeSelf"]) {
      const executor = makeExecutor({ maxWorkers: 1 });
      const flag = cells(1);
      // The dying call first: a worker runs the calls of one transport in
      // the order sent. Both carry the shared flag, so both go by
      // postMessage (a call without it could take the ring and be read
      // after the blocking one).
      const dying = executor.submit(T(target), flag);
      const pending = executor.submit(T("waitForever"), flag);
      const error = await dying.result().catch((e) => e);
      assert(error instanceof BrokenProcessPoolError, `${target}: ${error}`);
      match(
        error.message,
        target === "exitThree" ? /exited with code 3/ : /exited with code 0/,
      );
      // Pending work fails too, as in CPython.
      await rejects(pending.result(), BrokenProcessPoolError);
      await assertBroken(executor);
    }
  });

  test("executor fault: shutdown during a task lets it finish; a per-call timeout stops it", async () => {
    const executor = makeExecutor({ maxWorkers: 1 });
    const flag = cells(2);
    const running = executor.submitWith(T("spinUntil"), [flag], {
      timeout: 30,
    });
    await started(flag);
    const shutdown = executor.shutdown();
    Atomics.store(flag, 1, 1);
    equal(await running, "released");
    await shutdown;
    const other = makeExecutor({ maxWorkers: 1 });
    const stuck = cells(1);
    await rejects(
      other.submitWith(T("waitForever"), [stuck], { timeout: 0.05 }).result(),
      TimeoutError,
    );
    equal(await other.submit(T("add"), 1, 1), 2);
    await other.shutdown();
  });

  test("ProcessPoolExecutor.submitWith() validates its arguments", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    throws(
      () => executor.submitWith(T("add"), 1 as never, {}),
      /'args' must be an array/,
    );
    throws(
      () => executor.submitWith(T("add"), [], { timeout: -1 }),
      RangeError,
    );
    throws(
      () => executor.submitWith(T("add"), [], { signal: "soon" as never }),
      /'signal' must be an AbortSignal: current value is "soon"/,
    );
    throws(() => executor.submit(() => 1), /anonymous function/);
    await rejects(
      executor.submitWith(T("add"), [1, 1], {
        signal: AbortSignal.abort(new Error("no")),
      }).result(),
      /no|cancelled/i,
    );
    equal(await executor.submit(T("add"), 1, 1), 2);
    void ProcessError;
  });

  test("ProcessPoolExecutor runs quick calls on an idle worker while a long one runs", async () => {
    await using executor = makeExecutor({ maxWorkers: 2 });
    const flag = cells(2);
    let longDone = false;
    const long = executor.submit(T("spinUntil"), flag);
    void long.then(() => longDone = true);
    await started(flag);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const quick = items.map((x) => executor.submit(T("square"), x));
    deepEqual(await Promise.all(quick), items.map((x) => x * x));
    equal(longDone, false);
    Atomics.store(flag, 1, 1);
    equal(await long, "released");
  });

  test("ProcessPoolExecutor stays usable beside a call that never answers", async () => {
    await using executor = makeExecutor({ maxWorkers: 2 });
    const flag = cells(1);
    const stop = new AbortController();
    const stuck = executor.submitWith(T("waitForever"), [flag], {
      signal: stop.signal,
    });
    await started(flag);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    for (let round = 0; round < 3; round++) {
      const calls = items.map((x) => executor.submit(T("add"), x, round));
      deepEqual(await Promise.all(calls), items.map((x) => x + round));
      equal(await executor.submit(T("square"), round), round * round);
    }
    // The stuck call kept its worker all along; an abort ends it.
    stop.abort(new Error("end"));
    await rejects(stuck.result(), /end/);
  });

  test("ProcessPoolExecutor with one worker runs calls in submission order, whichever way each travels", async () => {
    await using executor = makeExecutor({ maxWorkers: 1 });
    // A number takes the ring, a bigint postMessage (not JSON).
    const tags = Array.from(
      { length: 20 },
      (_, i) => i % 3 === 0 ? BigInt(i) : i,
    );
    const logs = await Promise.all(
      tags.map((tag) => executor.submit(T("logCall"), tag)),
    );
    deepEqual(logs.at(-1), tags.map(String));
  });
}

suite("enabled");
suite("disabled");
suite("enabled", "forkserver");

Deno.test("new ProcessPoolExecutor() with maxWorkers above 4 × cpuCount() works and warns once", async () => {
  const many = 4 * cpuCount() + 1;
  const lines = await warningsOf(async () => {
    const executor = new ProcessPoolExecutor({ maxWorkers: many });
    equal(await executor.submit(T("square"), 4), 16);
    await executor.shutdown();
  });
  equal(lines.length, 1);
  match(
    lines[0],
    new RegExp(`'maxWorkers' is ${many}, more than 4 × cpuCount`),
  );
});

Deno.test("ProcessPoolExecutor validates its options", () => {
  throws(() => new ProcessPoolExecutor({ maxWorkers: 0 }), RangeError);
  throws(
    () => new ProcessPoolExecutor({ maxWorkers: "2" as never }),
    TypeError,
  );
  throws(() => new ProcessPoolExecutor({ maxTasksPerChild: -1 }), RangeError);
  throws(() => new ProcessPoolExecutor({ initargs: {} as never }), TypeError);
  throws(
    () => new ProcessPoolExecutor({ atomics: "off" as never }),
    /'atomics' must be "enabled" or "disabled": current value is "off"/,
  );
});

Deno.test("Future.result(), wait() and asCompleted() wait for Infinity or past 24.8 days, and treat a negative timeout as 0", async () => {
  const future = new Future<number>(() => true);
  await rejects(future.result(-1), TimeoutError);
  await rejects(future.exception(-1), TimeoutError);
  equal((await wait([future], { timeout: -1 })).notDone.size, 1);
  await rejects(asCompleted([future], -1).next(), TimeoutError);
  let settled = 0;
  const waits = [
    future.result(Infinity),
    future.result(3e6),
    future.exception(Infinity),
    wait([future], { timeout: Infinity }),
    wait([future], { timeout: 3e6 }),
    asCompleted([future], Infinity).next(),
    asCompleted([future], 3e6).next(),
  ].map((w) => w.finally(() => settled++));
  await letDueTimersRun();
  equal(settled, 0);
  future.cancel();
  const outcomes = await Promise.allSettled(waits);
  for (const outcome of outcomes.slice(0, 3)) {
    assert(outcome.status === "rejected");
    assert(outcome.reason instanceof CancelledError);
  }
  for (const outcome of outcomes.slice(3, 5)) {
    assert(outcome.status === "fulfilled");
    equal((outcome.value as { done: Set<unknown> }).done.has(future), true);
  }
  for (const outcome of outcomes.slice(5)) {
    assert(outcome.status === "fulfilled");
    equal((outcome.value as IteratorResult<unknown>).value, future);
  }
});

Deno.test("ProcessPoolExecutor.map() takes a timeout of Infinity", async () => {
  await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
  const results = executor.map(T("square"), [1, 2, 3], { timeout: Infinity });
  deepEqual(await Array.fromAsync(results), [1, 4, 9]);
});
