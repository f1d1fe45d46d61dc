// The client's side of the cluster: publishes tasks into the work queue
// (at most `maxPending` of them at a time), takes the results and acks
// their tasks, yields each exactly once (by task id), and keeps track of
// live agents.
//
// Tier 8: the cluster export only.

import type { NatsConnection } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { ProcessError, TimeoutError } from "../errors.ts";
import { after } from "../_core/time.ts";
import { onAbort } from "../_core/abort_listeners.ts";
import { afterReconnects } from "./_nats.ts";
import {
  type AgentBeat,
  decode,
  encode,
  kAgentExpiryMs,
  type Names,
  type ResultMessage,
  type TaskKind,
  type TaskMessage,
} from "./_protocol.ts";

const kAck = new TextEncoder().encode("+ACK");

/**
 * A task's message is larger than the server takes (its `max_payload`): a
 * chunk of several items may be split and sent again.
 */
export class PayloadTooLarge extends RangeError {}

/** A function call as the client sends it. */
export interface Call {
  module: string;
  hash: string;
  name: string;
  kind: TaskKind;
  args: unknown[];
}

/** Per-task limits: as the local pool's. */
export interface Limits {
  signal?: AbortSignal;
  timeout?: number;
}

interface Pending {
  task: TaskMessage;
  attempt: number;
  published: boolean;
  seq?: number;
  settle(value: unknown, error?: Error): void;
}

/** The numbers of `ClusterPool.stats()`. */
export interface ClusterStats {
  /** Live agents (heard from in the last few seconds). */
  agents: number;
  /** Their local processes, summed. */
  processes: number;
  /** This pool's tasks submitted and not yet answered. */
  queued: number;
  /** Tasks the agents are running now (for every client). */
  running: number;
  /** This pool's tasks answered. */
  done: number;
  /** This pool's results that came from a redelivered task. */
  redelivered: number;
}

function timedOut(timeout: number): TimeoutError {
  return new TimeoutError(
    `Cannot complete task as it ran past its ${timeout}s timeout`,
  );
}

/** One client connection to one cluster. */
export class ClusterClient {
  readonly id = crypto.randomUUID().replaceAll("-", "");
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #names: Names;
  readonly #maxPending: number;
  readonly #pending = new Map<string, Pending>();
  #reserved = 0;
  #slotWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #seq = 0;
  #done = 0;
  #redelivered = 0;
  readonly #agents = new Map<string, { beat: AgentBeat; seen: number }>();
  #reconnected = Promise.withResolvers<void>();
  #broken: Error | undefined;
  // Stream sequences of the tasks fail() gave up on, for withdraw().
  #unanswered: number[] = [];

  constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    names: Names,
    maxPending: number,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#names = names;
    this.#maxPending = maxPending;
    nc.subscribe(names.resultsOf(this.id), {
      callback: (_error, msg) => {
        // An agent asking whether we listen.
        if (msg.data.length === 0) return void msg.respond();
        let result: ResultMessage;
        try {
          result = decode<ResultMessage>(msg.data);
        } catch {
          return; // not a result of ours
        }
        result.bytes = msg.data.length;
        this.#receive(result);
        // Ours now, so JetStream may forget the task (a duplicate too).
        if (
          typeof result.ack === "string" && result.ack.startsWith("$JS.ACK.")
        ) {
          try {
            nc.publish(result.ack, kAck);
          } catch { /* disconnected: it runs again, and is deduplicated */ }
        }
      },
    });
    nc.subscribe(names.agents, {
      callback: (_error, msg) => {
        let beat: AgentBeat;
        try {
          beat = decode<AgentBeat>(msg.data);
        } catch {
          return; // not an agent's
        }
        if (beat.up) this.#agents.set(beat.id, { beat, seen: Date.now() });
        else this.#agents.delete(beat.id);
      },
    });
    void this.#watch();
    nc.closed().then((cause) =>
      this.fail(
        new ProcessError(
          "Cannot complete task as the connection to the NATS server closed",
          { cause },
        ),
      )
    );
  }

  /** Asks the agents to announce themselves, and waits a moment for them. */
  async discover(): Promise<void> {
    const heard = Promise.withResolvers<void>();
    const sub = this.#nc.subscribe(this.#names.agents, {
      max: 1,
      callback: () => heard.resolve(),
    });
    this.#nc.publish(this.#names.ping);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      heard.promise,
      new Promise((resolve) => timer = setTimeout(resolve, 1_000)),
    ]);
    clearTimeout(timer);
    sub.unsubscribe();
    // The first answer came; give the others one round trip to arrive.
    await this.#nc.flush().catch(() => {});
  }

  /** Runs a call on the cluster; resolves with its result message. */
  async submit(call: Call, limits: Limits = {}): Promise<ResultMessage> {
    // Given up on before it starts: never sent, as the local pool never
    // runs it (once published, an idle agent may take it at once).
    if (limits.signal?.aborted) throw limits.signal.reason;
    if (limits.timeout !== undefined && limits.timeout <= 0) {
      throw timedOut(limits.timeout);
    }
    await this.#slot();
    const id = String(this.#seq++);
    const task: TaskMessage = { id, client: this.id, ...call };
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    let cleanup = () => {};
    const pending: Pending = {
      task,
      attempt: 0,
      published: false,
      settle: (value, error) => {
        if (this.#pending.get(id) !== pending) return;
        this.#pending.delete(id);
        cleanup();
        this.#release();
        if (error === undefined) resolve(value);
        else reject(error);
      },
    };
    this.#pending.set(id, pending);
    cleanup = this.#limit(pending, limits);
    if (this.#broken) pending.settle(undefined, this.#broken);
    else void this.#publish(pending);
    return await promise as ResultMessage;
  }

  /** Rejects every pending task and refuses new ones. */
  fail(error: Error): void {
    this.#broken ??= error;
    for (const pending of [...this.#pending.values()]) {
      if (pending.seq !== undefined) this.#unanswered.push(pending.seq);
      pending.settle(undefined, error);
    }
    for (const wake of this.#slotWaiters.splice(0)) wake();
  }

  /**
   * Withdraws the tasks fail() gave up on from the stream, one by one: a
   * purge filtered on this client's subject moved the consumer that every
   * client shares past the other clients' tasks on nats-server 2.9, which
   * then never ran.
   */
  async withdraw(): Promise<void> {
    await Promise.all(
      this.#unanswered.splice(0).map((seq) => this.#forget(seq)),
    );
  }

  // Takes a task out of the stream, unless an agent has it already.
  #forget(seq: number): Promise<void> {
    return this.#jsm.streams.deleteMessage(this.#names.stream, seq, false)
      .then(() => {}, () => {});
  }

  /** Settles once no task is pending. */
  idle(): Promise<void> {
    if (this.#pending.size === 0 && this.#reserved === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Closes the connection (after the pending work, if `drain`). */
  async close(drain: boolean): Promise<void> {
    if (this.#nc.isClosed()) return;
    if (drain) await this.#nc.drain().catch(() => {});
    else await this.#nc.close().catch(() => {});
  }

  /** The local processes of the live agents, summed. */
  get processes(): number {
    return this.#live().reduce((sum, beat) => sum + beat.processes, 0);
  }

  /** The numbers of `ClusterPool.stats()`. */
  stats(): ClusterStats {
    const live = this.#live();
    return {
      agents: live.length,
      processes: live.reduce((sum, beat) => sum + beat.processes, 0),
      queued: this.#pending.size,
      running: live.reduce((sum, beat) => sum + beat.running, 0),
      done: this.#done,
      redelivered: this.#redelivered,
    };
  }

  #live(): AgentBeat[] {
    const now = Date.now();
    return [...this.#agents.values()]
      .filter((entry) => now - entry.seen < kAgentExpiryMs)
      .map((entry) => entry.beat);
  }

  #receive(result: ResultMessage): void {
    const pending = this.#pending.get(result.id);
    if (pending === undefined) return; // a duplicate, or given up on
    if (result.deliveries > 1) this.#redelivered++;
    this.#done++;
    // Revived by the caller (ClusterCalls), which knows the root.
    pending.settle(result);
  }

  // How many tasks may be out now: maxPending, and no more than about two
  // per live process (one running, one queued behind it), as imap reads
  // ahead. The queue is one FIFO for every client: a client that queued
  // all of a long map at once made another client's task wait for all of
  // it; so it waits for about one round of it.
  #window(): number {
    return Math.min(this.#maxPending, Math.max(8, 2 * this.processes));
  }

  async #slot(): Promise<void> {
    while (this.#reserved >= this.#window() && !this.#broken) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    this.#reserved++;
  }

  #release(): void {
    this.#reserved--;
    // The window may have grown (agents came): wake as many as fit; each
    // looks again.
    const free = Math.max(1, this.#window() - this.#reserved);
    for (const wake of this.#slotWaiters.splice(0, free)) wake();
    if (this.#pending.size === 0 && this.#reserved === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  // Publishes until the server stores the task. The message id makes the
  // server drop a second copy of the same attempt (its dedup window).
  async #publish(pending: Pending): Promise<void> {
    const { task } = pending;
    let data: Uint8Array;
    try {
      data = encode(task);
    } catch (error) {
      return pending.settle(
        undefined,
        new TypeError(
          `Cannot run task as its arguments must be values V8's serializer can copy: ${
            (error as Error).message
          }`,
        ),
      );
    }
    const limit = this.#nc.info?.max_payload;
    if (limit !== undefined && data.length > limit) {
      return pending.settle(
        undefined,
        new PayloadTooLarge(
          `Cannot run task as its message must fit the server's max_payload of ${limit} bytes: current value is ${data.length} bytes`,
        ),
      );
    }
    while (this.#pending.get(task.id) === pending) {
      try {
        const ack = await this.#js.publish(this.#names.tasksOf(this.id), data, {
          msgID: `${this.id}.${task.id}.${pending.attempt}`,
        });
        pending.seq = ack.seq;
        pending.published = true;
        // Given up on (a signal, a timeout, terminate()) while the server
        // stored it: take it back out, unless an agent has it already.
        if (this.#pending.get(task.id) !== pending) void this.#forget(ack.seq);
        return;
      } catch {
        // Not stored (the server is away, or busy): try again after the
        // next reconnect, or soon.
        if (this.#nc.isClosed()) return;
        await Promise.race([
          this.#reconnected.promise,
          new Promise((resolve) => setTimeout(resolve, 500)),
        ]);
      }
    }
  }

  // After a reconnect, publish the published tasks again: an agent that
  // found this client gone while it was away dropped them (their results
  // are deduplicated here if they were not).
  #watch(): Promise<void> {
    return afterReconnects(this.#nc, this.#names, () => {
      this.#reconnected.resolve();
      this.#reconnected = Promise.withResolvers<void>();
      for (const pending of this.#pending.values()) {
        if (!pending.published) continue;
        pending.published = false;
        pending.attempt++;
        void this.#publish(pending);
      }
    });
  }

  #limit(pending: Pending, limits: Limits): () => void {
    const { signal, timeout } = limits;
    if (signal === undefined && timeout === undefined) return () => {};
    const give = (error: Error) => {
      const seq = pending.seq;
      pending.settle(undefined, error);
      // Not yet stored: #publish() takes it back out once it is.
      if (seq !== undefined) void this.#forget(seq);
    };
    // submit() refused a signal aborted already.
    const unlisten = onAbort(signal, () => give(signal!.reason));
    // after(): a timeout past 2^31 - 1 ms must not fire at once.
    const cancel = timeout === undefined
      ? () => {}
      : after(timeout, () => give(timedOut(timeout)));
    return () => {
      cancel();
      unlisten();
    };
  }
}
