// A client in its own process, for the test of a client that goes away:
// connects, submits gated tasks, and waits to be killed.
// Usage: client_main.ts <server url> <root> <gate dir> <count>

import { ClusterPool } from "../../src/cluster/mod.ts";

const [servers, root, dir, count] = Deno.args;
const pool = await ClusterPool.connect({ servers, root });
const gated = new URL(`file://${root}/tasks.ts#gated`);
const items = Array.from({ length: Number(count) }, (_, i) => [i, dir]);
const all = pool.starmap(gated, items, 1);
console.log("submitted");
await all;
