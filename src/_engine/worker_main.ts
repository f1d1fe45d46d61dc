// The entry of a pool worker: runs tasks until told to stop.
//
// Idle strategy (why it looks like this, measured on Deno 2.9.6, 2 cores):
// after a task the worker spins on the request ring for kSpinMs, because in
// a busy pool the next task is usually microseconds away, while a sleep and
// wake-up costs far more: ~35 µs through Atomics.wait and 80–700 µs through
// Atomics.waitAsync (it waits for an event-loop turn). The spin is short: on
// a machine with no spare core a spinning worker takes the CPU from the
// thread it waits for. An idle worker sleeps in Atomics.wait, in slices
// that grow from kSliceMs to kMaxSliceMs while it stays idle (each wake-up
// costs ~0.1 ms of CPU: 5 ms slices kept four idle workers at 10% of a
// core), and gives its event loop a turn between slices and whenever the
// pool posted it a message (kPosted), so postMessage'd tasks and I/O
// callbacks get their turn. A stop (kChildStop, then a notify) ends the wait
// at once; terminate() alone would not interrupt it.
//
// Timers the tasks left behind need a timer turn, and a 0 ms timer takes
// ~2 ms in Deno: a busy worker lost 2% of its time to them, and an idle one
// could not see new tasks for that long. So other turns are a port message
// (~30 µs), and a timer turn comes every kIdleTimerMs when idle and every
// kBusyTimerMs when busy.

import {
  deliverEarlyMessages,
  fatal,
  finish,
  startupFailuresReportedByParent,
} from "../_child/bootstrap.ts";
import {
  Channel,
  jsonSafe,
  kHead,
  kJsonMaxItems,
  kPosted,
  kTail,
  kWaiting,
  packNumbers,
} from "../_memory/channel.ts";
import {
  type FromPoolWorker,
  type PoolInitMessage,
  type PoolTaskMessage,
  ResultStatus,
  type RingResult,
  type RingTask,
  type RingTaskBatch,
  type TaskMode,
  type ToPoolWorker,
} from "../_wire/protocol.ts";
import { kChildTask } from "../_wire/layouts.ts";
import { Claims } from "./worker_claims.ts";
import { apply } from "./apply_task.ts";
import { Spin } from "../_memory/spin.ts";
import { toWireError } from "../_wire/error_codec.ts";
import { reduce, revive } from "../reduction.ts";
import { wireError } from "../_core/results.ts";
import { registerNamespaces, withClasses } from "../_core/classes.ts";
import {
  adoptIdentity,
  state,
  stopRequested,
  workerScope,
} from "../_core/state.ts";
import {
  loadTarget,
  type Namespaces,
  refFromKey,
  refKey,
  type TargetRef,
} from "../_core/target.ts";

type Fn = (...args: unknown[]) => unknown;

// Runs before the pool creator's module is imported: a failure there becomes
// the pool's BrokenProcessPoolError, printed once, by the parent.
startupFailuresReportedByParent();

/** Milliseconds of spinning on the request ring before sleeping, at most. */
const kSpinMs = 0.2;
/** The worker's spin after a task, learned from its hits (../_memory/spin.ts). */
const idleSpin = new Spin(1 << 18, kSpinMs);
/** First Atomics.wait of an idle worker, in milliseconds. */
const kSliceMs = 5;
/** Longest single Atomics.wait of an idle worker, in milliseconds. */
const kMaxSliceMs = 100;
/** Longest stretch of back-to-back ring tasks before an event-loop turn. */
const kYieldMs = 100;
/** Most milliseconds between timer turns while idle. */
const kIdleTimerMs = 50;
/** Most milliseconds between timer turns while busy. */
const kBusyTimerMs = 1000;

// With atomics "disabled" there are no rings: both stay unset.
let requests: Channel;
let responses: Channel | undefined;
let control: Int32Array;
let claims: Claims;
let modules: Namespaces = {};
const functions = new Map<string, Fn>();
/** The ring's small function ids, as the pool assigned them. */
const ringFunctions = new Map<number, { key: string; ref: TargetRef }>();
const inbox: PoolTaskMessage[] = [];
/** The ring batch being worked through, and the position in it. */
let batch: RingTaskBatch = [];
let next = 0;
let stopping = false;
/** Messages received by onmessage; compared with the pool's kPosted. */
let received = 0;
// Two ways to give the event loop a turn: a port message is fast (no timer
// clamping) and enough to receive a message from the pool; a 0 ms timer is
// slower but lets the timers the tasks left behind fire too.
function yieldToTimers(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const yielder = new MessageChannel();
let yielded: (() => void) | undefined;
yielder.port1.onmessage = () => yielded?.();
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    yielded = resolve;
    yielder.port2.postMessage(null);
  });
}

function postsPending(): boolean {
  return Atomics.load(requests.header, kPosted) !== received;
}

function post(message: FromPoolWorker): void {
  workerScope.postMessage(message);
}

async function lookup(key: string, ref: TargetRef | undefined): Promise<Fn> {
  const known = functions.get(key);
  if (known !== undefined) return known;
  if (ref === undefined) {
    throw new Error(`Cannot run task as function ${key} was never sent`);
  }
  const fn = await loadTarget(ref, modules);
  // The target's module may be one the pool's creator never imported (a
  // URL target): its exported classes must still be found by identity, so
  // that an error or a result of such a class keeps it on the way back.
  registerNamespaces(modules);
  functions.set(key, fn);
  return fn;
}

/** Longest a written result may wait for its wake-up signal, in ms. */
const kBatchMs = 0.5;
let unsignalled = false;
let lastSignal = 0;

/** Wakes the pool's pump if it sleeps. */
function signal(): void {
  unsignalled = false;
  lastSignal = performance.now();
  // The main thread cannot block, and an Atomics.waitAsync wake-up costs
  // 80–700 µs there, so a sleeping pump is woken by a message.
  if (Atomics.load(responses!.header, kWaiting) !== 0) post({ t: "bell" });
}

function respond(id: number, status: ResultStatus, value?: unknown): void {
  const message: RingResult = status === ResultStatus.Undefined
    ? [id, status]
    : [id, status, value];
  const large = Array.isArray(value) && value.length > kJsonMaxItems;
  // `undefined` and most errors carry nothing JSON cannot hold; an error
  // with its travelling form does, and is not JSON-safe.
  if (
    responses !== undefined &&
    (status === ResultStatus.Undefined || (!large && jsonSafe(value)))
  ) {
    if (responses.tryWrite(JSON.stringify(message))) {
      unsignalled = true;
      // With more tasks waiting, a pump that sleeps can wait for the
      // batch: one wake-up per batch, not per result.
      if (
        (next >= batch.length && !requests.hasMessage()) ||
        performance.now() - lastSignal > kBatchMs
      ) {
        signal();
      }
      return;
    }
  }
  const numbers = packNumbers(value);
  if (numbers !== undefined) {
    workerScope.postMessage({ t: "result", id, status, numbers }, [
      numbers.buffer as ArrayBuffer,
    ]);
    return;
  }
  // An error is reduced already (wireError()).
  const reduced = status === ResultStatus.Error
    ? value
    : reduce(value, "result", "return a result");
  post({ t: "result", id, status, value: reduced });
}

async function run(
  id: number,
  key: string,
  ref: TargetRef | undefined,
  mode: TaskMode,
  payload: unknown,
) {
  Atomics.store(control, kChildTask, id);
  try {
    const fn = await lookup(key, ref);
    const value = await apply(fn, mode, payload);
    // Cleared before the result: once the pool has it, it may end this
    // worker, and terminates it only if a task still runs.
    Atomics.store(control, kChildTask, 0);
    if (value === undefined) respond(id, ResultStatus.Undefined);
    else respond(id, ResultStatus.Value, value);
  } catch (error) {
    Atomics.store(control, kChildTask, 0);
    respond(id, ResultStatus.Error, wireError(error));
  }
}

/** Runs a task that came by postMessage. */
async function runPosted(task: PoolTaskMessage): Promise<void> {
  const key = refKey(task.fn);
  let payload: unknown = task.numbers;
  if (payload === undefined) {
    try {
      payload = await withClasses(() => revive(task.payload));
    } catch (error) {
      // A class that cannot be rebuilt here fails its task, not the worker.
      respond(task.id, ResultStatus.Error, wireError(error));
      return;
    }
  }
  return run(task.id, key, task.fn, task.mode, payload);
}

/** Wakes serveMessages() when a message arrives. */
let arrived: (() => void) | undefined;

// With atomics "disabled" every task arrives as a message, so the worker
// waits in its event loop between tasks, as a plain worker does.
async function serveMessages(): Promise<void> {
  while (!stopRequested()) {
    const task = inbox.shift();
    if (task !== undefined) {
      if (claims.claim(task.id)) await runPosted(task);
      continue;
    }
    if (stopping) break;
    await new Promise<void>((resolve) => arrived = resolve);
    arrived = undefined;
  }
  finish(0);
}

async function loop(): Promise<void> {
  let lastYield = performance.now();
  let lastTimerTurn = lastYield;
  const turn = async (timerEveryMs: number) => {
    if (performance.now() - lastTimerTurn > timerEveryMs) {
      await yieldToTimers();
      lastTimerTurn = performance.now();
    } else {
      await yieldToEventLoop();
    }
    lastYield = performance.now();
  };
  // Spin only right after work: an idle worker that spun after every sleep
  // slice burned ~15% of a core doing nothing.
  let worked = false;
  let slice = kSliceMs;
  while (!stopRequested()) {
    // However busy, give the event loop (and so errors the tasks left
    // behind) a turn every kYieldMs.
    if (performance.now() - lastYield > kYieldMs) {
      // A turn may take milliseconds: never keep the pool waiting on
      // results written before it.
      if (unsignalled) signal();
      await turn(kBusyTimerMs);
    }
    if (next >= batch.length) {
      const batches = requests.tryReadAll() as RingTaskBatch[] | undefined;
      if (batches !== undefined) {
        batch = batches.length === 1 ? batches[0] : batches.flat();
        next = 0;
      }
    }
    // Tasks run in dispatch order, whichever way each came: the claims
    // depend on it (and a single worker runs calls in submission order).
    const want = claims.next;
    const posted = inbox.length > 0 ? inbox[0].id : 0;
    if (
      next < batch.length &&
      (batch[next][0] === want ||
        // Never happens (a task's predecessors are all sent before it);
        // should it, run what came rather than stall.
        (posted !== want && !postsPending()))
    ) {
      const [id, fid, mode, payload, name, source]: RingTask = batch[next++];
      if (name !== undefined) {
        ringFunctions.set(fid, {
          key: name,
          ref: refFromKey(name, source ?? null),
        });
      }
      if (!claims.claim(id)) continue;
      const known = ringFunctions.get(fid);
      if (known === undefined) {
        // The engine names a function before using its id; this is a bug.
        respond(
          id,
          ResultStatus.Error,
          toWireError(
            new Error(`Cannot run task as function id ${fid} was never named`),
          ),
        );
        continue;
      }
      await run(id, known.key, known.ref, mode, payload);
      worked = true;
      continue;
    }
    if (posted !== 0 && posted === want) {
      const task = inbox.shift()!;
      if (claims.claim(task.id)) {
        await runPosted(task);
        worked = true;
      }
      continue;
    }
    if (unsignalled) signal();
    if (stopping) break;
    if (postsPending()) {
      await yieldToEventLoop();
      continue;
    }
    if (worked) {
      worked = false;
      slice = kSliceMs;
      if (idleSpin.until(() => requests.hasMessage() || postsPending())) {
        continue;
      }
    }
    Atomics.store(requests.header, kWaiting, 1);
    if (!requests.hasMessage() && !postsPending() && !stopRequested()) {
      // Expect tail == our head ("empty"), not a fresh load of the tail: a
      // task landing after the check above then ends the wait at once.
      Atomics.wait(
        requests.header,
        kTail,
        Atomics.load(requests.header, kHead),
        slice,
      );
      slice = Math.min(kMaxSliceMs, slice * 2);
    }
    Atomics.store(requests.header, kWaiting, 0);
    if (requests.hasMessage() || postsPending()) idleSpin.woke();
    else await turn(kIdleTimerMs);
  }
  finish(0);
}

async function start(init: PoolInitMessage): Promise<void> {
  control = adoptIdentity(init);
  claims = new Claims(control);
  if (init.requests !== undefined) requests = new Channel(init.requests);
  if (init.responses !== undefined) responses = new Channel(init.responses);
  if (init.initializer !== undefined) {
    const initializer = await loadTarget(init.initializer, modules);
    const result = initializer(
      ...(await withClasses(() => revive(init.initargs)) as unknown[]),
    );
    if (result instanceof Promise) await result;
  }
  post({ t: "ready" });
  await (init.requests === undefined ? serveMessages() : loop());
}

/** Called by the worker's entry once the pool creator's module is imported. */
export function main(imported: Namespaces): void {
  modules = { ...imported };
  registerNamespaces(imported);
  state().bootstrapping = false;
  workerScope.onmessage = (event: MessageEvent<ToPoolWorker>) => {
    const message = event.data;
    if (message.t === "init") start(message).catch(fatal);
    else if (message.t === "task") inbox.push(message);
    else if (message.t === "take") post(claims.giveBack(message.until));
    else stopping = true;
    if (message.t !== "init") received++;
    arrived?.();
  };
  deliverEarlyMessages();
}
