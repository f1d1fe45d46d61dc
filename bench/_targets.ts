// Targets for the benchmarks. No top-level side effects: children import this.

import type { Lock, Value } from "../mod.ts";

export function noop(): void {}

export async function idle(ready: Int32Array, index: number): Promise<void> {
  Atomics.add(ready, 0, 1);
  Atomics.notify(ready, 0);
  // Stay alive (event loop idle) until the parent terminates us.
  await new Promise(() => setInterval(() => {}, 1 << 30));
  void index;
}

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export function square(x: number): number {
  return x * x;
}

/** The worker's name (Deno gives a worker the `name` it was created with). */
export function whoAmI(): string {
  return (globalThis as { name?: string }).name ?? "";
}

/**
 * Sets `flag[1]`, then blocks its worker (without burning a core) until
 * `flag[0]` is set.
 */
export function holdUntil(flag: Int32Array): void {
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
}

/**
 * Counts itself in at `count[0]` and blocks its worker until `n` have: run
 * `n` at once, one per worker, and every worker of a pool is up.
 */
export function meet(count: Int32Array, n: number): void {
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
  let seen;
  while ((seen = Atomics.load(count, 0)) < n) Atomics.wait(count, 0, seen);
}

/** `n` acquire+release pairs of `lock` (bench/subprocess_bench.ts). */
export function lockRounds(lock: Lock, n: number): void {
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    lock.release();
  }
}

/** `n` reads of `value` (bench/subprocess_bench.ts). */
export function valueReads(value: Value<"i">, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += value.value;
  return sum;
}

/**
 * Notes when the target began to run, on the clock all threads share
 * (performance.timeOrigin + performance.now()), in `at[0]`.
 */
export function stamp(at: Float64Array): void {
  at[0] = performance.timeOrigin + performance.now();
}
