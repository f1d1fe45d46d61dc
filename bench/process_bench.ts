// Process start-up: what one child costs to start and join, alone and
// cpuCount() at once, and the resident memory an idle child adds.
//
//   npx -y deno@2.9.6 bench -A bench/process_bench.ts
//
// Targets (2-core dev machine): start+join of one trivial process ≤ 25 ms;
// ≤ 10 MB resident memory per idle child (measured over 8 children).

import { cpuCount, Lock, Process } from "../mod.ts";

const noop = new URL("./_targets.ts#noop", import.meta.url);
const n = cpuCount();
const lock = new Lock();

Deno.bench({
  name: "start+join 1 process",
  group: "start+join",
  baseline: true,
  async fn() {
    const p = new Process({ target: noop });
    p.start();
    await p.join();
  },
});

Deno.bench({
  name: `start+join ${n} processes (cpuCount)`,
  group: "start+join",
  async fn() {
    const ps = Array.from({ length: n }, () => new Process({ target: noop }));
    for (const p of ps) p.start();
    await Promise.all(ps.map((p) => p.join()));
  },
});

// A child imports the module of each shared object it receives (its
// reviver), and only those: importing every shareable module instead made
// start+join ~50% slower here (about 28 → 43 ms on 2 busy cores).
Deno.bench({
  name: "start+join 1 process passed a Lock (imports its reviver module)",
  group: "start+join",
  async fn() {
    const p = new Process({ target: noop, args: [lock] });
    p.start();
    await p.join();
  },
});

Deno.bench({
  name: "bare Worker: new Worker + first message (no library)",
  group: "start+join",
  async fn() {
    const source = "data:application/javascript,postMessage(0);close()";
    const worker = new Worker(source, { type: "module" });
    await new Promise((resolve) => (worker.onmessage = resolve));
    worker.terminate();
  },
});

// Resident memory is not a time: it is measured once, before the timed
// benchmarks, in two subprocesses that differ only by 8 idle children.
async function rssWith(children: number): Promise<number> {
  const probe = new URL("./_rss_probe.ts", import.meta.url);
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", probe.pathname, String(children)],
    stdout: "piped",
  }).output();
  return Number(new TextDecoder().decode(stdout).trim());
}

const samples: number[] = [];
for (let i = 0; i < 3; i++) {
  samples.push((await rssWith(8)) - (await rssWith(0)));
}
samples.sort((a, b) => a - b);
console.log(
  `rss per idle child (8 children, median of 3): ${
    (samples[1] / 8 / 2 ** 20).toFixed(1)
  } MiB (target ≤ 10 MB)`,
);
