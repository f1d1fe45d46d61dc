// The transport: how tasks reach a worker and results come back. Small
// JSON-safe tasks go as one JSON batch per flush through the worker's
// request ring, naming each function once by a small per-worker id;
// anything else (and, with atomics "disabled", everything) by postMessage.

import { jsonSafe, kJsonMaxItems, packNumbers } from "../_memory/channel.ts";
import {
  type RingResult,
  type RingTaskBatch,
  TaskMode,
} from "../_wire/protocol.ts";
import type { PoolWorker } from "./pool_worker.ts";
import type { Task } from "./task.ts";

/** What the transport did, for tests (never read on a hot path). */
export interface TransportCounters {
  /** Tasks sent through a request ring. */
  ring: number;
  /** Tasks sent by postMessage. */
  posted: number;
  /** Ring messages that held only part of a batch (it was too large for one). */
  splits: number;
}

const owners = new WeakMap<object, TransportCounters>();

/**
 * What the transport of `owner`'s engine did so far: tasks by ring, by
 * postMessage, split batches. For tests; not part of the public API.
 *
 * @throws {TypeError} When `owner` is not a Pool or ProcessPoolExecutor.
 */
export function transportCounters(owner: object): Readonly<TransportCounters> {
  const counters = owners.get(owner);
  if (counters === undefined) {
    throw new TypeError(
      `Cannot read transport counters as 'owner' must be a Pool or ProcessPoolExecutor: current value is ${
        Deno.inspect(owner)
      }`,
    );
  }
  return { ...counters };
}

/** Sends tasks to workers and reads their rings. */
export class Transport {
  readonly counters: TransportCounters = { ring: 0, posted: 0, splits: 0 };
  readonly #rings: boolean;

  /**
   * @param rings Whether JSON-safe tasks may take the rings.
   * @param owner The Pool or executor whose transportCounters() these are.
   */
  constructor(rings: boolean, owner: object) {
    this.#rings = rings;
    owners.set(owner, this.counters);
  }

  /**
   * Delivers tasks: the JSON-safe ones as one ring batch, the rest (and any
   * the ring cannot take now) by postMessage.
   */
  send(worker: PoolWorker, tasks: Task[]): void {
    const requests = worker.requests;
    if (!this.#rings || requests === undefined) {
      for (const task of tasks) this.#post(worker, task);
      return;
    }
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
        !requests.tryWrite(
          JSON.stringify(
            from === 0 && to === batch.length ? batch : batch.slice(from, to),
          ),
        )
      ) {
        if (to - from === 1) {
          this.counters.ring += from;
          for (let i = from; i < batch.length; i++) {
            if (batch[i].length > 4) worker.functionIds.delete(batched[i].key);
            this.#post(worker, batched[i]);
          }
          return;
        }
        to = from + ((to - from) >> 1);
      }
      if (from > 0 || to < batch.length) this.counters.splits++;
      from = to;
    }
    this.counters.ring += batch.length;
  }

  #post(worker: PoolWorker, task: Task): void {
    this.counters.posted++;
    const { id, fn, mode, payload } = task;
    const numbers = mode === TaskMode.Map ? packNumbers(payload) : undefined;
    if (numbers === undefined) {
      worker.post({ t: "task", id, fn, mode, payload });
    } else {
      const message = { t: "task", id, fn, mode, payload: null, numbers };
      worker.post(message, [numbers.buffer as ArrayBuffer]);
    }
  }

  /**
   * Reads every result waiting in `worker`'s response ring, one ring read
   * (one or more messages) at a time.
   *
   * @returns The results of one read, or undefined when the ring is empty.
   */
  read(worker: PoolWorker): RingResult[] | undefined {
    return worker.responses?.tryReadAll() as RingResult[] | undefined;
  }
}
