// The cluster (@dmp/multiprocessing/cluster) against the floor of the engine
// it runs on: raw JetStream publish → pull → reply → ack, measured in the
// same run against the same nats-server. Starts its own `nats-server -js`
// on a free loopback port and 3 agents × 4 processes as OS processes.
//
//   npx -y deno@2.9.6 bench -A bench/cluster_bench.ts
//
// Targets (issue 16): the library's per-task round trip and tiny-item
// throughput within 1.5× the raw floor; 600 × 10 ms sleeps on 3 × 4
// processes in ≤ 0.6 s (ideal 0.5 s). Skipped, with one line, without
// nats-server.

import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
} from "@nats-io/jetstream";
import { deserialize, serialize } from "node:v8";
import { ClusterPool } from "../src/cluster/mod.ts";
import {
  AgentProcess,
  NatsServer,
  natsServerInstalled,
} from "../tests/cluster/harness.ts";

const installed = natsServerInstalled();
if (!installed) {
  console.log(
    "cluster benchmarks skipped: nats-server is not installed (apt-get install -y nats-server)",
  );
}

const kAgents = 3;
const kProcesses = 4;
const root = new URL(".", import.meta.url).pathname;
const square = new URL("./_cluster_targets.ts#square", import.meta.url);
const noop = new URL("./_cluster_targets.ts#noop", import.meta.url);
const nap = new URL("./_cluster_targets.ts#nap", import.meta.url);
const tiny = Array.from({ length: 2_000 }, (_, i) => i);
const chunk = Math.ceil(tiny.length / (4 * kAgents * kProcesses));

interface Setup {
  pool: ClusterPool;
  raw: RawFloor;
}

let setup: Promise<Setup> | undefined;

// Started on first use (the benchmarks are skipped without a server), and
// ended when the program ends: agents stop when their stdin pipe closes.
function started(): Promise<Setup> {
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
 * The engine's floor: tasks published into a work-queue stream, pulled by
 * a consumer in this process, answered with a core-NATS reply and acked.
 * Same message count and payloads as the library's, without the library.
 */
class RawFloor {
  readonly #nc: NatsConnection;
  readonly #waiting = new Map<number, (value: unknown) => void>();
  #next = 0;

  private constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  static async start(servers: string): Promise<RawFloor> {
    const nc = await connect({ servers });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: "RAW",
      subjects: ["raw.tasks"],
      retention: RetentionPolicy.Workqueue,
    });
    await jsm.consumers.add("RAW", {
      durable_name: "raw",
      ack_policy: AckPolicy.Explicit,
    });
    const floor = new RawFloor(nc);
    nc.subscribe("raw.results", {
      callback: (_error, msg) => {
        const [id, value] = deserialize(msg.data) as [number, unknown];
        floor.#waiting.get(id)?.(value);
        floor.#waiting.delete(id);
      },
    });
    const consumer = await jetstream(nc).consumers.get("RAW", "raw");
    await consumer.consume({
      max_messages: 64,
      callback: (msg) => {
        const [id, items] = deserialize(msg.data) as [number, number[]];
        nc.publish("raw.results", serialize([id, items.map((x) => x * x)]));
        msg.ack();
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
      return js.publish("raw.tasks", serialize([id, items])).then(() =>
        promise
      );
    }));
  }
}

const common = { ignore: !installed };

Deno.bench({
  ...common,
  name: "raw JetStream: publish → pull → reply → ack, one at a time",
  group: "cluster round trip",
  baseline: true,
  n: 200,
  async fn(b) {
    const { raw } = await started();
    b.start();
    await raw.run([[1]]);
    b.end();
  },
});

Deno.bench({
  ...common,
  name: "ClusterPool.apply: one at a time (no-op)",
  group: "cluster round trip",
  n: 200,
  async fn(b) {
    const { pool } = await started();
    b.start();
    await pool.apply(noop);
    b.end();
  },
});

Deno.bench({
  ...common,
  name: `raw JetStream: ${tiny.length} items in ${
    Math.ceil(tiny.length / chunk)
  } messages in flight`,
  group: "cluster tiny items",
  baseline: true,
  n: 30,
  async fn(b) {
    const { raw } = await started();
    const chunks: number[][] = [];
    for (let i = 0; i < tiny.length; i += chunk) {
      chunks.push(tiny.slice(i, i + chunk));
    }
    b.start();
    await raw.run(chunks);
    b.end();
  },
});

Deno.bench({
  ...common,
  name: `ClusterPool.map: ${tiny.length} tiny items (default chunks)`,
  group: "cluster tiny items",
  n: 30,
  async fn(b) {
    const { pool } = await started();
    b.start();
    await pool.map(square, tiny);
    b.end();
  },
});

Deno.bench({
  ...common,
  name:
    `ClusterPool.map: 600 × 10 ms sleeps on ${kAgents} agents × ${kProcesses} processes (ideal 0.5 s)`,
  group: "cluster sleeps",
  n: 5,
  warmup: 1,
  async fn(b) {
    const { pool } = await started();
    b.start();
    await pool.map(nap, Array(600).fill(10));
    b.end();
  },
});
