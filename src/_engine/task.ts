// The task model: a Task is one unit of work, and the TaskQueue holds every
// task from submit to settlement. A task settles exactly once, through
// TaskQueue.settle(), whatever ends it: a result, an error, a withdrawal, a
// dead worker, terminate().

import { TimeoutError } from "../errors.ts";
import type { TaskMode } from "../_wire/protocol.ts";
import { refKey, type TargetRef } from "../_core/target.ts";
import { after } from "../_core/time.ts";
import { onAbort } from "../_core/abort_listeners.ts";
import type { PoolWorker } from "./pool_worker.ts";

const keys = new WeakMap<TargetRef, string>();

/**
 * One unit of work: a call, or a chunk of a map. Subclasses say where the
 * outcome goes (a promise, an AsyncResult, a Future), with methods rather
 * than per-task closures: with thousands of tasks in flight, every
 * allocation per task shows up as garbage-collection time.
 */
export abstract class Task {
  readonly fn: TargetRef;
  /** "url#name" (see refKey()): how workers know the function. */
  readonly key: string;
  readonly mode: TaskMode;
  readonly payload: unknown;
  /** Set by the engine; once dispatched, the id its worker knows it by. */
  id = 0;
  /** Its place in its worker's dispatch order (PoolWorker.dispatched). */
  order = 0;
  dispatchedAt = 0;
  /** The cost (ms) the engine expected when it dispatched the task. */
  estimate = 0;
  worker: PoolWorker | undefined = undefined;
  settled = false;
  /** Runs once as the task settles (clears a timer, an abort listener). */
  cleanup: (() => void) | undefined = undefined;
  /**
   * Whether the program stays alive for it. An AsyncResult's tasks do not:
   * CPython's pool ends with the program, so a task nobody waits for (one
   * that never answers, say) must not keep it running; a wait in get(),
   * wait() or join() holds the program instead.
   */
  holds = true;
  /** The queue it was added to. */
  queue: TaskQueue | undefined = undefined;

  constructor(fn: TargetRef, mode: TaskMode, payload: unknown) {
    this.fn = fn;
    let key = keys.get(fn);
    if (key === undefined) keys.set(fn, key = refKey(fn));
    this.key = key;
    this.mode = mode;
    this.payload = payload;
  }

  /**
   * Stops holding the program: nobody waits for it any more (a map that
   * failed on another chunk, an imap left early).
   */
  unhold(): void {
    this.queue?.unhold(this);
  }

  /** Delivers the outcome: the result, or `error`. Called once. */
  abstract finish(value: unknown, error?: Error): void;

  /** A worker took the task (executor: Future.running()). */
  started(): void {}

  /** cancelQueued() withdrew the task before any worker took it. */
  withdrawn(error: Error): void {
    this.finish(undefined, error);
  }
}

/** Per-task limits: both fail the task with their own reason. */
export interface TaskLimits {
  signal?: AbortSignal;
  /** Seconds. */
  timeout?: number;
}

/**
 * Makes an abort of `limits.signal`, or its timeout passing, call
 * `abandon` with the reason; `task.cleanup` undoes both once it settles.
 */
export function armLimits(
  task: Task,
  limits: TaskLimits,
  noun: string,
  abandon: (error: Error) => void,
): void {
  const { signal, timeout } = limits;
  if (signal === undefined && timeout === undefined) return;
  let cancelTimer = () => {};
  let unlisten = () => {};
  task.cleanup = () => {
    cancelTimer();
    unlisten();
  };
  unlisten = onAbort(signal, () => abandon(signal!.reason));
  if (timeout !== undefined && !task.settled) {
    cancelTimer = after(
      timeout,
      () =>
        abandon(
          new TimeoutError(
            `Cannot complete ${noun} as it ran past its ${timeout}s timeout`,
          ),
        ),
    );
  }
}

/** Who hears of a settlement, in TaskQueue.settle(). */
export const enum Delivery {
  /** task.finish(value, error): a result, a failure. */
  Finish,
  /** task.withdrawn(error): cancelled before any worker took it. */
  Withdrawn,
  /** Nobody: the caller settles its promise or future itself. */
  Silent,
}

/**
 * The tasks not yet handed to a worker (a FIFO with a moving head, so a
 * flush of thousands costs no shifting) and the count of those not yet
 * settled anywhere.
 */
export class TaskQueue {
  // Handed-out slots are cleared: a settled task holds its worker (and so
  // that worker's Worker and rings), and a prefix kept until compact() kept
  // up to 1 024 retired workers alive (~10 KB each, maxTasksPerChild: 1).
  #queue: (Task | undefined)[] = [];
  #head = 0;
  #nextId = 1;
  #pending = 0;
  #holding = 0;
  readonly #onHolding: (holding: boolean) => void;
  #drainWaiters: (() => void)[] = [];

  /**
   * @param onHolding Called with true when an unsettled task comes to hold
   * the program (see Task.holds), and with false when none does any more.
   */
  constructor(onHolding: (holding: boolean) => void = () => {}) {
    this.#onHolding = onHolding;
  }

  /** Tasks submitted and not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether an unsettled task holds the program (see Task.holds). */
  get holding(): boolean {
    return this.#holding > 0;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Gives `task` its id and queues it. */
  add(task: Task): void {
    task.id = this.#nextId++;
    if (this.#nextId > 0x7fffffff) this.#nextId = 1;
    this.#pending++;
    task.queue = this;
    if (task.holds && this.#holding++ === 0) this.#onHolding(true);
    this.#queue.push(task);
  }

  /** Task.unhold(): `task`, unsettled, no longer holds the program. */
  unhold(task: Task): void {
    if (!task.holds || task.settled) return;
    task.holds = false;
    if (--this.#holding === 0) this.#onHolding(false);
  }

  /** The next task to hand out (the queue is not empty). */
  peek(): Task {
    return this.#queue[this.#head]!;
  }

  /** Removes the task peek() returned. */
  shift(): void {
    this.#queue[this.#head++] = undefined;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
  }

  /** Drops the handed-out prefix once it is most of the array. */
  compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Puts tasks a worker held but never started back at the front. */
  requeue(tasks: Task[]): void {
    for (const task of tasks) task.worker = undefined;
    if (tasks.length > 0) this.#queue.splice(this.#head, 0, ...tasks);
  }

  /** Takes a still-queued task out. @returns false when it is not queued. */
  remove(task: Task): boolean {
    const index = this.#queue.indexOf(task, this.#head);
    if (index < 0) return false;
    this.#queue.splice(index, 1);
    return true;
  }

  /** Empties the queue. @returns what it held. */
  takeAll(): Task[] {
    const queued = this.#queue.slice(this.#head) as Task[];
    this.#queue = [];
    this.#head = 0;
    return queued;
  }

  /**
   * The one way a task settles: marked, counted, cleaned up, then delivered.
   *
   * @returns false when it had settled already (nothing happens).
   */
  settle(
    task: Task,
    value: unknown,
    error: Error | undefined,
    delivery: Delivery,
  ): boolean {
    if (task.settled) return false;
    task.settled = true;
    this.#pending--;
    if (task.holds && --this.#holding === 0) this.#onHolding(false);
    task.cleanup?.();
    if (delivery === Delivery.Finish) task.finish(value, error);
    else if (delivery === Delivery.Withdrawn) task.withdrawn(error!);
    return true;
  }

  /** Resolves the drained() waiters once nothing is pending. */
  notifyDrained(): void {
    if (this.#pending > 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves when every submitted task has settled. */
  drained(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }
}
