// `deno task bench:claims`: each performance claim of the seed documents
// (../shared/seeds 000–004), measured on this machine with this library,
// with a verdict: holds / does not hold here / inconclusive.
//
//   measure (in this process, workers from tools/_claims_targets.ts)
//     ──> judge (tools/_claims_verdicts.ts, fixed thresholds)
//     ──> report: terminal table (or --json) + bench/results/claims.md
//
// Every figure is measured in the run that prints it: a warm-up run, then
// `--repeat` runs, medians reported. Exit codes: 0 done, 1 a workload
// failed (reported in its claim), 2 usage.

import { dirname } from "node:path";
import {
  cpuCount,
  Event,
  Pool,
  Process,
  Queue,
  RawArray,
  SharedMemory,
} from "../mod.ts";
import { parseBenchArgs } from "./_bench_args.ts";
import { finishEnvironment, startEnvironment } from "./_bench_env.ts";
import { formatMs, formatRate, median, type Table } from "./_bench_format.ts";
import {
  type ClaimResult,
  type ClaimsReport,
  renderClaimsMarkdown,
  renderClaimsTerminal,
} from "./_claims_report.ts";
import { fib, ioWait, spin } from "./_claims_targets.ts";
import {
  breakEven,
  type BreakEvenPoint,
  type Conditions,
  formatUs,
  judgeAsyncIo,
  judgeFrameSharing,
  judgeOversubscription,
  judgeParallelSleep,
  judgeSpeedup,
  judgeStartup,
  type SpeedupPoint,
} from "./_claims_verdicts.ts";

/** The claims, in report order (`--only` takes these ids). */
export const kClaimIds = [
  "speedup",
  "frame",
  "startup",
  "oversubscription",
  "sleep",
  "io",
] as const;

const usage = `Usage: deno task bench:claims [options]

Measures each performance claim of the documents on this machine and says
whether it holds here.

Options:
  --quick          smaller workloads, 3 runs each (about a minute)
  --full           the default sizes, 5 runs each
  --repeat N       runs per workload after the warm-up (≥ 1)
  --only a,b       claims to measure: ${kClaimIds.join(", ")}
  --json           print the report as JSON instead of tables
  --md PATH        markdown report (default: bench/results/claims.md, for a
                   run of every claim; none with --only)
  --no-md          do not write the markdown report
  --help           show this help

The task may write only under bench/results/ (its --allow-write).`;

const target = (name: string) =>
  new URL(`./_claims_targets.ts#${name}`, import.meta.url);

/** What every claim's measurement gets. */
interface Run {
  readonly repeat: number;
  readonly quick: boolean;
  readonly cpus: number;
  readonly conditions: Conditions;
}

const now = () => performance.now();

/** Runs `once` (which returns its own timing in ms) warm-up + `repeat` times. */
async function measure(
  repeat: number,
  once: () => Promise<number> | number,
  warmUp = true,
): Promise<number[]> {
  if (warmUp) await once();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) samples.push(await once());
  return samples;
}

async function timed(fn: () => unknown): Promise<number> {
  const start = now();
  await fn();
  return now() - start;
}

async function closePool(pool: Pool): Promise<void> {
  pool.terminate();
  await pool.join();
}

/** The smallest fib(n) that takes at least `minMs` in this thread. */
function calibrateFib(minMs: number): { n: number; ms: number } {
  fib(24); // compiles fib before it is timed
  for (let n = 20; n < 40; n++) {
    const start = now();
    fib(n);
    const ms = now() - start;
    if (ms >= minMs) return { n, ms };
  }
  return { n: 40, ms: NaN };
}

/** 1, 2, 4, … up to cpus, and cpus itself. */
function workerCounts(cpus: number): number[] {
  const counts = new Set<number>();
  for (let w = 1; w < cpus; w *= 2) counts.add(w);
  counts.add(cpus);
  return [...counts];
}

// ---------------------------------------------------------------- 002 speedup

async function claimSpeedup(run: Run): Promise<ClaimResult> {
  const { n, ms: oneMs } = calibrateFib(run.quick ? 15 : 40);
  const items: number[] = Array(run.cpus * (run.quick ? 4 : 8)).fill(n);
  const sequential = await measure(run.repeat, () =>
    timed(() => {
      for (const item of items) fib(item);
    }));
  const points: (SpeedupPoint & { samples: number[] })[] = [];
  for (const workers of workerCounts(run.cpus)) {
    const pool = new Pool(workers);
    try {
      const samples = await measure(
        run.repeat,
        () => timed(() => pool.map(target("fib"), items, 1)),
      );
      points.push({ workers, ms: median(samples), samples });
    } finally {
      await closePool(pool);
    }
  }
  const seqMs = median(sequential);
  const judgement = judgeSpeedup(seqMs, points, run.conditions);
  const atN = points[points.length - 1];
  // Efficiency against Pool(1) too: a worker may run the same function at
  // a different speed than this thread, which the first column would hide.
  const one = points[0].ms;
  const table: Table = {
    headers: [
      "run",
      "time",
      "speedup",
      "efficiency",
      "efficiency vs Pool(1)",
    ],
    align: ["left", "right", "right", "right", "right"],
    rows: [
      ["sequential, this thread", formatMs(seqMs), "1.00×", "—", "—"],
      ...points.map((p) => [
        `Pool(${p.workers}).map, chunksize 1`,
        formatMs(p.ms),
        `${(seqMs / p.ms).toFixed(2)}×`,
        `${Math.round((seqMs / p.ms / p.workers) * 100)} %`,
        `${Math.round((one / p.ms / p.workers) * 100)} %`,
      ]),
    ],
  };
  return {
    id: "speedup",
    docs: "002",
    claim: "a Pool runs CPU-bound items nearly N times faster on N cores",
    workload: `${items.length} × fib(${n}) (≈ ${
      formatMs(oneMs)
    } each in this thread): sequential, then Pool(w).map for w = ${
      points.map((p) => p.workers).join(", ")
    }`,
    table,
    summary: `${(seqMs / atN.ms).toFixed(2)}× on ${atN.workers} workers (${
      Math.round((seqMs / atN.ms / atN.workers) * 100)
    } % efficiency)`,
    ...judgement,
    data: { fibN: n, items: items.length, sequentialMs: sequential, points },
  };
}

// ---------------------------------------------------------- 004 frame sharing

const kFrameBytes = 3840 * 2160 * 4;

function flag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

async function queueFrames(frame: Uint8Array, repeat: number) {
  const q = new Queue<Uint8Array | null>();
  const ack = new Event();
  const echo = flag();
  const consumer = new Process({
    target: target("frameQueueConsumer"),
    args: [q, ack, echo],
    daemon: true,
  });
  consumer.start();
  let stamp = 0;
  try {
    return await measure(repeat, async () => {
      stamp = (stamp % 250) + 1;
      frame[0] = frame[frame.length - 1] = stamp;
      const start = now();
      await q.put(frame);
      await ack.wait();
      const ms = now() - start;
      ack.clear();
      if (echo[0] !== stamp) {
        throw new Error(`frame ${stamp} arrived as ${echo[0]}`);
      }
      return ms;
    });
  } finally {
    await q.put(null);
    await consumer.join();
  }
}

async function sharedFrames(
  shared: unknown,
  bytes: Uint8Array,
  repeat: number,
  copyFrom?: Uint8Array,
) {
  const ready = new Event();
  const ack = new Event();
  const echo = flag();
  const stop = flag();
  const consumer = new Process({
    target: target("frameSharedConsumer"),
    args: [shared, ready, ack, echo, stop],
    daemon: true,
  });
  consumer.start();
  let stamp = 0;
  try {
    return await measure(repeat, async () => {
      stamp = (stamp % 250) + 1;
      const start = now();
      if (copyFrom) {
        copyFrom[0] = copyFrom[copyFrom.length - 1] = stamp;
        bytes.set(copyFrom);
      } else {
        bytes[0] = bytes[bytes.length - 1] = stamp;
      }
      ready.set();
      await ack.wait();
      const ms = now() - start;
      ack.clear();
      if (echo[0] !== stamp) {
        throw new Error(`frame ${stamp} read as ${echo[0]}`);
      }
      return ms;
    });
  } finally {
    Atomics.store(stop, 0, 1);
    ready.set();
    await consumer.join();
  }
}

async function claimFrame(run: Run): Promise<ClaimResult> {
  const repeat = Math.max(run.repeat, 5);
  const frame = new Uint8Array(kFrameBytes);
  const queue = await queueFrames(frame, repeat);
  const array = RawArray("B", kFrameBytes);
  const viaArray = await sharedFrames(array, array.array, repeat);
  const copyIn = await sharedFrames(array, array.array, repeat, frame);
  const shm = new SharedMemory({ create: true, size: kFrameBytes });
  let viaShm: number[];
  try {
    viaShm = await sharedFrames(shm, shm.buf, repeat);
  } finally {
    shm.close();
    shm.unlink();
  }
  const q = median(queue);
  const a = median(viaArray);
  const s = median(viaShm);
  const c = median(copyIn);
  const mbps = (ms: number) =>
    `${(kFrameBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
  const judgement = judgeFrameSharing(q, Math.max(a, s), run.conditions);
  return {
    id: "frame",
    docs: "004",
    claim:
      "copying 4K frames through a Queue is slow; Value/Array sharing avoids it",
    workload: `one 3840×2160×4 frame (${
      (kFrameBytes / 1e6).toFixed(1)
    } MB) handed to a running process that checks its first and last byte and sets an Event; ${repeat} frames each way`,
    table: {
      headers: ["hand-off", "time per frame", "as bandwidth"],
      align: ["left", "right", "right"],
      rows: [
        ["Queue.put(frame) → getSync() (a copy)", formatMs(q), mbps(q)],
        [
          "SharedArray (RawArray 'B'): Event set → ack, no copy",
          formatMs(a),
          "—",
        ],
        ["SharedMemory: Event set → ack, no copy", formatMs(s), "—"],
        [
          "SharedArray, frame copied in first (frame made elsewhere)",
          formatMs(c),
          mbps(c),
        ],
      ],
    },
    summary: `Queue ${formatMs(q)} vs shared ${
      formatMs(Math.max(a, s))
    } per frame`,
    ...judgement,
    data: {
      frameBytes: kFrameBytes,
      queueMs: queue,
      sharedArrayMs: viaArray,
      sharedMemoryMs: viaShm,
      sharedArrayCopyInMs: copyIn,
    },
  };
}

// ------------------------------------------------------ 004 / 003 start-up

async function startJoin(count: number): Promise<number> {
  const start = now();
  const children = Array.from(
    { length: count },
    () => new Process({ target: target("noop") }),
  );
  for (const child of children) child.start();
  await Promise.all(children.map((child) => child.join()));
  return now() - start;
}

/**
 * Where the break-even lies, between the measured size below it and the
 * first from which the pool keeps winning: the sizes are coarse steps.
 */
function between(
  points: readonly BreakEvenPoint[],
  at: BreakEvenPoint | null,
): string {
  if (at === null) {
    return `not reached (≤ ${formatUs(points[points.length - 1].itemUs)})`;
  }
  const below = points.filter((p) => p.itemUs < at.itemUs).at(-1);
  return below === undefined
    ? `≤ ${formatUs(at.itemUs)}`
    : `${formatUs(below.itemUs)}–${formatUs(at.itemUs)}`;
}

async function claimStartup(run: Run): Promise<ClaimResult> {
  const one = await measure(run.repeat, () => startJoin(1));
  const all = await measure(run.repeat, () => startJoin(run.cpus));
  const ready = await measure(run.repeat, async () => {
    const start = now();
    const pool = new Pool(run.cpus);
    await pool.apply(target("noop"));
    const ms = now() - start;
    await closePool(pool);
    return ms;
  });
  const count = 4 * run.cpus;
  const capMs = run.quick ? 400 : 1500;
  const sizes = [1e2, 1e3, 1e4, 1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8];
  const points: (BreakEvenPoint & { k: number })[] = [];
  const warm = new Pool(run.cpus);
  try {
    for (const k of sizes) {
      const items: number[] = Array(count).fill(k);
      const sequential = median(
        await measure(run.repeat, () =>
          timed(() => {
            for (const item of items) spin(item);
          })),
      );
      const cold = median(
        await measure(run.repeat, () =>
          timed(async () => {
            const pool = new Pool(run.cpus);
            await pool.map(target("spin"), items);
            await closePool(pool);
          })),
      );
      const warmMs = median(
        await measure(
          run.repeat,
          () => timed(() => warm.map(target("spin"), items)),
        ),
      );
      points.push({
        k,
        itemUs: (sequential / count) * 1000,
        sequentialMs: sequential,
        coldPoolMs: cold,
        warmPoolMs: warmMs,
      });
      const lastTwo = points.slice(-2);
      const coldWins = (p: BreakEvenPoint) => p.coldPoolMs < p.sequentialMs;
      const coldWinsTwice = lastTwo.length === 2 && lastTwo.every(coldWins);
      // Once a new Pool has won, a size expected past the cap adds time but
      // no information; before that, go on until the cap itself.
      const next = sizes[sizes.indexOf(k) + 1];
      const nextSequential = next === undefined
        ? Infinity
        : sequential * (next / k);
      const found = coldWins(points[points.length - 1]);
      if (
        coldWinsTwice || sequential > capMs || (found && nextSequential > capMs)
      ) break;
    }
  } finally {
    await closePool(warm);
  }
  const judgement = judgeStartup(points, run.conditions);
  const coldAt = breakEven(points, (p) => p.coldPoolMs);
  const warmAt = breakEven(points, (p) => p.warmPoolMs);
  const verdictOf = (ms: number, seq: number) =>
    ms < seq ? "Pool wins" : "sequential wins";
  return {
    id: "startup",
    docs: "004 / 003",
    claim: "creating processes is expensive, so tiny tasks do not pay off",
    workload:
      `start+join of 1 and of ${run.cpus} trivial processes; Pool(${run.cpus}) until its first result; then ${count} items of spin(k) (k loop iterations) for growing k: sequential vs a new Pool(${run.cpus}) (create + map + terminate) vs a Pool already started`,
    table: {
      headers: [
        "item size",
        "sequential",
        "new Pool",
        "started Pool",
        "new Pool vs sequential",
      ],
      align: ["left", "right", "right", "right", "left"],
      rows: [
        ["start+join 1 process", formatMs(median(one)), "", "", ""],
        [`start+join ${run.cpus} processes`, formatMs(median(all)), "", "", ""],
        [
          `Pool(${run.cpus}) created → first result`,
          formatMs(median(ready)),
          "",
          "",
          "",
        ],
        ...points.map((p) => [
          `spin(${p.k.toExponential(0).replace("e+", "e")}): ${
            formatUs(p.itemUs)
          } per item`,
          formatMs(p.sequentialMs),
          formatMs(p.coldPoolMs),
          formatMs(p.warmPoolMs),
          verdictOf(p.coldPoolMs, p.sequentialMs),
        ]),
      ],
    },
    summary: `process start+join ${
      formatMs(median(one))
    }; break-even per item: new Pool ${between(points, coldAt)}, started Pool ${
      between(points, warmAt)
    }`,
    ...judgement,
    data: {
      startJoinOneMs: one,
      startJoinAllMs: all,
      poolReadyMs: ready,
      items: count,
      points,
      breakEvenColdUs: coldAt?.itemUs ?? null,
      breakEvenWarmUs: warmAt?.itemUs ?? null,
    },
  };
}

// ---------------------------------------------------- 002 oversubscription

async function claimOversubscription(run: Run): Promise<ClaimResult> {
  const { n } = calibrateFib(run.quick ? 10 : 25);
  const items: number[] = Array(8 * run.cpus).fill(n);
  const points = [];
  for (const factor of [1, 2, 4]) {
    const workers = factor * run.cpus;
    const start = now();
    const pool = new Pool(workers);
    try {
      await pool.map(target("fib"), items, 1);
      const firstMs = now() - start;
      const samples = await measure(
        run.repeat,
        () => timed(() => pool.map(target("fib"), items, 1)),
        false,
      );
      const ms = median(samples);
      points.push({
        factor,
        workers,
        firstMapMs: firstMs,
        samples,
        itemsPerSecond: items.length / (ms / 1000),
      });
    } finally {
      await closePool(pool);
    }
  }
  const judgement = judgeOversubscription(points, run.conditions);
  const base = points[0].itemsPerSecond;
  return {
    id: "oversubscription",
    docs: "002",
    claim: "do not create more processes than cores",
    workload:
      `${items.length} × fib(${n}) on Pool(1×, 2×, 4× ${run.cpus} cores), chunksize 1; throughput of a started pool, and its first map (start-up included)`,
    table: {
      headers: [
        "workers",
        "throughput",
        "vs 1× cores",
        "first map incl. start-up",
      ],
      align: ["left", "right", "right", "right"],
      rows: points.map((p) => [
        `${p.workers} (${p.factor}× cores)`,
        formatRate(p.itemsPerSecond, "items"),
        `${p.itemsPerSecond >= base ? "+" : ""}${
          Math.round((p.itemsPerSecond / base - 1) * 100)
        } %`,
        formatMs(p.firstMapMs),
      ]),
    },
    summary: points.map((p) =>
      `${p.factor}×: ${formatRate(p.itemsPerSecond, "items")}`
    )
      .join(", "),
    ...judgement,
    data: { fibN: n, items: items.length, points },
  };
}

// ------------------------------------------------------- 000 / 001 sleep

async function claimSleep(run: Run): Promise<ClaimResult> {
  const sleepMs = 1000;
  const counts = run.quick ? [2, 4] : [...new Set([2, 4, 4 * run.cpus])];
  const points = [];
  for (const processes of counts) {
    // No warm-up: the examples run once, cold.
    const samples = await measure(run.repeat, async () => {
      const start = now();
      const children = Array.from(
        { length: processes },
        () => new Process({ target: target("sleepTimer"), args: [sleepMs] }),
      );
      for (const child of children) child.start();
      await Promise.all(children.map((child) => child.join()));
      return now() - start;
    }, false);
    points.push({ processes, wallMs: median(samples), samples });
  }
  const judgement = judgeParallelSleep(sleepMs, points, run.conditions);
  return {
    id: "sleep",
    docs: "000 / 001",
    claim: "the sleep examples finish in ≈ 1 s, not N s, in parallel",
    workload:
      `N processes each running the examples' task body (await a ${sleepMs} ms timer), start → all joined, for N = ${
        counts.join(", ")
      }`,
    table: {
      headers: ["processes", "wall time", "if run one after another"],
      align: ["left", "right", "right"],
      rows: points.map((p) => [
        String(p.processes),
        formatMs(p.wallMs),
        `≥ ${formatMs(p.processes * sleepMs)}`,
      ]),
    },
    summary: points.map((p) => `${p.processes} in ${formatMs(p.wallMs)}`).join(
      ", ",
    ),
    ...judgement,
    data: { sleepMs, points },
  };
}

// ------------------------------------------------------------- 002 I/O

async function claimIo(run: Run): Promise<ClaimResult> {
  const latencyMs = 20;
  const ops = run.quick ? 50 : 100;
  const asyncSamples = await measure(
    run.repeat,
    () =>
      timed(() =>
        Promise.all(Array.from({ length: ops }, () => ioWait(latencyMs)))
      ),
  );
  const pool = new Pool(run.cpus);
  let poolSamples: number[];
  try {
    poolSamples = await measure(
      run.repeat,
      () =>
        timed(() => pool.map(target("ioWait"), Array(ops).fill(latencyMs), 1)),
    );
  } finally {
    await closePool(pool);
  }
  const a = median(asyncSamples);
  const p = median(poolSamples);
  const judgement = judgeAsyncIo(a, p, run.conditions);
  return {
    id: "io",
    docs: "002",
    claim: "I/O-bound work is better served by async code than by processes",
    workload:
      `${ops} simulated I/O waits of ${latencyMs} ms each (timers: latency, no CPU work)`,
    table: {
      headers: ["how", "time", "waits per second"],
      align: ["left", "right", "right"],
      rows: [
        [
          "async: Promise.all in this thread",
          formatMs(a),
          formatRate(ops / (a / 1000)),
        ],
        [
          `Pool(${run.cpus}).map, chunksize 1 (one task at a time per worker)`,
          formatMs(p),
          formatRate(ops / (p / 1000)),
        ],
      ],
    },
    summary: `async ${formatMs(a)} vs Pool(${run.cpus}) ${formatMs(p)}`,
    ...judgement,
    data: { ops, latencyMs, asyncMs: asyncSamples, poolMs: poolSamples },
  };
}

const kClaims: Record<
  (typeof kClaimIds)[number],
  (run: Run) => Promise<ClaimResult>
> = {
  speedup: claimSpeedup,
  frame: claimFrame,
  startup: claimStartup,
  oversubscription: claimOversubscription,
  sleep: claimSleep,
  io: claimIo,
};

function failed(id: string, error: unknown): ClaimResult {
  const message = error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
  return {
    id,
    docs: "—",
    claim: id,
    workload: "(failed)",
    table: { headers: ["error"], rows: [[message]] },
    summary: "the workload failed",
    verdict: "inconclusive",
    why: `the workload failed: ${message}`,
    data: {
      error: message,
      stack: error instanceof Error ? error.stack : undefined,
    },
  };
}

if (import.meta.main) {
  let args;
  try {
    args = parseBenchArgs(Deno.args, {
      tool: "bench:claims",
      minRepeat: 1,
      defaultRepeat: { quick: 3, full: 5 },
      ids: kClaimIds,
      outputs: { md: "bench/results/claims.md" },
    });
  } catch (error) {
    console.error((error as Error).message);
    console.error(usage);
    Deno.exit(2);
  }
  if (args.help) {
    console.log(usage);
    Deno.exit(0);
  }
  const cpus = cpuCount();
  let environment = startEnvironment(cpus);
  const run: Run = {
    repeat: args.repeat,
    quick: args.quick,
    cpus,
    conditions: { cpus, load: environment.loadBefore?.[0] ?? null },
  };
  const claims: ClaimResult[] = [];
  let failures = 0;
  for (const id of args.only) {
    console.error(`bench:claims: measuring ${id}…`);
    try {
      claims.push(await kClaims[id as keyof typeof kClaims](run));
    } catch (error) {
      failures++;
      console.error(error);
      claims.push(failed(id, error));
    }
  }
  environment = finishEnvironment(environment);
  const report: ClaimsReport = {
    command: ["deno task bench:claims", ...Deno.args].join(" "),
    repeat: args.repeat,
    quick: args.quick,
    environment,
    claims,
  };
  console.log(
    args.json ? JSON.stringify(report, null, 2) : renderClaimsTerminal(report),
  );
  const md = args.outputs.md;
  if (md !== "") {
    await Deno.mkdir(dirname(md), { recursive: true });
    await Deno.writeTextFile(md, renderClaimsMarkdown(report));
    console.error(`bench:claims: wrote ${md}`);
  }
  if (failures > 0) Deno.exit(1);
}
