// One worker of the pool, as the main thread sees it: its child, its
// control block and rings, and the tasks it holds.

import { Channel, kPosted, kTail } from "../_memory/channel.ts";
import type { Child } from "../_child/handshake.ts";
import type { Task } from "./task.ts";

/** One worker of the pool, as the main thread sees it. */
export class PoolWorker {
  readonly worker: Child;
  readonly name: string;
  /** Tasks to the worker; undefined with atomics "disabled". */
  readonly requests: Channel | undefined;
  /** Results from the worker; undefined with atomics "disabled". */
  readonly responses: Channel | undefined;
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
  /** Tasks ever dispatched to it: the last one's place in its order. */
  dispatched = 0;
  /** Estimated ms of work in flight: the sum of its tasks' estimates. */
  backlog = 0;
  /** Tasks in flight whose function had no measured cost (counted without steal()). */
  unmeasured = 0;
  /** A "take" sent to it is not answered yet (Dispatcher.steal()). */
  asked = false;
  /** When the last result arrived (performance.now()). */
  lastResultAt = 0;

  constructor(
    worker: Child,
    name: string,
    requests: SharedArrayBuffer | undefined,
    responses: SharedArrayBuffer | undefined,
  ) {
    this.worker = worker;
    this.name = name;
    this.requests = requests === undefined ? undefined : new Channel(requests);
    this.responses = responses === undefined
      ? undefined
      : new Channel(responses);
    this.control = worker.control;
  }

  /**
   * Sends a message the worker must receive through its event loop, and
   * tells it so: it may be blocked in Atomics.wait, deaf to messages.
   */
  post(message: unknown, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
    const requests = this.requests;
    if (requests === undefined) return;
    Atomics.add(requests.header, kPosted, 1);
    Atomics.notify(requests.header, kTail);
  }
}
