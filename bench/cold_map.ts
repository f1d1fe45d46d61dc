// A function's first map in a fresh program: issue 14's "a new function's
// first map at least as fast as bare workers" where it is hardest, with
// nothing warmed up but the workers themselves. Each sample is a new
// `deno run` that starts cpuCount() workers (a Pool, or bare postMessage
// workers answering as bench/_bare_worker.ts does), waits until every one
// has answered, then times one map of 200 000 tiny items (x * x):
// the pool's default chunks, and for bare workers cpuCount × 4 chunks round
// robin. The two take turns, sample by sample, so both see the same machine.
//
//   npx -y deno@2.9.6 run -A bench/cold_map.ts [samples]   (default 11)
//
// Prints each side's median, and the median of the per-pair ratios.

import { cpuCount, Pool } from "../mod.ts";
import { meet, square } from "./_targets.ts";

const kItems = 200_000;

async function poolFirstMap(items: number[]): Promise<number> {
  await using pool = new Pool(cpuCount());
  const count = new Int32Array(new SharedArrayBuffer(4));
  const n = cpuCount();
  await pool.starmap(meet, Array.from({ length: n }, () => [count, n]), 1);
  const start = performance.now();
  const out = await pool.map(square, items);
  const ms = performance.now() - start;
  if (out[kItems - 1] !== (kItems - 1) ** 2) throw new Error("wrong result");
  return ms;
}

async function bareFirstMap(items: number[]): Promise<number> {
  const url = new URL("./_bare_worker.ts", import.meta.url);
  const workers = Array.from(
    { length: cpuCount() },
    () => new Worker(url, { type: "module" }),
  );
  const pending = new Map<number, (value: unknown) => void>();
  for (const worker of workers) {
    worker.onmessage = (event: MessageEvent<[number, unknown]>) => {
      pending.get(event.data[0])!(event.data[1]);
    };
  }
  let next = 0;
  const run = (name: string, payload: unknown) =>
    new Promise((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      workers[id % workers.length].postMessage([id, name, payload]);
    });
  await Promise.all(workers.map(() => run("noop", 0)));
  const start = performance.now();
  const size = Math.ceil(kItems / (4 * workers.length));
  const chunks = [];
  for (let i = 0; i < kItems; i += size) {
    chunks.push(run("square", items.slice(i, i + size)));
  }
  const out = (await Promise.all(chunks) as number[][]).flat();
  const ms = performance.now() - start;
  for (const worker of workers) worker.terminate();
  if (out[kItems - 1] !== (kItems - 1) ** 2) throw new Error("wrong result");
  return ms;
}

async function sample(side: "pool" | "bare"): Promise<number> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--one", side],
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return Number(new TextDecoder().decode(stdout).trim());
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (import.meta.main) {
  if (Deno.args[0] === "--one") {
    const items = Array.from({ length: kItems }, (_, i) => i);
    const ms = Deno.args[1] === "pool"
      ? await poolFirstMap(items)
      : await bareFirstMap(items);
    console.log(ms.toFixed(3));
  } else {
    const samples = Number(Deno.args[0] ?? 11);
    if (!Number.isInteger(samples) || samples < 1) {
      console.error("usage: cold_map.ts [samples: a positive integer]");
      Deno.exit(2);
    }
    const ours: number[] = [];
    const bare: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < samples; i++) {
      ours.push(await sample("pool"));
      bare.push(await sample("bare"));
      ratios.push(ours[i] / bare[i]);
    }
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    console.log(
      `first map of ${kItems} tiny items in a fresh program, ${cpuCount()} workers, ${samples} samples each (medians):`,
    );
    console.log(`  Pool.map      ${ms(median(ours))}`);
    console.log(`  bare workers  ${ms(median(bare))}`);
    console.log(`  ours ÷ bare   ${median(ratios).toFixed(2)}`);
  }
}
