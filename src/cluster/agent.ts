/**
 * A cluster agent: runs on each worker host, pulls tasks from the cluster's
 * JetStream work queue and runs them on a local {@linkcode Pool}. Also the
 * agent's command line:
 *
 * ```sh
 * deno run -A agent.ts --servers nats://host:4222 --processes 8 --root . ./tasks.ts
 * ```
 *
 * @module
 */

import { hostname } from "node:os";
import { kUsage, parse } from "./_agent_usage.ts";
import { cpuCount } from "../process.ts";
import {
  checkPermissions,
  type WorkerPermissions,
} from "../_core/permissions.ts";
import type { Pool } from "../pool.ts";
import { getContext } from "../context.ts";
import { checkPositiveInteger } from "../_core/validate.ts";
import {
  afterReconnects,
  checkOptions,
  ensureStream,
  kNatsKeys,
  type NatsOptions,
  open,
} from "./_nats.ts";
import { defaultRoot, servedModules } from "./_modules.ts";
import { type AgentContext, runTask } from "./_agent_task.ts";
import { type Claim, Claimer } from "./_claims.ts";
import { ChunkPlanner } from "./_chunks.ts";
import { kGiveBackMs, Outlook } from "./_outlook.ts";
import {
  type AgentBeat,
  encode,
  kHeartbeatMs,
  kWorkingEveryMs,
  namesOf,
} from "./_protocol.ts";

export type { NatsOptions } from "./_nats.ts";

/** Options of {@linkcode startAgent}. */
export interface AgentOptions extends NatsOptions {
  /** The only modules whose exports this agent runs (relative to `root`). */
  modules: (string | URL)[];
  /** Local worker processes. @default {cpuCount()} */
  processes?: number;
  /** The cluster to serve; clients name the same. @default {"default"} */
  cluster?: string;
  /** Where module paths resolve. @default {the folder of the nearest deno.json, else the cwd} */
  root?: string;
  /** Deno permissions of the local workers. @default {"inherit"} */
  permissions?: WorkerPermissions;
  /** How the local workers start. @default {"spawn"} */
  startMethod?: "spawn" | "subprocess";
}

/** A running agent, as returned by {@linkcode startAgent}. */
export interface Agent {
  /** The agent's name in logs and errors: host name and OS pid. */
  readonly id: string;
  /** Its local worker processes. */
  readonly processes: number;
  /** Stops pulling, finishes the tasks it holds, and disconnects. */
  stop(): Promise<void>;
  /** Settles once the agent has stopped (or lost its connection for good). */
  readonly closed: Promise<void>;
}

let agentCount = 0;

/**
 * Starts an agent: connects to NATS, starts a local pool, and serves the
 * exports of `modules` to clients of the same cluster. Logs one line on
 * start, stop and each redelivery (stderr).
 *
 * @param options Servers and auth, modules, processes, cluster, root.
 * @returns The running agent.
 * @throws {TypeError} Bad options, or a module outside the root.
 * @throws {RangeError} A `processes` that is not a positive integer.
 * @throws {Error} The server refused or could not be reached.
 *
 * @example Serve a module, then stop (needs `nats-server -js` on localhost)
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { startAgent } from "@dmp/multiprocessing/cluster";
 * const agent = await startAgent({ servers: "127.0.0.1:4222", modules: ["./tasks.ts"], processes: 2 });
 * assert.equal(agent.processes, 2);
 * await agent.stop();
 * ```
 *
 * @example An agent serves a list of modules, never an empty one
 * ```ts
 * import assert from "node:assert/strict";
 * import { startAgent } from "@dmp/multiprocessing/cluster";
 * await assert.rejects(
 *   startAgent({ servers: "127.0.0.1:4222", modules: [] }),
 *   TypeError,
 * );
 * ```
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const what = "start agent";
  checkOptions(options, [
    ...kNatsKeys,
    "modules",
    "processes",
    "cluster",
    "root",
    "permissions",
    "startMethod",
  ], what);
  const names = namesOf(options.cluster ?? "default", what);
  const processes = options.processes ?? cpuCount();
  checkPositiveInteger(processes, "processes", what);
  checkPermissions(options.permissions, what);
  const root = options.root ?? defaultRoot();
  const served = await servedModules(options.modules, root, what);
  const id = `${hostName()}:${Deno.pid}${agentCount++ ? `.${agentCount}` : ""}`;
  const method = options.startMethod ?? "spawn";
  if (method !== "spawn" && method !== "subprocess") {
    throw new TypeError(
      `Cannot ${what} as 'startMethod' must be "spawn" or "subprocess": current value is ${
        Deno.inspect(method)
      }`,
    );
  }
  const context = getContext(method);
  const nc = await open(options, { name: `dmp-agent ${id}`, what });
  let pool: Pool;
  try {
    await ensureStream(nc, names);
    pool = new context.Pool(processes, {
      permissions: options.permissions ?? "inherit",
      initializer: new URL("./_worker_init.ts#registerServed", import.meta.url),
      initargs: [[...served.values()].map((module) => module.url)],
    });
  } catch (error) {
    // An open connection would keep the program alive.
    await nc.close();
    throw error;
  }
  return new RunningAgent({
    id,
    nc,
    names,
    pool,
    served,
    suspects: new Set(),
    held: new Set(),
    log: (line) => console.error(line),
    counts: { running: 0, done: 0, redelivered: 0 },
  }, processes);
}

class RunningAgent implements Agent {
  readonly id: string;
  readonly processes: number;
  readonly closed: Promise<void>;
  readonly #ctx: AgentContext;
  #stopping: Promise<void> | undefined;
  #halted = false;
  readonly #beat: ReturnType<typeof setInterval>;
  readonly #renew: ReturnType<typeof setInterval>;
  readonly #queue: Claim[] = []; // claimed, waiting for a free process
  #busy = 0;
  #idle: (() => void) | undefined;

  constructor(
    base: Omit<AgentContext, "claimer" | "costs" | "outlook">,
    processes: number,
  ) {
    const { nc, names } = base;
    const ctx: AgentContext = {
      ...base,
      costs: new ChunkPlanner(),
      outlook: new Outlook(() => this.#dispatch()),
      claimer: new Claimer(
        nc,
        `$JS.API.CONSUMER.MSG.NEXT.${names.stream}.${names.consumer}`,
        (claim) => this.#claimed(claim),
        (claim, client) => {
          base.suspects.add(client);
          claim.term();
        },
      ),
    };
    this.#ctx = ctx;
    this.id = ctx.id;
    this.processes = processes;
    const pingSub = ctx.nc.subscribe(ctx.names.ping, {
      callback: () => this.#announce(true),
    });
    this.#beat = setInterval(() => {
      this.#announce(true);
      ctx.claimer.forget(false);
      this.#dispatch();
    }, kHeartbeatMs);
    // In-progress acks keep every claimed task ours while it waits or runs.
    this.#renew = setInterval(() => {
      for (const claim of ctx.held) claim.working();
    }, kWorkingEveryMs);
    // A restarted server has none of our pull requests (nor, without its
    // store, the stream): ask again.
    void afterReconnects(ctx.nc, ctx.names, () => {
      ctx.claimer.forget(true);
      this.#dispatch();
    });
    this.#dispatch();
    this.#announce(true);
    ctx.log(
      `agent ${ctx.id} started: ${processes} processes serving ${
        [...ctx.served.keys()].join(", ")
      } on cluster '${ctx.names.stream.slice(4)}'`,
    );
    this.closed = ctx.nc.closed().then(() => {
      pingSub.unsubscribe();
      return this.stop();
    });
  }

  // A claimed task: it runs as soon as a local process is free.
  #claimed(claim: Claim): void {
    this.#ctx.held.add(claim);
    this.#queue.push(claim);
    this.#ctx.outlook.queued(claim);
    this.#dispatch();
  }

  // Starts what the free processes can take, gives back the claims that
  // waited too long, then asks for one task per process that is free or
  // soon free (see _outlook.ts: never for one whose task may not end soon,
  // as a task gated on a later call).
  #dispatch(): void {
    const { claimer, outlook, held } = this.#ctx;
    while (!this.#halted && this.#busy < this.processes && this.#queue.length) {
      const claim = this.#queue.shift()!;
      outlook.dequeued(claim);
      this.#busy++;
      runTask(this.#ctx, claim).catch(() => {}).finally(() => {
        outlook.ended(claim);
        this.#busy--;
        if (this.#busy === 0) this.#idle?.();
        this.#dispatch();
      });
    }
    if (this.#halted) return;
    const now = performance.now();
    for (const claim of outlook.overdue(now)) {
      this.#queue.splice(this.#queue.indexOf(claim), 1);
      outlook.dequeued(claim);
      held.delete(claim);
      claim.nak();
      this.#ctx.log(
        `agent ${this.id} gave back a task: no process free within ${kGiveBackMs} ms`,
      );
    }
    const soon = outlook.soonFree(now);
    claimer.fill(this.processes - this.#busy - this.#queue.length + soon);
    outlook.plan(now);
  }

  #announce(up: boolean): void {
    const { nc, names, counts } = this.#ctx;
    if (nc.isClosed()) return;
    const beat: AgentBeat = {
      id: this.id,
      processes: this.processes,
      ...counts,
      up,
    };
    try {
      nc.publish(names.agents, encode(beat));
    } catch { /* disconnected: the next beat will do */ }
  }

  stop(): Promise<void> {
    return this.#stopping ??= (async () => {
      this.#halted = true;
      const { claimer, held } = this.#ctx;
      claimer.stop();
      this.#ctx.outlook.stop();
      clearInterval(this.#beat);
      // Claimed but not started: back to the queue at once, for others.
      for (const claim of this.#queue.splice(0)) {
        this.#ctx.outlook.dequeued(claim);
        held.delete(claim);
        claim.nak();
      }
      if (this.#busy > 0) {
        this.#ctx.log(
          `agent ${this.id} stopping: ${this.#busy} tasks to finish`,
        );
        await new Promise<void>((resolve) => this.#idle = resolve);
      }
      clearInterval(this.#renew);
      this.#announce(false);
      // No task is left (the loops waited for theirs): terminate() ends no
      // work, where close() would wait on a worker whose start hangs.
      this.#ctx.pool.terminate();
      await this.#ctx.pool.join();
      // Drain (publish what is buffered), but not forever: a connection
      // that waits for an absent server would never finish draining.
      const { nc } = this.#ctx;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        nc.drain().catch(() => {}),
        new Promise((resolve) => timer = setTimeout(resolve, 2_000)),
      ]);
      clearTimeout(timer);
      if (!nc.isClosed()) await nc.close().catch(() => {});
      this.#ctx.log(`agent ${this.id} stopped`);
    })();
  }
}

function hostName(): string {
  try {
    return hostname();
  } catch {
    return "agent"; // no --allow-sys=hostname: the pid still tells them apart
  }
}

/** The command line: `deno run -A agent.ts --servers … [--processes n] modules…`. */
async function main(args: string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${kUsage}`);
    Deno.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) return console.log(kUsage);
  const tls = values["tls-ca"] || values["tls-cert"] || values["tls-key"]
    ? {
      caFile: values["tls-ca"],
      certFile: values["tls-cert"],
      keyFile: values["tls-key"],
    }
    : undefined;
  const options: AgentOptions = {
    servers: values.servers ?? ["nats://127.0.0.1:4222"],
    modules: positionals,
  };
  if (values.processes !== undefined) {
    options.processes = Number(values.processes);
  }
  if (values.cluster !== undefined) options.cluster = values.cluster;
  if (values.root !== undefined) options.root = values.root;
  if (values.token !== undefined) options.token = values.token;
  if (values.user !== undefined) options.user = values.user;
  if (values.pass !== undefined) options.pass = values.pass;
  if (values.creds !== undefined) options.credsFile = values.creds;
  if (tls !== undefined) options.tls = tls;
  if (values["start-method"] !== undefined) {
    options.startMethod = values["start-method"] as "spawn" | "subprocess";
  }
  let agent: Agent | undefined;
  // Listening before the "started" line: a signal just after it must stop.
  const stop = () => agent ? void agent.stop() : Deno.exit(143);
  // A second signal does not wait for the tasks held: as when the agent is
  // killed, they come back to another agent after the ack wait.
  let signalled = false;
  const onSignal = () =>
    signalled ? Deno.exit(143) : (signalled = true, stop());
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    agent = await startAgent(options);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
  // For a supervisor (or a test) that may die without stopping its agents:
  // a closed stdin pipe means the parent is gone.
  if (values["stop-on-stdin-eof"]) {
    (async () => {
      for await (const _ of Deno.stdin.readable) { /* discard */ }
      stop();
    })();
  }
  await agent.closed;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  // The stdin read above would keep the program alive.
  if (values["stop-on-stdin-eof"]) Deno.exit(0);
}

if (import.meta.main) await main(Deno.args);
