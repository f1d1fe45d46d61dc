// Targets of bench/cluster_bench.ts, served by its agents (root: bench/).
// No top-level side effects: agents' workers import this.

export function noop(): void {}

export function square(x: number): number {
  return x * x;
}

export async function nap(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
