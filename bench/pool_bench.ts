// Pool and executor throughput and latency, each against a baseline of bare
// postMessage workers (the same count) measured in the same run.
//
//   npx -y deno@2.9.6 bench -A bench/pool_bench.ts
//
// Targets (2-core dev machine): applyAsync of a no-op with 5 000 in flight
// ≥ 2× the baseline's tasks/s; sequential apply round trip ≤ 20 µs; map of
// 200 000 tiny items ≥ 10 M items/s; CPU-bound map (4 × cpuCount fib(30)
// tasks) at ≥ 0.9 parallel efficiency, i.e. ≥ 0.9 × cpuCount times faster
// than the sequential run of the same group.

import { cpuCount, Pool, ProcessPoolExecutor } from "../mod.ts";
import { fib } from "./_targets.ts";
// Static: workers import it with this module, so a first call pays no import.
import "./_first_call.ts";

const n = cpuCount();
const noop = new URL("./_targets.ts#noop", import.meta.url);
const square = new URL("./_targets.ts#square", import.meta.url);
const fibTarget = new URL("./_targets.ts#fib", import.meta.url);
const holdUntil = new URL("./_targets.ts#holdUntil", import.meta.url);
const whoAmI = new URL("./_targets.ts#whoAmI", import.meta.url);

// Created on first use, inside a benchmark: workers import this module, and
// a pool created at its top level would be created again in each of them.
// Idle workers do not keep the program alive, so no teardown is needed.
let pool: Pool | undefined;
const thePool = () => pool ??= new Pool(n);

class BareWorkers {
  #workers: Worker[];
  #pending = new Map<number, (value: unknown) => void>();
  #next = 0;
  constructor(count: number) {
    this.#workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL("./_bare_worker.ts", import.meta.url), {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<[number, unknown]>) => {
        const [id, result] = event.data;
        this.#pending.get(id)!(result);
        this.#pending.delete(id);
      };
      return worker;
    });
  }
  run(name: string, payload: unknown): Promise<unknown> {
    const id = this.#next++;
    const worker = this.#workers[id % this.#workers.length];
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage([id, name, payload]);
    });
  }
  terminate(): void {
    for (const worker of this.#workers) worker.terminate();
  }
}

let bare: BareWorkers | undefined;
const theBare = () => bare ??= new BareWorkers(n);

const items = Array.from({ length: 200_000 }, (_, i) => i);
const fibs = Array.from({ length: 4 * n }, () => 30);

// Warm both up so no benchmark pays for worker start-up.
async function warm(): Promise<void> {
  await thePool().map(square, [1, 2, 3, 4], 1);
  await Promise.all([1, 2, 3, 4].map((x) => theBare().run("square", x)));
}

Deno.bench({
  name: "Pool.applyAsync: 5 000 no-ops in flight",
  group: "5 000 in flight",
  async fn(b) {
    await warm();
    b.start();
    const p = thePool();
    await Promise.all(
      Array.from({ length: 5000 }, () => p.applyAsync(noop).get()),
    );
    b.end();
  },
});

Deno.bench({
  name: "bare workers: 5 000 postMessage no-ops in flight",
  group: "5 000 in flight",
  baseline: true,
  async fn(b) {
    await warm();
    b.start();
    const w = theBare();
    await Promise.all(Array.from({ length: 5000 }, () => w.run("noop", 0)));
    b.end();
  },
});

// One AbortSignal for every call, as a program's Ctrl-C handler passes it:
// the calls share one listener on it (src/_core/abort_listeners.ts), so a
// call costs a fixed amount more, not one that grows with the calls in
// flight (a listener each: 20 000 in flight took 5–7 s).
Deno.bench({
  name: "Pool.apply: 20 000 no-ops in flight, without a signal",
  group: "20 000 in flight, one signal",
  baseline: true,
  async fn(b) {
    await warm();
    b.start();
    const p = thePool();
    await Promise.all(Array.from({ length: 20_000 }, () => p.apply(noop)));
    b.end();
  },
});

Deno.bench({
  name: "Pool.apply: 20 000 no-ops in flight, all with one AbortSignal",
  group: "20 000 in flight, one signal",
  async fn(b) {
    await warm();
    const { signal } = new AbortController();
    b.start();
    const p = thePool();
    await Promise.all(
      Array.from({ length: 20_000 }, () => p.apply(noop, [], { signal })),
    );
    b.end();
  },
});

Deno.bench({
  name: "Pool.apply: sequential round trip (no-op)",
  group: "round trip",
  async fn(b) {
    await warm();
    const p = thePool();
    b.start();
    for (let i = 0; i < 200; i++) await p.apply(noop);
    b.end();
  },
  n: 50,
});

Deno.bench({
  name: "bare worker: sequential postMessage round trip (no-op)",
  group: "round trip",
  baseline: true,
  async fn(b) {
    await warm();
    const w = theBare();
    b.start();
    for (let i = 0; i < 200; i++) await w.run("noop", 0);
    b.end();
  },
  n: 50,
});

Deno.bench({
  name: "Pool.map: 200 000 tiny items",
  group: "map 200 000",
  async fn(b) {
    await warm();
    b.start();
    await thePool().map(square, items);
    b.end();
  },
});

// The baseline of both map groups: the items in cpuCount × 4 chunks, each
// one postMessage round trip to a bare worker.
async function bareMap(b: Deno.BenchContext): Promise<void> {
  await warm();
  const size = Math.ceil(items.length / (4 * n));
  b.start();
  const chunks = [];
  for (let i = 0; i < items.length; i += size) {
    chunks.push(theBare().run("square", items.slice(i, i + size)));
  }
  (await Promise.all(chunks)).flat();
  b.end();
}

Deno.bench({
  name: "bare workers: 200 000 items in cpuCount × 4 postMessage chunks",
  group: "map 200 000",
  baseline: true,
  fn: bareMap,
});

// A function the pool has never run: its first map must not wait for the
// pool to learn what it costs. 64 such functions, one per iteration.
let firstCalls = 0;
Deno.bench({
  name: "Pool.map: 200 000 tiny items, a function new to the pool",
  group: "first map 200 000",
  async fn(b) {
    await warm();
    const fresh = new URL(
      `./_first_call.ts#square${firstCalls++}`,
      import.meta.url,
    );
    b.start();
    await thePool().map(fresh, items);
    b.end();
  },
  n: 40,
  warmup: 10,
});

Deno.bench({
  name: "bare workers: 200 000 items in cpuCount × 4 postMessage chunks",
  group: "first map 200 000",
  baseline: true,
  fn: bareMap,
  n: 40,
  warmup: 10,
});

// Head-of-line: eight quick tasks while one worker is held by a long task
// must take about as long as on an idle pool (an idle worker takes them),
// not as long as the long task.
async function quickMap(b: Deno.BenchContext, beside: boolean): Promise<void> {
  const pool = thePool();
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const long = beside ? pool.apply(holdUntil, [flag]) : undefined;
  if (beside) await Atomics.waitAsync(flag, 1, 0).value;
  b.start();
  await pool.map(square, [1, 2, 3, 4, 5, 6, 7, 8], 1);
  b.end();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  await long;
}

Deno.bench({
  name: "Pool.map: 8 quick tasks beside a long one",
  group: "head-of-line",
  ignore: n < 2,
  async fn(b) {
    await warm();
    await quickMap(b, true);
  },
  n: 50,
});

Deno.bench({
  name: "Pool.map: 8 quick tasks on an idle pool",
  group: "head-of-line",
  baseline: true,
  ignore: n < 2,
  async fn(b) {
    await warm();
    await quickMap(b, false);
  },
  n: 50,
});

Deno.bench({
  name: "main thread: 200 000 items sequentially",
  group: "map 200 000",
  fn() {
    items.map((x) => x * x);
  },
});

Deno.bench({
  name: `Pool.map: ${4 * n} × fib(30) on ${n} workers`,
  group: "CPU-bound fib(30)",
  async fn(b) {
    await warm();
    b.start();
    await thePool().map(fibTarget, fibs, 1);
    b.end();
  },
  n: 20,
});

Deno.bench({
  name: `sequential: ${4 * n} × fib(30) on the main thread`,
  group: "CPU-bound fib(30)",
  baseline: true,
  fn() {
    for (const x of fibs) fib(x);
  },
  n: 20,
});

let executor: ProcessPoolExecutor | undefined;
// An executor starts workers on demand: submit until every one has answered.
async function theExecutor(): Promise<ProcessPoolExecutor> {
  executor ??= new ProcessPoolExecutor({ maxWorkers: n });
  const seen = new Set<string>();
  while (seen.size < n) {
    const names = Array.from({ length: 1000 }, () => executor!.submit(whoAmI));
    for (const name of await Promise.all(names)) seen.add(String(name));
  }
  return executor;
}

Deno.bench({
  name: "ProcessPoolExecutor.submit: 5 000 no-ops in flight (all workers up)",
  group: "5 000 in flight",
  async fn(b) {
    await warm();
    const executor = await theExecutor();
    b.start();
    await Promise.all(
      Array.from({ length: 5000 }, () => executor.submit(noop).result()),
    );
    b.end();
  },
});

Deno.bench({
  name:
    "ProcessPoolExecutor.submit: 5 000 no-ops in flight (fresh: one worker up, the others start on demand)",
  group: "executor start-up",
  async fn(b) {
    const executor = new ProcessPoolExecutor({ maxWorkers: n });
    await executor.submit(noop);
    b.start();
    await Promise.all(
      Array.from({ length: 5000 }, () => executor.submit(noop).result()),
    );
    b.end();
    await executor.shutdown();
  },
  n: 10,
});

Deno.bench({
  name: "fresh Pool(16): time to the first result",
  group: "start-up",
  async fn() {
    const fresh = new Pool(16);
    await fresh.apply(noop);
    fresh.terminate();
  },
  n: 10,
});
