// A long-run leak check (not a timed test): resident memory, garbage
// collected, every N cycles of worker starts. Flat figures mean nothing is
// kept per worker; growth that goes on with the cycles is a leak.
//
//   npx -y deno@2.9.6 run -A --v8-flags=--expose-gc bench/leak_check.ts \
//     [case…] [--cycles N] [--replace N] [--pool N] [--executor N] \
//     [--process N] [--bare N]
//
// Cases: "bare" (the baseline: a plain Web Worker given two 256 KiB
// SharedArrayBuffers, as a pool worker's rings, that answers once and closes
// itself: what Deno itself keeps per worker), "replace" (a Pool(2) with
// maxTasksPerChild: 1, one worker started per task), "pool" (Pool(2)
// created, one map, terminated), "executor" (ProcessPoolExecutor(2)
// created, two calls, shut down), "process" (a Process started and joined).
// Without names, all of them, the baseline first. Cycles default to 1 000
// for "replace" and "bare", 500 for the others; --cycles sets them all,
// --<case> one.
//
// Between samples the program collects garbage and, on Linux with glibc and
// --allow-ffi, asks malloc to give free pages back (malloc_trim): otherwise
// the resident figure mostly shows how full the allocator's per-thread
// arenas happen to be (±30 MB from one sample to the next here), not what
// is kept. "malloc" is the allocator's bytes in use (mallinfo2): memory
// held, whatever the pages.

import { parseArgs } from "node:util";
import { Pool, Process, ProcessPoolExecutor } from "../mod.ts";

const square = new URL("./_targets.ts#square", import.meta.url);
const noop = new URL("./_targets.ts#noop", import.meta.url);
const gc = (globalThis as { gc?: () => void }).gc;
const mib = 1 << 20;

// Every Worker this program creates is counted, so figures per worker are
// exact whatever a case starts. A Proxy, not a subclass: Worker.prototype
// stays Deno's own (the library looks up a method on it).
let workersStarted = 0;
globalThis.Worker = new Proxy(globalThis.Worker, {
  construct(target, args, newTarget) {
    workersStarted++;
    return Reflect.construct(target, args, newTarget);
  },
});

interface Libc {
  trim(): void;
  /** Bytes malloc has handed out and not had back. */
  inUse(): number;
}

function openLibc(): Libc | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const size = "usize" as const;
    const lib = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: [size], result: "i32" },
      mallinfo2: { parameters: [], result: { struct: Array(10).fill(size) } },
    });
    return {
      trim: () => void lib.symbols.malloc_trim(0n),
      inUse() {
        const bytes = lib.symbols.mallinfo2() as Uint8Array<ArrayBuffer>;
        const fields = new BigUint64Array(bytes.buffer, bytes.byteOffset, 10);
        // uordblks (allocated chunks) + hblkhd (mmapped chunks)
        return Number(fields[7] + fields[4]);
      },
    };
  } catch {
    return undefined; // no --allow-ffi, or not glibc
  }
}

const libc = openLibc();

interface Sample {
  rss: number;
  heap: number;
  malloc: number;
  /** Web Worker threads alive (NaN where /proc cannot tell). */
  threads: number;
}

// Deno names each Web Worker's OS thread "worker-<n>". A live worker holds
// several MB of resident memory (its isolate and heap), so a sample taken
// while one more worker runs than at the start reads as growth: a Pool
// with maxTasksPerChild: 1 starts each replacement on its own schedule, and
// the "replace" figure moved between 1 and 13 MB from run to run until the
// samples waited for the same number of live workers.
function workerThreads(): number {
  if (Deno.build.os !== "linux") return NaN;
  let n = 0;
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      try {
        const comm = Deno.readTextFileSync(`/proc/self/task/${task.name}/comm`);
        if (comm.startsWith("worker-")) n++;
      } catch { /* the thread ended meanwhile */ }
    }
  } catch {
    return NaN; // no /proc, or no --allow-read there
  }
  return n;
}

function sample(): Sample {
  const { rss, heapUsed } = Deno.memoryUsage();
  return {
    rss,
    heap: heapUsed,
    malloc: libc?.inUse() ?? NaN,
    threads: workerThreads(),
  };
}

/**
 * Collects until the resident figure stops falling and the count of live
 * worker threads holds still (and, given `threads`, is that count), for at
 * most 5 s.
 */
async function settle(threads = NaN): Promise<Sample> {
  // Workers of the last cycles may still be ending (they end themselves,
  // on their own threads), and finalizers that free memory run on the event
  // loop: collect until the figure stops falling.
  let last = sample();
  for (let i = 0; i < 50; i++) {
    gc?.();
    libc?.trim();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = sample();
    const steady = Number.isNaN(now.threads) ||
      (now.threads === last.threads &&
        (Number.isNaN(threads) || now.threads === threads));
    if (steady && (now.rss > last.rss - mib / 2 || i >= 20)) return now;
    last = now;
  }
  return last;
}

const mb = (bytes: number) => (bytes / mib).toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

interface Growth {
  name: string;
  cycles: number;
  workers: number;
  rss: number;
  heap: number;
  malloc: number;
}

async function run(
  name: string,
  cycles: number,
  cycle: (i: number) => Promise<void>,
): Promise<Growth> {
  const every = Math.max(1, Math.round(cycles / 10));
  // Warm up: module loading and compilation are paid once, not leaked.
  for (let i = 0; i < Math.min(20, every); i++) await cycle(i);
  const start = await settle();
  const startWorkers = workersStarted;
  const live = start.threads;
  const row = [`${name}: ${mb(start.rss)} MB`];
  for (let i = 1; i <= cycles; i++) {
    await cycle(i);
    if (i % every === 0) row.push(`${i}: ${mb((await settle(live)).rss)}`);
  }
  const end = await settle(live);
  const workers = workersStarted - startWorkers;
  const growth: Growth = {
    name,
    cycles,
    workers,
    rss: end.rss - start.rss,
    heap: end.heap - start.heap,
    malloc: end.malloc - start.malloc,
  };
  console.log(row.join(" | "));
  console.log(
    `${name}: ${mb(growth.rss)} MB over ${cycles} cycles, ${workers} workers (${
      kb(growth.rss / cycles)
    } KB per cycle, ${kb(growth.rss / workers)} KB per worker); JS heap ${
      mb(growth.heap)
    } MB; malloc in use ${mb(growth.malloc)} MB (${
      kb(growth.malloc / workers)
    } KB per worker); worker threads live at the first and last sample: ${start.threads}, ${end.threads}`,
  );
  return growth;
}

/** A worker that answers once and closes itself: Deno's own cost. */
const bareSource = `data:application/javascript,${
  encodeURIComponent(
    `onmessage = (e) => { for (const b of e.data) new Int32Array(b)[0] = 1; postMessage("done"); close(); };`,
  )
}`;

const cases: Record<string, [number, (i: number) => Promise<void>]> = {
  bare: [1000, async () => {
    const worker = new Worker(bareSource, { type: "module" });
    const done = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage([
      new SharedArrayBuffer(1 << 18),
      new SharedArrayBuffer(1 << 18),
    ]);
    await done;
  }],
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

function count(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot run leak check as '--${option}' must be a positive integer: current value is ${value}`,
    );
  }
  return n;
}

if (import.meta.main) {
  const names = Object.keys(cases);
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: Object.fromEntries(
      ["cycles", ...names].map((name) => [name, { type: "string" }]),
    ),
  });
  for (const name of positionals) {
    if (!(name in cases)) {
      throw new TypeError(
        `Cannot run leak check as a case must be one of ${
          names.join(", ")
        }: current value is ${name}`,
      );
    }
  }
  if (gc === undefined) {
    console.log("(no --v8-flags=--expose-gc: figures include garbage)");
  }
  if (libc === undefined) {
    console.log(
      "(no malloc_trim: resident figures include free allocator pages; run on Linux with --allow-ffi)",
    );
  }
  const cyclesAll = count(values.cycles as string | undefined, "cycles");
  const growths: Growth[] = [];
  for (const name of names) {
    if (positionals.length > 0 && !positionals.includes(name)) continue;
    const [cycles, cycle] = cases[name];
    const n = count(values[name] as string | undefined, name) ?? cyclesAll ??
      cycles;
    growths.push(await run(name, n, cycle));
  }
  const bare = growths.find((g) => g.name === "bare");
  if (bare !== undefined && growths.length > 1) {
    console.log("\nper worker, against bare Web Workers in this run:");
    for (const g of growths) {
      if (g === bare) continue;
      console.log(
        `  ${g.name}: ${kb(g.rss / g.workers)} KB resident (bare ${
          kb(bare.rss / bare.workers)
        }), ${kb(g.malloc / g.workers)} KB malloc (bare ${
          kb(bare.malloc / bare.workers)
        })`,
      );
    }
  }
  Deno.exit(0);
}
