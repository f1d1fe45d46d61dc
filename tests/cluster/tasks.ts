// Functions the cluster tests run on agents. Each agent gets its own copy
// of this file under its own root, as a host of a real cluster would.

/** The square of `x`. */
export function square(x: number): number {
  return x * x;
}

/** `base ** exp`. */
export function power(base: number, exp: number): number {
  return base ** exp;
}

/** Fails for negative numbers, with a RangeError as a local task would. */
export function checked(x: number): number {
  if (x < 0) throw new RangeError(`negative: ${x}`);
  return x;
}

/**
 * Marks `dir/started-<pid>-<i>` then waits until `dir/open` exists, so a
 * test can act (kill an agent, restart the server) while tasks are held.
 */
export async function gated(i: number, dir: string): Promise<number> {
  await Deno.writeTextFile(`${dir}/started-${Deno.pid}-${i}`, "");
  while (true) {
    try {
      await Deno.stat(`${dir}/open`);
      return i * i;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Kills the agent process that runs it (a task no host survives). */
export function die(): never {
  Deno.kill(Deno.pid, "SIGKILL");
  throw new Error("unreachable");
}
