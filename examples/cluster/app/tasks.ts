// The module the agents serve: every agent host has its own copy of this
// folder, and runs only the exports of the modules it was started with.

/** The square of `x`. */
export function square(x: number): number {
  return x * x;
}

/** Sleeps `ms` milliseconds, then says which agent process ran it. */
export async function nap(ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Deno.pid;
}
