// The client: the same calls as a local Pool, run by the agents of the
// cluster. Usage: deno run -A examples/cluster/app/client.ts [nats://host:4222]

import { ClusterPool } from "@dmp/multiprocessing/cluster";
import { nap, square } from "./tasks.ts";

if (import.meta.main) {
  const servers = Deno.args[0] ?? "nats://127.0.0.1:4222";
  // Module paths travel relative to the root: the agents were started with
  // `--root examples/cluster/app`, so this client uses the same folder.
  const root = new URL(".", import.meta.url).pathname;
  await using pool = await ClusterPool.connect({ servers, root });
  console.log(`${pool.stats().agents} agents, ${pool.processes} processes`);
  console.log(await pool.map(square, [1, 2, 3, 4, 5]));
  const pids = new Set(await pool.map(nap, Array(40).fill(50), 1));
  console.log(`40 naps ran in ${pids.size} agent processes`);
}
