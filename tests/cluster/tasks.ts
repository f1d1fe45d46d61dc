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
 * Marks `dir/started-<pid>-<i>` (holding the time it started, in ms since
 * the epoch) then waits until `dir/open` exists, so a test can act (kill an
 * agent, restart the server) while tasks are held.
 */
export async function gated(i: number, dir: string): Promise<number> {
  await Deno.writeTextFile(
    `${dir}/started-${Deno.pid}-${i}`,
    String(performance.timeOrigin + performance.now()),
  );
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

/** A point: instances travel to agents and back as themselves. */
export class Point {
  constructor(readonly x: number, readonly y: number) {}

  /** A method: only a revived instance has it. */
  sum(): number {
    return this.x + this.y;
  }
}

/** An error subclass with a field of its own. */
export class NegativeError extends RangeError {
  constructor(readonly value: number) {
    super(`negative: ${value}`);
    this.name = "NegativeError";
  }
}

/** The point moved by one; refuses anything but a Point. */
export function moved(p: Point): Point {
  if (!(p instanceof Point)) throw new TypeError("not a Point");
  return new Point(p.x + 1, p.y + 1);
}

/** Throws a NegativeError for negative numbers. */
export function positive(x: number): number {
  if (x < 0) throw new NegativeError(x);
  return x;
}

/**
 * Returns at once given "", else waits as {@linkcode gated} does: quick
 * until it is not, so an agent measures it as quick first.
 */
export async function latch(dir: string): Promise<number> {
  return dir === "" ? 0 : await gated(0, dir);
}

/** Doubles `x` through a thenable that is not a Promise. */
export function thenable(
  x: number,
): { then(resolve: (value: number) => void): void } {
  return { then: (resolve) => resolve(x * 2) };
}

/** Returns its argument: a value's way to an agent and back. */
export function echo<T>(value: T): T {
  return value;
}

/** Throws an AggregateError of two errors. */
export function aggregate(): never {
  throw new AggregateError(
    [new Error("a"), new TypeError("b")],
    "two failures",
  );
}

/** A string of `size` bytes: a result far larger than its argument. */
export function text(size: number): string {
  return "x".repeat(size);
}

/** Ends the agent's worker that runs it (its pool replaces the worker). */
export function endWorker(): never {
  Deno.exit(3);
}
