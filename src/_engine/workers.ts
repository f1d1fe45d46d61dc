// Worker lifecycle: starting workers (one per macrotask), the pump that
// reads every worker's response ring, retiring a worker, and the one
// teardown every ending goes through (exit, kill, terminate, close).

import { Channel, kHeaderBytes, kTail, kWaiting } from "../_memory/channel.ts";
import type { FromPoolWorker, PoolInitMessage } from "../_wire/protocol.ts";
import type { WireError } from "../_wire/error_codec.ts";
import { kChildClaim, kChildStop, kChildTask } from "../_wire/layouts.ts";
import { startChild } from "../_child/handshake.ts";
import { state } from "../_core/state.ts";
import { reviverModules } from "../reduction.ts";
import { importsOwnModules } from "../_core/permissions.ts";
import { importedModules } from "../_core/imports.ts";
import { refModules } from "../_core/target.ts";
import type { EngineOptions } from "./options.ts";
import { PoolWorker } from "./pool_worker.ts";
import { Spin } from "../_memory/spin.ts";

const entry = new URL("./worker_main.ts", import.meta.url).href;
/** Bytes in each ring of each worker. */
const kRingBytes = 1 << 18;
/** Milliseconds the pump spins on the response ring before sleeping, at most. */
const kPumpSpinMs = 0.05;
/** Most rings kept for reuse, program-wide. */
const kSpareRings = 16;

// Rings of workers that ended themselves, for the next workers: a new
// worker then skips allocating and zeroing 2 × 256 KiB. (The ~0.2 MB per
// replacement once blamed here on Deno keeping a self-ended worker's rings
// was the task queue keeping retired workers: see TaskQueue in ./task.ts.
// Without reuse, 500 replacements grew resident memory 0.6 MB, not 100.)
const spareRings: SharedArrayBuffer[] = [];

function takeRing(): SharedArrayBuffer {
  const ring = spareRings.pop();
  if (ring === undefined) return Channel.allocate(kRingBytes);
  // Fresh state (head, tail, waiting, posted); the data needs no clearing.
  new Int32Array(ring, 0, kHeaderBytes / 4).fill(0);
  return ring;
}

function giveBackRing(channel: Channel | undefined): void {
  if (channel !== undefined && spareRings.length < kSpareRings) {
    spareRings.push(channel.header.buffer as SharedArrayBuffer);
  }
}

/**
 * Calls `then` on a later macrotask. A 0 ms timer took 2–5 ms to fire on an
 * idle machine (tens of ms under load, 2 cores, Deno 2.9.6), once per worker
 * of a starting pool; a message on a channel of its own comes on the next
 * turn. Both ports are closed: then the channel no longer keeps the program
 * alive, and Deno 2.9.6 frees it (closing one port kept ~5 KB of native
 * memory per channel, for good).
 */
function nextMacrotask(then: () => void): void {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    port2.close();
    then();
  };
  port2.postMessage(null);
}

/** The pump's spin, learned from its hits (../_memory/spin.ts). */
const pumpSpin = new Spin(1 << 16, kPumpSpinMs);

/** What the engine does with what its workers report. */
export interface WorkerHost {
  /** A message from a worker ("ready", "bell", "result", "exit"). */
  message(worker: PoolWorker, message: FromPoolWorker): void;
  /** A worker ended (its own report, or an uncaught error). */
  exit(worker: PoolWorker, code: number, error?: WireError): void;
  /** Results are waiting in the worker's response ring. */
  drain(worker: PoolWorker): void;
  /** Whether one more worker should start now. */
  wantsWorker(): boolean;
  /** Starting a worker threw: the pool cannot work. */
  failed(error: Error): void;
}

/** The workers of one engine, and the pump that reads their rings. */
export class WorkerSet {
  readonly #options: EngineOptions;
  readonly #host: WorkerHost;
  readonly #workers = new Set<PoolWorker>();
  #spawning = false;
  #counter = 0;
  #poke = Promise.withResolvers<void>();
  #pumping = false;
  #sleeping = false;

  constructor(options: EngineOptions, host: WorkerHost) {
    this.#options = options;
    this.#host = host;
  }

  /** Number of live workers (started or starting). */
  get size(): number {
    return this.#workers.size;
  }

  /**
   * Whether a Pool's first workers are still to start: it starts all of them
   * (and runs their initializer) even when closed before any task, as
   * CPython's does.
   */
  owesWorkers(): boolean {
    return this.#options.eager && this.#counter < this.#options.processes;
  }

  /** No worker is alive, and none is still to start. */
  allGone(): boolean {
    return this.#workers.size === 0 && !this.owesWorkers();
  }

  /**
   * A worker still starting is no longer needed: an executor's ends now; a
   * Pool's runs its initializer first, as CPython's, and its "ready" brings
   * the engine back to retire it.
   */
  unneeded(worker: PoolWorker): void {
    if (!this.#options.eager) this.teardown(worker);
  }

  [Symbol.iterator](): IterableIterator<PoolWorker> {
    return this.#workers.values();
  }

  /** Workers that can still take work (not retiring). */
  live(): number {
    let n = 0;
    for (const worker of this.#workers) if (!worker.retiring) n++;
    return n;
  }

  /** Workers that can take a task now. */
  ready(): PoolWorker[] {
    return [...this.#workers].filter((w) => w.ready && !w.dead && !w.retiring);
  }

  /** How many workers the pool wants, with `queued` tasks waiting. */
  target(queued: number): number {
    if (this.#options.eager) return this.#options.processes;
    // On demand: one more worker while queued work outnumbers the workers
    // that are idle or still starting (each of those will take a task).
    const live = [...this.#workers].filter((w) => !w.retiring);
    const idle = live.filter((w) => !w.ready || w.inFlight.size === 0).length;
    const wanted = idle < queued ? live.length + 1 : live.length;
    return Math.min(this.#options.processes, wanted);
  }

  /** Starts a worker on a later macrotask, and more after it while wanted. */
  spawnSoon(): void {
    if (this.#spawning) return;
    this.#spawning = true;
    // new Worker() blocks this thread ~15 ms; one per macrotask keeps the
    // event loop (and the first workers' results) moving meanwhile.
    nextMacrotask(() => {
      this.#spawning = false;
      if (!this.#host.wantsWorker()) return;
      try {
        this.#spawn();
      } catch (error) {
        this.#host.failed(error as Error);
        return;
      }
      if (this.#host.wantsWorker()) this.spawnSoon();
    });
  }

  #spawn(): void {
    const s = state();
    const options = this.#options;
    const identity = [...s.identity, ++s.childCounter];
    const name = `${options.name}-${++this.#counter}`;
    const modules = options.caller === undefined ? [] : [options.caller];
    if (options.initializer !== undefined) {
      modules.push(...refModules(options.initializer));
    }
    // A sandboxed worker cannot import a task's module later itself (see
    // _child/spawn.ts): it gets every module the pool's creator imports,
    // where the functions of its tasks come from. Not the main module's
    // imports too: their top-level code would run under the worker's
    // permissions, and one that needs more would end every worker.
    if (
      options.caller !== undefined && !importsOwnModules(options.permissions)
    ) {
      modules.push(...importedModules(options.caller));
    }
    // With atomics "disabled", no ring: tasks and results go by postMessage.
    const requests = options.rings ? takeRing() : undefined;
    const responses = options.rings ? takeRing() : undefined;
    // Messages and the exit report arrive on later turns, after `handle` is
    // set. The worker is referenced while it starts (queued work waits for
    // it) and while it has tasks in flight; idle workers never keep the
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
      resourceLimits: options.resourceLimits,
      method: options.method,
      message: {
        t: "init",
        requests,
        responses,
        initializer: options.initializer,
        initargs: options.initargs,
      },
      onMessage: (message) =>
        this.#host.message(handle, message as FromPoolWorker),
      onExit: ({ code, error }) => this.#host.exit(handle, code, error),
    });
    handle = new PoolWorker(child, name, requests, responses);
    this.#workers.add(handle);
    if (!this.#pumping) this.#pump();
  }

  /**
   * Ends `worker` now and forgets it. terminate() does not interrupt an
   * Atomics.wait: the stop flag and a notify end an idle worker's sleep.
   *
   * A worker that runs no task ends itself on that flag, and is not
   * terminated: on Deno 2.9.6, terminate() landing while a worker runs
   * JavaScript (as one just woken from its wait does) keeps part of its
   * memory for good, ~0.5 MB per pool cycle (bench/leak_check.ts).
   *
   * @param retired The worker ended itself on retire(): its rings can be
   * reused.
   */
  teardown(worker: PoolWorker, retired = false): void {
    if (retired && !worker.dead) {
      // It left its loop on the stop flag and reported its end last: it
      // touches its rings no more.
      giveBackRing(worker.requests);
      giveBackRing(worker.responses);
    }
    worker.dead = true;
    this.wake();
    this.#workers.delete(worker);
    const control = worker.control;
    Atomics.store(control, kChildStop, 1);
    // From here the worker starts no task: its next claim fails. A task it
    // claimed before is announced in kChildTask (it announces, then claims).
    Atomics.store(control, kChildClaim, -1);
    if (worker.requests !== undefined) {
      Atomics.notify(worker.requests.header, kTail);
    }
    worker.worker.ref(false);
    // A ring worker watches the flag; one still starting reaches its loop
    // unless an initializer may hold it up.
    const endsItself = Atomics.load(control, kChildTask) === 0 &&
      (worker.ready || this.#options.initializer === undefined);
    // Without rings an idle worker waits in its event loop for a message:
    // a stop ends it there. Terminated instead, each kept ~0.9 MB for good
    // (bench/leak_check.ts, atomics "disabled", Deno 2.9.6).
    if (endsItself && worker.requests === undefined) {
      worker.post({ t: "stop" });
    }
    if (!endsItself) worker.worker.terminate();
  }

  /** Asks an idle `worker` to exit cleanly; its "exit" report follows. */
  retire(worker: PoolWorker): void {
    // One still starting exits as soon as it is up (so its rings are
    // reused), unless an initializer may hold it up.
    if (!worker.ready && this.#options.initializer !== undefined) {
      this.teardown(worker);
      return;
    }
    // It stays referenced until its exit arrives: work may be queued for
    // its replacement meanwhile.
    worker.worker.ref(true);
    Atomics.store(worker.control, kChildStop, 1);
    worker.post({ t: "stop" });
  }

  /** Makes the workers that run tasks hold the program alive, or not. */
  refBusy(holding: boolean): void {
    for (const worker of this.#workers) {
      if (!worker.dead && worker.inFlight.size > 0) worker.worker.ref(holding);
    }
  }

  /** Wakes the pump (new work dispatched, a doorbell, a worker gone). */
  wake(): void {
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
      if (!worker.dead && worker.responses!.hasMessage()) {
        drained++;
        this.#host.drain(worker);
      }
    }
    return drained;
  }

  #anyMessage(busy: PoolWorker[]): boolean {
    for (const worker of busy) if (worker.responses!.hasMessage()) return true;
    return false;
  }

  // One pump reads the results of every worker. After each drain it yields
  // a microtask turn, so the dispatch it scheduled and the callers'
  // continuations run before it looks again; otherwise the spin below
  // would starve the workers it waits for. Without rings there is nothing
  // to read: results arrive as messages.
  async #pump(): Promise<void> {
    if (!this.#options.rings) return;
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
        if (pumpSpin.until(() => this.#anyMessage(busy))) continue;
        // Sleep until a worker rings. Race-free: kWaiting is set before the
        // last look, and a worker reads it after writing its result.
        for (const worker of busy) {
          Atomics.store(worker.responses!.header, kWaiting, 1);
        }
        if (!this.#anyMessage(busy)) await this.#sleep();
        for (const worker of busy) {
          Atomics.store(worker.responses!.header, kWaiting, 0);
        }
        if (this.#anyMessage(busy)) pumpSpin.woke();
      }
    } finally {
      this.#pumping = false;
    }
  }
}
