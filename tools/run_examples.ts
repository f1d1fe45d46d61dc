// `deno task examples`: runs every example of examples/<doc>/*.ts as its own
// `deno run` subprocess and checks its output against the .out file beside
// it (format: tools/_expectations.ts).
//
//   discover ──> filter ──> run (cpuCount at a time) ──> match ──> report
//   examples/<doc>/<name>.ts      deno run <@flags> <file>, cwd = repo root
//
// Exit codes: 0 all passed, 1 some example failed (or has no .out), 2 usage.

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join, relative, resolve } from "node:path";
import {
  type Expectation,
  matchRun,
  parseExpectation,
  type ReportLine,
} from "./_expectations.ts";

/** An example found on disk. */
export interface Example {
  /** `<doc>/<name>`, e.g. `000_basic_parallel_program/process_class`. */
  readonly name: string;
  /** The document folder, e.g. `000_basic_parallel_program` (number, then subject). */
  readonly document: string;
  /** The .ts file, relative to the repository root. */
  readonly file: string;
  /** The .out file, relative to the repository root. */
  readonly outFile: string;
}

/** How an example ended. */
export type Status =
  | "pass"
  | "fail"
  | "timeout"
  | "no-expectation"
  | "bad-expectation"
  | "error";

/** The outcome of one example. */
export interface ExampleResult extends Example {
  readonly status: Status;
  /** Wall time of the subprocess in milliseconds (0 when not run). */
  readonly timeMs: number;
  readonly flags: string[];
  readonly exitCode: number | null;
  readonly expectedExitCode: number | null;
  readonly problems: string[];
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutReport: ReportLine[];
  readonly stderrReport: ReportLine[];
}

const root = resolve(fileURLToPath(new URL("../", import.meta.url)));

const usage = `Usage: deno task examples [options] [filter...]

Runs each example (examples/<doc>/<name>.ts) in its own deno process and
checks its output against <name>.out beside it.

Filters select examples by document (its number, "000", or its folder,
"000_basic_parallel_program") or by a substring of the name
("process_class", "000_basic_parallel_program/guarded"); several filters add
up.

Options:
  --list           list the selected examples and their flags, run nothing
  --verbose, -v    show every example's output and a diff of mismatches
  --json           print a machine-readable report to stdout
  --jobs, -j N     run at most N examples at once (default: cpu count)
  --dir PATH       the examples folder (default: examples)
  --start-method M run every example with start method M (spawn, forkserver,
                   subprocess): a preload sets it, the example is unchanged
  --help, -h       show this help`;

/** Finds `<dir>/<doc>/*.ts`, skipping files that start with `_`. */
export async function discover(dir: string): Promise<Example[]> {
  const found: Example[] = [];
  for await (const doc of Deno.readDir(dir)) {
    if (!doc.isDirectory || doc.name.startsWith("_")) continue;
    for await (const entry of Deno.readDir(join(dir, doc.name))) {
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      if (entry.name.startsWith("_")) continue;
      const base = entry.name.slice(0, -".ts".length);
      const file = relative(root, join(dir, doc.name, entry.name));
      found.push({
        name: `${doc.name}/${base}`,
        document: doc.name,
        file,
        outFile: file.slice(0, -".ts".length) + ".out",
      });
    }
  }
  return found.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Keeps the examples a filter selects: a document name, or a substring of
 * `<doc>/<name>`.
 *
 * @throws {Error} Naming the first filter that selects nothing.
 */
export function select(examples: Example[], filters: string[]): Example[] {
  if (filters.length === 0) return examples;
  for (const filter of filters) {
    if (!examples.some((e) => matches(e, filter))) {
      throw new Error(
        `Unknown filter '${filter}': it matches no document or example name (see --list)`,
      );
    }
  }
  return examples.filter((e) => filters.some((f) => matches(e, f)));
}

function matches(example: Example, filter: string): boolean {
  return example.document === filter || example.name.includes(filter);
}

function blank(
  example: Example,
  status: Status,
  problem: string,
  expectation?: Expectation,
): ExampleResult {
  return {
    ...example,
    status,
    timeMs: 0,
    flags: expectation?.flags ?? [],
    exitCode: null,
    expectedExitCode: expectation?.exitCode ?? null,
    problems: [problem],
    stdout: "",
    stderr: "",
    stdoutReport: [],
    stderrReport: [],
  };
}

async function readExpectation(
  example: Example,
): Promise<Expectation | ExampleResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(root, example.outFile));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return blank(
        example,
        "no-expectation",
        `missing expected-output file ${example.outFile}`,
      );
    }
    throw error;
  }
  try {
    return parseExpectation(text, example.outFile);
  } catch (error) {
    return blank(example, "bad-expectation", (error as Error).message);
  }
}

const kStartMethods = ["spawn", "forkserver", "subprocess"];
let startMethod: string | undefined;

/**
 * The flags that run an example with `startMethod`: a preload module calls
 * setStartMethod() before the example's own code (which does not see it);
 * "subprocess" also needs --allow-run in the example's process.
 */
export function startMethodFlags(
  method: string | undefined,
  flags: string[],
): string[] {
  if (method === undefined) return [];
  const mod = new URL("../mod.ts", import.meta.url).href;
  const source = `import { setStartMethod } from ${
    JSON.stringify(mod)
  }; setStartMethod(${JSON.stringify(method)});`;
  const out = [
    `--preload=data:application/javascript,${encodeURIComponent(source)}`,
  ];
  const runs = flags.some((f) => /^(-A|--allow-all|--allow-run)/.test(f));
  if (method === "subprocess" && !runs) out.push("--allow-run");
  return out;
}

/** Runs one example and checks it against its .out file. */
export async function runExample(example: Example): Promise<ExampleResult> {
  const expectation = await readExpectation(example);
  if ("status" in expectation) return expectation;
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...startMethodFlags(startMethod, expectation.flags),
      ...expectation.flags,
      example.file,
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const started = performance.now();
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } catch (error) {
    return blank(
      example,
      "error",
      `cannot start deno: ${(error as Error).message}`,
      expectation,
    );
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone: output() below settles anyway.
    }
  }, expectation.timeoutSeconds * 1000);
  const output = await child.output().finally(() => clearTimeout(timer));
  const timeMs = performance.now() - started;
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  const exitCode = timedOut || output.signal !== null ? null : output.code;
  const match = matchRun(expectation, {
    exitCode,
    stdout,
    stderr,
  });
  const problems = [...match.problems];
  if (timedOut) {
    problems.unshift(
      `timed out after ${expectation.timeoutSeconds} s and was killed`,
    );
  } else if (output.signal !== null) {
    problems.unshift(`killed by ${output.signal}`);
  }
  return {
    ...example,
    status: timedOut ? "timeout" : problems.length === 0 ? "pass" : "fail",
    timeMs,
    flags: expectation.flags,
    exitCode,
    expectedExitCode: expectation.exitCode,
    problems,
    stdout,
    stderr,
    stdoutReport: match.stdoutReport,
    stderrReport: match.stderrReport,
  };
}

/** Runs the examples, `jobs` at a time, calling `onEvent` as they go. */
export async function runAll(
  examples: Example[],
  jobs: number,
  onEvent: (running: Example[], done: ExampleResult | undefined) => void,
): Promise<ExampleResult[]> {
  const results: ExampleResult[] = [];
  const running = new Set<Example>();
  let next = 0;
  const lane = async () => {
    while (next < examples.length) {
      const example = examples[next++];
      running.add(example);
      onEvent([...running], undefined);
      const result = await runExample(example);
      running.delete(example);
      results.push(result);
      onEvent([...running], result);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(jobs, examples.length) }, lane),
  );
  return results.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * The summary table: example, document, status, time, and the start
 * method when one was given.
 */
export function table(results: ExampleResult[], method?: string): string {
  const rows = [
    ["example", "document", "status", "time"],
    ...results.map((r) => [
      r.name,
      r.document,
      r.status,
      r.timeMs > 0 ? seconds(r.timeMs) : "-",
    ]),
  ];
  if (method !== undefined) {
    rows[0].push("start method");
    for (const row of rows.slice(1)) row.push(method);
  }
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map((row) => row[c].length))
  );
  const line = (row: string[]) =>
    row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  return [
    line(rows[0]),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
  ].join("\n");
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((l) => prefix + l).join("\n");
}

function details(result: ExampleResult, verbose: boolean): string {
  const out: string[] = [];
  for (const problem of result.problems) out.push(`  ${problem}`);
  // Examples without a usable .out never ran: there is no output to show.
  if (!verbose || result.timeMs === 0) return out.join("\n");
  out.push(`  command: deno run ${[...result.flags, result.file].join(" ")}`);
  out.push(
    `  exit code: ${result.exitCode ?? "none (killed)"} (expected ${
      result.expectedExitCode ?? "-"
    })`,
  );
  const listing = (title: string, report: ReportLine[], raw: string) => {
    if (report.length === 0 && raw === "") {
      out.push(`  ${title}: (empty)`);
      return;
    }
    out.push(`  ${title}:`);
    if (report.length === 0) out.push(indent(raw.trimEnd(), "    "));
    for (const l of report) out.push(`   ${l.kind} ${l.text}`);
  };
  listing(
    "stdout (' ' matched, '-' expected, '+' unexpected)",
    result.stdoutReport,
    result.stdout,
  );
  listing("stderr", result.stderrReport, result.stderr);
  return out.join("\n");
}

/** Where the runner writes: injectable for tests. */
export interface Io {
  /** Report output (stdout). */
  out(text: string): void;
  /** Progress and errors (stderr). */
  err(text: string): void;
  /** Whether stderr is a terminal (enables the live progress line). */
  readonly tty: boolean;
}

const encoder = new TextEncoder();
const processIo: Io = {
  out: (text) => Deno.stdout.writeSync(encoder.encode(text)),
  err: (text) => Deno.stderr.writeSync(encoder.encode(text)),
  tty: Deno.stderr.isTerminal(),
};

/**
 * The CLI: parses `args`, runs the selected examples and reports.
 *
 * @returns The exit code: 0 all passed, 1 a failure, 2 a usage error.
 */
export async function main(
  args: string[],
  io: Io = processIo,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        list: { type: "boolean", default: false },
        verbose: { type: "boolean", short: "v", default: false },
        json: { type: "boolean", default: false },
        jobs: { type: "string", short: "j" },
        dir: { type: "string", default: "examples" },
        "start-method": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    // node's message for an unknown option runs to three sentences: keep the first.
    const message = (error as Error).message.replace(/(?<=')\. .*$/s, "");
    io.err(`error: ${message} (see --help)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(usage + "\n");
    return 0;
  }
  let jobs = navigator.hardwareConcurrency;
  if (values.jobs !== undefined) {
    jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) {
      io.err(
        `error: --jobs must be a positive integer: current value is '${values.jobs}'\n`,
      );
      return 2;
    }
  }
  const method = values["start-method"];
  if (method !== undefined && !kStartMethods.includes(method)) {
    io.err(
      `error: --start-method must be one of ${
        kStartMethods.join(", ")
      }: current value is '${method}'\n`,
    );
    return 2;
  }
  startMethod = method;
  const dir = resolve(root, values.dir);
  let selected: Example[];
  try {
    selected = select(await discover(dir), positionals);
  } catch (error) {
    const message = error instanceof Deno.errors.NotFound
      ? `examples folder '${values.dir}' does not exist`
      : (error as Error).message;
    io.err(`error: ${message}\n`);
    return 2;
  }
  if (selected.length === 0) {
    io.err(`error: no examples found in '${values.dir}'\n`);
    return 2;
  }

  if (values.list) {
    const listed = [];
    for (const example of selected) {
      const expectation = await readExpectation(example);
      listed.push(
        "status" in expectation
          ? { ...example, flags: null, expectation: expectation.status }
          : { ...example, flags: expectation.flags, expectation: "ok" },
      );
    }
    if (values.json) {
      io.out(JSON.stringify(listed, null, 2) + "\n");
    } else {
      const width = Math.max(...listed.map((e) => e.name.length));
      for (const e of listed) {
        const what = e.flags?.join(" ") ?? `(${e.expectation})`;
        io.out(`${e.name.padEnd(width)}  ${what}\n`.replace(/ +\n$/, "\n"));
      }
    }
    return 0;
  }

  // With --json, stdout carries only the JSON; the human report moves to stderr.
  const human = values.json ? io.err : io.out;
  const started = performance.now();
  let finished = 0;
  let failed = 0;
  const clear = "\r\x1b[K";
  let columns = 80;
  try {
    columns = Deno.consoleSize().columns;
  } catch {
    // Not a terminal: the progress line is not drawn anyway.
  }
  const results = await runAll(selected, jobs, (running, done) => {
    if (done !== undefined) {
      finished++;
      if (done.status !== "pass") failed++;
      if (io.tty) io.err(clear);
      const pass = done.status === "pass";
      const line = `${pass ? "ok  " : "FAIL"} ${done.name}` +
        (done.timeMs > 0 ? ` (${seconds(done.timeMs)})` : "") +
        (pass || done.status === "fail" ? "" : ` [${done.status}]`);
      if (!pass || values.verbose) {
        human(line + "\n");
        human(details(done, values.verbose) + "\n");
      } else if (!io.tty) {
        human(line + "\n");
      }
    }
    if (io.tty && running.length > 0) {
      io.err(
        `${clear}[${finished}/${selected.length}] ${
          failed > 0 ? `${failed} failed, ` : ""
        }running ${running.map((e) => e.name).join(", ")}`.slice(
          0,
          columns + clear.length - 1,
        ),
      );
    }
  });
  if (io.tty) io.err(clear);
  const totalMs = performance.now() - started;
  const passed = results.filter((r) => r.status === "pass").length;
  human(`\n${table(results, method)}\n\n`);
  human(
    `${results.length} example${
      results.length === 1 ? "" : "s"
    }: ${passed} passed, ${results.length - passed} failed (${
      seconds(totalMs)
    }, ${jobs} at a time)\n`,
  );
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          ok: passed === results.length,
          total: results.length,
          passed,
          failed: results.length - passed,
          timeMs: Math.round(totalMs),
          examples: results.map((r) => ({
            name: r.name,
            document: r.document,
            file: r.file,
            outFile: r.outFile,
            status: r.status,
            timeMs: Math.round(r.timeMs),
            flags: r.flags,
            exitCode: r.exitCode,
            expectedExitCode: r.expectedExitCode,
            problems: r.problems,
            stdout: r.stdout,
            stderr: r.stderr,
          })),
        },
        null,
        2,
      ) + "\n",
    );
  }
  return passed === results.length ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
