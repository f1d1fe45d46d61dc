// The cluster's wire protocol, in one place: NATS subjects, the JetStream
// stream and consumer every agent and client agree on, and the messages.
//
//   client ──publish──▶ stream DMP_<cluster>, subject dmp.<c>.tasks.<client>
//                          │ (work queue: a message lives until acked)
//   agent  ◀──pull────── durable consumer "agents" (shared by every agent)
//   agent  ──publish──▶ dmp.<c>.results.<client>, with the task's ack subject
//   client ──ack──────▶ the task, once it holds the result
//   agent  ──publish──▶ dmp.<c>.agents (heartbeats: who serves, how many)
//
// A result travels by core NATS rather than through JetStream, and the
// client acks the task itself: JetStream forgets a task only once its
// client holds the result, for one message more than the result (an agent
// that waited for a receipt and then acked took three). The result carries
// a reply subject only so that the server's "no responders" tells the
// agent at once that the client is gone, so its queued work can be
// withdrawn instead of run.
//
// Tier 8: the cluster export only.

import { deserialize, serialize } from "node:v8";
import type { WireError } from "../_wire/error_codec.ts";

/** How many times a task may be delivered before it fails for good. */
export const kMaxDeliveries = 4;
/** The consumer's ack wait: a dead agent's tasks come back after this. */
export const kAckWaitMs = 4_000;
/** A running task renews its claim this often (an in-progress ack). */
export const kWorkingEveryMs = 1_000;
/** Agents announce themselves this often; silent ones count as gone. */
export const kHeartbeatMs = 1_000;
/** An agent unheard for this long no longer counts in `processes`. */
export const kAgentExpiryMs = 5_000;
/** Queued tasks of a client that never comes back expire after this. */
export const kTaskMaxAgeMs = 60 * 60 * 1_000;
/** How long an agent waits for a client to say it still listens. */
export const kListeningTimeoutMs = 10_000;

/** The subjects and JetStream names of one cluster. */
export interface Names {
  stream: string;
  consumer: string;
  tasks: string;
  agents: string;
  ping: string;
  tasksOf(client: string): string;
  resultsOf(client: string): string;
}

const kClusterName = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The names of cluster `cluster`.
 *
 * @throws {TypeError} A name NATS cannot carry in a subject.
 */
export function namesOf(cluster: string, what: string): Names {
  if (typeof cluster !== "string" || !kClusterName.test(cluster)) {
    throw new TypeError(
      `Cannot ${what} as 'cluster' must be 1 to 64 letters, digits, '_' or '-': current value is ${
        Deno.inspect(cluster)
      }`,
    );
  }
  const base = `dmp.${cluster}`;
  return {
    stream: `DMP_${cluster}`,
    consumer: "agents",
    tasks: `${base}.tasks.>`,
    agents: `${base}.agents`,
    ping: `${base}.ping`,
    tasksOf: (client) => `${base}.tasks.${client}`,
    resultsOf: (client) => `${base}.results.${client}`,
  };
}

/** How the agent calls the function: once, or over a chunk of argument lists. */
export type TaskKind = "apply" | "chunk";

/** A task as it travels from a client to an agent. */
export interface TaskMessage {
  /** Unique within the client: results are deduplicated by it. */
  id: string;
  client: string;
  /** The module: a path relative to the root, or a jsr:/npm:/https: URL. */
  module: string;
  /** SHA-256 of the module's source on the client ("" for remote URLs). */
  hash: string;
  name: string;
  kind: TaskKind;
  /** `apply`: the argument list; `chunk`: a list of argument lists. */
  args: unknown[];
}

/** A result as it travels from an agent to a client. */
export type ResultMessage =
  & {
    id: string;
    agent: string;
    deliveries: number;
    /** The task's JetStream ack subject: the client acks it. */
    ack: string;
    /** Set where it is received: the message's size in bytes. */
    bytes?: number;
  }
  & (
    | {
      ok: true;
      value: unknown;
      /** A chunk: how long its calls took in the worker, in ms. */
      ms?: number;
    }
    | {
      ok: false;
      error: WireError;
      /** A chunk's results outgrew max_payload: send it again in halves. */
      tooLarge?: true;
    }
  );

/** What an agent says about itself on the `agents` subject. */
export interface AgentBeat {
  id: string;
  processes: number;
  running: number;
  done: number;
  redelivered: number;
  /** false in the agent's last word, when it stops. */
  up: boolean;
}

/**
 * Encodes a message with V8's serializer: the values of structured clone
 * (Map, Set, Date, bigint, typed arrays, cycles) survive; class instances
 * and errors are in the library's forms by then (src/cluster/_values.ts).
 */
export function encode(message: unknown): Uint8Array {
  return serialize(message);
}

/** Decodes a message from {@linkcode encode}. */
export function decode<T>(data: Uint8Array): T {
  return deserialize(data) as T;
}
