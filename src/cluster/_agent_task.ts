// One task on an agent, from the claimed message to the result on its way:
// check the module, run the function on the local pool (the agent renews
// the claim of every message it holds), and send the result to the client,
// who acks the task once it holds the result. A crash anywhere before that
// ack leaves the message unacked, and JetStream gives it to another agent.
//
// Tier 8: the cluster export only.

import type { NatsConnection } from "@nats-io/transport-node";
import { ProcessError } from "../errors.ts";
import { toWireError } from "../_wire/error_codec.ts";
import { reducedAlready } from "../reduction.ts";
import type { Pool } from "../pool.ts";
import type { Served } from "./_modules.ts";
import type { Claim, Claimer } from "./_claims.ts";
import type { ChunkPlanner } from "./_chunks.ts";
import type { Outlook } from "./_outlook.ts";
import { agentArgs, sendError, sendResult } from "./_values.ts";
import {
  decode,
  encode,
  kListeningTimeoutMs,
  kMaxDeliveries,
  type Names,
  type ResultMessage,
  type TaskMessage,
} from "./_protocol.ts";

/** What a task needs from its agent. */
export interface AgentContext {
  id: string;
  nc: NatsConnection;
  names: Names;
  pool: Pool;
  served: Map<string, Served>;
  claimer: Claimer;
  /** Clients whose last result found nobody listening. */
  suspects: Set<string>;
  /** Messages claimed and not yet answered: the agent renews their claim. */
  held: Set<Claim>;
  log(line: string): void;
  counts: { running: number; done: number; redelivered: number };
  /** What the chunks of each function cost per item, as run here. */
  costs: ChunkPlanner;
  /** When the running tasks should end. */
  outlook: Outlook;
}

/**
 * Runs the task of `claim` and sends its result. Resolves once the result
 * is on its way: the agent's slot is free again.
 */
export async function runTask(ctx: AgentContext, claim: Claim): Promise<void> {
  const drop = () => {
    claim.term();
    ctx.held.delete(claim);
  };
  let task: TaskMessage;
  try {
    task = decode<TaskMessage>(claim.data);
  } catch {
    return drop(); // not ours: nothing could ever run it
  }
  const fn = `${task.module}#${task.name}`;
  const items = task.kind === "chunk" ? task.args.length : 0;
  const cost = items > 0 ? ctx.costs.cost(fn) : undefined;
  ctx.outlook.started(claim, cost === undefined ? undefined : cost * items);
  const deliveries = claim.deliveryCount;
  if (deliveries > 1) {
    ctx.counts.redelivered++;
    ctx.log(
      `agent ${ctx.id}: redelivery ${deliveries} of task ${task.id} of client ${task.client}`,
    );
  }
  // A client that stopped listening is gone or reconnecting; one that
  // reconnects publishes its pending tasks again, so dropping is safe.
  if (ctx.suspects.has(task.client)) {
    if (!await listening(ctx, task.client)) return drop();
    ctx.suspects.delete(task.client);
  }
  let result: ResultMessage;
  const base = {
    id: task.id,
    agent: ctx.id,
    deliveries,
    ack: claim.ackSubject,
  };
  if (deliveries > kMaxDeliveries) {
    const error = new ProcessError(
      `Cannot complete task as it was delivered ${deliveries} times without finishing: the agents that took it died or lost the server`,
    );
    result = { ...base, ok: false, error: toWireError(error) };
  } else {
    ctx.counts.running++;
    try {
      const [returned, ms] = await run(ctx, task);
      if (ms !== undefined) ctx.costs.record(fn, items, ms);
      const value = sendResult(returned, ctx.served);
      result = { ...base, ok: true, value, ms };
    } catch (error) {
      result = {
        ...base,
        ok: false,
        error: sendError(error, ctx.served, ctx.id),
      };
    } finally {
      ctx.counts.running--;
      ctx.counts.done++;
    }
  }
  let data: Uint8Array;
  try {
    data = encode(result);
  } catch (error) {
    data = encode({
      ...base,
      ok: false,
      error: sendError(error, ctx.served, ctx.id),
    });
  }
  const limit = ctx.nc.info?.max_payload;
  if (limit !== undefined && data.length > limit) {
    const error = new RangeError(
      `Cannot return the result as its message must fit the server's max_payload of ${limit} bytes: current value is ${data.length} bytes`,
    );
    data = encode({
      ...base,
      ok: false,
      error: sendError(error, ctx.served, ctx.id),
      // Each half may fit: the client sends them (their calls run again).
      ...(task.kind === "chunk" && items > 1 ? { tooLarge: true } : {}),
    });
  }
  // The client acks the task once it holds the result: no receipt to wait
  // for. The reply subject only hears the server's "no responders" (the
  // client is gone), and then the task is dropped (see Claimer).
  try {
    ctx.nc.publish(ctx.names.resultsOf(task.client), data, {
      reply: ctx.claimer.replyFor(claim, task.client),
    });
  } catch {
    // Disconnected: the task stays unacked, so it comes back (to us or
    // another agent) after the ack wait.
  }
  ctx.held.delete(claim);
}

/** Asks whether a client still listens for its results. */
async function listening(ctx: AgentContext, client: string): Promise<boolean> {
  try {
    await ctx.nc.request(ctx.names.resultsOf(client), new Uint8Array(0), {
      timeout: kListeningTimeoutMs,
    });
    return true;
  } catch (error) {
    return !(error as { isNoResponders?: () => boolean }).isNoResponders?.();
  }
}

/**
 * Runs the function on the local pool, after checking it is served as is;
 * a chunk also says how long its calls took in the worker.
 */
async function run(
  ctx: AgentContext,
  task: TaskMessage,
): Promise<[unknown, number | undefined]> {
  const served = ctx.served.get(task.module);
  const fn = `${task.module}#${task.name}`;
  if (served === undefined) {
    const list = [...ctx.served.keys()].join(", ");
    throw new ProcessError(
      `Cannot run '${fn}' as agent ${ctx.id} does not serve ${task.module}: it serves ${list} (every agent of a cluster serves the same modules)`,
    );
  }
  if (task.hash !== served.hash) {
    throw new ProcessError(
      `Cannot run '${fn}' as ${task.module} differs on host ${ctx.id}: the client's copy hashes to ${
        task.hash.slice(0, 12)
      }, the agent's to ${served.hash.slice(0, 12)}`,
    );
  }
  // The client reduced them: the pool passes them on as they are.
  const args = agentArgs(task.args, ctx.served, `run '${fn}'`);
  if (task.kind === "apply") {
    const target = new URL(`#${task.name}`, served.url);
    return [await ctx.pool.apply(target, args.map(reducedAlready)), undefined];
  }
  return await ctx.pool.apply(kRunChunk, [
    served.url,
    task.name,
    reducedAlready(args),
  ]) as [
    unknown,
    number,
  ];
}

const kRunChunk = new URL("./_worker_init.ts#runChunk", import.meta.url);
