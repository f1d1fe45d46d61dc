// The workloads of tools/bench_compare.ts, the systems it compares, and
// its report: a table of medians with ratios against each peer (terminal
// and markdown) and a bar chart (SVG). Pure functions; the measuring is
// done by the programs in bench/compare/, one per system.

import { describeEnvironment, type Environment } from "./_bench_env.ts";
import {
  formatMs,
  formatRatio,
  median,
  renderMarkdownTable,
  renderTerminalTable,
  type Table,
  wrapProse,
} from "./_bench_format.ts";
import { type BarChart, renderBarChart } from "./_bench_svg.ts";

/** Sizes and runs, handed to every system's program as JSON. */
export interface CompareConfig {
  /** Workers/processes of every pool and "cpuCount" workload. */
  readonly cpus: number;
  /** Timed runs per workload, after one warm-up run. */
  readonly repeat: number;
  readonly piscinaVersion: string;
  readonly mapItems: number;
  readonly asyncTasks: number;
  readonly applyTrips: number;
  readonly fibTasksPerCpu: number;
  /** fib(n) is calibrated to take at least this long in the main thread. */
  readonly fibMinMs: number;
  readonly queueMessages: number;
  readonly incrementsPerProcess: number;
  readonly frameBytes: number;
  /** Round trips of the Pipe ping-pong. */
  readonly pipeTrips: number;
  /** Workload ids to run, in order. */
  readonly workloads: readonly string[];
}

/** What a workload's figures are: milliseconds, a percentage, megabytes. */
export type Unit = "ms" | "%" | "MB";

/** One workload: what it measures and which way is better. */
export interface WorkloadSpec {
  readonly id: string;
  readonly title: (config: CompareConfig) => string;
  readonly unit: Unit;
  readonly better: "lower" | "higher";
}

const int = (n: number) => n.toLocaleString("en-US").replaceAll(",", " ");

/** The workloads of issue 7, in report order. */
export const kWorkloads: readonly WorkloadSpec[] = [
  {
    id: "start_join",
    title: (c) => `start+join of ${c.cpus} processes (cpuCount)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "start_join_imported",
    title: (c) =>
      `start+join of ${c.cpus} processes, target imported from its own module`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "pool_ready",
    title: (c) => `pool ready: ${c.cpus} workers created → first result back`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "pool_ready_imported",
    title: (c) =>
      `pool ready: ${c.cpus} workers, the task imported from its own module`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "map_tiny",
    title: (c) => `map of ${int(c.mapItems)} tiny items (x * x)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "apply_async",
    title: (c) =>
      `${int(c.asyncTasks)} applyAsync no-ops in flight → all results`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "apply_sequential",
    title: (c) => `${int(c.applyTrips)} sequential apply round trips (no-op)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "cpu_efficiency",
    title: (c) =>
      `CPU-bound map efficiency: ${
        c.fibTasksPerCpu * c.cpus
      } fib tasks on ${c.cpus} workers (T_seq ÷ (T_par × ${c.cpus}))`,
    unit: "%",
    better: "higher",
  },
  {
    id: "queue_throughput",
    title: (c) =>
      `Queue: ${
        int(c.queueMessages)
      } small objects, 1 producer → 1 consumer process`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "locked_increments",
    title: (c) =>
      `locked increments: ${c.cpus} processes × ${int(c.incrementsPerProcess)}`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "pipe_pingpong",
    title: (c) =>
      `Pipe ping-pong: ${
        int(c.pipeTrips)
      } round trips with a running process (async form)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "frame_queue",
    title: (c) =>
      `one 3840×2160×4 frame (${
        (c.frameBytes / 1e6).toFixed(1)
      } MB) through a Queue to a running process`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "frame_shared",
    title: () => "the same frame handed over in shared memory (no copy)",
    unit: "ms",
    better: "lower",
  },
  {
    id: "start_join_forkserver",
    title: (c) => `forkserver: start+join of ${c.cpus} processes (warmed up)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "pool_ready_forkserver",
    title: (c) =>
      `forkserver: pool of ${c.cpus} ready, created → first result (warmed up)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "memory_per_worker",
    title: (c) =>
      `memory per pool worker (pool of ${c.cpus}, after a task in each)`,
    unit: "MB",
    better: "lower",
  },
  {
    id: "start_join_subprocess",
    title: (c) =>
      `subprocess: start+join of ${c.cpus} processes (CPython: its own start method)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "pool_ready_subprocess",
    title: (c) => `subprocess: pool of ${c.cpus} ready, created → first result`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "apply_sequential_subprocess",
    title: (c) =>
      `subprocess: ${int(c.applyTrips)} sequential apply round trips (no-op)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "map_tiny_subprocess",
    title: (c) => `subprocess: map of ${int(c.mapItems)} tiny items (x * x)`,
    unit: "ms",
    better: "lower",
  },
  {
    id: "memory_per_worker_subprocess",
    title: () => "subprocess: memory per pool worker",
    unit: "MB",
    better: "lower",
  },
];

/** The systems, ours first (ratios are ours against each of the others). */
export const kSystems = [
  { id: "deno", label: "@dmp/multiprocessing" },
  { id: "bare", label: "bare Web Workers" },
  { id: "python-spawn", label: "CPython spawn" },
  { id: "python-fork", label: "CPython fork" },
  { id: "piscina", label: "piscina" },
] as const;

/** A system id. */
export type SystemId = (typeof kSystems)[number]["id"];

/** One workload's figures on one system. */
export interface Outcome {
  readonly samples: readonly number[];
  /** The API used, when it needs saying. */
  readonly note?: string;
  /** Taken with an equivalent, not the workload's own API (e.g. no Queue in piscina). */
  readonly equivalent?: boolean;
}

/** What one system's program reported (or why it did not run). */
export interface SystemRun {
  readonly system: SystemId;
  readonly status: "ok" | "skipped" | "failed";
  /** Runtime and version, e.g. "CPython 3.11.7, start method 'fork'". */
  readonly runtime?: string;
  /** Why it was skipped or failed, or something else the reader must know. */
  readonly notice?: string;
  readonly results: Readonly<Record<string, Outcome>>;
  readonly errors: Readonly<Record<string, string>>;
  /** CPU-bound processes running beside it (`--load`); absent: 0. */
  readonly load?: number;
}

/** What a program reports for a workload it has no equivalent for. */
export const kUnknownWorkload = "unknown workload";

/** A whole run of the compare tool. */
export interface CompareReport {
  readonly command: string;
  readonly quick: boolean;
  readonly environment: Environment;
  readonly config: CompareConfig;
  /** The `--load` levels, in run order; absent: [0]. */
  readonly loads?: readonly number[];
  /** `--rounds`: each system's runs, alternated, whose samples are pooled; absent: 1. */
  readonly rounds?: number;
  /** Every system at every load (see {@linkcode SystemRun.load}). */
  readonly systems: readonly SystemRun[];
}

/**
 * Pools the rounds of a `--rounds` run: one run per system and load, whose
 * samples of each workload are those of every round. A loaded machine
 * drifts between slow and fast spells lasting seconds; rounds that
 * alternate the systems let each system meet the same spells, where one run
 * per system can put all of one system's samples in a slow spell.
 *
 * @param runs The runs, in run order (round after round).
 * @returns One run per system and load, in the order of their first rounds.
 */
export function poolRounds(runs: readonly SystemRun[]): SystemRun[] {
  const pooled = new Map<string, SystemRun>();
  for (const run of runs) {
    const key = `${run.system} ${run.load ?? 0}`;
    const before = pooled.get(key);
    if (before === undefined) {
      pooled.set(key, run);
      continue;
    }
    const results: Record<string, Outcome> = { ...before.results };
    for (const [id, outcome] of Object.entries(run.results)) {
      const earlier = results[id];
      results[id] = earlier === undefined
        ? outcome
        : { ...earlier, samples: [...earlier.samples, ...outcome.samples] };
    }
    const notices = [before.notice, run.notice].filter((n) => n);
    pooled.set(key, {
      ...before,
      status: before.status === "ok" || run.status === "ok"
        ? "ok"
        : before.status,
      runtime: before.runtime ?? run.runtime,
      notice: notices.length === 0
        ? undefined
        : [...new Set(notices)].join("; "),
      results,
      errors: { ...run.errors, ...before.errors },
    });
  }
  return [...pooled.values()];
}

// "5 runs of each workload", or with rounds "3 rounds of 5 runs … (15)".
function runsText(report: CompareReport): string {
  const { repeat } = report.config;
  const rounds = report.rounds ?? 1;
  return rounds === 1
    ? `${repeat} runs of each workload after a warm-up`
    : `${rounds} rounds, the systems alternating, of ${repeat} runs of each workload after a warm-up (medians of all ${
      rounds * repeat
    })`;
}

/** The load levels of a report. */
export function loadsOf(report: CompareReport): readonly number[] {
  return report.loads ?? [0];
}

/** The systems measured at one load level. */
function atLoad(report: CompareReport, load: number): SystemRun[] {
  return report.systems.filter((s) => (s.load ?? 0) === load);
}

/** "idle" or "N CPU-bound processes beside". */
export function describeLoad(load: number): string {
  return load === 0
    ? "idle (no load added)"
    : `${load} CPU-bound process${load === 1 ? "" : "es"} beside`;
}

/**
 * Reads a system program's output: the last stdout line that parses as a
 * result object.
 *
 * @param system The system that printed it.
 * @param stdout The program's whole stdout.
 * @returns The run, status "ok".
 * @throws {SyntaxError} When no line is a result object.
 */
export function parseSystemOutput(system: SystemId, stdout: string): SystemRun {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const value = parsed as Partial<SystemRun>;
    if (typeof value.results !== "object" || value.results === null) continue;
    for (const [id, outcome] of Object.entries(value.results)) {
      const samples = (outcome as Outcome)?.samples;
      if (
        !Array.isArray(samples) || samples.length === 0 ||
        !samples.every((s) => typeof s === "number" && Number.isFinite(s))
      ) {
        throw new SyntaxError(
          `Cannot read ${system}'s output as result '${id}' must hold finite samples: current value is ${
            JSON.stringify(outcome)
          }`,
        );
      }
    }
    return {
      system,
      status: "ok",
      runtime: typeof value.runtime === "string" ? value.runtime : undefined,
      results: value.results,
      errors: (value.errors ?? {}) as Record<string, string>,
    };
  }
  throw new SyntaxError(
    `Cannot read ${system}'s output as it must end with a result JSON line: current value is ${
      JSON.stringify(stdout.slice(-200))
    }`,
  );
}

/**
 * How many times better ours is than a peer: > 1 means ours is better.
 *
 * @param ours Our median.
 * @param peer The peer's median.
 * @param better Which direction is better for this workload.
 * @returns peer ÷ ours for "lower is better", ours ÷ peer for "higher".
 * @throws {RangeError} When a figure is not a positive finite number.
 */
export function ratioOf(
  ours: number,
  peer: number,
  better: "lower" | "higher",
): number {
  for (const [name, v] of [["ours", ours], ["peer", peer]] as const) {
    if (!Number.isFinite(v) || v <= 0) {
      throw new RangeError(
        `Cannot compute ratio as '${name}' must be a finite number > 0: current value is ${v}`,
      );
    }
  }
  return better === "lower" ? peer / ours : ours / peer;
}

// How a ratio reads: "2× faster" for times, "2× smaller" for memory.
function ratioWords(spec: WorkloadSpec): [string, string] {
  if (spec.unit === "MB") return ["smaller", "larger"];
  return spec.better === "lower" ? ["faster", "slower"] : ["higher", "lower"];
}

function formatFigure(value: number, unit: Unit): string {
  if (unit === "%") return `${Math.round(value)} %`;
  if (unit === "MB") return `${value.toFixed(1)} MB`;
  return formatMs(value);
}

function labelOf(system: SystemId): string {
  return kSystems.find((s) => s.id === system)!.label;
}

/** The median of a workload on a system, or null when it has none. */
export function medianOf(
  run: SystemRun | undefined,
  id: string,
): number | null {
  const outcome = run?.results[id];
  return outcome === undefined ? null : median(outcome.samples);
}

function cell(run: SystemRun | undefined, spec: WorkloadSpec): string {
  if (run === undefined) return "—";
  if (run.status === "skipped") return "skipped";
  if (run.status === "failed") return "failed";
  if (run.errors[spec.id] === kUnknownWorkload) return "—";
  if (run.errors[spec.id] !== undefined) return "error";
  const value = medianOf(run, spec.id);
  if (value === null) return "—";
  const equivalent = run.results[spec.id].equivalent === true;
  return formatFigure(value, spec.unit) + (equivalent ? " *" : "");
}

/**
 * The comparison table: one row per workload, a column of medians per
 * system, and a column of ratios (ours against each peer).
 *
 * @param report The run.
 * @returns The table.
 */
export function compareTable(
  report: CompareReport,
  load = loadsOf(report)[0],
): Table {
  const byId = new Map(atLoad(report, load).map((s) => [s.system, s]));
  const ours = byId.get("deno");
  const present = kSystems.filter((s) => byId.has(s.id));
  const peers = present.filter((s) => s.id !== "deno");
  const selected = kWorkloads.filter((w) =>
    report.config.workloads.includes(w.id)
  );
  const rows = selected.map((spec) => {
    const figures = present.map((s) => cell(byId.get(s.id), spec));
    const ratios = ours === undefined ? [] : peers.map((peer) => {
      const a = medianOf(ours, spec.id);
      const b = medianOf(byId.get(peer.id), spec.id);
      if (a === null || b === null || a <= 0 || b <= 0) return "n/a";
      const [better, worse] = ratioWords(spec);
      return formatRatio(ratioOf(a, b, spec.better), better, worse);
    });
    return [
      spec.better === "higher"
        ? `${spec.title(report.config)} (higher is better)`
        : spec.title(report.config),
      ...figures,
      ...ratios,
    ];
  });
  const headers = [
    "workload",
    ...present.map((s) => s.label),
    ...(ours === undefined ? [] : peers.map((s) => `ours vs ${s.label}`)),
  ];
  return {
    headers,
    rows,
    align: headers.map((_, i) => (i === 0 ? "left" : "right")),
  };
}

/**
 * Ours against bare Web Workers at every load level: one row per workload,
 * for each level our median, the bare workers' median and the ratio. Null
 * when either system is missing.
 *
 * @param report The run.
 * @returns The table, or null.
 */
export function loadTable(report: CompareReport): Table | null {
  const loads = loadsOf(report);
  const pairs = loads.map((load) => {
    const runs = atLoad(report, load);
    return {
      load,
      ours: runs.find((s) => s.system === "deno"),
      bare: runs.find((s) => s.system === "bare"),
    };
  });
  if (!pairs.some((p) => p.ours !== undefined && p.bare !== undefined)) {
    return null;
  }
  const short = (load: number) => load === 0 ? "idle" : `load ${load}`;
  const headers = [
    "workload",
    ...loads.flatMap((load) => [
      `${short(load)}: ours`,
      `${short(load)}: bare`,
      `${short(load)}: ours vs bare`,
    ]),
  ];
  const rows = kWorkloads.filter((w) => report.config.workloads.includes(w.id))
    .map((spec) => [
      spec.better === "higher"
        ? `${spec.title(report.config)} (higher is better)`
        : spec.title(report.config),
      ...pairs.flatMap(({ ours, bare }) => {
        const a = medianOf(ours, spec.id);
        const b = medianOf(bare, spec.id);
        const words = ratioWords(spec);
        return [
          cell(ours, spec),
          cell(bare, spec),
          a === null || b === null || a <= 0 || b <= 0
            ? "n/a"
            : formatRatio(ratioOf(a, b, spec.better), words[0], words[1]),
        ];
      }),
    ]);
  return {
    headers,
    rows,
    align: headers.map((_, i) => (i === 0 ? "left" : "right")),
  };
}

function notes(report: CompareReport): string[] {
  const lines: string[] = [];
  for (const run of report.systems) {
    const line = `${labelOf(run.system)}: ${run.notice}`;
    if (run.notice && !lines.includes(line)) lines.push(line);
  }
  for (const spec of kWorkloads) {
    if (!report.config.workloads.includes(spec.id)) continue;
    for (const run of report.systems) {
      const note = run.results[spec.id]?.note;
      const error = run.errors[spec.id];
      const at = (run.load ?? 0) === loadsOf(report)[0]
        ? ""
        : ` (load ${run.load})`;
      if (error === kUnknownWorkload) continue;
      if (error) {
        lines.push(`${spec.id}, ${labelOf(run.system)}${at}: error: ${error}`);
      } else if (note && at === "") {
        lines.push(`${spec.id}, ${labelOf(run.system)}: ${note}`);
      }
    }
  }
  return lines;
}

function runtimes(report: CompareReport): string[] {
  return atLoad(report, loadsOf(report)[0]).map((run) =>
    `${labelOf(run.system)}: ${run.runtime ?? "(not run)"}${
      run.status === "ok" ? "" : ` (${run.status})`
    }`
  );
}

// The tables of a report: with one load level, the comparison table alone;
// with several, ours against bare workers by level, then one comparison
// table per level under a heading.
function sections(
  report: CompareReport,
  render: (table: Table) => string,
  heading: (title: string) => string,
): string[] {
  const loads = loadsOf(report);
  if (loads.length === 1 && loads[0] === 0) {
    return [render(compareTable(report)), ""];
  }
  const out: string[] = [];
  const byLoad = loadTable(report);
  if (byLoad !== null) {
    out.push(
      heading(
        "Ours against bare Web Workers (plain postMessage), by load",
      ),
      "",
      render(byLoad),
      "",
    );
  }
  for (const load of loads) {
    out.push(
      heading(`All systems, ${describeLoad(load)}`),
      "",
      render(compareTable(report, load)),
      "",
    );
  }
  return out;
}

const kReading = [
  'Times: lower is better. Ratios read "ours vs peer": "2.0× faster" means',
  "@dmp/multiprocessing took half the peer's time; for the efficiency row,",
  '"higher"/"lower" compare the percentages; for memory rows, "smaller"/"larger"',
  "compare megabytes per worker (Pss of OS processes, so shared pages count",
  'once). "subprocess:" rows use getContext("subprocess") (deno OS processes)',
  "and CPython's own start method, whose children are OS processes too.",
  '"*" marks a figure taken with an equivalent rather than the same API (piscina',
  "has no Process, Queue or Lock): the notes say what ran. Bare Web Workers are",
  "what a program does without a library: plain `new Worker` and postMessage",
  '(or Atomics where the workload is about shared memory). "Load N" means N',
  "CPU-bound processes (busy loops) ran beside each system's measurement.",
];

/**
 * The report for a terminal.
 *
 * @param report The run.
 * @returns Text without a trailing newline.
 */
export function renderCompareTerminal(report: CompareReport): string {
  return [
    `bench:compare: ${runsText(report)}, medians`,
    describeEnvironment(report.environment),
    ...runtimes(report).map((r) => `  ${r}`),
    "",
    ...sections(report, renderTerminalTable, (t) => t),
    ...kReading,
    "",
    ...notes(report).map((n) => `- ${n}`),
  ].join("\n");
}

/**
 * The report as a markdown document.
 *
 * @param report The run.
 * @param svgName File name of the chart beside it, or "" for none.
 * @returns Markdown with a trailing newline.
 */
export function renderCompareMarkdown(
  report: CompareReport,
  svgName = "",
): string {
  const env = report.environment;
  return [
    "# @dmp/multiprocessing, bare Web Workers, CPython's multiprocessing and piscina: the same workloads",
    "",
    wrapProse(
      `Run on ${env.date.slice(0, 10)} with \`${report.command}\`${
        report.quick ? " (quick: smaller workloads)" : ""
      }: ${runsText(report)}; medians shown.`,
    ),
    "",
    wrapProse(`Machine: ${describeEnvironment(env)}.`),
    "",
    ...runtimes(report).map((r) => wrapProse(r, "- ")),
    "",
    ...sections(report, renderMarkdownTable, (t) => `## ${t}`),
    wrapProse(kReading.join(" ")),
    "",
    ...(svgName ? [`![bar chart of the table](${svgName})`, ""] : []),
    "Notes:",
    "",
    ...notes(report).map((n) => wrapProse(n, "- ")),
    "",
    wrapProse(
      "The programs: bench/compare/deno_workloads.ts, python_workloads.py, " +
        "piscina_workloads.mjs (with node_thread.mjs and piscina_worker.mjs).",
    ),
    "",
  ].join("\n");
}

/**
 * The bar chart of the report: one group per workload, one bar per system.
 *
 * @param report The run.
 * @returns The chart description for {@linkcode renderBarChart}.
 */
export function compareChart(report: CompareReport): BarChart {
  const loads = loadsOf(report);
  const one = loads.length === 1 && loads[0] === 0;
  const series = loads.flatMap((load) => {
    const runs = atLoad(report, load);
    return kSystems.filter((s) => runs.some((r) => r.system === s.id))
      .map((s) => ({
        label: one
          ? s.label
          : `${s.label}, ${load === 0 ? "idle" : `load ${load}`}`,
        run: runs.find((r) => r.system === s.id),
      }));
  });
  return {
    title:
      "@dmp/multiprocessing vs bare Web Workers, CPython multiprocessing and piscina",
    subtitle: `${
      report.environment.date.slice(0, 10)
    }, ${report.environment.cpus} cores (${report.environment.cpuModel}), medians of ${report.config.repeat} runs; each group scaled to its largest bar`,
    series: series.map((s) => s.label),
    groups: kWorkloads.filter((w) => report.config.workloads.includes(w.id))
      .map((spec) => ({
        label: spec.title(report.config),
        note: {
          "%": "% efficiency, higher is better",
          "MB": "memory, lower is better",
          "ms": "time, lower is better",
        }[spec.unit],
        bars: series.map(({ label, run }) => {
          const value = medianOf(run, spec.id);
          return {
            series: label,
            value,
            text: value === null ? "n/a" : formatFigure(value, spec.unit) +
              (cell(run, spec).endsWith("*") ? " *" : ""),
          };
        }),
      })),
  };
}

/**
 * The SVG chart of the report.
 *
 * @param report The run.
 * @returns SVG text.
 */
export function renderCompareSvg(report: CompareReport): string {
  return renderBarChart(compareChart(report));
}
