// The workloads of `deno task bench:compare` on piscina (Node.js worker
// threads). deno_workloads.ts and python_workloads.py beside this file run
// the same workloads on @dmp/multiprocessing and CPython; read them side by
// side.
//
//   node bench/compare/piscina_workloads.mjs '<config JSON>'
//
// piscina is installed by tools/bench_compare.ts into bench/compare/
// node_modules (git-ignored). Under Deno (no `node` on the PATH) the same
// file loads it as `npm:piscina@<version>`. piscina is a pool only: the
// workloads it has no API for (Process start, Queue, Lock) use bare
// node:worker_threads equivalents (node_thread.mjs), and every such result
// says so in its note.
//
// Progress goes to stderr; the last stdout line is the result JSON:
// { system, runtime, results: { id: { samples, note? } }, errors }.

import { readFileSync } from "node:fs";
import process from "node:process";
import { Worker } from "node:worker_threads";

const inDeno = typeof globalThis.Deno !== "undefined";
const now = () => performance.now();
const workerFile = new URL("./piscina_worker.mjs", import.meta.url).href;
const threadFile = new URL("./node_thread.mjs", import.meta.url);

/** piscina and the version actually loaded. */
async function loadPiscina(pinned) {
  // A computed specifier: static tools (deno check) must not resolve it.
  const specifier = inDeno ? `npm:piscina@${pinned}` : "piscina";
  const module = await import(specifier);
  const version = inDeno ? pinned : JSON.parse(
    readFileSync(
      new URL("./node_modules/piscina/package.json", import.meta.url),
      "utf8",
    ),
  ).version;
  return { Piscina: module.Piscina ?? module.default, version };
}

function check(ok, what) {
  if (!ok) throw new Error(`wrong result: ${what}`);
}

/** A warm-up run, then `repeat` timed runs; `once` returns milliseconds. */
async function runs(repeat, once) {
  await once();
  const samples = [];
  for (let i = 0; i < repeat; i++) samples.push(await once());
  return samples;
}

/** A bare thread and a promise of its exit code, listened for from the start. */
function thread(workerData, transferList = []) {
  const worker = new Worker(threadFile, { workerData, transferList });
  const exit = new Promise((resolve, reject) => {
    worker.once("exit", resolve);
    worker.once("error", reject);
  });
  return { worker, exit };
}

function nextMessage(worker) {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function calibrateFib(minMs) {
  fib(24);
  for (let n = 20; n < 40; n++) {
    const start = now();
    fib(n);
    if (now() - start >= minMs) return n;
  }
  return 40;
}

async function main() {
  const c = JSON.parse(process.argv[2] ?? "{}");
  if (!Array.isArray(c.workloads)) {
    console.error("usage: piscina_workloads.mjs '<config JSON>'");
    process.exit(2);
  }
  const { Piscina, version } = await loadPiscina(c.piscinaVersion);
  const newPool = () =>
    new Piscina({
      filename: workerFile,
      minThreads: c.cpus,
      maxThreads: c.cpus,
    });
  let pool;
  const warmPool = async () => {
    if (pool === undefined) {
      pool = newPool();
      await Promise.all(
        [1, 2, 3, 4].map((x) => pool.run(x, { name: "square" })),
      );
    }
    return pool;
  };
  const noop = (p) => p.run(null, { name: "noop" });

  const workloads = {
    async start_join() {
      const samples = await runs(c.repeat, async () => {
        const start = now();
        const threads = Array.from(
          { length: c.cpus },
          () => thread({ role: "noop" }),
        );
        const codes = await Promise.all(threads.map((t) => t.exit));
        const ms = now() - start;
        check(codes.every((code) => code === 0), "exit codes");
        return ms;
      });
      return {
        samples,
        equivalent: true,
        note:
          "piscina has no Process: bare node:worker_threads Worker, start → exit",
      };
    },
    async pool_ready() {
      const samples = await runs(c.repeat, async () => {
        const start = now();
        const p = newPool();
        await noop(p);
        const ms = now() - start;
        await p.destroy();
        return ms;
      });
      return {
        samples,
        note: "new Piscina({ minThreads, maxThreads: cpuCount }) → first run()",
      };
    },
    async map_tiny() {
      const p = await warmPool();
      const items = Array.from({ length: c.mapItems }, (_, i) => i);
      const last = (c.mapItems - 1) ** 2;
      const samples = await runs(c.repeat, async () => {
        const start = now();
        const out = await Promise.all(
          items.map((x) => p.run(x, { name: "square" })),
        );
        const ms = now() - start;
        check(out.length === c.mapItems && out[c.mapItems - 1] === last, "map");
        return ms;
      });
      return {
        samples,
        equivalent: true,
        note: "piscina has no map: one run() per item, all in flight",
      };
    },
    async apply_async() {
      const p = await warmPool();
      const samples = await runs(c.repeat, async () => {
        const start = now();
        await Promise.all(Array.from({ length: c.asyncTasks }, () => noop(p)));
        return now() - start;
      });
      return { samples, note: "run() promises, all in flight" };
    },
    async apply_sequential() {
      const p = await warmPool();
      const samples = await runs(c.repeat, async () => {
        const start = now();
        for (let i = 0; i < c.applyTrips; i++) await noop(p);
        return now() - start;
      });
      return { samples, note: "await run(), one at a time" };
    },
    async cpu_efficiency() {
      const p = await warmPool();
      const n = calibrateFib(c.fibMinMs);
      const tasks = Array(c.fibTasksPerCpu * c.cpus).fill(n);
      const expected = fib(n);
      const samples = await runs(c.repeat, async () => {
        let start = now();
        for (const t of tasks) fib(t);
        const sequential = now() - start;
        start = now();
        const out = await Promise.all(
          tasks.map((t) => p.run(t, { name: "fib" })),
        );
        const parallel = now() - start;
        check(out.every((v) => v === expected), "fib");
        return (100 * sequential) / (parallel * c.cpus);
      });
      return {
        samples,
        note:
          `${tasks.length} × fib(${n}); one run() per task; sequential run in the main thread`,
      };
    },
    async queue_throughput() {
      const n = c.queueMessages;
      const samples = await runs(c.repeat, async () => {
        const { port1, port2 } = new MessageChannel();
        const producer = thread({ role: "producer", port: port1, n }, [port1]);
        const consumer = thread({ role: "consumer", port: port2, n }, [port2]);
        await Promise.all([
          nextMessage(producer.worker),
          nextMessage(consumer.worker),
        ]);
        const finished = nextMessage(consumer.worker);
        const start = now();
        producer.worker.postMessage("go");
        const { total } = await finished;
        const ms = now() - start;
        await Promise.all([producer.exit, consumer.exit]);
        check(total === (n * (n - 1)) / 2, "queue sum");
        return ms;
      });
      return {
        samples,
        equivalent: true,
        note:
          "piscina has no Queue: two node:worker_threads joined by a MessageChannel",
      };
    },
    async locked_increments() {
      const n = c.incrementsPerProcess;
      const samples = await runs(c.repeat, async () => {
        const shared = new SharedArrayBuffer(12);
        const threads = Array.from(
          { length: c.cpus },
          () => thread({ role: "incrementer", shared, n }),
        );
        await Promise.all(threads.map((t) => nextMessage(t.worker)));
        const done = Promise.all(threads.map((t) => nextMessage(t.worker)));
        const go = new Int32Array(shared, 8, 1);
        const start = now();
        Atomics.store(go, 0, 1);
        Atomics.notify(go, 0);
        await done;
        const ms = now() - start;
        await Promise.all(threads.map((t) => t.exit));
        check(new Int32Array(shared, 4, 1)[0] === c.cpus * n, "counter");
        return ms;
      });
      return {
        samples,
        equivalent: true,
        note:
          "piscina has no Lock: node:worker_threads + a hand-written Atomics mutex",
      };
    },
    async frame_queue() {
      const p = await warmPool();
      const frame = new Uint8Array(c.frameBytes);
      let stamp = 0;
      const samples = await runs(c.repeat, async () => {
        stamp = (stamp % 250) + 1;
        frame[0] = frame[frame.length - 1] = stamp;
        const start = now();
        const echo = await p.run(frame, { name: "frameStamp" });
        const ms = now() - start;
        check(echo === stamp, "frame stamp");
        return ms;
      });
      return {
        samples,
        equivalent: true,
        note:
          "piscina has no Queue: run(frame), a structured-clone copy into a pooled thread",
      };
    },
    async frame_shared() {
      const p = await warmPool();
      const frame = new Uint8Array(new SharedArrayBuffer(c.frameBytes));
      let stamp = 0;
      const samples = await runs(c.repeat, async () => {
        stamp = (stamp % 250) + 1;
        frame[0] = frame[frame.length - 1] = stamp;
        const start = now();
        const echo = await p.run(frame, { name: "frameStamp" });
        const ms = now() - start;
        check(echo === stamp, "frame stamp");
        return ms;
      });
      return {
        samples,
        equivalent: true,
        note:
          "run(view of a SharedArrayBuffer): shared, no copy; a task round trip",
      };
    },
  };

  const results = {};
  const errors = {};
  for (const id of c.workloads) {
    const run = workloads[id];
    if (run === undefined) {
      errors[id] = "unknown workload";
      continue;
    }
    console.error(`  piscina: ${id}`);
    try {
      results[id] = await run();
    } catch (error) {
      errors[id] = error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
      console.error(error);
    }
  }
  if (pool !== undefined) await pool.destroy();
  const runtime = inDeno
    ? `piscina ${version} on Deno ${globalThis.Deno.version.deno} (Node compatibility)`
    : `piscina ${version} on Node.js ${process.versions.node}`;
  console.log(JSON.stringify({ system: "piscina", runtime, results, errors }));
}

await main();
