// The workloads of `deno task bench:compare` with bare Web Workers: plain
// `new Worker` and postMessage, no library (bare_worker.ts is the worker
// side). This is the baseline the issue quotes every ratio against: what a
// program gets by writing the workers itself. Read it beside
// deno_workloads.ts.
//
//   deno run --allow-read bench/compare/bare_workloads.ts '<config JSON>'
//
// Output as deno_workloads.ts: progress on stderr, the result JSON as the
// last stdout line.

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
  equivalent?: boolean;
}

const workerUrl = new URL("./bare_worker.ts", import.meta.url).href;
const now = () => performance.now();

function spawn(role: string): Worker {
  return new Worker(workerUrl, { type: "module", name: role });
}

/** The next message of a worker. */
function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data as T);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  });
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`wrong result: ${what}`);
}

async function runs(
  repeat: number,
  once: () => Promise<number>,
): Promise<number[]> {
  await once();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) samples.push(await once());
  return samples;
}

/** A hand-rolled pool: one pending-call table, results matched by id. */
class BarePool {
  readonly workers: Worker[];
  #next = 0;
  #pending = new Map<number, (value: unknown) => void>();

  constructor(n: number) {
    this.workers = Array.from({ length: n }, () => spawn("task"));
    for (const worker of this.workers) {
      worker.onmessage = (event) => {
        const [id, result] = event.data as [number, unknown];
        const resolve = this.#pending.get(id)!;
        this.#pending.delete(id);
        resolve(result);
      };
    }
  }

  call(worker: number, fn: string, arg: unknown): Promise<unknown> {
    const id = this.#next++;
    const { promise, resolve } = Promise.withResolvers<unknown>();
    this.#pending.set(id, resolve);
    this.workers[worker].postMessage([id, fn, arg]);
    return promise;
  }

  terminate(): void {
    for (const worker of this.workers) worker.terminate();
  }
}

async function startJoin(c: Config): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    const start = now();
    const workers = Array.from({ length: c.cpus }, () => spawn("exit"));
    const done = await Promise.all(workers.map((w) => nextMessage(w)));
    const ms = now() - start;
    for (const w of workers) w.terminate();
    check(done.every((d) => d === "done"), "exit");
    return ms;
  });
  return {
    samples,
    note: "new Worker → its one message, then it closes itself",
  };
}

async function poolReady(c: Config): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    const start = now();
    const pool = new BarePool(c.cpus);
    await pool.call(0, "noop", 0);
    const ms = now() - start;
    pool.terminate();
    return ms;
  });
  return { samples };
}

async function mapTiny(c: Config, pool: BarePool): Promise<Outcome> {
  const items = Array.from({ length: c.mapItems }, (_, i) => i);
  const last = (c.mapItems - 1) ** 2;
  // CPython's default chunksize: four chunks per worker.
  const size = Math.ceil(c.mapItems / (4 * c.cpus));
  const samples = await runs(c.repeat, async () => {
    const start = now();
    const calls: Promise<unknown>[] = [];
    for (let i = 0, w = 0; i < items.length; i += size, w++) {
      calls.push(
        pool.call(w % c.cpus, "square", items.slice(i, i + size)),
      );
    }
    const out = (await Promise.all(calls) as number[][]).flat();
    const ms = now() - start;
    check(out.length === c.mapItems && out[c.mapItems - 1] === last, "map");
    return ms;
  });
  return { samples, note: "chunks of n / (4 × workers), round robin" };
}

async function applyAsync(c: Config, pool: BarePool): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    const start = now();
    const calls = Array.from(
      { length: c.asyncTasks },
      (_, i) => pool.call(i % c.cpus, "noop", 0),
    );
    await Promise.all(calls);
    return now() - start;
  });
  return { samples, note: "one message per task, round robin" };
}

async function applySequential(c: Config, pool: BarePool): Promise<Outcome> {
  const samples = await runs(c.repeat, async () => {
    const start = now();
    for (let i = 0; i < c.applyTrips; i++) await pool.call(0, "noop", 0);
    return now() - start;
  });
  return { samples };
}

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
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

async function cpuEfficiency(c: Config, pool: BarePool): Promise<Outcome> {
  const n = calibrateFib(c.fibMinMs);
  const count = c.fibTasksPerCpu * c.cpus;
  const expected = fib(n);
  const samples = await runs(c.repeat, async () => {
    let start = now();
    for (let i = 0; i < count; i++) fib(n);
    const sequential = now() - start;
    start = now();
    // Each worker takes the next task when it is done (chunksize 1).
    let next = 0;
    const results: unknown[] = [];
    await Promise.all(pool.workers.map(async (_, w) => {
      while (next < count) {
        next++;
        results.push(await pool.call(w, "fib", n));
      }
    }));
    const parallel = now() - start;
    check(results.every((v) => v === expected), "fib");
    return (100 * sequential) / (parallel * c.cpus);
  });
  return {
    samples,
    note: `${count} × fib(${n}), the next task to the first idle worker`,
  };
}

async function queueThroughput(c: Config): Promise<Outcome> {
  const n = c.queueMessages;
  const samples = await runs(c.repeat, async () => {
    const { port1, port2 } = new MessageChannel();
    const producer = spawn("producer");
    const consumer = spawn("consumer");
    const ready = [nextMessage(producer), nextMessage(consumer)];
    producer.postMessage({ port: port1, n }, [port1]);
    consumer.postMessage({ port: port2, n }, [port2]);
    await Promise.all(ready);
    const total = nextMessage<number>(consumer);
    const start = now();
    producer.postMessage("go");
    const sum = await total;
    const ms = now() - start;
    producer.terminate();
    consumer.terminate();
    check(sum === (n * (n - 1)) / 2, "sum");
    return ms;
  });
  return {
    samples,
    equivalent: true,
    note: "a MessageChannel between the two workers",
  };
}

async function lockedIncrements(c: Config): Promise<Outcome> {
  const n = c.incrementsPerProcess;
  const samples = await runs(c.repeat, async () => {
    const shared = new SharedArrayBuffer(12);
    const counter = new Int32Array(shared, 4, 1);
    const go = new Int32Array(shared, 8, 1);
    const workers = Array.from({ length: c.cpus }, () => spawn("incrementer"));
    const ready = workers.map((w) => nextMessage(w));
    for (const w of workers) w.postMessage({ shared, n });
    await Promise.all(ready);
    const done = workers.map((w) => nextMessage(w));
    const start = now();
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    await Promise.all(done);
    const ms = now() - start;
    for (const w of workers) w.terminate();
    check(counter[0] === c.cpus * n, "counter");
    return ms;
  });
  return {
    samples,
    equivalent: true,
    note: "a hand-written futex-style Atomics mutex",
  };
}

async function frameQueue(c: Config): Promise<Outcome> {
  const frame = new Uint8Array(c.frameBytes);
  const worker = spawn("frame");
  let stamp = 0;
  try {
    const samples = await runs(c.repeat, async () => {
      stamp = (stamp % 250) + 1;
      frame[0] = frame[frame.length - 1] = stamp;
      const start = now();
      const answer = nextMessage<number>(worker);
      worker.postMessage(frame);
      const echo = await answer;
      const ms = now() - start;
      check(echo === stamp, "frame stamp");
      return ms;
    });
    return {
      samples,
      equivalent: true,
      note: "postMessage(frame) (a copy) → its first byte back",
    };
  } finally {
    worker.terminate();
  }
}

async function frameShared(c: Config): Promise<Outcome> {
  const bytes = new Uint8Array(new SharedArrayBuffer(c.frameBytes));
  const words = new Int32Array(new SharedArrayBuffer(16));
  const worker = spawn("shared");
  worker.postMessage({ bytes, words });
  let stamp = 0;
  try {
    const samples = await runs(c.repeat, async () => {
      stamp = (stamp % 250) + 1;
      bytes[0] = bytes[bytes.length - 1] = stamp;
      const acks = Atomics.load(words, 1);
      const start = now();
      Atomics.add(words, 0, 1);
      Atomics.notify(words, 0);
      const wait = Atomics.waitAsync(words, 1, acks);
      if (wait.async) await wait.value;
      const ms = now() - start;
      check(words[2] === stamp, "frame stamp");
      return ms;
    });
    return {
      samples,
      equivalent: true,
      note: "SharedArrayBuffer; Atomics.notify → the worker checks → notify",
    };
  } finally {
    Atomics.store(words, 3, 1);
    Atomics.add(words, 0, 1);
    Atomics.notify(words, 0);
    worker.terminate();
  }
}

async function pipePingPong(c: Config): Promise<Outcome> {
  const worker = spawn("echo");
  try {
    const samples = await runs(c.repeat, async () => {
      const start = now();
      for (let i = 0; i < c.pipeTrips; i++) {
        const answer = nextMessage<number>(worker);
        worker.postMessage(i);
        check(await answer === i, "echo");
      }
      return now() - start;
    });
    return { samples, equivalent: true, note: "postMessage both ways" };
  } finally {
    worker.terminate();
  }
}

if (import.meta.main) {
  const config: Config = JSON.parse(Deno.args[0] ?? "{}");
  if (!Array.isArray(config.workloads)) {
    console.error(
      "usage: bare_workloads.ts '<config JSON>' (see tools/bench_compare.ts)",
    );
    Deno.exit(2);
  }
  const results: Record<string, Outcome> = {};
  const errors: Record<string, string> = {};
  let pool: BarePool | undefined;
  const warmPool = async () => {
    if (pool === undefined) {
      pool = new BarePool(config.cpus);
      await Promise.all(pool.workers.map((_, w) => pool!.call(w, "noop", 0)));
    }
    return pool;
  };
  const cold = (outcome: Outcome): Outcome => ({
    ...outcome,
    note: "no warm start without a library: the cold start again",
  });
  const workloads: Record<string, () => Promise<Outcome>> = {
    start_join: () => startJoin(config),
    // A bare worker's code is its own module either way.
    start_join_imported: () => startJoin(config),
    pool_ready: () => poolReady(config),
    pool_ready_imported: () => poolReady(config),
    map_tiny: async () => mapTiny(config, await warmPool()),
    apply_async: async () => applyAsync(config, await warmPool()),
    apply_sequential: async () => applySequential(config, await warmPool()),
    cpu_efficiency: async () => cpuEfficiency(config, await warmPool()),
    queue_throughput: () => queueThroughput(config),
    locked_increments: () => lockedIncrements(config),
    pipe_pingpong: () => pipePingPong(config),
    frame_queue: () => frameQueue(config),
    frame_shared: () => frameShared(config),
    start_join_forkserver: async () => cold(await startJoin(config)),
    pool_ready_forkserver: async () => cold(await poolReady(config)),
  };
  for (const id of config.workloads) {
    const run = workloads[id];
    if (run === undefined) {
      errors[id] = "unknown workload";
      continue;
    }
    console.error(`  bare: ${id}`);
    try {
      results[id] = await run();
    } catch (error) {
      errors[id] = error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
      console.error(error);
    }
  }
  (pool as BarePool | undefined)?.terminate();
  console.log(JSON.stringify({
    system: "bare",
    runtime:
      `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), plain Web Workers`,
    results,
    errors,
  }));
}
