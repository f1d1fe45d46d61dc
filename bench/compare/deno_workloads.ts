// The workloads of `deno task bench:compare` on @dmp/multiprocessing.
// python_workloads.py and piscina_workloads.mjs beside this file run the
// same workloads on CPython's multiprocessing and on piscina; read them
// side by side.
//
//   deno run --allow-read --allow-run bench/compare/deno_workloads.ts '<config JSON>'
//
// The config (tools/_compare_report.ts: CompareConfig) says the sizes and
// the number of runs. Progress goes to stderr; the last stdout line is the
// result JSON: { system, runtime, results: { id: { samples, note? } },
// errors: { id: message } }. Workers import this module: everything below
// runs only under `import.meta.main`, and the targets are its exports.

import {
  type Connection,
  Event,
  getContext,
  Lock,
  Pipe,
  Pool,
  Process,
  Queue,
  Semaphore,
  SharedMemory,
  Value,
} from "../../mod.ts";
import { forkserverCounters, warmReady } from "../../src/_child/forkserver.ts";
// A task kept in its own module, as the README advises: imported by name, so
// a child imports that module, not this one (with the library).
import { nothing } from "./tasks.ts";

// ------------------------------------------------------------- targets

export function noop(): void {}

export function square(x: number): number {
  return x * x;
}

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

type Message = { id: number; name: string };

export function queueProducer(
  q: Queue<Message>,
  ready: Semaphore,
  go: Event,
  n: number,
): void {
  ready.release();
  go.waitSync();
  for (let i = 0; i < n; i++) q.putSync({ id: i, name: "item" });
}

export function queueConsumer(
  q: Queue<Message>,
  ready: Semaphore,
  go: Event,
  done: Event,
  sum: Float64Array,
  n: number,
): void {
  ready.release();
  go.waitSync();
  let total = 0;
  for (let i = 0; i < n; i++) total += q.getSync().id;
  sum[0] = total;
  done.set();
}

/** Doc 002's counter: `with lock: counter.value += 1`, n times. */
export function lockedIncrements(
  counter: Value<"i">,
  lock: Lock,
  ready: Semaphore,
  go: Event,
  done: Semaphore,
  n: number,
): void {
  ready.release();
  go.waitSync();
  for (let i = 0; i < n; i++) {
    using _ = lock.holdSync();
    counter.value += 1;
  }
  done.release();
}

export function frameFromQueue(
  q: Queue<Uint8Array | null>,
  ack: Event,
  echo: Int32Array,
): void {
  while (true) {
    const frame = q.getSync();
    if (frame === null) return;
    echo[0] = frame[0] === frame[frame.length - 1] ? frame[0] : -1;
    ack.set();
  }
}

export function frameFromSharedMemory(
  shm: SharedMemory,
  ready: Event,
  ack: Event,
  echo: Int32Array,
  stop: Int32Array,
): void {
  const bytes = shm.buf;
  while (true) {
    ready.waitSync();
    ready.clear();
    if (Atomics.load(stop, 0) === 1) break;
    echo[0] = bytes[0] === bytes[bytes.length - 1] ? bytes[0] : -1;
    ack.set();
  }
  shm.close();
}

export function echo(conn: Connection): void {
  while (true) {
    const value = conn.recvSync();
    if (value === null) return;
    conn.send(value);
  }
}

// ------------------------------------------------------------ the parent

interface Config {
  cpus: number;
  repeat: number;
  mapItems: number;
  asyncTasks: number;
  applyTrips: number;
  fibTasksPerCpu: number;
  fibMinMs: number;
  queueMessages: number;
  incrementsPerProcess: number;
  frameBytes: number;
  pipeTrips: number;
  workloads: string[];
}

interface Outcome {
  samples: number[];
  note?: string;
}

const now = () => performance.now();

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`wrong result: ${what}`);
}

/** A warm-up run, then `repeat` timed runs; `once` returns milliseconds. */
async function runs(
  repeat: number,
  once: () => Promise<number>,
): Promise<number[]> {
  await once();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) samples.push(await once());
  return samples;
}

function shared<T>(make: (sab: SharedArrayBuffer) => T, bytes: number): T {
  return make(new SharedArrayBuffer(bytes));
}

// The classes of the default ("spawn") or another start method's context.
type Starters = Pick<ReturnType<typeof getContext>, "Process" | "Pool">;
const spawn: Starters = { Process, Pool };

/** Where start-up runs: a context's classes, and what to await untimed first. */
interface StartOn {
  ctx?: Starters;
  settle?: () => Promise<void>;
  /** The target: this module's noop unless given. */
  target?: () => void;
}

async function startJoin(
  c: Config,
  { ctx = spawn, settle, target = noop }: StartOn = {},
): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    await settle?.();
    const start = now();
    const ps = Array.from(
      { length: c.cpus },
      () => new ctx.Process({ target }),
    );
    for (const p of ps) p.start();
    const codes = await Promise.all(ps.map((p) => p.join()));
    const ms = now() - start;
    check(codes.every((code) => code === 0), "exit codes");
    return ms;
  });
  return { samples };
}

async function poolReady(
  c: Config,
  { ctx = spawn, settle, target = noop }: StartOn = {},
): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    await settle?.();
    const start = now();
    const pool = new ctx.Pool(c.cpus);
    await pool.apply(target);
    const ms = now() - start;
    pool.terminate();
    await pool.join();
    return ms;
  });
  return { samples };
}

async function mapTiny(c: Config, pool: Pool): Promise<Outcome> {
  const items = Array.from({ length: c.mapItems }, (_, i) => i);
  const last = (c.mapItems - 1) ** 2;
  const samples = await runs(c.repeat, async () => {
    const start = now();
    const out = await pool.map(square, items);
    const ms = now() - start;
    check(out.length === c.mapItems && out[c.mapItems - 1] === last, "map");
    return ms;
  });
  return { samples, note: "Pool.map, default chunksize" };
}

async function applyAsyncMany(c: Config, pool: Pool): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    const start = now();
    const results = Array.from(
      { length: c.asyncTasks },
      () => pool.applyAsync(noop),
    );
    for (const r of results) await r.get();
    return now() - start;
  });
  return { samples };
}

async function applySequential(c: Config, pool: Pool): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    const start = now();
    for (let i = 0; i < c.applyTrips; i++) await pool.apply(noop);
    return now() - start;
  });
  return { samples };
}

function calibrateFib(minMs: number): number {
  fib(24);
  for (let n = 20; n < 40; n++) {
    const start = now();
    fib(n);
    if (now() - start >= minMs) return n;
  }
  return 40;
}

async function cpuEfficiency(c: Config, pool: Pool): Promise<Outcome> {
  const n = calibrateFib(c.fibMinMs);
  const tasks: number[] = Array(c.fibTasksPerCpu * c.cpus).fill(n);
  const expected = fib(n);
  const samples = await runs(c.repeat, async () => {
    let start = now();
    for (const t of tasks) fib(t);
    const sequential = now() - start;
    start = now();
    const out = await pool.map(fib, tasks, 1);
    const parallel = now() - start;
    check(out.every((v) => v === expected), "fib");
    return (100 * sequential) / (parallel * c.cpus);
  });
  return {
    samples,
    note:
      `${tasks.length} × fib(${n}); Pool.map, chunksize 1; sequential run in the main thread`,
  };
}

async function queueThroughput(c: Config): Promise<Outcome> {
  const n = c.queueMessages;
  const samples = await runs(c.repeat, async () => {
    const q = new Queue<Message>();
    const ready = new Semaphore(0);
    const go = new Event();
    const done = new Event();
    const sum = shared((b) => new Float64Array(b), 8);
    const producer = new Process({
      target: queueProducer,
      args: [q, ready, go, n],
    });
    const consumer = new Process({
      target: queueConsumer,
      args: [q, ready, go, done, sum, n],
    });
    producer.start();
    consumer.start();
    await ready.acquire();
    await ready.acquire();
    const start = now();
    go.set();
    await done.wait();
    const ms = now() - start;
    await Promise.all([producer.join(), consumer.join()]);
    check(sum[0] === (n * (n - 1)) / 2, "queue sum");
    return ms;
  });
  return { samples, note: "putSync/getSync in the two processes" };
}

async function lockedCounter(c: Config): Promise<Outcome> {
  const n = c.incrementsPerProcess;
  const samples = await runs(c.repeat, async () => {
    const counter = new Value("i", 0);
    const lock = new Lock();
    const ready = new Semaphore(0);
    const go = new Event();
    const done = new Semaphore(0);
    const ps = Array.from(
      { length: c.cpus },
      () =>
        new Process({
          target: lockedIncrements,
          args: [counter, lock, ready, go, done, n],
        }),
    );
    for (const p of ps) p.start();
    for (const _ of ps) await ready.acquire();
    const start = now();
    go.set();
    for (const _ of ps) await done.acquire();
    const ms = now() - start;
    await Promise.all(ps.map((p) => p.join()));
    check(counter.value === c.cpus * n, "counter");
    return ms;
  });
  return {
    samples,
    note:
      "lock.holdSync(); counter.value += 1 (Value 'i' with its own lock, as doc 002)",
  };
}

async function frameQueue(c: Config): Promise<Outcome> {
  const frame = new Uint8Array(c.frameBytes);
  const q = new Queue<Uint8Array | null>();
  const ack = new Event();
  const echo = shared((b) => new Int32Array(b), 4);
  const consumer = new Process({
    target: frameFromQueue,
    args: [q, ack, echo],
  });
  consumer.start();
  let stamp = 0;
  try {
    const samples = await runs(c.repeat, async () => {
      stamp = (stamp % 250) + 1;
      frame[0] = frame[frame.length - 1] = stamp;
      const start = now();
      await q.put(frame);
      await ack.wait();
      const ms = now() - start;
      ack.clear();
      check(echo[0] === stamp, "frame stamp");
      return ms;
    });
    return {
      samples,
      note: "await put(frame) → getSync() in a running process → Event",
    };
  } finally {
    await q.put(null);
    await consumer.join();
  }
}

async function frameShared(c: Config): Promise<Outcome> {
  const shm = new SharedMemory({ create: true, size: c.frameBytes });
  const ready = new Event();
  const ack = new Event();
  const echo = shared((b) => new Int32Array(b), 4);
  const stop = shared((b) => new Int32Array(b), 4);
  const consumer = new Process({
    target: frameFromSharedMemory,
    args: [shm, ready, ack, echo, stop],
  });
  consumer.start();
  const bytes = shm.buf;
  let stamp = 0;
  try {
    const samples = await runs(c.repeat, async () => {
      stamp = (stamp % 250) + 1;
      bytes[0] = bytes[bytes.length - 1] = stamp;
      const start = now();
      ready.set();
      await ack.wait();
      const ms = now() - start;
      ack.clear();
      check(echo[0] === stamp, "frame stamp");
      return ms;
    });
    return {
      samples,
      note: "SharedMemory; Event set → the process checks the bytes → Event",
    };
  } finally {
    Atomics.store(stop, 0, 1);
    ready.set();
    await consumer.join();
    shm.close();
    shm.unlink();
  }
}

async function pipePingPong(c: Config): Promise<Outcome> {
  const [here, there] = Pipe();
  const child = new Process({ target: echo, args: [there] });
  child.start();
  try {
    const samples = await runs(c.repeat, async () => {
      const start = now();
      for (let i = 0; i < c.pipeTrips; i++) {
        here.send(i);
        check(await here.recv() === i, "echo");
      }
      return now() - start;
    });
    return {
      samples,
      note: "send() + await recv() here; recvSync() + send() in the process",
    };
  } finally {
    here.send(null);
    await child.join();
    here.close();
  }
}

// ------------------------------------------- the "subprocess" start method

const kSubprocessNote =
  'getContext("subprocess"): each child is a deno OS process';

/**
 * A pool's worker reports its OS pid (a Worker reports the program's),
 * after a short sleep, so that the tasks spread over every worker.
 */
export async function pidOf(_: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return Deno.pid;
}

// Resident memory of an OS process, in bytes: its proportional share
// (Pss, so pages shared with others count once in all), else its RSS.
function residentBytes(pid: number): number {
  let why: unknown;
  for (const [file, key] of [["smaps_rollup", "Pss:"], ["status", "VmRSS:"]]) {
    try {
      const text = Deno.readTextFileSync(`/proc/${pid}/${file}`);
      const line = text.split("\n").find((l) => l.startsWith(key));
      if (line !== undefined) return parseInt(line.slice(key.length)) * 1024;
    } catch (error) {
      why = error; // not Linux, or not readable: try the next source
    }
  }
  throw new Error(`cannot read the memory of process ${pid}`, { cause: why });
}

/**
 * Memory per pool worker, in MB, once: the program's growth while a pool of
 * `cpus` starts and runs a task in every worker, plus, for workers that are
 * OS processes, their own resident memory.
 */
async function memoryOnce(c: Config, ctx: Starters): Promise<number> {
  const before = Deno.memoryUsage().rss;
  const pool = new ctx.Pool(c.cpus);
  try {
    const items = Array.from({ length: c.cpus * 4 }, (_, i) => i);
    const pids = new Set(await pool.map(pidOf, items, 1));
    check(ctx === spawn || pids.size === c.cpus, "a task in every worker");
    let bytes = Deno.memoryUsage().rss - before;
    for (const pid of pids) if (pid !== Deno.pid) bytes += residentBytes(pid);
    return bytes / c.cpus / 1e6;
  } finally {
    pool.terminate();
    await pool.join();
  }
}

/**
 * memoryOnce() in a fresh program per sample: in this one, memory freed by
 * the workloads before would be reused and hide a worker's cost.
 */
async function memoryPerWorker(c: Config, method: string): Promise<Outcome> {
  const samples: number[] = [];
  for (let run = 0; run <= c.repeat; run++) {
    const config = { ...c, workloads: [`memory_once_${method}`] };
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      // The module's URL, not a path from node:url: every child imports this
      // module, and a node: import costs each one Deno's Node layer.
      args: ["run", "-A", import.meta.url, JSON.stringify(config)],
      stderr: "inherit",
    }).output();
    check(success, "the measuring program's exit code");
    const lines = new TextDecoder().decode(stdout).trim().split("\n");
    const report = JSON.parse(lines[lines.length - 1]);
    const outcome = report.results[`memory_once_${method}`] as Outcome;
    check(outcome !== undefined, `memory_once_${method} measured`);
    if (run > 0) samples.push(outcome.samples[0]);
  }
  return {
    samples,
    note: "a fresh program's growth + each OS child's Pss (or RSS), per worker",
  };
}

/** The same workload on a started pool of the "subprocess" start method. */
async function onSubprocessPool(
  c: Config,
  run: (c: Config, pool: Pool) => Promise<Outcome>,
): Promise<Outcome> {
  const pool = new (getContext("subprocess").Pool)(c.cpus);
  try {
    await pool.map(square, [1, 2, 3, 4]);
    return { ...await run(c, pool), note: kSubprocessNote };
  } finally {
    pool.terminate();
    await pool.join();
  }
}

async function subprocessOnly(
  run: (c: Config, on: StartOn) => Promise<Outcome>,
  c: Config,
): Promise<Outcome> {
  const ctx = getContext("subprocess");
  return { ...await run(c, { ctx }), note: kSubprocessNote };
}

// Warm workers refill once no child has started for a while, one per
// event-loop turn: wait for the first by event, then give the rest the
// same time again (the note says how many starts were warm).
async function warmedUp(): Promise<void> {
  const start = now();
  await warmReady();
  const waited = now() - start;
  await new Promise((resolve) => setTimeout(resolve, 300 + 2 * waited));
}

function warmNote(before: { warm: number; cold: number }): string {
  const warm = forkserverCounters.warm - before.warm;
  const cold = forkserverCounters.cold - before.cold;
  return `getContext("forkserver"), warm workers waited for before each run; ${warm} warm and ${cold} cold starts`;
}

async function startJoinForkserver(c: Config): Promise<Outcome> {
  const ctx = getContext("forkserver");
  const before = { ...forkserverCounters };
  // A first child creates the profile its warm workers belong to.
  const first = new ctx.Process({ target: noop });
  first.start();
  await first.join();
  const { samples } = await startJoin(c, { ctx, settle: warmedUp });
  return { samples, note: warmNote(before) };
}

async function poolReadyForkserver(c: Config): Promise<Outcome> {
  const ctx = getContext("forkserver");
  const before = { ...forkserverCounters };
  const { samples } = await poolReady(c, { ctx, settle: warmedUp });
  return { samples, note: warmNote(before) };
}

if (import.meta.main) {
  const config: Config = JSON.parse(Deno.args[0] ?? "{}");
  if (!Array.isArray(config.workloads)) {
    console.error(
      "usage: deno_workloads.ts '<config JSON>' (see tools/bench_compare.ts)",
    );
    Deno.exit(2);
  }
  const results: Record<string, Outcome> = {};
  const errors: Record<string, string> = {};
  let pool: Pool | undefined;
  const warmPool = async () => {
    if (pool === undefined) {
      pool = new Pool(config.cpus);
      await pool.map(square, [1, 2, 3, 4]);
    }
    return pool;
  };
  const workloads: Record<string, () => Promise<Outcome>> = {
    start_join: () => startJoin(config),
    start_join_imported: () => startJoin(config, { target: nothing }),
    pool_ready: () => poolReady(config),
    pool_ready_imported: () => poolReady(config, { target: nothing }),
    map_tiny: async () => mapTiny(config, await warmPool()),
    apply_async: async () => applyAsyncMany(config, await warmPool()),
    apply_sequential: async () => applySequential(config, await warmPool()),
    cpu_efficiency: async () => cpuEfficiency(config, await warmPool()),
    queue_throughput: () => queueThroughput(config),
    locked_increments: () => lockedCounter(config),
    frame_queue: () => frameQueue(config),
    frame_shared: () => frameShared(config),
    pipe_pingpong: () => pipePingPong(config),
    start_join_forkserver: () => startJoinForkserver(config),
    pool_ready_forkserver: () => poolReadyForkserver(config),
    memory_per_worker: () => memoryPerWorker(config, "spawn"),
    start_join_subprocess: () => subprocessOnly(startJoin, config),
    pool_ready_subprocess: () => subprocessOnly(poolReady, config),
    apply_sequential_subprocess: () =>
      onSubprocessPool(config, applySequential),
    map_tiny_subprocess: () => onSubprocessPool(config, mapTiny),
    memory_per_worker_subprocess: async () => ({
      ...await memoryPerWorker(config, "subprocess"),
      note: kSubprocessNote,
    }),
    // One sample each, in a program of its own (see memoryPerWorker()).
    memory_once_spawn: async () => ({
      samples: [await memoryOnce(config, spawn)],
    }),
    memory_once_subprocess: async () => ({
      samples: [await memoryOnce(config, getContext("subprocess"))],
    }),
  };
  for (const id of config.workloads) {
    const run = workloads[id];
    if (run === undefined) {
      errors[id] = "unknown workload";
      continue;
    }
    console.error(`  deno: ${id}`);
    try {
      results[id] = await run();
    } catch (error) {
      errors[id] = error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
      console.error(error);
    }
  }
  if (pool !== undefined) {
    (pool as Pool).terminate();
    await (pool as Pool).join();
  }
  console.log(JSON.stringify({
    system: "deno",
    runtime: `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
    results,
    errors,
  }));
}
