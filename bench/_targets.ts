// Targets for the benchmarks. No top-level side effects: children import this.

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
