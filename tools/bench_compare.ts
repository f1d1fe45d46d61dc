// `deno task bench:compare`: the same workloads on @dmp/multiprocessing,
// bare Web Workers (plain postMessage: the baseline), CPython's
// multiprocessing (spawn and fork) and piscina, in one run.
//
//   config (sizes, runs) ──JSON──> one program per system, one at a time,
//   once per --load level (--rounds N: N times, the systems alternating,
//   samples pooled), with that many busy-loop processes beside it:
//     deno run --allow-all bench/compare/deno_workloads.ts   (/proc, run)
//     deno run --allow-read bench/compare/bare_workloads.ts
//     python3 bench/compare/python_workloads.py spawn | fork
//     node bench/compare/piscina_workloads.mjs   (piscina installed by npm
//       into bench/compare/node_modules; under Deno when node is absent)
//   <──JSON── medians ──> table with ratios (terminal or --json),
//     bench/results/compare.md and bench/results/compare.svg (a full run;
//     a partial one writes only where --md/--svg say)
//
// A system whose runtime is absent is skipped with a notice; one that fails
// is reported as failed, and the others still run. Exit codes: 0 done,
// 1 our system failed or a workload errored, 2 usage.

import { dirname, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { cpuCount } from "../mod.ts";
import { parseBenchArgs } from "./_bench_args.ts";
import { finishEnvironment, probe, startEnvironment } from "./_bench_env.ts";
import { renderCluster, runClusterGroup } from "./_compare_cluster.ts";
import {
  type CompareConfig,
  type CompareReport,
  kSystems,
  kWorkloads,
  parseSystemOutput,
  poolRounds,
  renderCompareMarkdown,
  renderCompareSvg,
  renderCompareTerminal,
  type SystemId,
  type SystemRun,
} from "./_compare_report.ts";

/**
 * The piscina release the comparison installs: the newest on npm when this
 * tool was written, pinned so that figures from different days compare the
 * same code. Its package.json asks for Node.js ≥ 20.
 */
export const kPiscinaVersion = "5.3.2";

const kTimeoutSeconds = 300;

const usage = `Usage: deno task bench:compare [options]

Runs the same workloads on @dmp/multiprocessing, bare Web Workers
(postMessage), CPython's multiprocessing (spawn and fork) and piscina, one
system after another, and reports medians with ratios.

Options:
  --quick          smaller workloads, 3 runs each
  --full           the issue's sizes, 5 runs each (the default)
  --repeat N       timed runs per workload after the warm-up (≥ 3)
  --only a,b       workloads: ${kWorkloads.map((w) => w.id).join(", ")}
  --systems a,b    systems: ${kSystems.map((s) => s.id).join(", ")}
  --load N[,N…]    run everything once per level, with N CPU-bound processes
                   (busy loops) beside each system's run (default: 0)
  --rounds N       run the systems N times, alternating, and pool the
                   samples: on a loaded machine, slow and fast spells then
                   fall on every system alike (default: 1)
  --json           print the report as JSON instead of the table
                   (with --only or without deno among the systems, the
                   cluster group, which needs nats-server, does not run)
  --md PATH        markdown report (default: bench/results/compare.md, for a
                   run of every workload and system; none for a partial run)
  --svg PATH       bar chart (default: bench/results/compare.svg, likewise)
  --no-md, --no-svg  do not write that file
  --help           show this help

The task may write only under bench/results/ (its --allow-write).`;

const root = fromFileUrl(new URL("../", import.meta.url));
const compareDir = fromFileUrl(new URL("../bench/compare/", import.meta.url));

/** The sizes of issue 7 (full) or a quarter-size run (quick). */
export function configFor(
  cpus: number,
  quick: boolean,
  repeat: number,
  workloads: readonly string[],
): CompareConfig {
  return {
    cpus,
    repeat,
    piscinaVersion: kPiscinaVersion,
    mapItems: quick ? 50_000 : 200_000,
    asyncTasks: quick ? 1_000 : 5_000,
    applyTrips: quick ? 500 : 2_000,
    fibTasksPerCpu: 4,
    fibMinMs: quick ? 20 : 50,
    queueMessages: quick ? 25_000 : 100_000,
    incrementsPerProcess: quick ? 5_000 : 20_000,
    frameBytes: 3840 * 2160 * 4,
    pipeTrips: quick ? 500 : 2_000,
    workloads: [...workloads],
  };
}

async function runProgram(
  system: SystemId,
  command: string,
  args: string[],
): Promise<SystemRun> {
  console.error(
    `bench:compare: ${system}: ${command} ${args.slice(0, -1).join(" ")} …`,
  );
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      cwd: root,
      stdout: "piped",
      stderr: "inherit",
      signal: AbortSignal.timeout(kTimeoutSeconds * 1000),
    }).output();
  } catch (error) {
    return failed(
      system,
      `could not run ${command}: ${(error as Error).message}`,
    );
  }
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    return failed(
      system,
      output.signal
        ? `killed by ${output.signal} (over ${kTimeoutSeconds} s?); its messages are above`
        : `exited with code ${output.code}; its messages are above`,
    );
  }
  try {
    return parseSystemOutput(system, stdout);
  } catch (error) {
    return failed(system, (error as Error).message);
  }
}

function failed(system: SystemId, notice: string): SystemRun {
  return { system, status: "failed", notice, results: {}, errors: {} };
}

function skipped(system: SystemId, notice: string): SystemRun {
  console.error(`bench:compare: skipping ${system}: ${notice}`);
  return { system, status: "skipped", notice, results: {}, errors: {} };
}

/** Installs the pinned piscina unless it is there; returns a notice on failure. */
async function ensurePiscina(): Promise<string | null> {
  const manifest = `${compareDir}node_modules/piscina/package.json`;
  try {
    const { version } = JSON.parse(await Deno.readTextFile(manifest));
    if (version === kPiscinaVersion) return null;
  } catch {
    // Not installed yet.
  }
  console.error(
    `bench:compare: installing piscina@${kPiscinaVersion} into ${
      relative(root, compareDir)
    }/node_modules (npm) …`,
  );
  try {
    const { success, code } = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        compareDir,
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        `piscina@${kPiscinaVersion}`,
      ],
      cwd: root,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return success
      ? null
      : `npm install piscina@${kPiscinaVersion} failed (code ${code})`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "npm is not installed";
    throw error;
  }
}

// A process that only burns a core: `deno eval` of a busy loop. It prints
// a line once it spins, so the measurement starts with the load in place.
const kSpinner = 'console.log("spinning"); for (;;) {}';

/**
 * Starts `n` CPU-bound processes and resolves once each spins.
 *
 * @returns The processes, for {@linkcode stopLoad}.
 */
export async function startLoad(n: number): Promise<Deno.ChildProcess[]> {
  const children: Deno.ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["eval", kSpinner],
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.push(child);
      const reader = child.stdout.getReader();
      await reader.read();
      reader.releaseLock();
      // Nothing more is read: let the pipe go.
      await child.stdout.cancel();
    }
  } catch (error) {
    await stopLoad(children);
    throw error;
  }
  return children;
}

/** Kills the processes of {@linkcode startLoad} and waits until they are gone. */
export async function stopLoad(children: Deno.ChildProcess[]): Promise<void> {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await Promise.all(children.map((child) => child.status));
}

// The load of the system running now: an interrupted run kills it too.
let loadNow: Deno.ChildProcess[] = [];

async function runSystemUnderLoad(
  system: SystemId,
  config: CompareConfig,
  load: number,
): Promise<SystemRun> {
  if (load > 0) console.error(`bench:compare: ${load} busy process(es) beside`);
  loadNow = await startLoad(load);
  try {
    return { ...(await runSystem(system, config)), load };
  } finally {
    await stopLoad(loadNow);
    loadNow = [];
  }
}

async function runSystem(
  system: SystemId,
  config: CompareConfig,
): Promise<SystemRun> {
  const json = JSON.stringify(config);
  switch (system) {
    case "bare":
      return await runProgram(system, Deno.execPath(), [
        "run",
        "--allow-read",
        `${compareDir}bare_workloads.ts`,
        json,
      ]);
    case "deno":
      // --allow-all: the "subprocess" start method's children need
      // --allow-run, and Deno lets only --allow-all read /proc/<pid>/ (the
      // memory of those children).
      return await runProgram(system, Deno.execPath(), [
        "run",
        "--allow-all",
        `${compareDir}deno_workloads.ts`,
        json,
      ]);
    case "python-spawn":
    case "python-fork": {
      if (await probe("python3", ["--version"]) === null) {
        return skipped(system, "python3 is not installed (not on the PATH)");
      }
      const method = system === "python-spawn" ? "spawn" : "fork";
      return await runProgram(system, "python3", [
        `${compareDir}python_workloads.py`,
        method,
        json,
      ]);
    }
    case "piscina": {
      const program = `${compareDir}piscina_workloads.mjs`;
      // Without Node.js on the PATH, Deno runs itself for "node": only a
      // "v20.…" answer is Node.js.
      const node = await probe("node", ["--version"]);
      if (node !== null && /^v\d+\./.test(node)) {
        const problem = await ensurePiscina();
        if (problem !== null) return skipped(system, problem);
        return await runProgram(system, "node", [program, json]);
      }
      // No Node.js: Deno fetches npm:piscina into its own cache. Deno's
      // Node compatibility is slower than Node for some of these (notably
      // large structured clones), so the run says which runtime it used.
      const run = await runProgram(system, Deno.execPath(), [
        "run",
        "-A",
        program,
        json,
      ]);
      return {
        ...run,
        notice: [
          run.notice,
          "node is not installed: piscina ran under Deno's Node compatibility",
        ]
          .filter(Boolean).join("; "),
      };
    }
  }
}

/**
 * Formats the written files with `deno fmt`, which formats SVG too: the
 * repository's `deno fmt --check` then passes with the reports committed.
 */
async function formatOutputs(paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", ...paths],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) console.error("bench:compare: deno fmt of the reports failed");
}

if (import.meta.main) {
  let args;
  try {
    args = parseBenchArgs(Deno.args, {
      tool: "bench:compare",
      minRepeat: 3,
      defaultRepeat: { quick: 3, full: 5 },
      ids: kWorkloads.map((w) => w.id),
      systems: kSystems.map((s) => s.id),
      load: true,
      rounds: true,
      outputs: {
        md: "bench/results/compare.md",
        svg: "bench/results/compare.svg",
      },
    });
  } catch (error) {
    console.error((error as Error).message);
    console.error(usage);
    Deno.exit(2);
  }
  if (args.help) {
    console.log(usage);
    Deno.exit(0);
  }
  const cpus = cpuCount();
  let environment = startEnvironment(cpus);
  const config = configFor(cpus, args.quick, args.repeat, args.only);
  const interrupted = () => {
    for (const child of loadNow) child.kill("SIGKILL");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  const runs: SystemRun[] = [];
  for (const load of args.loads) {
    for (let round = 1; round <= args.rounds; round++) {
      if (args.rounds > 1) {
        console.error(`bench:compare: round ${round} of ${args.rounds}`);
      }
      for (const system of args.systems as SystemId[]) {
        // A system skipped once (its runtime absent) is skipped for good.
        const skipped = runs.some((r) =>
          r.system === system && r.status === "skipped"
        );
        if (!skipped) runs.push(await runSystemUnderLoad(system, config, load));
      }
    }
  }
  const systems = poolRounds(runs);
  const cluster = args.systems.includes("deno") &&
      args.only.length === kWorkloads.length
    ? await runClusterGroup(config, args.quick, kTimeoutSeconds)
    : undefined;
  Deno.removeSignalListener("SIGINT", interrupted);
  environment = finishEnvironment(environment);
  const report: CompareReport = {
    command: ["deno task bench:compare", ...Deno.args].join(" "),
    quick: args.quick,
    environment,
    config,
    loads: args.loads,
    ...(args.rounds > 1 ? { rounds: args.rounds } : {}),
    systems,
  };
  console.log(
    args.json
      ? JSON.stringify({ ...report, cluster }, null, 2)
      : renderCompareTerminal(report) +
        (cluster ? renderCluster(cluster, false) : ""),
  );
  const { md, svg } = args.outputs;
  if (svg !== "") {
    await Deno.mkdir(dirname(svg), { recursive: true });
    await Deno.writeTextFile(svg, renderCompareSvg(report));
    console.error(`bench:compare: wrote ${svg}`);
  }
  if (md !== "") {
    await Deno.mkdir(dirname(md), { recursive: true });
    const svgName = svg === "" ? "" : relative(dirname(md), svg);
    await Deno.writeTextFile(
      md,
      renderCompareMarkdown(report, svgName) +
        (cluster ? renderCluster(cluster, true) : ""),
    );
    console.error(`bench:compare: wrote ${md}`);
  }
  await formatOutputs([md, svg].filter((path) => path !== ""));
  const broken = systems.some((s) =>
    s.system === "deno" &&
    (s.status !== "ok" || Object.keys(s.errors).length > 0)
  );
  if (broken) Deno.exit(1);
}
