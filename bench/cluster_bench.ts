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

import {
  kAgents,
  kProcesses,
  nap,
  natsServerInstalled,
  noop,
  square,
  started,
  tiny,
  tinyChunks,
} from "./_cluster_setup.ts";

const installed = natsServerInstalled();
if (!installed) {
  console.log(
    "cluster benchmarks skipped: nats-server is not installed (apt-get install -y nats-server)",
  );
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
  name:
    `raw JetStream: ${tiny.length} items in ${tinyChunks.length} messages in flight`,
  group: "cluster tiny items",
  baseline: true,
  n: 30,
  async fn(b) {
    const { raw } = await started();
    b.start();
    await raw.run(tinyChunks);
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
    `ClusterPool.map: ${tiny.length} tiny items in the floor's ${tinyChunks.length} chunks`,
  group: "cluster tiny items",
  n: 30,
  async fn(b) {
    const { pool } = await started();
    b.start();
    await pool.map(square, tiny, tinyChunks[0].length);
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
