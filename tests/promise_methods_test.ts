// Every public method that returns a Promise reports bad input and a
// closed, terminated or broken state by rejecting, never by throwing: a
// caller that writes `method(…).catch(…)` sees every error.

import { doesNotThrow, ok as assert, rejects } from "node:assert/strict";
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Future,
  JoinableQueue,
  Lock,
  Pipe,
  Pool,
  Process,
  ProcessError,
  ProcessPoolExecutor,
  Queue,
  RLock,
  Semaphore,
  SimpleQueue,
  wait,
  waitConnections,
} from "../mod.ts";
import { fixture } from "./_run.ts";

const T = (name: string) => fixture("pool_targets", name);

/** Calls `call` without it throwing, and checks its promise rejects. */
async function rejectsLater(
  name: string,
  call: () => Promise<unknown>,
  expected: RegExp | (new (...args: never[]) => Error),
): Promise<void> {
  let promise: unknown;
  doesNotThrow(() => {
    promise = call();
  }, `${name} threw synchronously`);
  assert(promise instanceof Promise, `${name} returned no Promise`);
  await rejects(promise, expected as RegExp, `${name} did not reject`);
}

Deno.test("Promise-returning methods reject, never throw, on bad input and closed state", async () => {
  const pool = new Pool(1);
  await rejectsLater(
    "Pool.apply(bad args)",
    () => pool.apply(T("add"), 1 as never),
    TypeError,
  );
  await rejectsLater(
    "Pool.apply(anonymous)",
    () => pool.apply(() => 1),
    /anonymous/,
  );
  await rejectsLater(
    "Pool.apply(timeout: -1)",
    () => pool.apply(T("add"), [1, 2], { timeout: -1 }),
    RangeError,
  );
  await rejectsLater(
    "Pool.map(not iterable)",
    () => pool.map(T("square"), 5 as never),
    TypeError,
  );
  await rejectsLater(
    "Pool.map(chunksize 0)",
    () => pool.map(T("square"), [1], 0),
    RangeError,
  );
  await rejectsLater(
    "Pool.starmap(bad item)",
    () => pool.starmap(T("add"), [1 as never]),
    TypeError,
  );
  await rejectsLater("Pool.join(running)", () => pool.join(), /still running/);
  const result = pool.applyAsync(T("square"), [2]);
  await rejectsLater(
    "AsyncResult.get(bad timeout)",
    () => result.get("1" as never),
    TypeError,
  );
  await rejectsLater(
    "AsyncResult.wait(bad timeout)",
    () => result.wait("1" as never),
    TypeError,
  );
  await result.get();
  pool.terminate();
  await rejectsLater(
    "Pool.apply(terminated)",
    () => pool.apply(T("square"), [1]),
    ProcessError,
  );
  await rejectsLater(
    "Pool.map(terminated)",
    () => pool.map(T("square"), [1]),
    ProcessError,
  );
  await rejectsLater(
    "Pool.starmap(terminated)",
    () => pool.starmap(T("add"), [[1, 2]]),
    ProcessError,
  );
  await pool.join();

  const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
  const future = new Future<number>();
  await rejectsLater(
    "Future.result(bad timeout)",
    () => future.result("1" as never),
    TypeError,
  );
  await rejectsLater(
    "Future.exception(bad timeout)",
    () => future.exception("1" as never),
    TypeError,
  );
  await rejectsLater("wait(not futures)", () => wait(5 as never), TypeError);
  await rejectsLater(
    "wait(bad timeout)",
    () => wait([future], { timeout: "1" as never }),
    TypeError,
  );
  await rejectsLater(
    "ProcessPoolExecutor.shutdown(null)",
    () => executor.shutdown(null as never),
    TypeError,
  );

  const p = new Process({ target: T("noop") });
  await rejectsLater("Process.join(unstarted)", () => p.join(), ProcessError);
  await rejectsLater(
    "Process.join(bad timeout)",
    () => p.join("1" as never),
    TypeError,
  );

  for (const queue of [new Queue(), new JoinableQueue()]) {
    await rejectsLater(
      "Queue.get(bad timeout)",
      () => queue.get({ timeout: "1" as never }),
      TypeError,
    );
    await rejectsLater(
      "Queue.put(bad options)",
      () => queue.put(1, 5 as never),
      TypeError,
    );
    await rejectsLater(
      "Queue.put(a function)",
      () => queue.put(() => 1),
      TypeError,
    );
    queue.close();
    await rejectsLater("Queue.put(closed)", () => queue.put(1), /closed/);
    await rejectsLater("Queue.get(closed)", () => queue.get(), /closed/);
  }
  const simple = new SimpleQueue();
  simple.close();
  await rejectsLater("SimpleQueue.get(closed)", () => simple.get(), /closed/);

  const [a, b] = Pipe();
  await rejectsLater(
    "Connection.poll(bad timeout)",
    () => a.poll("1" as never),
    TypeError,
  );
  await rejectsLater(
    "Connection.recvBytes(-1)",
    () => a.recvBytes(-1),
    RangeError,
  );
  await rejectsLater(
    "Connection.recvBytesInto(bad buffer)",
    () => a.recvBytesInto(5 as never),
    TypeError,
  );
  await rejectsLater(
    "waitConnections(bad object)",
    () => waitConnections([5 as never]),
    TypeError,
  );
  await rejectsLater(
    "waitConnections(bad timeout)",
    () => waitConnections([a], "1" as never),
    TypeError,
  );
  b.close();
  await rejectsLater("Connection.recv(EOF)", () => a.recv(), Error);
  a.close();
  await rejectsLater("Connection.recv(closed)", () => a.recv(), Error);
  await rejectsLater(
    "Connection.recvBytes(closed)",
    () => a.recvBytes(),
    Error,
  );
  await rejectsLater("Connection.poll(closed)", () => a.poll(), Error);

  for (
    const lock of [
      new Lock(),
      new RLock(),
      new Semaphore(),
      new BoundedSemaphore(),
    ]
  ) {
    const name = lock.constructor.name;
    await rejectsLater(
      `${name}.acquire(bad block)`,
      () => lock.acquire({ block: "x" as never }),
      TypeError,
    );
    await rejectsLater(
      `${name}.acquire(bad timeout)`,
      () => lock.acquire({ timeout: "1" as never }),
      TypeError,
    );
  }
  const condition = new Condition();
  await rejectsLater(
    "Condition.acquire(bad options)",
    () => condition.acquire(5 as never),
    TypeError,
  );
  await rejectsLater(
    "Condition.wait(not held)",
    () => condition.wait(),
    /must hold/,
  );
  await rejectsLater(
    "Condition.waitFor(not a function)",
    () => condition.waitFor(5 as never),
    TypeError,
  );
  await rejectsLater(
    "Event.wait(bad timeout)",
    () => new Event().wait("1" as never),
    TypeError,
  );
  await rejectsLater(
    "Barrier.wait(bad timeout)",
    () => new Barrier(2).wait("1" as never),
    TypeError,
  );
  await executor.shutdown();
});
