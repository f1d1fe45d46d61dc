// The "subprocess" start method beside "spawn", in the same run: start+join
// of one child, a pool round trip (one small apply), pool throughput (a map
// of 10 000 small items), and accesses to a shared Lock and Value from a
// child (a proxied round trip to the parent each, for "subprocess").
//
//   npx -y deno@2.9.6 bench -A bench/subprocess_bench.ts
//
// A subprocess child is a whole deno process (its own runtime, V8 heap and
// module graph): measured on 2 busy cores, start+join ~73 ms against ~65 ms
// for a Worker, round trip ~0.3 ms against ~0.4 ms, a map of 10 000 squares
// ~15 ms for both; an idle child holds ~46 MB resident. 200 Lock
// acquire+release pairs in a child: ~153 ms against ~0.14 ms (apply
// included), 200 Value reads ~69 ms against ~0.19 ms: ~0.35 ms a proxied
// access.

import { getContext, Lock, type Pool, Value } from "../mod.ts";
import { lockRounds, square, valueReads } from "./_targets.ts";

const noop = new URL("./_targets.ts#noop", import.meta.url);
const methods = ["spawn", "subprocess"] as const;
const items = Array.from({ length: 10_000 }, (_, i) => i);

for (const method of methods) {
  const ctx = getContext(method);
  Deno.bench({
    name: `start+join 1 process (${method})`,
    group: "start+join",
    baseline: method === "spawn",
    async fn() {
      const p = new ctx.Process({ target: noop });
      p.start();
      await p.join();
    },
  });
}

// Pools are made on first use (a bench file's top level runs again in every
// worker) and ended by the last bench of their group.
const pools = new Map<string, Pool>();
function poolOf(method: (typeof methods)[number]): Pool {
  let pool = pools.get(method);
  if (pool === undefined) {
    pool = new (getContext(method).Pool)(2);
    pools.set(method, pool);
  }
  return pool;
}

// One bench per start method, timing `run` on a started pool of it.
function benchPools(
  name: string,
  group: string,
  run: (pool: Pool) => Promise<unknown>,
): void {
  for (const method of methods) {
    Deno.bench({
      name: `${name} (${method})`,
      group,
      baseline: method === "spawn",
      async fn(b) {
        const pool = poolOf(method);
        await pool.apply(square, [1]);
        b.start();
        await run(pool);
        b.end();
      },
    });
  }
}

benchPools(
  "pool round trip: apply(square)",
  "round trip",
  (pool) => pool.apply(square, [2]),
);
benchPools(
  "pool throughput: map(square) of 10 000",
  "throughput",
  (pool) => pool.map(square, items),
);

// A shared object in a child: a "spawn" child uses the memory itself, a
// "subprocess" child calls its parent for every access (a round trip over
// its pipes to the parent's proxy host). 200 accesses a bench iteration,
// inside one task; the apply() around them is the "round trip" above.
const kAccesses = 200;
const lock = new Lock();
const value = new Value("i", 1);

benchPools(
  `${kAccesses} × Lock acquireSync()+release() in a child`,
  "shared lock",
  (pool) => pool.apply(lockRounds, [lock, kAccesses]),
);
benchPools(
  `${kAccesses} × Value.value read in a child`,
  "shared value",
  (pool) => pool.apply(valueReads, [value, kAccesses]),
);

globalThis.addEventListener("unload", () => {
  for (const pool of pools.values()) pool.terminate();
});
