// The worker side of kChildClaim (the pool side is Dispatcher.steal(), in
// ./dispatch.ts): before it runs a task, a worker moves its claim word from
// the previous task's id to this one's by compare-and-swap. When the swap
// fails, the pool has moved the word past tasks the worker had not started
// (to give them to an idle worker), and the worker passes over every task up
// to the id the pool wrote. Tasks must come in dispatch order for this.

import { kChildClaim, kChildTask } from "../_wire/layouts.ts";
import { kMaxTaskId, type PoolTakenMessage } from "../_wire/protocol.ts";

/** A pool worker's claims on the tasks dispatched to it. */
export class Claims {
  readonly #control: Int32Array;
  /** The id of the last task claimed or passed over. */
  #claimed = 0;
  /** Nonzero: the pool took back the tasks up to this id. */
  #takenUntil = 0;

  /** @param control The worker's control block. */
  constructor(control: Int32Array) {
    this.#control = control;
  }

  /** The id of the task dispatched after the last one seen. */
  get next(): number {
    return this.#claimed === kMaxTaskId ? 1 : this.#claimed + 1;
  }

  /**
   * Whether to run task `id`, the next in dispatch order: false when the
   * pool took it back first.
   */
  claim(id: number): boolean {
    const control = this.#control;
    if (this.#takenUntil === 0) {
      // Announced first: a pool that ends this worker sees, after its own
      // swap, any task claimed before it (WorkerSet.teardown()).
      Atomics.store(control, kChildTask, id);
      const seen = Atomics.compareExchange(
        control,
        kChildClaim,
        this.#claimed,
        id,
      );
      if (seen === this.#claimed) {
        this.#claimed = id;
        return true;
      }
      Atomics.store(control, kChildTask, 0);
      this.#takenUntil = seen;
    }
    this.#claimed = id;
    if (id === this.#takenUntil) this.#takenUntil = 0;
    return false;
  }

  /**
   * The pool's swap, made here for a "subprocess" worker, whose control
   * block lives in its own OS process: moves the claim word past the tasks
   * up to `until` not started yet. Called between tasks (on this thread),
   * so nothing can claim meanwhile.
   *
   * @returns Which tasks came back: none when `after === until`.
   */
  giveBack(until: number): PoolTakenMessage {
    const after = Atomics.load(this.#control, kChildClaim);
    // `until` was dispatched already (the take follows it on the same
    // channel): it is ahead of the word unless it was claimed meanwhile.
    const ahead = (until - after + kMaxTaskId) % kMaxTaskId;
    if (ahead === 0 || ahead > kMaxTaskId / 2) {
      return { t: "taken", after: until, until };
    }
    Atomics.store(this.#control, kChildClaim, until);
    return { t: "taken", after, until };
  }
}
