// The engine behind Pool and ProcessPoolExecutor: worker lifecycle, task
// dispatch, results, and what happens when a worker dies.
//
//  submit(task) ─▶ queue ─▶ flush() ──┬─ JSON-safe tasks: one batch ─▶ requests ring ──▶ worker
//                                     └─ anything else ──────────▶ postMessage    ──▶ worker
//  task.finish ◀── pump() ◀─ responses rings (spin, then sleep until a "bell") ◀──────┤
//               ◀─ onmessage ◀─ postMessage results, "ready", "exit" ◀──────────────┘
//
// Dispatch: the engine learns what each function costs per task (the
// spacing of its results while the worker is busy, a moving average) and
// gives a worker more only while the work it holds, at those costs, stays
// under kBacklogMs, and never more than its share of the queue. Tiny tasks
// therefore go by the thousand in one ring message (the main thread spends
// ~3 µs per task in all), while long ones go one running and one waiting
// per worker: nothing piles up behind a busy worker, so queued work stays
// cancellable and goes to whichever worker frees up first, as in CPython's
// executor. A function not measured yet counts as kUnknownMs, so its first
// burst is spread two per worker until its first results come back.
//
// Death: a worker announces the task it runs in its control block
// (kPoolCurrent). When it dies, that task fails; the tasks it had not
// started yet go back to the front of the queue. A Pool replaces the worker;
// an executor becomes broken, as CPython's does.

import {
  BrokenProcessPoolError,
  ProcessError,
  RemoteError,
  TimeoutError,
} from "../errors.ts";
import * as errors from "../errors.ts";
import { holdLoop, releaseLoop } from "../_memory/atomics.ts";
import {
  Channel,
  jsonSafe,
  kJsonMaxItems,
  kPosted,
  kTail,
  kWaiting,
  packNumbers,
} from "../_memory/channel.ts";
import {
  checkPermissions,
  type WorkerPermissions,
} from "../_core/permissions.ts";
import {
  type FromPoolWorker,
  kPoolCurrent,
  kPoolStop,
  type PoolInitMessage,
  ResultStatus,
  type RingResult,
  type RingTaskBatch,
  TaskMode,
  type WireError,
} from "../_wire/protocol.ts";
import { reduce, revive, reviverModules } from "../reduction.ts";
import { type Child, startChild } from "../_child/handshake.ts";
import { state } from "../_core/state.ts";
import {
  callerUrl,
  type Target,
  type TargetRef,
  targetRef,
} from "../_core/target.ts";
import {
  checkArray,
  checkPositiveInteger,
  checkSeconds,
  checkSignal,
} from "../_core/validate.ts";

const entry = new URL("./worker_main.ts", import.meta.url).href;
/** Bytes in each ring of each worker. */
const kRingBytes = 1 << 18;
/** Most tasks one worker holds at once (running + waiting in its ring). */
const kMaxInFlight = 4096;
/** Tasks a worker may always hold: one running, one waiting (hides the round trip). */
const kMinWindow = 2;
/** Most work (ms, at the functions' measured costs) one worker holds. */
const kBacklogMs = 10;
/** The assumed cost (ms) of a task whose function has no measure yet. */
const kUnknownMs = kBacklogMs / kMinWindow;
/** Milliseconds the pump spins on the response ring before sleeping. */
const kPumpSpinMs = 0.05;

const keys = new WeakMap<TargetRef, string>();

/**
 * One unit of work: a call, or a chunk of a map. Subclasses say where the
 * outcome goes (a promise, an AsyncResult, a Future), with methods rather
 * than per-task closures: with thousands of tasks in flight, every
 * allocation per task shows up as garbage-collection time.
 */
export abstract class Task {
  readonly fn: TargetRef;
  /** "url#name": how workers know the function. */
  readonly key: string;
  readonly mode: TaskMode;
  readonly payload: unknown;
  /** Set by the engine. */
  id = 0;
  dispatchedAt = 0;
  /** The cost (ms) the engine expected when it dispatched the task. */
  estimate = 0;
  worker: PoolWorker | undefined = undefined;
  settled = false;
  /** Runs once as the task settles (clears a timer, an abort listener). */
  cleanup: (() => void) | undefined = undefined;

  constructor(fn: TargetRef, mode: TaskMode, payload: unknown) {
    this.fn = fn;
    let key = keys.get(fn);
    if (key === undefined) keys.set(fn, key = `${fn.url}#${fn.name}`);
    this.key = key;
    this.mode = mode;
    this.payload = payload;
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
 * Checks a task's argument list and limits before it is submitted.
 *
 * @throws {TypeError} For args that are not an array, a timeout that is not
 * a number, or a signal that is not an AbortSignal.
 * @throws {RangeError} For a negative timeout.
 */
export function checkTask(
  args: unknown,
  limits: TaskLimits | undefined,
  what: string,
): void {
  checkArray(args, "args", what);
  checkSeconds(limits?.timeout, "timeout", what);
  checkSignal(limits?.signal, what);
}

/** What the engine does when a worker dies abruptly. */
export type DeathPolicy = "replace" | "break";

/** Engine settings. */
export interface EngineOptions {
  processes: number;
  name: string;
  initializer?: TargetRef;
  initargs: unknown[];
  maxTasksPerChild?: number;
  permissions?: WorkerPermissions;
  /** The module that created the pool: imported statically by workers. */
  caller?: string;
  onDeath: DeathPolicy;
  /** Start all workers at once (Pool) or only as work needs them (executor). */
  eager: boolean;
}

/** What Pool and ProcessPoolExecutor accept in common. */
export interface WorkerPoolOptions {
  initializer?: Target;
  initargs?: unknown[];
  maxTasksPerChild?: number;
  permissions?: WorkerPermissions;
}

/**
 * Validates the options common to Pool and ProcessPoolExecutor and builds
 * the engine's. Call it from the public constructor: the module that called
 * that constructor becomes the module every worker imports.
 */
export function engineOptions(
  processes: number,
  options: WorkerPoolOptions,
  kind: Pick<EngineOptions, "name" | "onDeath" | "eager">,
  what: string,
): EngineOptions {
  const { initializer, initargs = [], maxTasksPerChild, permissions } = options;
  checkPositiveInteger(maxTasksPerChild, "maxTasksPerChild", what);
  checkArray(initargs, "initargs", what);
  const caller = callerUrl()?.replace(/#.*$/, "");
  return {
    ...kind,
    processes,
    initializer: initializer === undefined
      ? undefined
      : targetRef(initializer, caller, what),
    initargs: reduce(initargs, "initargs", what) as unknown[],
    maxTasksPerChild,
    permissions: checkPermissions(permissions, what),
    caller: caller?.startsWith("data:") ? undefined : caller,
  };
}

/** Rebuilds a worker's error in this process: same name and message. */
export function rebuildError(wire: WireError): Error {
  const table: Record<string, ErrorConstructor> = {
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
    ...(errors as unknown as Record<string, ErrorConstructor>),
  };
  const Ctor = table[wire.name] ?? Error;
  const cause = new RemoteError(wire.stack);
  let error: Error;
  try {
    // BufferTooShortError takes bytes, not a message: rebuild it as Error.
    error = (Ctor as unknown) === errors.BufferTooShortError
      ? new Error(wire.message, { cause })
      : new Ctor(wire.message, { cause });
  } catch {
    error = new Error(wire.message, { cause });
  }
  if (error.name !== wire.name) {
    Object.defineProperty(error, "name", {
      value: wire.name,
      configurable: true,
      writable: true,
    });
  }
  return error;
}

/** One worker of the pool, as the main thread sees it. */
class PoolWorker {
  readonly worker: Child;
  readonly name: string;
  readonly requests: Channel;
  readonly responses: Channel;
  readonly control: Int32Array;
  readonly inFlight = new Map<number, Task>();
  /** Function keys this worker knows, by the small id the ring uses. */
  readonly functionIds = new Map<string, number>();
  /** The last function id handed out (ids are never reused). */
  lastFunctionId = 0;
  /** Tasks assigned by the current flush, sent together at its end. */
  outbox: Task[] = [];
  ready = false;
  dead = false;
  retiring = false;
  assigned = 0;
  /** Estimated ms of work in flight: the sum of its tasks' estimates. */
  backlog = 0;
  /** When the last result arrived (performance.now()). */
  lastResultAt = 0;

  constructor(
    worker: Child,
    name: string,
    requests: SharedArrayBuffer,
    responses: SharedArrayBuffer,
  ) {
    this.worker = worker;
    this.name = name;
    this.requests = new Channel(requests);
    this.responses = new Channel(responses);
    this.control = worker.control;
  }

  /**
   * Sends a message the worker must receive through its event loop, and
   * tells it so: it may be blocked in Atomics.wait, deaf to messages.
   */
  post(message: unknown, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
    Atomics.add(this.requests.header, kPosted, 1);
    Atomics.notify(this.requests.header, kTail);
  }
}

/** The shared machinery of Pool and ProcessPoolExecutor. */
export class PoolEngine {
  readonly #options: EngineOptions;
  readonly #workers = new Set<PoolWorker>();
  #queue: Task[] = [];
  #queueHead = 0;
  #nextId = 1;
  #spawning = false;
  #flushScheduled = false;
  #state: "running" | "closed" | "terminated" | "broken" = "running";
  #brokenBy: Error | undefined;
  #counter = 0;
  #pending = 0;
  #drainWaiters: (() => void)[] = [];
  #exited = Promise.withResolvers<void>();
  #poke = Promise.withResolvers<void>();
  #pumping = false;
  #sleeping = false;
  /** Measured cost per task (ms) of each function, by key. */
  readonly #costs = new Map<string, number>();

  constructor(options: EngineOptions) {
    this.#options = options;
    if (options.eager) this.#spawnSoon();
  }

  /** "running", or why no new work is accepted. */
  get state(): "running" | "closed" | "terminated" | "broken" {
    return this.#state;
  }

  /** The error that broke the pool, if any. */
  get brokenBy(): Error | undefined {
    return this.#brokenBy;
  }

  /** Tasks submitted and not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /** Number of live workers (started or starting). */
  get size(): number {
    return this.#workers.size;
  }

  /**
   * Queues a task. The caller checked that the engine is running and that
   * `limits` are valid. An abort or a timeout fails the task with its own
   * reason, queued or running (abandon() withdraws it, or ends the worker
   * running it).
   */
  submit(task: Task, limits?: TaskLimits, noun = "task"): void {
    task.id = this.#nextId++;
    if (this.#nextId > 0x7fffffff) this.#nextId = 1;
    this.#pending++;
    this.#queue.push(task);
    this.#scheduleFlush();
    const signal = limits?.signal;
    const timeout = limits?.timeout;
    if (signal === undefined && timeout === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => this.abandon(task, signal!.reason);
    task.cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    if (signal !== undefined) {
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    if (timeout !== undefined && !task.settled) {
      timer = setTimeout(
        () =>
          this.abandon(
            task,
            new TimeoutError(
              `Cannot complete ${noun} as it ran past its ${timeout}s timeout`,
            ),
          ),
        timeout * 1000,
      );
    }
  }

  /**
   * Withdraws a task that no worker has taken yet. The task counts as
   * settled: the caller settles its promise or future itself.
   *
   * @returns true when it was withdrawn (still queued).
   */
  withdraw(task: Task): boolean {
    if (task.settled || task.worker !== undefined) return false;
    const index = this.#queue.indexOf(task, this.#queueHead);
    if (index < 0) return false;
    this.#queue.splice(index, 1);
    task.settled = true;
    this.#pending--;
    task.cleanup?.();
    this.#maybeFinish();
    return true;
  }

  /** True when `task` is the one its worker is running right now. */
  isRunning(task: Task): boolean {
    const worker = task.worker;
    return worker !== undefined && !worker.dead &&
      Atomics.load(worker.control, kPoolCurrent) === task.id;
  }

  /** Settles a task from outside (cancel, timeout); stops its worker if it runs. */
  abandon(task: Task, error: Error): void {
    if (task.settled) return;
    if (this.withdraw(task)) {
      task.finish(undefined, error);
      return;
    }
    const worker = task.worker;
    const running = this.isRunning(task);
    this.#settle(task, undefined, error);
    // Deno cannot interrupt a function mid-run: the only way to stop the
    // task is to end its worker, and replace it. A task dispatched but not
    // yet started runs later and its result is dropped.
    if (running && worker !== undefined) this.#kill(worker, undefined, false);
  }

  #queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Workers that can still take work (not retiring). */
  #live(): number {
    let n = 0;
    for (const worker of this.#workers) if (!worker.retiring) n++;
    return n;
  }

  #target(): number {
    if (this.#options.eager) return this.#options.processes;
    // On demand: one more worker while queued work outnumbers the workers
    // that are idle or still starting (each of those will take a task).
    const live = [...this.#workers].filter((w) => !w.retiring);
    const idle = live.filter((w) => !w.ready || w.inFlight.size === 0).length;
    const wanted = idle < this.#queued() ? live.length + 1 : live.length;
    return Math.min(this.#options.processes, wanted);
  }

  #flush(): void {
    if (this.#state === "terminated" || this.#state === "broken") return;
    const queued = this.#queued();
    if (queued === 0) {
      this.#maybeFinish();
      return;
    }
    const ready = [...this.#workers].filter((w) =>
      w.ready && !w.dead && !w.retiring
    );
    if (this.#live() < this.#target()) this.#spawnSoon();
    if (ready.length === 0) return;
    // Spread a small backlog over all the workers the pool will have, not
    // just those up yet: piling it on the first worker would leave the
    // next ones idle when they arrive.
    const backlog = queued + ready.reduce((n, w) => n + w.inFlight.size, 0);
    const share = Math.max(1, Math.ceil(backlog / this.#options.processes));
    const maxTasks = this.#options.maxTasksPerChild;
    const now = performance.now();
    let progress = true;
    while (progress && this.#queued() > 0) {
      progress = false;
      for (const worker of ready) {
        if (this.#queued() === 0) break;
        const held = worker.inFlight.size;
        if (held >= share || held >= kMaxInFlight) continue;
        if (maxTasks !== undefined && worker.assigned >= maxTasks) continue;
        const task = this.#queue[this.#queueHead];
        const estimate = this.#costs.get(task.key) ?? kUnknownMs;
        if (held >= kMinWindow && worker.backlog + estimate > kBacklogMs) {
          continue;
        }
        this.#queueHead++;
        task.estimate = estimate;
        this.#assign(worker, task, now);
        progress = true;
      }
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    for (const worker of ready) {
      if (worker.outbox.length > 0) {
        const tasks = worker.outbox;
        worker.outbox = [];
        this.#send(worker, tasks);
        worker.requests.wake();
      }
      if (worker.inFlight.size > 0) {
        worker.worker.ref(true);
        this.#wake();
      }
    }
  }

  /** Gives `task` to `worker`; #send() delivers it at the end of the flush. */
  #assign(worker: PoolWorker, task: Task, now: number): void {
    task.worker = worker;
    task.dispatchedAt = now;
    worker.backlog += task.estimate;
    worker.inFlight.set(task.id, task);
    worker.assigned++;
    worker.outbox.push(task);
    task.started();
    if (
      this.#options.maxTasksPerChild !== undefined &&
      worker.assigned >= this.#options.maxTasksPerChild
    ) {
      worker.retiring = true;
    }
  }

  /**
   * Delivers tasks: the JSON-safe ones as one ring batch, the rest (and any
   * the ring cannot take now) by postMessage.
   */
  #send(worker: PoolWorker, tasks: Task[]): void {
    const batch: RingTaskBatch = [];
    const batched: Task[] = [];
    for (const task of tasks) {
      const payload = task.payload;
      const large = Array.isArray(payload) && payload.length > kJsonMaxItems;
      if (large || !jsonSafe(payload)) {
        this.#post(worker, task);
        continue;
      }
      const known = worker.functionIds.get(task.key);
      if (known === undefined) {
        const fid = ++worker.lastFunctionId;
        worker.functionIds.set(task.key, fid);
        batch.push([
          task.id,
          fid,
          task.mode,
          payload,
          task.key,
          task.fn.source ?? null,
        ]);
      } else {
        batch.push([task.id, known, task.mode, payload]);
      }
      batched.push(task);
    }
    // Write the batch whole, or in halves when it is too large for one
    // message; once a part does not fit even alone (the ring is full),
    // everything from there on goes by postMessage, keeping a function's
    // naming task ahead of the tasks that use its id.
    let from = 0;
    while (from < batch.length) {
      let to = batch.length;
      while (
        !worker.requests.tryWrite(
          JSON.stringify(
            from === 0 && to === batch.length ? batch : batch.slice(from, to),
          ),
        )
      ) {
        if (to - from === 1) {
          for (let i = from; i < batch.length; i++) {
            if (batch[i].length > 4) worker.functionIds.delete(batched[i].key);
            this.#post(worker, batched[i]);
          }
          return;
        }
        to = from + ((to - from) >> 1);
      }
      from = to;
    }
  }

  #post(worker: PoolWorker, task: Task): void {
    const payload = task.payload;
    const numbers = task.mode === TaskMode.Map
      ? packNumbers(payload)
      : undefined;
    worker.post(
      numbers === undefined
        ? { t: "task", id: task.id, fn: task.fn, mode: task.mode, payload }
        : {
          t: "task",
          id: task.id,
          fn: task.fn,
          mode: task.mode,
          payload: null,
          numbers,
        },
      numbers === undefined ? [] : [numbers.buffer as ArrayBuffer],
    );
  }

  #spawnSoon(): void {
    if (this.#spawning) return;
    this.#spawning = true;
    // new Worker() blocks this thread ~15 ms; one per macrotask keeps the
    // event loop (and the first workers' results) moving meanwhile.
    setTimeout(() => {
      this.#spawning = false;
      if (this.#state === "terminated" || this.#state === "broken") return;
      if (this.#state === "closed" && this.#queued() === 0) return;
      if (this.#live() >= this.#target()) return;
      try {
        this.#spawn();
      } catch (error) {
        this.#break(error as Error);
        return;
      }
      if (this.#live() < this.#target()) this.#spawnSoon();
    }, 0);
  }

  #spawn(): void {
    const s = state();
    const options = this.#options;
    const identity = [...s.identity, ++s.childCounter];
    const name = `${options.name}-${++this.#counter}`;
    const modules = options.caller === undefined ? [] : [options.caller];
    if (
      options.initializer !== undefined &&
      !modules.includes(options.initializer.url)
    ) {
      modules.push(options.initializer.url);
    }
    const requests = Channel.allocate(kRingBytes);
    const responses = Channel.allocate(kRingBytes);
    // Messages and the exit report arrive on later turns, after `handle`
    // is set. The worker is referenced while it starts (queued work waits
    // for it) and while it has tasks in flight; idle workers never keep the
    // program alive.
    // deno-lint-ignore prefer-const -- assigned once the child exists
    let handle: PoolWorker;
    const child = startChild<PoolInitMessage>({
      what: "start pool worker",
      name,
      identity,
      daemon: true,
      entry,
      // A pool worker receives shared objects only with later tasks, so it
      // imports the modules of every reviver known now.
      modules: [...modules, ...reviverModules()],
      permissions: options.permissions,
      message: {
        t: "init",
        requests,
        responses,
        initializer: options.initializer,
        initargs: options.initargs,
      },
      onMessage: (message) =>
        this.#onMessage(handle, message as FromPoolWorker),
      onExit: ({ code, error }) => this.#onExit(handle, code, error),
    });
    handle = new PoolWorker(child, name, requests, responses);
    this.#workers.add(handle);
    if (!this.#pumping) this.#pump();
  }

  #onMessage(worker: PoolWorker, message: FromPoolWorker): void {
    switch (message.t) {
      case "ready":
        worker.ready = true;
        if (this.#queued() === 0) worker.worker.ref(false);
        this.#scheduleFlush();
        return;
      case "bell":
        this.#wake();
        return;
      case "result":
        this.#onResult(
          worker,
          message.id,
          message.status,
          message.numbers === undefined
            ? revive(message.value)
            : Array.from(message.numbers),
        );
        return;
      case "exit":
        this.#onExit(worker, message.code, message.error);
        return;
    }
  }

  #onResult(
    worker: PoolWorker,
    id: number,
    status: ResultStatus,
    value: unknown,
  ): void {
    const task = worker.inFlight.get(id);
    if (task === undefined) return;
    this.#measure(worker, performance.now(), [task]);
    this.#complete(worker, task, status, value);
  }

  /**
   * Learns what `tasks` (results that just came back from `worker`) cost:
   * the time since the worker could start the oldest of them (its dispatch,
   * or the previous result if it was busy until then), shared among them.
   */
  #measure(worker: PoolWorker, now: number, tasks: Task[]): void {
    let oldest = Infinity;
    for (const task of tasks) oldest = Math.min(oldest, task.dispatchedAt);
    const cost = (now - Math.max(oldest, worker.lastResultAt)) / tasks.length;
    worker.lastResultAt = now;
    let key: string | undefined;
    for (const task of tasks) {
      if (task.key === key) continue; // one update per run of the same function
      key = task.key;
      const known = this.#costs.get(key);
      this.#costs.set(
        key,
        known === undefined ? cost : 0.75 * known + 0.25 * cost,
      );
    }
  }

  #complete(
    worker: PoolWorker,
    task: Task,
    status: ResultStatus,
    value: unknown,
  ): void {
    worker.inFlight.delete(task.id);
    // Recomputed from zero when idle, so rounding never accumulates.
    worker.backlog = worker.inFlight.size === 0
      ? 0
      : worker.backlog - task.estimate;
    if (status === ResultStatus.Error) {
      this.#settle(task, undefined, rebuildError(value as WireError));
    } else {
      this.#settle(task, status === ResultStatus.Undefined ? undefined : value);
    }
    if (worker.inFlight.size === 0) {
      worker.worker.ref(false);
      if (worker.retiring) this.#retire(worker);
    }
    if (this.#queued() > 0) this.#scheduleFlush();
    else this.#maybeFinish();
  }

  #settle(task: Task, value: unknown, error?: Error): void {
    if (task.settled) return;
    task.settled = true;
    this.#pending--;
    task.cleanup?.();
    task.finish(value, error);
  }

  #drain(worker: PoolWorker): void {
    let results: unknown[] | undefined;
    while ((results = worker.responses.tryReadAll()) !== undefined) {
      const tasks: Task[] = [];
      for (const result of results) {
        const task = worker.inFlight.get((result as RingResult)[0]);
        // No task: it was abandoned, and its result is dropped.
        if (task !== undefined) tasks.push(task);
      }
      if (tasks.length === 0) continue;
      this.#measure(worker, performance.now(), tasks);
      // Looked up again: a callback run by an earlier result may have
      // terminated the pool and settled the rest.
      for (const result of results) {
        const [id, status, value] = result as RingResult;
        const task = worker.inFlight.get(id);
        if (task !== undefined) this.#complete(worker, task, status, value);
      }
    }
  }

  /** Wakes the pump (new work dispatched, a doorbell, a worker gone). */
  #wake(): void {
    // A pump that is not asleep looks at every worker on its next turn.
    if (!this.#sleeping) return;
    this.#sleeping = false;
    this.#poke.resolve();
    this.#poke = Promise.withResolvers();
  }

  async #sleep(): Promise<void> {
    this.#sleeping = true;
    await this.#poke.promise;
  }

  #drainAll(): number {
    let drained = 0;
    for (const worker of this.#workers) {
      if (!worker.dead && worker.responses.hasMessage()) {
        drained++;
        this.#drain(worker);
      }
    }
    return drained;
  }

  #anyMessage(busy: PoolWorker[]): boolean {
    for (const worker of busy) if (worker.responses.hasMessage()) return true;
    return false;
  }

  // One pump reads the results of every worker. After each drain it yields
  // a microtask turn, so the dispatch it scheduled and the callers'
  // continuations run before it looks again; otherwise the spin below
  // would starve the workers it waits for.
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#workers.size > 0) {
        if (this.#drainAll() > 0) {
          await null;
          continue;
        }
        const busy = [...this.#workers].filter((w) =>
          w.inFlight.size > 0 && !w.dead
        );
        if (busy.length === 0) {
          await this.#sleep();
          continue;
        }
        // Spin first: a hot worker answers within microseconds, far sooner
        // than any wake-up could be delivered.
        const until = performance.now() + kPumpSpinMs;
        for (let i = 1; !this.#anyMessage(busy); i++) {
          if ((i & 63) === 0 && performance.now() > until) break;
        }
        if (this.#anyMessage(busy)) continue;
        // Sleep until a worker rings. Race-free: kWaiting is set before the
        // last look, and a worker reads it after writing its result.
        for (const worker of busy) {
          Atomics.store(worker.responses.header, kWaiting, 1);
        }
        if (!this.#anyMessage(busy)) await this.#sleep();
        for (const worker of busy) {
          Atomics.store(worker.responses.header, kWaiting, 0);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #retire(worker: PoolWorker): void {
    // maxTasksPerChild reached and nothing left in flight: let it exit
    // cleanly and start a fresh one in its place. It stays referenced until
    // its exit arrives: work may be queued for its replacement meanwhile.
    worker.worker.ref(true);
    Atomics.store(worker.control, kPoolStop, 1);
    worker.post({ t: "stop" });
  }

  #onExit(worker: PoolWorker, code: number, error?: WireError): void {
    if (worker.dead) return;
    this.#drain(worker);
    worker.dead = true;
    this.#wake();
    this.#workers.delete(worker);
    worker.worker.ref(false);
    worker.worker.terminate();
    const orderly = worker.retiring && worker.inFlight.size === 0 && code === 0;
    if (!orderly && this.#state !== "terminated") {
      this.#fail(worker, code, error);
    }
    if (!worker.ready && !orderly && this.#state !== "terminated") {
      // It died before its first task: the module or the initializer is
      // broken, and a replacement would die the same way.
      const cause = error === undefined ? undefined : rebuildError(error);
      this.#break(
        new BrokenProcessPoolError(
          `Cannot start pool worker ${worker.name}: it exited with code ${code} during start-up${
            cause ? ` (${cause.name}: ${cause.message})` : ""
          }`,
          { cause },
        ),
      );
      return;
    }
    if (this.#state === "running" || this.#queued() > 0) this.#scheduleFlush();
    this.#maybeFinish();
  }

  #fail(worker: PoolWorker, code: number, error?: WireError): void {
    const current = Atomics.load(worker.control, kPoolCurrent);
    const reason = error === undefined
      ? ""
      : `: ${error.name}: ${error.message}`;
    const died = this.#options.onDeath === "break"
      ? new BrokenProcessPoolError(
        `A process in the process pool was terminated abruptly while the future was running or pending (${worker.name} exited with code ${code}${reason})`,
        { cause: error === undefined ? undefined : rebuildError(error) },
      )
      : new ProcessError(
        `Cannot complete task as pool worker ${worker.name} exited with code ${code} while running it${reason}`,
        { cause: error === undefined ? undefined : rebuildError(error) },
      );
    const requeue: Task[] = [];
    for (const task of worker.inFlight.values()) {
      if (task.settled) continue;
      if (task.id === current || this.#options.onDeath === "break") {
        this.#settle(task, undefined, died);
      } else {
        task.worker = undefined;
        requeue.push(task);
      }
    }
    worker.inFlight.clear();
    if (requeue.length > 0) {
      this.#queue.splice(this.#queueHead, 0, ...requeue);
    }
    if (this.#options.onDeath === "break") this.#break(died);
  }

  #kill(
    worker: PoolWorker,
    error: WireError | undefined,
    report: boolean,
  ): void {
    // terminate() does not interrupt an Atomics.wait: the stop flag and a
    // notify end an idle worker's sleep at once.
    Atomics.store(worker.control, kPoolStop, 1);
    Atomics.notify(worker.requests.header, kTail);
    if (report) {
      this.#onExit(worker, -15, error);
      return;
    }
    // Not a failure of the pool: re-queue what the worker had not started,
    // and start a replacement.
    worker.dead = true;
    this.#wake();
    this.#workers.delete(worker);
    worker.worker.ref(false);
    worker.worker.terminate();
    const requeue = [...worker.inFlight.values()].filter((t) => !t.settled);
    for (const task of requeue) task.worker = undefined;
    worker.inFlight.clear();
    this.#queue.splice(this.#queueHead, 0, ...requeue);
    if (this.#state === "running" || this.#queued() > 0) this.#scheduleFlush();
    this.#maybeFinish();
  }

  #break(error: Error): void {
    if (this.#state === "terminated" || this.#state === "broken") return;
    this.#state = "broken";
    this.#brokenBy = error;
    this.#stopAll(error);
  }

  #stopAll(error: Error): void {
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    for (const worker of this.#workers) {
      worker.dead = true;
      this.#wake();
      Atomics.store(worker.control, kPoolStop, 1);
      Atomics.notify(worker.requests.header, kTail);
      worker.worker.ref(false);
      worker.worker.terminate();
      for (const task of worker.inFlight.values()) {
        this.#settle(task, undefined, error);
      }
      worker.inFlight.clear();
    }
    this.#workers.clear();
    for (const task of queued) this.#settle(task, undefined, error);
    this.#notifyDrained();
    this.#exited.resolve();
  }

  #notifyDrained(): void {
    if (this.#pending > 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Withdraws every task no worker has taken yet (shutdown(cancelFutures)). */
  cancelQueued(error: Error): void {
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    for (const task of queued) {
      if (task.settled) continue;
      task.settled = true;
      this.#pending--;
      task.cleanup?.();
      task.withdrawn(error);
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
    this.#notifyDrained();
    if (this.#state !== "closed" || this.#pending > 0) return;
    for (const worker of [...this.#workers]) {
      if (worker.inFlight.size > 0) return;
      if (worker.ready) {
        if (!worker.retiring) {
          worker.retiring = true;
          this.#retire(worker);
        }
      } else {
        worker.dead = true;
        this.#wake();
        worker.worker.ref(false);
        worker.worker.terminate();
        this.#workers.delete(worker);
      }
    }
    // Retired workers report "exit"; the last one lands here with none left.
    if (this.#workers.size === 0) this.#exited.resolve();
  }

  /** Resolves when every submitted task has settled. */
  drained(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Resolves when all workers have exited (after close or terminate). */
  async exited(): Promise<void> {
    // Idle workers do not keep the loop alive; waiting for their exit must.
    holdLoop();
    try {
      await this.#exited.promise;
    } finally {
      releaseLoop();
    }
  }
}
