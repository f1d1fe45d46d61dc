// The dispatch policy's steal(), on stand-in workers: which tasks an idle
// worker may take back from a busy one.

import { deepEqual, equal } from "node:assert/strict";
import { Dispatcher } from "../src/_engine/dispatch.ts";
import { Claims } from "../src/_engine/worker_claims.ts";
import { Task, TaskQueue } from "../src/_engine/task.ts";
import type { EngineOptions } from "../src/_engine/options.ts";
import type { PoolWorker } from "../src/_engine/pool_worker.ts";
import { kChildClaim, kChildControlSlots } from "../src/_wire/layouts.ts";

class Noop extends Task {
  finish(): void {}
}

// A worker as steal() reads it: three tasks in flight, none claimed yet
// (a spawn worker's claim word: the first task has not started).
function busyWorker(tasks: Task[]): PoolWorker {
  const control = new Int32Array(new SharedArrayBuffer(4 * kChildControlSlots));
  const inFlight = new Map<number, Task>();
  tasks.forEach((task, i) => {
    task.id = i + 1;
    task.order = i + 1;
    inFlight.set(task.id, task);
  });
  return {
    ready: true,
    dead: false,
    retiring: false,
    assigned: tasks.length,
    dispatched: tasks.length,
    backlog: 0,
    control,
    inFlight,
  } as unknown as PoolWorker;
}

function idleWorker(): PoolWorker {
  return busyWorker([]);
}

function drain(queue: TaskQueue): number[] {
  const ids: number[] = [];
  while (queue.queued > 0) {
    ids.push(queue.peek().id);
    queue.shift();
  }
  return ids;
}

function stealFrom(method: EngineOptions["method"]) {
  const asks: number[] = [];
  const dispatcher = new Dispatcher(
    { processes: 2, method } as EngineOptions,
    (_, until) => asks.push(until),
  );
  const tasks = [1, 2, 3].map(() =>
    new Noop({ url: "file:///t.ts", name: "f" } as never, 0, [])
  );
  const victim = busyWorker(tasks);
  // The victim has started its first task: its claim word says so (a
  // "subprocess" worker's is in its own OS process: the pool's stays 0).
  if (method !== "subprocess") Atomics.store(victim.control, kChildClaim, 1);
  const queue = new TaskQueue();
  dispatcher.steal(queue, [victim, idleWorker()]);
  return { dispatcher, victim, queue, asks, taken: drain(queue) };
}

Deno.test("steal() gives an idle worker the tasks a busy spawn worker has not started", () => {
  const { taken, asks } = stealFrom("spawn");
  // Of the two waiting tasks, the idle worker's share: one, the oldest.
  deepEqual(taken, [2]);
  deepEqual(asks, []);
});

Deno.test("steal() asks a subprocess worker, whose claim word the pool cannot see, and takes what it gives", () => {
  // The pool's copy of an OS process's claim word never moves: taking a
  // task on its own, the pool could take one the child runs (twice run).
  const { dispatcher, victim, queue, asks, taken } = stealFrom("subprocess");
  deepEqual(taken, []);
  deepEqual(asks, [2]);
  // One question at a time: no second ask before the answer.
  dispatcher.steal(queue, [victim, idleWorker()]);
  deepEqual(asks, [2]);
  // The child had started task 1 and moved its word from 1 to 2.
  equal(
    dispatcher.taken(queue, victim, { t: "taken", after: 1, until: 2 }),
    true,
  );
  deepEqual(drain(queue), [2]);
  deepEqual([...victim.inFlight.keys()], [1, 3]);
  // Asked again, the child had started everything meanwhile: nothing comes.
  dispatcher.steal(queue, [victim, idleWorker()]);
  deepEqual(asks, [2, 3]);
  equal(
    dispatcher.taken(queue, victim, { t: "taken", after: 3, until: 3 }),
    false,
  );
  deepEqual(drain(queue), []);
  deepEqual([...victim.inFlight.keys()], [1, 3]);
});

Deno.test("Claims.giveBack() moves a subprocess worker's word past what it has not started, never back", () => {
  const control = new Int32Array(new SharedArrayBuffer(4 * kChildControlSlots));
  const claims = new Claims(control);
  equal(claims.claim(1), true);
  deepEqual(claims.giveBack(3), { t: "taken", after: 1, until: 3 });
  // Tasks 2 and 3 are passed over, task 4 runs.
  deepEqual([2, 3, 4].map((id) => claims.claim(id)), [false, false, true]);
  // Task 4 has started: asking for it gives nothing.
  deepEqual(claims.giveBack(4), { t: "taken", after: 4, until: 4 });
  deepEqual(claims.giveBack(2), { t: "taken", after: 2, until: 2 });
  equal(claims.claim(5), true);
  // Before the first task: everything up to `until` comes back.
  const fresh = new Claims(
    new Int32Array(new SharedArrayBuffer(4 * kChildControlSlots)),
  );
  deepEqual(fresh.giveBack(2), { t: "taken", after: 0, until: 2 });
  deepEqual([1, 2, 3].map((id) => fresh.claim(id)), [false, false, true]);
});
