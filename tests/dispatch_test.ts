// The dispatch policy's steal(), on stand-in workers: which tasks an idle
// worker may take back from a busy one.

import { deepEqual, equal } from "node:assert/strict";
import { Dispatcher } from "../src/_engine/dispatch.ts";
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

function stealFrom(method: EngineOptions["method"]): Task[] {
  const dispatcher = new Dispatcher(
    { processes: 2, method } as EngineOptions,
  );
  const tasks = [1, 2, 3].map(() =>
    new Noop({ url: "file:///t.ts", name: "f" } as never, 0, [])
  );
  const victim = busyWorker(tasks);
  // The victim has started its first task: its claim word says so.
  Atomics.store(victim.control, kChildClaim, 1);
  const queue = new TaskQueue();
  dispatcher.steal(queue, [victim, idleWorker()]);
  const taken: Task[] = [];
  while (queue.queued > 0) {
    taken.push(queue.peek());
    queue.shift();
  }
  return taken;
}

Deno.test("steal() gives an idle worker the tasks a busy spawn worker has not started", () => {
  const taken = stealFrom("spawn");
  // Of the two waiting tasks, the idle worker's share: one, the oldest.
  deepEqual(taken.map((t) => t.id), [2]);
});

Deno.test("steal() takes nothing from a subprocess worker, whose claim word the pool cannot see", () => {
  // The pool's copy of an OS process's claim word never moves, so a task
  // taken back could be one the child runs: it would run twice.
  equal(stealFrom("subprocess").length, 0);
});
