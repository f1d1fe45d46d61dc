// A long-run leak check (not a timed test): resident memory, garbage
// collected, every N cycles of worker starts. Flat figures mean nothing is
// kept per worker; growth that goes on with the cycles is a leak.
//
//   npx -y deno@2.9.6 run -A --v8-flags=--expose-gc bench/leak_check.ts [case] [cycles]
//
// Cases: "replace" (a Pool(2) with maxTasksPerChild: 1, one worker started
// per task), "pool" (Pool(2) created, one map, terminated), "executor"
// (ProcessPoolExecutor(2) created, two calls, shut down), "process" (a
// Process started and joined: the baseline), or "all" (the default).
// Cycles default to 1 000 for "replace" and 500 for the others.

import { Pool, Process, ProcessPoolExecutor } from "../mod.ts";

const square = new URL("./_targets.ts#square", import.meta.url);
const noop = new URL("./_targets.ts#noop", import.meta.url);
const gc = (globalThis as { gc?: () => void }).gc;

function mb(): number {
  return Deno.memoryUsage().rss / (1 << 20);
}

async function settle(): Promise<number> {
  // Workers of the last cycles may still be ending (they end themselves,
  // on their own threads), and finalizers that free memory run on the event
  // loop: collect until the figure stops falling, for at most 2 s.
  let last = Infinity;
  for (let i = 0; i < 20; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = mb();
    if (now > last - 0.5) return now;
    last = now;
  }
  return last;
}

async function run(
  name: string,
  cycles: number,
  cycle: (i: number) => Promise<void>,
): Promise<void> {
  const every = Math.max(1, Math.round(cycles / 10));
  // Warm up: module loading and compilation are paid once, not leaked.
  for (let i = 0; i < Math.min(20, every); i++) await cycle(i);
  const start = await settle();
  const row = [`${name}: ${start.toFixed(0)} MB`];
  for (let i = 1; i <= cycles; i++) {
    await cycle(i);
    if (i % every === 0) row.push(`${i}: ${(await settle()).toFixed(0)}`);
  }
  const end = await settle();
  console.log(row.join(" | "));
  const { heapUsed, external } = Deno.memoryUsage();
  console.log(
    `${name}: JS heap ${(heapUsed / (1 << 20)).toFixed(1)} MB, external ${
      (external / (1 << 20)).toFixed(1)
    } MB`,
  );
  console.log(
    `${name}: ${(end - start).toFixed(1)} MB over ${cycles} cycles (${
      ((end - start) * 1024 / cycles).toFixed(1)
    } KB per cycle)`,
  );
}

const cases: Record<string, [number, (i: number) => Promise<void>]> = {
  replace: [
    1000,
    (() => {
      let pool: Pool | undefined;
      return async (i: number) => {
        pool ??= new Pool(2, { maxTasksPerChild: 1 });
        await pool.apply(square, [i]);
      };
    })(),
  ],
  pool: [500, async () => {
    const pool = new Pool(2);
    await pool.map(square, [1, 2, 3, 4], 1);
    pool.terminate();
    await pool.join();
  }],
  executor: [500, async () => {
    const executor = new ProcessPoolExecutor({ maxWorkers: 2 });
    await Promise.all([
      executor.submit(square, 2).result(),
      executor.submit(square, 3).result(),
    ]);
    await executor.shutdown();
  }],
  process: [500, async () => {
    const process = new Process({ target: noop });
    process.start();
    await process.join();
  }],
};

if (import.meta.main) {
  if (gc === undefined) {
    console.log("(no --v8-flags=--expose-gc: figures include garbage)");
  }
  const which = Deno.args[0] ?? "all";
  const count = Deno.args[1] === undefined ? undefined : Number(Deno.args[1]);
  for (const [name, [cycles, cycle]] of Object.entries(cases)) {
    if (which === "all" || which === name) {
      await run(name, count ?? cycles, cycle);
    }
  }
  Deno.exit(0);
}
