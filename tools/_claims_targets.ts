// Worker targets of tools/bench_claims.ts. Children import this module:
// it has no top-level side effects.

import {
  type Event,
  type Queue,
  type SharedArray,
  SharedMemory,
} from "../mod.ts";

/** CPU-bound work whose size grows with `n` (doc 002's example). */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** CPU-bound work of `k` loop iterations: the task sizes of the start-up claim. */
export function spin(k: number): number {
  let sum = 0;
  for (let i = 0; i < k; i++) sum = (sum + i * i) | 0;
  return sum;
}

/** Does nothing: what a task costs when it does no work. */
export function noop(): void {}

/** The sleep examples' task body (examples/000, 001): an awaited timer. */
export async function sleepTimer(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A simulated I/O wait: latency without CPU work (a timer). */
export async function ioWait(ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
}

/**
 * Takes frames from `q` until null; for each, echoes its stamp (first byte,
 * or -1 when the last byte disagrees) in `echo[0]` and sets `ack`.
 */
export function frameQueueConsumer(
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

/**
 * On each `ready`, checks the shared frame's stamp the same way and sets
 * `ack`; returns when `stop[0]` is 1.
 */
export function frameSharedConsumer(
  shared: SharedArray<"B"> | SharedMemory,
  ready: Event,
  ack: Event,
  echo: Int32Array,
  stop: Int32Array,
): void {
  const bytes = shared instanceof SharedMemory ? shared.buf : shared.array;
  while (true) {
    ready.waitSync();
    ready.clear();
    if (Atomics.load(stop, 0) === 1) return;
    echo[0] = bytes[0] === bytes[bytes.length - 1] ? bytes[0] : -1;
    ack.set();
  }
}
