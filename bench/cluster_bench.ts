// The cluster (@dmp/multiprocessing/cluster) against the floor of the engine
// it runs on: raw JetStream publish → consume → result → client ack, with
// the same delivery guarantee, measured in the same run against the same
// nats-server. Starts its own `nats-server -js` on a free loopback port,
// 3 agents × 4 processes and the floor's raw worker as OS processes.
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
import { kFloor } from "./_cluster_floor.ts";
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
const floorMain = new URL("./_cluster_floor.ts", import.meta.url).pathname;
const kAck = new TextEncoder().encode("+ACK");
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
 * The engine's floor, with the cluster's delivery guarantee and nothing of
 * the library: each task is a JetStream work-queue publish (stored,
 * acknowledged by the server, deduplicated by message id, as a client's),
 * consumed by a raw worker in its own OS process (nats.js `consume()`),
 * whose result goes back by core NATS with the task's ack subject; the
 * client acks the task once it holds the result. Same payload codec (V8's
 * serializer) and message count as the library's; no function lookup, no
 * local pool, no bookkeeping.
 */
class RawFloor {
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

const common = { ignore: !installed };

Deno.bench({
  ...common,
  name: "raw JetStream: publish → consume → result → ack, one at a time",
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
