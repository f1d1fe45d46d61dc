// The cluster group of `deno task bench:compare`: @dmp/multiprocessing/cluster
// against the raw JetStream floor with the same delivery guarantee, in the
// same run on the same nats-server (bench/_cluster_setup.ts: 3 agents × 4
// processes; the floor's raw worker in its own process). The floor and the
// cluster take turns sample by sample, so that both see the same machine.
//
//   deno run -A bench/compare/cluster_workloads.ts '{"repeat":5,"trips":200}'
//
// Progress goes to stderr; the last stdout line is the result JSON:
// { results: { id: { cluster: number[], floor?: number[] } } }, in ms
// (round_trip: per trip, the mean of `trips` sequential trips).

import {
  nap,
  noop,
  type RawFloor,
  square,
  started,
  tiny,
  tinyChunks,
} from "../_cluster_setup.ts";
import type { ClusterPool } from "../../src/cluster/mod.ts";

/** The ids of the group's rows, in report order. */
export type ClusterWorkload =
  | "round_trip"
  | "tiny_items"
  | "tiny_chunks"
  | "sleeps";

/** The samples of one row: the cluster's, and the floor's where it has one. */
export interface ClusterSamples {
  cluster: number[];
  floor?: number[];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function roundTrips(
  pool: ClusterPool,
  raw: RawFloor,
  trips: number,
): Promise<[number, number]> {
  const floor = await timed(async () => {
    for (let i = 0; i < trips; i++) await raw.run([[1]]);
  });
  const cluster = await timed(async () => {
    for (let i = 0; i < trips; i++) await pool.apply(noop);
  });
  return [cluster / trips, floor / trips];
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0] ?? "{}") as {
    repeat?: number;
    trips?: number;
  };
  const repeat = config.repeat ?? 5;
  const trips = config.trips ?? 200;
  console.error("cluster: starting nats-server, 3 agents and the floor …");
  const { pool, raw } = await started();
  const results: Record<ClusterWorkload, ClusterSamples> = {
    round_trip: { cluster: [], floor: [] },
    tiny_items: { cluster: [], floor: [] },
    tiny_chunks: { cluster: [], floor: [] },
    sleeps: { cluster: [] },
  };
  // Run 0 warms up (JIT, the agents' workers) and is not kept.
  for (let run = 0; run <= repeat; run++) {
    console.error(`cluster: run ${run}/${repeat}`);
    const [trip, tripFloor] = await roundTrips(pool, raw, trips);
    const tinyFloor = await timed(() => raw.run(tinyChunks));
    const tinyCluster = await timed(() => pool.map(square, tiny));
    // The same map in the floor's chunks: the cluster's cost per message.
    const size = tinyChunks[0].length;
    const chunksCluster = await timed(() => pool.map(square, tiny, size));
    const sleeps = await timed(() => pool.map(nap, Array(600).fill(10)));
    if (run === 0) continue;
    results.round_trip.cluster.push(trip);
    results.round_trip.floor!.push(tripFloor);
    results.tiny_items.cluster.push(tinyCluster);
    results.tiny_items.floor!.push(tinyFloor);
    results.tiny_chunks.cluster.push(chunksCluster);
    results.tiny_chunks.floor!.push(tinyFloor);
    results.sleeps.cluster.push(sleeps);
  }
  console.log(JSON.stringify({ results }));
  // The agents, the floor's worker and the server end with this program.
  Deno.exit(0);
}
