// What bench/cluster_bench.ts and `deno task bench:compare`'s cluster group
// (bench/compare/cluster_workloads.ts) measure on: a `nats-server -js` on a
// free loopback port, 3 agents × 4 processes and the floor's raw worker as
// OS processes, a ClusterPool and the floor's client. Everything ends when
// the program does: the agents and the worker stop when their stdin pipe
// closes, and the server is killed on unload.

import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
} from "@nats-io/jetstream";
import { deserialize, serialize } from "node:v8";
import { ClusterPool } from "../src/cluster/mod.ts";
import { kFloor } from "./_cluster_floor.ts";
import { AgentProcess, NatsServer } from "../tests/cluster/harness.ts";

export { natsServerInstalled } from "../tests/cluster/harness.ts";

/** Agents, and local processes of each. */
export const kAgents = 3;
export const kProcesses = 4;
const root = new URL(".", import.meta.url).pathname;
/** The targets, served by every agent. */
export const square = new URL("./_cluster_targets.ts#square", import.meta.url);
export const noop = new URL("./_cluster_targets.ts#noop", import.meta.url);
export const nap = new URL("./_cluster_targets.ts#nap", import.meta.url);
const floorMain = new URL("./_cluster_floor.ts", import.meta.url).pathname;
const kAck = new TextEncoder().encode("+ACK");
/** The tiny items, and the floor's chunks of them (the map's default). */
export const tiny = Array.from({ length: 2_000 }, (_, i) => i);
const chunk = Math.ceil(tiny.length / (4 * kAgents * kProcesses));
export const tinyChunks: number[][] = [];
for (let i = 0; i < tiny.length; i += chunk) {
  tinyChunks.push(tiny.slice(i, i + chunk));
}

/** A started cluster and floor. */
export interface Setup {
  pool: ClusterPool;
  raw: RawFloor;
}

let setup: Promise<Setup> | undefined;

/** Starts everything on first use (callers check natsServerInstalled()). */
export function started(): Promise<Setup> {
  return setup ??= (async () => {
    const store = await Deno.makeTempDir({ prefix: "dmp_cluster_bench_" });
    const server = await NatsServer.start(store);
    globalThis.addEventListener("unload", () => {
      server.kill();
      Deno.removeSync(store, { recursive: true });
    });
    await Promise.all(
      Array.from({ length: kAgents }, () =>
        AgentProcess.start({
          server,
          root,
          processes: kProcesses,
          modules: ["./_cluster_targets.ts"],
        })),
    );
    const pool = await ClusterPool.connect({ servers: server.url, root });
    const raw = await RawFloor.start(server.url);
    // Warm both paths: agents' workers started, streams and consumers made.
    await pool.map(square, tiny);
    await raw.run(Array.from({ length: 48 }, () => [1]));
    return { pool, raw };
  })();
}

/**
 * The engine's floor, with the cluster's delivery guarantee and nothing of
 * the library: each task is a JetStream work-queue publish (stored,
 * acknowledged by the server, deduplicated by message id, as a client's),
 * consumed by a raw worker in its own OS process (nats.js `consume()`),
 * whose result goes back by core NATS with the task's ack subject; the
 * client acks the task once it holds the result. Same payload codec (V8's
 * serializer) and message count as the library's; no function lookup, no
 * local pool, no bookkeeping.
 */
export class RawFloor {
  readonly #nc: NatsConnection;
  readonly #waiting = new Map<number, (value: unknown) => void>();
  #next = 0;

  private constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  static async start(servers: string): Promise<RawFloor> {
    const nc = await connect({ servers, noAsyncTraces: true });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: kFloor.stream,
      subjects: [kFloor.tasks],
      retention: RetentionPolicy.Workqueue,
    });
    await jsm.consumers.add(kFloor.stream, {
      durable_name: kFloor.consumer,
      ack_policy: AckPolicy.Explicit,
    });
    // Ends when this program does: its stdin pipe closes.
    const worker = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", floorMain, servers],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const lines = worker.stdout.pipeThrough(new TextDecoderStream());
    for await (const text of lines) if (text.includes("floor ready")) break;
    const floor = new RawFloor(nc);
    nc.subscribe(kFloor.results, {
      callback: (_error, msg) => {
        const [id, value, ack] = deserialize(msg.data) as [
          number,
          unknown,
          string,
        ];
        floor.#waiting.get(id)?.(value);
        floor.#waiting.delete(id);
        nc.publish(ack, kAck);
      },
    });
    return floor;
  }

  /** Publishes every chunk, and resolves with every chunk's result. */
  run(chunks: number[][]): Promise<unknown[]> {
    const js = jetstream(this.#nc);
    return Promise.all(chunks.map((items) => {
      const id = this.#next++;
      const { promise, resolve } = Promise.withResolvers<unknown>();
      this.#waiting.set(id, resolve);
      return js.publish(kFloor.tasks, serialize([id, items]), {
        msgID: `raw.${id}`,
      }).then(() => promise);
    }));
  }
}
