// The engine behind Pool and ProcessPoolExecutor: it ties the task model
// (task.ts), the dispatch policy (dispatch.ts), the transport (transport.ts)
// and the worker lifecycle (workers.ts), and decides what a worker's death
// means.
//
//  submit(task) ─▶ TaskQueue ─▶ flush(): Dispatcher.fill() ─▶ outboxes ─▶ Transport.send()
//     ├─ JSON-safe tasks: one batch per worker ─▶ requests ring ─────────────────▶ worker
//     └─ anything else, or atomics "disabled" ─▶ postMessage ───────────────────▶ worker
//  TaskQueue.settle() ◀─ #complete() ◀─ #onResults() ◀─┬─ WorkerSet pump: responses rings
//                                                       │  (spin, then sleep until a "bell")
//                                                       └─ onmessage: postMessage results
//  worker "ready" ─▶ #onMessage() ─▶ flush()
//  child's exit report or error event ─▶ startChild() (src/_child/handshake.ts)
//     ─▶ WorkerHost.exit() ─▶ #onExit() ─▶ WorkerSet.teardown()
//
// Death: a worker announces the task it runs in its control block
// (kChildTask). When it dies, that task fails; the tasks it had not
// started yet go back to the front of the queue. A Pool replaces the worker;
// an executor becomes broken, as CPython's does.

import { holdLoopUntil } from "../_memory/atomics.ts";
import {
  type FromPoolWorker,
  ResultStatus,
  type RingResult,
} from "../_wire/protocol.ts";
import { kChildTask } from "../_wire/layouts.ts";
import type { WireError } from "../_wire/error_codec.ts";
import { errorOf, reviveResult } from "../_core/results.ts";
import { Dispatcher } from "./dispatch.ts";
import type { EngineOptions } from "./options.ts";
import type { PoolWorker } from "./pool_worker.ts";
import {
  armLimits,
  Delivery,
  type Task,
  type TaskLimits,
  TaskQueue,
} from "./task.ts";
import { startupError } from "./startup_error.ts";
import { deathError } from "./death_error.ts";
import { Transport } from "./transport.ts";
import { WorkerSet } from "./workers.ts";
import { TaskMode } from "../_wire/protocol.ts";
import { assertCanCross } from "../_child/subprocess_options.ts";

export { checkTask, engineOptions } from "./options.ts";
export { Task, type TaskLimits } from "./task.ts";
export { transportCounters } from "./transport.ts";

/** The shared machinery of Pool and ProcessPoolExecutor. */
export class PoolEngine {
  readonly #options: EngineOptions;
  readonly #queue = new TaskQueue((on) => this.#workers.refBusy(on));
  readonly #dispatch: Dispatcher;
  readonly #workers: WorkerSet;
  readonly #transport: Transport;
  #flushScheduled = false;
  #state: "running" | "closed" | "terminated" | "broken" = "running";
  #brokenBy: Error | undefined;
  #exited = Promise.withResolvers<void>();

  /** @param owner The Pool or executor, whose transportCounters() these are. */
  constructor(options: EngineOptions, owner: object) {
    this.#options = options;
    const ask = (worker: PoolWorker, until: number) =>
      worker.post({ t: "take", until });
    this.#dispatch = new Dispatcher(options, ask);
    this.#transport = new Transport(options.rings, owner);
    this.#workers = new WorkerSet(options, {
      message: (worker, message) => this.#onMessage(worker, message),
      exit: (worker, code, error) => this.#onExit(worker, code, error),
      drain: (worker) => this.#drain(worker),
      wantsWorker: () => this.#wantsWorker(),
      failed: (error) => this.#break(error),
    });
    if (options.eager) this.#workers.spawnSoon();
  }

  /** "running", or why no new work is accepted. */
  get state(): "running" | "closed" | "terminated" | "broken" {
    return this.#state;
  }

  /** The error that broke the pool, if any. */
  get brokenBy(): Error | undefined {
    return this.#brokenBy;
  }

  /**
   * Queues a task. The caller checked that the engine is running and that
   * `limits` are valid. An abort or a timeout fails the task with its own
   * reason, queued or running (abandon() withdraws it, or ends the worker
   * running it).
   */
  submit(task: Task, limits?: TaskLimits, noun = "task"): void {
    if (this.#options.method === "subprocess") {
      const root = task.mode === TaskMode.Apply ? "args" : "iterable";
      assertCanCross(task.payload, root, `submit ${noun}`);
    }
    this.#queue.add(task);
    this.#scheduleFlush();
    if (limits !== undefined) {
      armLimits(task, limits, noun, (error) => this.abandon(task, error));
    }
  }

  /**
   * Withdraws a task that no worker has started: queued, or dispatched and
   * taken back (see Dispatcher.takeBack()). The task counts as settled: the
   * caller settles its promise or future itself.
   *
   * @returns true when it was withdrawn.
   */
  withdraw(task: Task): boolean {
    if (task.settled) return false;
    const taken = task.worker === undefined
      ? this.#queue.remove(task)
      : this.#dispatch.takeBack(this.#queue, task);
    if (!taken) return false;
    this.#queue.settle(task, undefined, undefined, Delivery.Silent);
    this.#maybeFinish();
    this.#scheduleFlush(); // what came back with it, and the window it freed
    return true;
  }

  /** Whether `task` runs, or can no longer be taken back from its worker. */
  hasStarted(task: Task): boolean {
    return task.worker !== undefined && !this.#dispatch.takeable(task);
  }

  /** Settles a task from outside (cancel, timeout); stops its worker if it runs. */
  abandon(task: Task, error: Error): void {
    if (task.settled) return;
    if (this.withdraw(task)) {
      task.finish(undefined, error);
      return;
    }
    // Running: its worker announces the task it runs in kChildTask.
    const worker = task.worker;
    const running = worker !== undefined && !worker.dead &&
      Atomics.load(worker.control, kChildTask) === task.id;
    this.#queue.settle(task, undefined, error, Delivery.Finish);
    // Deno cannot interrupt a function mid-run: the only way to stop the
    // task is to end its worker, and replace it. One dispatched and not
    // started that could not be taken back (a "subprocess" worker's) runs
    // later, and its result is dropped.
    if (running && worker !== undefined) this.#kill(worker);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#state === "terminated" || this.#state === "broken") return;
    const ready = this.#queue.queued > 0
      ? this.#workers.ready()
      : this.#dispatch.steal(this.#queue, [...this.#workers]);
    const queued = this.#queue.queued;
    if (queued === 0) {
      this.#maybeFinish();
      return;
    }
    if (this.#workers.live() < this.#workers.target(queued)) {
      this.#workers.spawnSoon();
    }
    if (ready.length === 0) return;
    this.#dispatch.fill(this.#queue, ready);
    for (const worker of ready) {
      if (worker.outbox.length > 0) {
        const tasks = worker.outbox;
        worker.outbox = [];
        this.#transport.send(worker, tasks);
        worker.requests?.wake();
      }
      if (worker.inFlight.size > 0) {
        worker.worker.ref(this.#queue.holding);
        this.#workers.wake();
      }
    }
  }

  /** Whether one more worker should start now. */
  #wantsWorker(): boolean {
    if (this.#state === "terminated" || this.#state === "broken") return false;
    if (this.#workers.owesWorkers()) return true;
    const queued = this.#queue.queued;
    if (this.#state === "closed" && queued === 0) return false;
    return this.#workers.live() < this.#workers.target(queued);
  }

  #onMessage(worker: PoolWorker, message: FromPoolWorker): void {
    switch (message.t) {
      case "ready":
        worker.ready = true;
        if (!this.#queue.queued || !this.#queue.holding) {
          worker.worker.ref(false);
        }
        this.#scheduleFlush();
        return;
      case "bell":
        this.#workers.wake();
        return;
      case "taken":
        if (this.#dispatch.taken(this.#queue, worker, message)) {
          this.#scheduleFlush();
        }
        return;
      case "result":
        reviveResult(
          message,
          (status, value) =>
            this.#onResults(worker, [[message.id, status, value]]),
        );
        return;
    }
    // "exit" never lands here: startChild() takes it and calls host.exit().
  }

  /** Reads what waits in `worker`'s response ring. */
  #drain(worker: PoolWorker): void {
    let results: RingResult[] | undefined;
    while ((results = this.#transport.read(worker)) !== undefined) {
      this.#onResults(worker, results);
    }
  }

  #onResults(worker: PoolWorker, results: RingResult[]): void {
    const tasks: Task[] = [];
    for (const result of results) {
      const task = worker.inFlight.get(result[0]);
      // No task: it was abandoned, and its result is dropped.
      if (task !== undefined) tasks.push(task);
    }
    if (tasks.length === 0) return;
    this.#dispatch.measure(worker, performance.now(), tasks);
    // Looked up again: a callback run by an earlier result may have
    // terminated the pool and settled the rest.
    for (const [id, status, value] of results) {
      const task = worker.inFlight.get(id);
      if (task !== undefined) this.#complete(worker, task, status, value);
    }
  }

  #complete(
    worker: PoolWorker,
    task: Task,
    status: ResultStatus,
    value: unknown,
  ): void {
    this.#dispatch.release(worker, task);
    if (status === ResultStatus.Error) {
      const error = errorOf(value);
      this.#queue.settle(task, undefined, error, Delivery.Finish);
    } else {
      const result = status === ResultStatus.Undefined ? undefined : value;
      this.#queue.settle(task, result, undefined, Delivery.Finish);
    }
    if (worker.inFlight.size === 0) {
      worker.worker.ref(false);
      if (worker.retiring) this.#workers.retire(worker);
    }
    this.#scheduleFlush(); // more work, or idle workers to steal() for
  }

  #onExit(worker: PoolWorker, code: number, error?: WireError): void {
    if (worker.dead) return;
    if (worker.responses !== undefined) this.#drain(worker);
    const orderly = worker.retiring && worker.inFlight.size === 0 && code === 0;
    this.#workers.teardown(worker, orderly);
    if (!orderly && this.#state !== "terminated") {
      this.#fail(worker, code, error);
    }
    if (!worker.ready && !orderly && this.#state !== "terminated") {
      // It died before its first task: the module or the initializer is
      // broken, and a replacement would die the same way.
      this.#break(startupError(worker.name, code, error));
      return;
    }
    this.#resume();
  }

  /** After a worker is gone: dispatch what is left, or finish. */
  #resume(): void {
    if (this.#state === "running" || this.#queue.queued > 0) {
      this.#scheduleFlush();
    }
    this.#maybeFinish();
  }

  #fail(worker: PoolWorker, code: number, error?: WireError): void {
    const current = Atomics.load(worker.control, kChildTask);
    const breaks = this.#options.onDeath === "break";
    const died = deathError(worker.name, code, { error, breaks });
    this.#reclaim(
      worker,
      (task) => breaks || task.id === current ? died : undefined,
    );
    if (breaks) this.#break(died);
  }

  /**
   * Takes back the tasks `worker` held: each fails with the error `failing`
   * gives it, or goes back to the front of the queue when it gives none.
   */
  #reclaim(worker: PoolWorker, failing: (task: Task) => Error | undefined) {
    const requeue: Task[] = [];
    for (const task of worker.inFlight.values()) {
      if (task.settled) continue;
      const error = failing(task);
      if (error === undefined) requeue.push(task);
      else this.#queue.settle(task, undefined, error, Delivery.Finish);
    }
    worker.inFlight.clear();
    this.#queue.requeue(requeue);
  }

  /** Ends a worker running an abandoned task: not a failure of the pool. */
  #kill(worker: PoolWorker): void {
    this.#workers.teardown(worker);
    this.#reclaim(worker, () => undefined);
    this.#resume();
  }

  #break(error: Error): void {
    if (this.#state === "terminated" || this.#state === "broken") return;
    this.#state = "broken";
    this.#brokenBy = error;
    this.#stopAll(error);
  }

  #stopAll(error: Error): void {
    const queued = this.#queue.takeAll();
    for (const worker of this.#workers) {
      this.#workers.teardown(worker);
      this.#reclaim(worker, () => error);
    }
    for (const task of queued) {
      this.#queue.settle(task, undefined, error, Delivery.Finish);
    }
    this.#queue.notifyDrained();
    this.#exited.resolve();
  }

  /** Withdraws every task no worker has taken yet (shutdown(cancelFutures)). */
  cancelQueued(error: Error): void {
    for (const task of this.#queue.takeAll()) {
      this.#queue.settle(task, undefined, error, Delivery.Withdrawn);
    }
    this.#maybeFinish();
  }

  /** No new work; workers exit once the queued work is done. */
  close(): void {
    if (this.#state === "running") this.#state = "closed";
    this.#maybeFinish();
  }

  /** Stops everything now; pending work fails with `error`. */
  terminate(error: Error): void {
    if (this.#state === "terminated") return;
    const wasBroken = this.#state === "broken";
    this.#state = "terminated";
    if (!wasBroken) this.#stopAll(error);
    this.#exited.resolve();
  }

  #maybeFinish(): void {
    this.#queue.notifyDrained();
    if (this.#state !== "closed" || this.#queue.pending > 0) return;
    for (const worker of [...this.#workers]) {
      if (worker.inFlight.size > 0) return;
      if (!worker.ready) this.#workers.unneeded(worker);
      else if (!worker.retiring) {
        // Idle and no work will come: ask it to exit cleanly.
        worker.retiring = true;
        this.#workers.retire(worker);
      }
    }
    // Retired workers report "exit"; the last one lands here with none left.
    if (this.#workers.allGone()) this.#exited.resolve();
  }

  /** Resolves when every submitted task has settled. */
  drained(): Promise<void> {
    return this.#queue.drained();
  }

  /** Resolves when all workers have exited (after close or terminate). */
  exited(): Promise<void> {
    // Idle workers do not keep the loop alive; waiting for their exit must.
    return holdLoopUntil(this.#exited.promise);
  }
}
