import { Process } from "../mod.ts";

// Runs a Deno subprocess for tests that need a whole program: exit
// behaviour, stderr reports, flags the test process itself does not have.

/** What a finished subprocess printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and with what a subprocess runs. */
export interface RunOptions {
  /** The working folder (default: the repository root). */
  cwd?: string | URL;
  /** Environment variables besides NO_COLOR. */
  env?: Record<string, string>;
}

/**
 * Runs `deno <args>` (from the repository root unless `options.cwd` says
 * otherwise). A subprocess still running after `timeoutSeconds` is killed
 * and reported with code -1: a hang fails the calling test instead of
 * freezing the suite.
 */
export async function runDeno(
  args: string[],
  timeoutSeconds = 60,
  options: RunOptions = {},
): Promise<RunResult> {
  const root = new URL("../", import.meta.url);
  const command = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
    signal: AbortSignal.timeout(timeoutSeconds * 1000),
  });
  try {
    const { code, stdout, stderr } = await command.output();
    const decoder = new TextDecoder();
    return {
      code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
    };
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return {
        code: -1,
        stdout: "",
        stderr: `timed out after ${timeoutSeconds}s`,
      };
    }
    throw error;
  }
}

/** A URL target into tests/fixtures/<module>.ts. */
export function fixture(module: string, name: string): URL {
  return new URL(`./fixtures/${module}.ts#${name}`, import.meta.url);
}

/** A small shared Int32Array for children to report through. */
export function cells(n = 4): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

/**
 * Starts one process per args list on `tests/fixtures/sync_targets.ts#target`,
 * joins them all (at most `timeout` seconds each), and terminates leftovers;
 * `P` is the Process class (a Context's, for another start method).
 */
export async function runAll(
  target: string,
  argsList: unknown[][],
  timeout = 120,
  P: typeof Process = Process,
): Promise<(number | null)[]> {
  const ps = argsList.map((args) =>
    new P({ target: fixture("sync_targets", target), args })
  );
  try {
    for (const p of ps) p.start();
    const codes = [];
    for (const p of ps) codes.push(await p.join(timeout));
    return codes;
  } finally {
    for (const p of ps) if (p.isAlive()) p.terminate();
  }
}

/**
 * Lets every timer that is due by now (and a few milliseconds on) run: an
 * overflowing setTimeout fires after ~1 ms, so a wait that would end early
 * has ended when this returns. Nothing is synchronised by it: callers then
 * check that something has not happened.
 */
export async function letDueTimersRun(): Promise<void> {
  const end = performance.now() + 5;
  while (performance.now() < end) {
    // busy: the due timers queue up behind this turn
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** The console.warn lines printed while `run()` ran. */
export async function warningsOf(
  run: () => Promise<void>,
): Promise<string[]> {
  const lines: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    await run();
    return lines;
  } finally {
    console.warn = warn;
  }
}
