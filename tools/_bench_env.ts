// The machine a benchmark ran on, as the reports print it: figures mean
// little without the cores, the CPU and how busy the machine was.

import { cpus } from "node:os";

/** Where and when a benchmark ran. */
export interface Environment {
  /** ISO date and time of the start of the run (UTC). */
  readonly date: string;
  readonly deno: string;
  readonly v8: string;
  /** `Deno.build.os`/`arch`. */
  readonly os: string;
  /** From `node:os` `cpus()` (needs --allow-sys=cpus), else "unknown". */
  readonly cpuModel: string;
  /** Logical cores (`navigator.hardwareConcurrency`). */
  readonly cpus: number;
  /** 1/5/15-minute load averages before the run; null without permission. */
  readonly loadBefore: readonly number[] | null;
  /** The same after the run. */
  readonly loadAfter: readonly number[] | null;
}

/** The load averages, or null when the sys permission is missing. */
export function loadAverage(): number[] | null {
  try {
    return Deno.loadavg();
  } catch {
    return null;
  }
}

function cpuModel(): string {
  try {
    return cpus()[0]?.model.trim() || "unknown";
  } catch {
    return "unknown"; // without --allow-sys=cpus
  }
}

/**
 * Describes this machine now; `loadAfter` is filled in by {@linkcode finishEnvironment}.
 *
 * @param cpus Logical cores.
 * @returns The environment at the start of a run.
 */
export function startEnvironment(cpus: number): Environment {
  return {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    cpuModel: cpuModel(),
    cpus,
    loadBefore: loadAverage(),
    loadAfter: null,
  };
}

/**
 * Adds the load averages at the end of the run.
 *
 * @param env The environment from {@linkcode startEnvironment}.
 * @returns A copy with `loadAfter`.
 */
export function finishEnvironment(env: Environment): Environment {
  return { ...env, loadAfter: loadAverage() };
}

/**
 * One line describing the environment, for report headers.
 *
 * @param env The environment.
 * @returns E.g. "2 cores (AMD EPYC …), linux x86_64, Deno 2.9.6 (V8 …), load 1.2 → 1.9".
 */
export function describeEnvironment(env: Environment): string {
  const load = (l: readonly number[] | null) =>
    l === null ? "?" : l[0].toFixed(2);
  return `${env.cpus} cores (${env.cpuModel}), ${env.os}, Deno ${env.deno} (V8 ${env.v8}), 1-min load ${
    load(env.loadBefore)
  } before → ${load(env.loadAfter)} after`;
}

/** The first line a command prints for `args`, or null when it is absent. */
export async function probe(
  command: string,
  args: string[],
): Promise<string | null> {
  try {
    const { success, stdout, stderr } = await new Deno.Command(command, {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!success) return null;
    const text = new TextDecoder().decode(stdout).trim() ||
      new TextDecoder().decode(stderr).trim();
    return text.split("\n")[0];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
