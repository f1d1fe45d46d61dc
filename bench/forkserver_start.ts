// The forkserver's two targets (issue 14), each beside the spawn start
// method in the same run:
//   - start → target running within 2 ms when a warm worker is ready;
//   - a Pool of cpuCount() ready (created → first result) within 10 ms
//     after warm-up.
//
//   npx -y deno@2.9.6 run -A bench/forkserver_start.ts [runs]
//
// "Target running" is the moment the target's first line runs, as the
// child notes it on the clock all threads share (timeOrigin + now(): the
// same to a microsecond across workers here), so the parent's own wake-up
// is not counted. Each forkserver run first waits, untimed, until a warm
// worker is ready and the forkserver has had its quiet spell (it refills
// only after 100 ms without a start).

import { cpuCount, getContext } from "../mod.ts";
import { warmReady } from "../src/_child/forkserver.ts";
import { noop, stamp } from "./_targets.ts";

type Context = ReturnType<typeof getContext>;

const clock = () => performance.timeOrigin + performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function warmedUp(): Promise<void> {
  await warmReady();
  await new Promise((resolve) => setTimeout(resolve, 250));
}

async function startToRunning(ctx: Context): Promise<number> {
  const at = new Float64Array(new SharedArrayBuffer(8));
  const p = new ctx.Process({ target: stamp, args: [at] });
  const start = clock();
  p.start();
  await p.join();
  return at[0] - start;
}

async function poolReady(ctx: Context, n: number): Promise<number> {
  const start = clock();
  const pool = new ctx.Pool(n);
  await pool.apply(noop);
  const ms = clock() - start;
  pool.terminate();
  return ms;
}

if (import.meta.main) {
  const runs = Number(Deno.args[0] ?? 15);
  const n = cpuCount();
  const spawn = getContext("spawn");
  const forkserver = getContext("forkserver");
  // The first child of each kind (Process child, pool worker) creates the
  // profile its warm workers serve, and starts cold: untimed.
  await startToRunning(forkserver);
  await poolReady(forkserver, n);
  const rows: Record<string, number[]> = {
    "spawn: start → target running": [],
    "forkserver: start → target running (warm)": [],
    [`spawn: Pool(${n}) ready`]: [],
    [`forkserver: Pool(${n}) ready (after warm-up)`]: [],
  };
  const [a, b, c, d] = Object.values(rows);
  for (let i = 0; i < runs; i++) {
    a.push(await startToRunning(spawn));
    await warmedUp();
    b.push(await startToRunning(forkserver));
    c.push(await poolReady(spawn, n));
    await warmedUp();
    d.push(await poolReady(forkserver, n));
  }
  console.log(`medians of ${runs} alternating runs (min … max):`);
  for (const [name, ms] of Object.entries(rows)) {
    const range = `${Math.min(...ms).toFixed(2)} … ${
      Math.max(...ms).toFixed(2)
    }`;
    console.log(`  ${name.padEnd(46)} ${median(ms).toFixed(2)} ms (${range})`);
  }
}
