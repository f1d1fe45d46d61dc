// The dispatch policy: which queued task goes to which ready worker, now.
//
// The engine learns what each function costs per task (the spacing of its
// results while the worker is busy, a moving average) and gives a worker
// more only while the work it holds, at those costs, stays under
// kBacklogMs, and never more than its share of the queue. Tiny tasks
// therefore go by the thousand in one ring message (the main thread spends
// ~3 µs per task in all), while long ones go one running and one waiting
// per worker: nothing piles up behind a busy worker, so queued work stays
// cancellable and goes to whichever worker frees up first, as in CPython's
// executor. A function not measured yet counts as kUnknownMs, so its first
// burst is spread four per worker until its first results come back: a
// first map (4 chunks per worker by default) goes out whole, as bare
// workers would send it, instead of waiting a round trip per chunk.
//
// A window can still hold tasks behind one that runs far longer than its
// estimate (or never ends). So when the queue is empty and a worker idles,
// the pool takes back the tasks a busy worker has not started (steal()) and
// gives them to the idle one: a task never waits behind another while a
// worker is free. "Not started" is settled by one compare-and-swap on the
// worker's kChildClaim: the worker moves it from the previous task's id to
// the next one's before running it, in dispatch order; the pool moves it
// past the tasks it takes. Each task's id is its place in its worker's
// dispatch order, so both sides agree which tasks a claim covers. A
// "subprocess" worker's word is in its own OS process: the pool asks the
// worker to move it (a "take" message) and takes what the answer names.

import { kChildClaim } from "../_wire/layouts.ts";
import {
  kMaxTaskId as kIds,
  type PoolTakenMessage,
} from "../_wire/protocol.ts";
import type { PoolWorker } from "./pool_worker.ts";
import type { Task, TaskQueue } from "./task.ts";
import type { EngineOptions } from "./options.ts";

/** Most tasks one worker holds at once (running + waiting in its ring). */
const kMaxInFlight = 4096;
/** Tasks a worker may always hold: one running, one waiting (hides the round trip). */
const kMinWindow = 2;
/** Most work (ms, at the functions' measured costs) one worker holds. */
const kBacklogMs = 10;
/** The assumed cost (ms) of a task whose function has no measure yet. */
const kUnknownMs = kBacklogMs / 4;

/** The wire id of a worker's `order`-th task. */
function wireId(order: number): number {
  return ((order - 1) % kIds) + 1;
}

/** Cost learning and the windows it sets. */
export class Dispatcher {
  /** Measured cost per task (ms) of each function, by key. */
  readonly #costs = new Map<string, number>();
  readonly #processes: number;
  readonly #maxTasks: number | undefined;
  // A "subprocess" worker's claim word lives in its own OS process: the
  // pool's copy never moves, so the pool asks the worker to make the swap
  // (#ask) and takes the tasks when it answers (taken()).
  readonly #steals: boolean;
  readonly #ask: (worker: PoolWorker, until: number) => void;
  // Without steal(): the tasks dispatched before their function had a cost.
  readonly #unmeasured = new WeakSet<Task>();

  /**
   * @param ask Sends a "subprocess" worker a "take" message (steal() by
   * asking), whose answer goes to taken().
   */
  constructor(
    options: EngineOptions,
    ask: (worker: PoolWorker, until: number) => void,
  ) {
    this.#processes = options.processes;
    this.#maxTasks = options.maxTasksPerChild;
    this.#steals = options.method !== "subprocess";
    this.#ask = ask;
  }

  /**
   * Hands queued tasks to `ready` workers, round robin, each within its
   * window; they land in the workers' outboxes, sent at the flush's end.
   */
  fill(queue: TaskQueue, ready: PoolWorker[]): void {
    // The least loaded first: a lone task goes to an idle worker, never
    // behind a busy one's.
    ready.sort((a, b) => a.inFlight.size - b.inFlight.size);
    // Spread a small backlog over all the workers the pool will have, not
    // just those up yet: piling it on the first worker would leave the
    // next ones idle when they arrive.
    const backlog = queue.queued +
      ready.reduce((n, w) => n + w.inFlight.size, 0);
    const share = Math.max(1, Math.ceil(backlog / this.#processes));
    const maxTasks = this.#maxTasks;
    const now = performance.now();
    let progress = true;
    while (progress && queue.queued > 0) {
      progress = false;
      for (const worker of ready) {
        if (queue.queued === 0) break;
        const held = worker.inFlight.size;
        if (held >= share || held >= kMaxInFlight) continue;
        if (maxTasks !== undefined && worker.assigned >= maxTasks) continue;
        const task = queue.peek();
        const estimate = this.#costs.get(task.key) ?? kUnknownMs;
        if (held >= kMinWindow && worker.backlog + estimate > kBacklogMs) {
          continue;
        }
        if (held > 0 && !this.#steals && !this.#queuesBehind(worker, now)) {
          continue;
        }
        queue.shift();
        task.estimate = estimate;
        this.#assign(worker, task, now);
        progress = true;
      }
    }
    queue.compact();
  }

  // A "subprocess" worker gives tasks back only when its event loop is free
  // to answer, which a task stuck in synchronous code never lets it be: it
  // takes more only behind functions measured as quick, within kBacklogMs,
  // while its oldest task has not overrun its estimate (4×, plus
  // kBacklogMs).
  #queuesBehind(worker: PoolWorker, now: number): boolean {
    if (worker.backlog > kBacklogMs || worker.unmeasured > 0) return false;
    const oldest = worker.inFlight.values().next().value;
    return oldest === undefined ||
      now - oldest.dispatchedAt <= 4 * oldest.estimate + kBacklogMs;
  }

  #assign(worker: PoolWorker, task: Task, now: number): void {
    task.worker = worker;
    task.order = ++worker.dispatched;
    task.id = wireId(task.order);
    task.dispatchedAt = now;
    worker.backlog += task.estimate;
    if (!this.#steals && !this.#costs.has(task.key)) {
      this.#unmeasured.add(task);
      worker.unmeasured++;
    }
    worker.inFlight.set(task.id, task);
    worker.assigned++;
    worker.outbox.push(task);
    task.started();
    if (this.#maxTasks !== undefined && worker.assigned >= this.#maxTasks) {
      worker.retiring = true;
    }
  }

  /**
   * Learns what `tasks` (results that just came back from `worker`) cost:
   * the time since the worker could start the oldest of them (its dispatch,
   * or the previous result if it was busy until then), shared among them.
   */
  measure(worker: PoolWorker, now: number, tasks: Task[]): void {
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

  /**
   * Takes back, for the idle workers among `workers`, tasks that the others
   * hold but have not started: from each busy worker the oldest of them, as
   * many as the idle workers' share of them. They go back to the front of
   * `queue`, in dispatch order.
   *
   * @returns The idle workers, to give them to.
   */
  steal(queue: TaskQueue, all: Iterable<PoolWorker>): PoolWorker[] {
    const workers = [...all].filter((w) => w.ready && !w.dead);
    const maxTasks = this.#maxTasks;
    const idle = workers.filter((w) =>
      w.inFlight.size === 0 && !w.retiring &&
      (maxTasks === undefined || w.assigned < maxTasks)
    );
    const tasks: Task[] = [];
    if (idle.length === 0) return idle;
    for (const victim of workers) {
      // One task in flight is running, or about to: nothing to take.
      if (victim.inFlight.size < 2 || victim.asked) continue;
      // Without the word, the oldest task counts as started: the worker
      // answers for the others.
      const claim = this.#steals
        ? Atomics.load(victim.control, kChildClaim)
        : victim.inFlight.values().next().value!.id;
      const started = this.#claimedPlace(victim, claim);
      const waiting: Task[] = [];
      for (const task of victim.inFlight.values()) {
        if (task.order > started) waiting.push(task);
      }
      if (waiting.length === 0) continue;
      const take = Math.ceil(
        waiting.length * idle.length / (idle.length + 1),
      );
      if (!this.#steals) {
        victim.asked = true;
        this.#ask(victim, waiting[take - 1].id);
        continue;
      }
      // Lost the swap: the worker just started one. Its result brings the
      // next look.
      const taken = this.#take(victim, claim, waiting[take - 1]);
      // Settled meanwhile (abandoned): nothing left to run.
      for (const task of taken ?? []) if (!task.settled) tasks.push(task);
    }
    queue.requeue(tasks);
    return idle;
  }

  /**
   * A "subprocess" worker's answer to steal()'s "take": it moved its claim
   * word from `answer.after` to `answer.until`. The tasks in between go back
   * to the front of `queue`.
   *
   * @returns Whether any did.
   */
  taken(
    queue: TaskQueue,
    victim: PoolWorker,
    answer: PoolTakenMessage,
  ): boolean {
    const { after, until } = answer;
    victim.asked = false;
    if (after === until || victim.dead) return false;
    const last = this.#claimedPlace(victim, until);
    const taken = this.#takeRange(victim, after, last);
    queue.requeue(taken.filter((task) => !task.settled));
    return taken.length > 0;
  }

  /**
   * Moves `victim`'s claim word from `claim` past `last`, so that it passes
   * over the tasks up to `last` it has not started, and takes them off it.
   *
   * @returns Those tasks, in dispatch order; undefined when the swap was
   * lost (the worker started one meanwhile).
   */
  #take(victim: PoolWorker, claim: number, last: Task): Task[] | undefined {
    if (
      Atomics.compareExchange(victim.control, kChildClaim, claim, last.id) !==
        claim
    ) return undefined;
    return this.#takeRange(victim, claim, last.order);
  }

  // Takes off `victim` the tasks after claim word `claim`, up to the place
  // `last` in its dispatch order.
  #takeRange(victim: PoolWorker, claim: number, last: number): Task[] {
    const started = this.#claimedPlace(victim, claim);
    const taken: Task[] = [];
    for (const task of [...victim.inFlight.values()]) {
      if (task.order <= started || task.order > last) continue;
      this.release(victim, task);
      victim.assigned--;
      taken.push(task);
    }
    // It reached maxTasksPerChild counting the tasks taken: not any more.
    const maxTasks = this.#maxTasks;
    if (maxTasks !== undefined && victim.assigned < maxTasks) {
      victim.retiring = false;
    }
    return taken;
  }

  // The place in `worker`'s dispatch order of the last task it claimed:
  // those after it have not started (ids wrap, places do not).
  #claimedPlace(worker: PoolWorker, claim: number): number {
    return claim === 0
      ? 0
      : worker.dispatched - ((wireId(worker.dispatched) - claim + kIds) % kIds);
  }

  /** Whether `task`, dispatched, could still be taken back (takeBack()). */
  takeable(task: Task): boolean {
    const worker = task.worker;
    if (!this.#steals || worker === undefined || worker.dead) return false;
    const claim = Atomics.load(worker.control, kChildClaim);
    return task.order > this.#claimedPlace(worker, claim);
  }

  /**
   * Takes back `task`, dispatched and not started (an executor's cancel(),
   * a timeout): a claim moves over a prefix, so the tasks dispatched before
   * it that have not started come back too, to the front of `queue`.
   *
   * @returns false when it started (or might have: the swap was lost).
   */
  takeBack(queue: TaskQueue, task: Task): boolean {
    const victim = task.worker;
    if (!this.#steals || victim === undefined || victim.dead) return false;
    const claim = Atomics.load(victim.control, kChildClaim);
    if (task.order <= this.#claimedPlace(victim, claim)) return false;
    const taken = this.#take(victim, claim, task);
    if (taken === undefined) return false;
    task.worker = undefined;
    queue.requeue(taken.filter((held) => held !== task && !held.settled));
    return true;
  }

  /** Takes a finished task's estimate off its worker's backlog. */
  release(worker: PoolWorker, task: Task): void {
    worker.inFlight.delete(task.id);
    if (this.#unmeasured.delete(task)) worker.unmeasured--;
    // Recomputed from zero when idle, so rounding never accumulates.
    worker.backlog = worker.inFlight.size === 0
      ? 0
      : worker.backlog - task.estimate;
    if (worker.inFlight.size === 0) worker.unmeasured = 0;
  }
}
