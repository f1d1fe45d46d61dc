// Synchronization and shared memory: what a lock costs alone and under
// contention, how fast an Event round trip between two workers is, and what
// sharing a 4K frame costs next to copying it through postMessage.
//
//   npx -y deno@2.9.6 bench -A bench/synchronize_bench.ts
//
// Targets: uncontended acquire+release ≤ 100 ns; contended locked
// increments ≥ 2 M/s with 2 workers; Event ping-pong round trip ≤ 10 µs
// with both sides hot; frame hand-off through shared memory ≤ 1 ms.
//
// The multi-worker benches start their workers once (daemons, so they never
// keep the program alive) and time rounds: the parent bumps `go`, each
// worker does its share and releases `done`. Divide the time of a round by
// its operations for a rate (the names say how many there are).

import {
  cpuCount,
  Event,
  Lock,
  Process,
  RawArray,
  RLock,
  Semaphore,
  SharedMemory,
  Value,
} from "../mod.ts";

const target = (name: string) =>
  new URL(`../tests/fixtures/sync_targets.ts#${name}`, import.meta.url);

// Run once before any bench is timed, so that no timing includes a worker's
// start-up (~20 ms to create, up to a few hundred ms to import its module).
const warmups: (() => Promise<unknown>)[] = [];

function daemon(name: string, args: unknown[]): Process {
  const p = new Process({ target: target(name), args, daemon: true });
  p.start();
  return p;
}

/** Signals a round to pre-started workers and waits until all report. */
class Rounds {
  readonly go = new Int32Array(new SharedArrayBuffer(4));
  readonly done = new Semaphore(0);
  constructor(readonly workers: number) {
    warmups.push(() => this.run());
  }
  async run(): Promise<void> {
    Atomics.add(this.go, 0, 1);
    Atomics.notify(this.go, 0);
    for (let i = 0; i < this.workers; i++) await this.done.acquire();
  }
}

// ------------------------------------------------ uncontended (this thread)

const lock = new Lock();
const rlock = new RLock();
const semaphore = new Semaphore(1);
const floor = new Int32Array(new SharedArrayBuffer(8));

Deno.bench({
  name: "Atomics CAS lock+unlock (floor)",
  group: "uncontended acquire+release",
  baseline: true,
  fn() {
    if (Atomics.compareExchange(floor, 0, 0, 1) !== 0) throw new Error();
    Atomics.compareExchange(floor, 0, 1, 0);
  },
});

Deno.bench({
  name: "Lock.acquireSync()+release()",
  group: "uncontended acquire+release",
  fn() {
    lock.acquireSync();
    lock.release();
  },
});

Deno.bench({
  name: "Lock.holdSync() with using",
  group: "uncontended acquire+release",
  fn() {
    using _ = lock.holdSync();
  },
});

Deno.bench({
  name: "await Lock.acquire()+release()",
  group: "uncontended acquire+release",
  async fn() {
    await lock.acquire();
    lock.release();
  },
});

Deno.bench({
  name: "RLock.acquireSync()+release()",
  group: "uncontended acquire+release",
  fn() {
    rlock.acquireSync();
    rlock.release();
  },
});

Deno.bench({
  name: "Semaphore.acquireSync()+release()",
  group: "uncontended acquire+release",
  fn() {
    semaphore.acquireSync();
    semaphore.release();
  },
});

// ------------------------------------------------ contended increments

const perWorker = 100_000;

function incrementBench(
  mode: "lock" | "value" | "atomic",
  workers: number,
  baseline = false,
): void {
  const rounds = new Rounds(workers);
  const counter = new Value("i", 0);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const shared = new Lock();
  for (let i = 0; i < workers; i++) {
    daemon("benchIncrements", [
      mode,
      shared,
      counter,
      cell,
      rounds.go,
      rounds.done,
      perWorker,
    ]);
  }
  const what = mode === "lock"
    ? "Lock around a plain cell"
    : mode === "value"
    ? "Value += 1 under getLock() (RLock)"
    : "Atomics.add, no lock (floor)";
  Deno.bench({
    name: `${what}, ${workers} workers × ${perWorker / 1000}k`,
    group: `contended increments, ${workers} workers`,
    baseline,
    n: 10,
    warmup: 2,
    async fn() {
      await rounds.run();
    },
  });
}

for (const workers of new Set([2, cpuCount()])) {
  incrementBench("atomic", workers, true);
  incrementBench("lock", workers);
  incrementBench("value", workers);
}

// ------------------------------------------------ ping-pong between 2 workers

const roundTrips = 10_000;
{
  const rounds = new Rounds(1);
  const word = new Int32Array(new SharedArrayBuffer(4));
  daemon("benchRawPong", [word]);
  daemon("benchRawPing", [word, rounds.go, rounds.done, roundTrips]);
  Deno.bench({
    name: `raw spin on one word (floor), ${roundTrips / 1000}k round trips`,
    group: "ping-pong between two workers",
    baseline: true,
    n: 10,
    warmup: 2,
    async fn() {
      await rounds.run();
    },
  });
}
{
  const rounds = new Rounds(1);
  const ping = new Event();
  const pong = new Event();
  daemon("benchPong", [ping, pong]);
  daemon("benchPing", [ping, pong, rounds.go, rounds.done, roundTrips]);
  Deno.bench({
    name: `Event set/waitSync/clear, ${roundTrips / 1000}k round trips`,
    group: "ping-pong between two workers",
    n: 10,
    warmup: 2,
    async fn() {
      await rounds.run();
    },
  });
}

// ------------------------------------------------ a 3840×2160×4 frame

const frameBytes = 3840 * 2160 * 4;
{
  // The baseline copies the frame into the worker (structured clone).
  const source = `self.onmessage = (e) => {
    const f = e.data;
    self.postMessage(f[0] === f[f.length - 1] ? f[0] : -1);
  };`;
  const worker = new Worker(
    `data:application/javascript,${encodeURIComponent(source)}`,
    { type: "module" },
  );
  const frame = new Uint8Array(frameBytes);
  let stamp = 0;
  let reply = Promise.withResolvers<number>();
  worker.onmessage = (e) => reply.resolve(e.data);
  Deno.bench({
    name: "postMessage copy of the frame + reply",
    group: "frame 3840×2160×4 to a worker",
    baseline: true,
    n: 30,
    warmup: 3,
    async fn() {
      stamp = (stamp + 1) & 0xff;
      frame[0] = frame[frameBytes - 1] = stamp;
      reply = Promise.withResolvers<number>();
      worker.postMessage(frame);
      if (await reply.promise !== stamp) throw new Error("bad frame");
    },
  });
  // Not a Process: nothing else would let this worker go at the end.
  (worker as unknown as { unref?(): void }).unref?.();
}

function handoffBench(
  name: string,
  frameArg: unknown,
  bytes: Uint8Array,
): void {
  const ready = new Event();
  const ack = new Event();
  const echo = new Int32Array(new SharedArrayBuffer(4));
  daemon("benchFrameConsumer", [frameArg, ready, ack, echo]);
  let stamp = 0;
  const handOff = async () => {
    stamp = (stamp + 1) & 0xff;
    bytes[0] = bytes[frameBytes - 1] = stamp;
    ready.set();
    await ack.wait();
    ack.clear();
    if (echo[0] !== stamp) throw new Error("bad frame");
  };
  warmups.push(handOff);
  Deno.bench({
    name,
    group: "frame 3840×2160×4 to a worker",
    n: 200,
    warmup: 10,
    fn: handOff,
  });
}

{
  const frame = RawArray("B", frameBytes);
  handoffBench(
    "SharedArray hand-off (Event there and back)",
    frame,
    frame.array,
  );
}
{
  const shm = new SharedMemory({ create: true, size: frameBytes });
  handoffBench("SharedMemory hand-off (Event there and back)", shm, shm.buf);
}

for (const warmup of warmups) await warmup();
