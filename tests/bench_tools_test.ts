// The pure parts of the benchmark tools (tools/bench_claims.ts,
// tools/bench_compare.ts): statistics, formatting, tables, the SVG chart,
// argument parsing, the verdicts and the comparison report. Nothing here
// measures anything or starts a worker.

import nodeAssert from "node:assert/strict";
import { type BenchArgSpec, parseBenchArgs } from "../tools/_bench_args.ts";
import type { Environment } from "../tools/_bench_env.ts";
import {
  formatMs,
  formatRate,
  formatRatio,
  median,
  renderMarkdownTable,
  renderTerminalTable,
  summarize,
  wrapProse,
} from "../tools/_bench_format.ts";
import { escapeXml, renderBarChart } from "../tools/_bench_svg.ts";
import {
  type ClaimsReport,
  renderClaimsMarkdown,
  renderClaimsTerminal,
} from "../tools/_claims_report.ts";
import {
  breakEven,
  type BreakEvenPoint,
  type Conditions,
  judgeAsyncIo,
  judgeFrameSharing,
  judgeOversubscription,
  judgeParallelSleep,
  judgeSpeedup,
  judgeStartup,
} from "../tools/_claims_verdicts.ts";
import {
  compareChart,
  type CompareReport,
  compareTable,
  kWorkloads,
  loadTable,
  parseSystemOutput,
  poolRounds,
  ratioOf,
  renderCompareMarkdown,
  renderCompareSvg,
  renderCompareTerminal,
  type SystemRun,
} from "../tools/_compare_report.ts";
import { configFor, startLoad, stopLoad } from "../tools/bench_compare.ts";
import { runDeno } from "./_run.ts";

const assert = (value: unknown, message?: string) =>
  nodeAssert.ok(value, message);
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepEqual(actual, expected, message);
const assertMatch = (text: string, pattern: RegExp) =>
  nodeAssert.match(text, pattern);

/** Asserts that `fn` throws an instance of `kind` whose message contains `includes`. */
function assertThrows(
  fn: () => unknown,
  kind: new (...args: never[]) => Error,
  includes = "",
): void {
  nodeAssert.throws(fn, (error: unknown) => {
    nodeAssert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
    nodeAssert.ok(
      error.message.includes(includes),
      `expected the message to contain ${
        JSON.stringify(includes)
      }: ${error.message}`,
    );
    return true;
  });
}

/** All whitespace runs as one space: compares wrapped, padded markdown by content. */
const flat = (text: string) => text.replace(/\s+/g, " ");

const idle: Conditions = { cpus: 4, load: 0.1 };
const busy: Conditions = { cpus: 4, load: 3.5 };

// ------------------------------------------------------------ statistics

Deno.test("median() returns the middle sample of an odd count and the mean of the middle two of an even count", () => {
  assertEquals(median([5]), 5);
  assertEquals(median([9, 1, 5]), 5);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertEquals(median([100, 1, 2]), 2); // one slow outlier does not move it
});

Deno.test("median() does not reorder the caller's array", () => {
  const samples = [3, 1, 2];
  median(samples);
  assertEquals(samples, [3, 1, 2]);
});

Deno.test("median() throws when there are no samples or a sample is not finite", () => {
  assertThrows(
    () => median([]),
    RangeError,
    "'samples' must be a non-empty array",
  );
  assertThrows(
    () => median([1, NaN]),
    TypeError,
    "must hold finite numbers: current value is NaN",
  );
  assertThrows(() => median([1, Infinity]), TypeError);
});

Deno.test("summarize() reports median, min, max and count", () => {
  assertEquals(summarize([3, 9, 1]), { median: 3, min: 1, max: 9, count: 3 });
  assertThrows(() => summarize([]), RangeError);
});

// ------------------------------------------------------------ formatting

Deno.test("formatMs() picks µs, ms or s with three significant figures", () => {
  assertEquals(formatMs(0), "0 ms");
  assertEquals(formatMs(0.0123), "12.3 µs");
  assertEquals(formatMs(0.5), "500 µs");
  assertEquals(formatMs(1.234), "1.23 ms");
  assertEquals(formatMs(42.04), "42.0 ms");
  assertEquals(formatMs(999), "999 ms");
  assertEquals(formatMs(1234), "1.23 s");
  assertEquals(formatMs(98_765), "98.8 s");
});

Deno.test("formatMs() throws when the duration is negative or not finite", () => {
  assertThrows(
    () => formatMs(-1),
    RangeError,
    "'ms' must be a finite number ≥ 0",
  );
  assertThrows(() => formatMs(NaN), RangeError);
});

Deno.test("formatRate() scales to k and M and names the unit when given", () => {
  assertEquals(formatRate(950), "950 /s");
  assertEquals(formatRate(12_300), "12.3 k/s");
  assertEquals(formatRate(1_200_000), "1.20 M/s");
  assertEquals(formatRate(88.4, "items"), "88.4 items/s");
  assertEquals(formatRate(12_300, "items"), "12.3 k items/s");
});

Deno.test("formatRatio() says faster, slower or about the same", () => {
  assertEquals(formatRatio(2.5), "2.50× faster");
  assertEquals(formatRatio(0.25), "4.00× slower");
  assertEquals(formatRatio(1.03), "about the same");
  assertEquals(formatRatio(0.96), "about the same");
  assertEquals(formatRatio(1.2, "higher", "lower"), "1.20× higher");
  assertEquals(formatRatio(0), "n/a");
  assertEquals(formatRatio(NaN), "n/a");
});

// ------------------------------------------------------------ tables

const table = {
  headers: ["name", "time"],
  rows: [["a|b", "1 µs"], ["longer name", "12.3 ms"]],
  align: ["left", "right"] as const,
};

Deno.test("renderTerminalTable() pads columns to the widest cell and aligns right where asked", () => {
  const lines = renderTerminalTable(table).split("\n");
  assertEquals(lines, [
    "name            time",
    "───────────  ───────",
    "a|b             1 µs",
    "longer name  12.3 ms",
  ]);
});

Deno.test("renderMarkdownTable() escapes pipes, pads and aligns columns as deno fmt does, and keeps rows on one line", () => {
  const md = renderMarkdownTable({
    ...table,
    rows: [...table.rows, ["two\nlines", "x"]],
  });
  assertEquals(md.split("\n"), [
    "| name         |    time |",
    "| ------------ | ------: |",
    "| a\\|b         |    1 µs |",
    "| longer name  | 12.3 ms |",
    "| two<br>lines |       x |",
  ]);
});

Deno.test("renderTerminalTable() and renderMarkdownTable() throw when a row has the wrong number of cells", () => {
  const bad = { headers: ["a", "b"], rows: [["only one"]] };
  assertThrows(
    () => renderTerminalTable(bad),
    RangeError,
    "row 0 must have 2 cells: current value has 1",
  );
  assertThrows(() => renderMarkdownTable(bad), RangeError);
  assertThrows(
    () => renderMarkdownTable({ headers: [], rows: [] }),
    RangeError,
  );
});

// ------------------------------------------------------------ SVG

Deno.test("escapeXml() escapes the five XML specials", () => {
  assertEquals(
    escapeXml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;",
  );
});

Deno.test("renderBarChart() scales each group to its largest bar and writes n/a for missing values", () => {
  const svg = renderBarChart({
    title: "T <1>",
    series: ["ours", "theirs"],
    groups: [
      {
        label: "g1",
        bars: [{ series: "ours", value: 10, text: "10 ms" }, {
          series: "theirs",
          value: 20,
          text: "20 ms",
        }],
      },
      {
        label: "g2",
        note: "n",
        bars: [{ series: "ours", value: 5, text: "5 ms" }, {
          series: "theirs",
          value: null,
          text: "n/a",
        }],
      },
    ],
  });
  assert(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert(svg.trimEnd().endsWith("</svg>"));
  assert(svg.includes("T &lt;1&gt;"));
  const widths = [
    ...svg.matchAll(/<rect x="16" y="\d+" width="(\d+)" height="16"/g),
  ].map((m) => Number(m[1]));
  // g1: 10 of 20 → half the full length; g2: 5 is its own maximum; null → 0.
  assertEquals(widths, [280, 560, 560, 0]);
  assert(svg.includes(">n/a  theirs</text>"));
  assertEquals(svg.match(/<svg/g)?.length, 1);
  assertEquals(
    svg.match(/<rect/g)?.length,
    svg.match(/<\/rect>|<rect[^>]*\/>/g)?.length,
  );
});

Deno.test("renderBarChart() throws for an unknown series or a negative value", () => {
  const chart = (series: string, value: number) => ({
    title: "t",
    series: ["a"],
    groups: [{ label: "g", bars: [{ series, value, text: "" }] }],
  });
  assertThrows(
    () => renderBarChart(chart("b", 1)),
    RangeError,
    "must be one of chart.series: current value is 'b'",
  );
  assertThrows(
    () => renderBarChart(chart("a", -1)),
    RangeError,
    "finite number ≥ 0 or null",
  );
  assertThrows(() => renderBarChart(chart("a", NaN)), RangeError);
});

// ------------------------------------------------------------ arguments

const spec: BenchArgSpec = {
  tool: "bench:test",
  minRepeat: 3,
  defaultRepeat: { quick: 3, full: 5 },
  ids: ["a", "b", "c"],
  systems: ["x", "y"],
  outputs: { md: "out/report.md", svg: "out/chart.svg" },
};

Deno.test("parseBenchArgs() gives the defaults when no option is passed", () => {
  assertEquals(parseBenchArgs([], spec), {
    help: false,
    json: false,
    quick: false,
    repeat: 5,
    only: ["a", "b", "c"],
    systems: ["x", "y"],
    loads: [0],
    rounds: 1,
    outputs: { md: "out/report.md", svg: "out/chart.svg" },
  });
});

Deno.test("parseBenchArgs() reads --load as distinct levels in the given order, only where the tool accepts it", () => {
  const withLoad = { ...spec, load: true };
  assertEquals(parseBenchArgs(["--load", "2"], withLoad).loads, [2]);
  assertEquals(parseBenchArgs(["--load", "0,2,1"], withLoad).loads, [0, 2, 1]);
  for (const bad of ["1,1", "-1", "x", "", "1.5", "65"]) {
    assertThrows(
      () => parseBenchArgs([`--load=${bad}`], withLoad),
      RangeError,
      `'--load' must be distinct integers from 0 to 64, comma-separated: current value is '${bad}'`,
    );
  }
  assertThrows(() => parseBenchArgs(["--load", "1"], spec), TypeError);
});

Deno.test("parseBenchArgs() reads --quick, --repeat, --only, --systems, --json and output paths", () => {
  const args = parseBenchArgs(
    [
      "--quick",
      "--json",
      "--only",
      "c,a",
      "--systems=y",
      "--md",
      "r.md",
      "--no-svg",
    ],
    spec,
  );
  assertEquals(args.quick, true);
  assertEquals(args.repeat, 3);
  assertEquals(args.json, true);
  assertEquals(args.only, ["a", "c"]); // the spec's order
  assertEquals(args.systems, ["y"]);
  assertEquals(args.outputs, { md: "r.md", svg: "" });
  assertEquals(parseBenchArgs(["--quick", "--repeat", "7"], spec).repeat, 7);
});

Deno.test("parseBenchArgs() writes the default reports only for a full run", () => {
  const defaults = { md: "out/report.md", svg: "out/chart.svg" };
  assertEquals(parseBenchArgs(["--only", "a,b,c"], spec).outputs, defaults);
  assertEquals(parseBenchArgs(["--systems", "y,x"], spec).outputs, defaults);
  const none = { md: "", svg: "" };
  assertEquals(parseBenchArgs(["--only", "b"], spec).outputs, none);
  assertEquals(parseBenchArgs(["--systems", "x"], spec).outputs, none);
  assertEquals(
    parseBenchArgs(["--only", "b", "--svg", "b.svg"], spec).outputs,
    { md: "", svg: "b.svg" },
  );
});

Deno.test("parseBenchArgs() throws a clear error for bad arguments", () => {
  assertThrows(
    () => parseBenchArgs(["--repeat", "2"], spec),
    RangeError,
    "'--repeat' must be an integer ≥ 3: current value is '2'",
  );
  assertThrows(
    () => parseBenchArgs(["--repeat", "3.5"], spec),
    RangeError,
    "current value is '3.5'",
  );
  assertThrows(() => parseBenchArgs(["--repeat", "many"], spec), RangeError);
  assertThrows(
    () => parseBenchArgs(["--only", "a,zzz"], spec),
    RangeError,
    "'--only' must be a comma-separated list of a, b, c: current value is 'zzz'",
  );
  assertThrows(
    () => parseBenchArgs(["--only", ","], spec),
    RangeError,
    "must name at least one",
  );
  assertThrows(
    () => parseBenchArgs(["--systems", "z"], spec),
    RangeError,
    "'--systems'",
  );
  assertThrows(
    () => parseBenchArgs(["--quick", "--full"], spec),
    RangeError,
    "exclude each other",
  );
  assertThrows(
    () => parseBenchArgs(["--md", "a.md", "--no-md"], spec),
    RangeError,
    "exclude each other",
  );
  assertThrows(
    () => parseBenchArgs(["--md", ""], spec),
    RangeError,
    "must be a file path",
  );
  assertThrows(
    () => parseBenchArgs(["--frobnicate"], spec),
    TypeError,
    "Cannot run bench:test as its arguments are invalid",
  );
  assertThrows(() => parseBenchArgs(["extra"], spec), TypeError);
  assertThrows(() => parseBenchArgs(["--repeat"], spec), TypeError);
  assertThrows(
    () => parseBenchArgs(["--systems", "x"], { ...spec, systems: undefined }),
    TypeError,
  );
});

Deno.test("bench:claims and bench:compare exit with code 2 and the usage on a bad argument, measuring nothing", async () => {
  for (const tool of ["tools/bench_claims.ts", "tools/bench_compare.ts"]) {
    const { code, stdout, stderr } = await runDeno([
      "run",
      "--allow-read",
      tool,
      "--repeat",
      "0",
    ]);
    assertEquals(code, 2, stderr);
    assertEquals(stdout, "");
    assertMatch(
      stderr,
      /'--repeat' must be an integer ≥ \d: current value is '0'/,
    );
    assertMatch(stderr, /Usage: deno task bench:/);
  }
});

// ------------------------------------------------------------ verdicts

Deno.test("judgeSpeedup() holds from 75 % efficiency, fails below 50 %, and is inconclusive between or on one core", () => {
  const points = (ms: number) => [{ workers: 1, ms: 400 }, { workers: 4, ms }];
  assertEquals(judgeSpeedup(400, points(125), idle).verdict, "holds"); // 3.2× = 80 %
  assertEquals(judgeSpeedup(400, points(160), idle).verdict, "inconclusive"); // 62 %
  assertEquals(
    judgeSpeedup(400, points(250), idle).verdict,
    "does not hold here",
  ); // 40 %
  assertMatch(
    judgeSpeedup(400, points(250), idle).why,
    /1\.6× faster on 4 workers \(efficiency 40 %\)/,
  );
  assertEquals(
    judgeSpeedup(400, [{ workers: 1, ms: 400 }], { cpus: 1, load: 0 }).verdict,
    "inconclusive",
  );
});

Deno.test("judgeSpeedup() turns a failure on a busy machine into inconclusive and says why", () => {
  const j = judgeSpeedup(400, [{ workers: 4, ms: 250 }], busy);
  assertEquals(j.verdict, "inconclusive");
  assertMatch(j.why, /machine was busy \(load 3\.50 on 4 cores\)/);
  // A claim that holds under load still holds.
  assertEquals(
    judgeSpeedup(400, [{ workers: 4, ms: 110 }], busy).verdict,
    "holds",
  );
  // Unknown load: the figures decide.
  assertEquals(
    judgeSpeedup(400, [{ workers: 4, ms: 250 }], { cpus: 4, load: null })
      .verdict,
    "does not hold here",
  );
});

Deno.test("judgeSpeedup() throws without a point at cpus workers or for a non-positive time", () => {
  assertThrows(
    () => judgeSpeedup(400, [{ workers: 2, ms: 200 }], idle),
    RangeError,
    "must include 4 workers: current value has 2",
  );
  assertThrows(
    () => judgeSpeedup(0, [{ workers: 4, ms: 200 }], idle),
    RangeError,
    "'sequentialMs' must be a finite number > 0",
  );
});

Deno.test("judgeFrameSharing() holds from 10× and fails below 2×", () => {
  assertEquals(judgeFrameSharing(20, 0.01, idle).verdict, "holds");
  assertEquals(judgeFrameSharing(20, 5, idle).verdict, "inconclusive");
  assertEquals(judgeFrameSharing(20, 15, idle).verdict, "does not hold here");
  assertThrows(() => judgeFrameSharing(20, 0, idle), RangeError);
});

const size = (
  itemUs: number,
  seq: number,
  cold: number,
  warm: number,
): BreakEvenPoint => ({
  itemUs,
  sequentialMs: seq,
  coldPoolMs: cold,
  warmPoolMs: warm,
});

Deno.test("breakEven() finds the first size from which the pool keeps winning", () => {
  const points = [
    size(1, 0.01, 60, 1),
    size(1000, 10, 5, 0.5), // a lucky win, lost again at the next size
    size(3000, 30, 70, 20),
    size(10_000, 100, 90, 60),
    size(30_000, 300, 200, 160),
  ];
  assertEquals(breakEven(points, (p) => p.coldPoolMs)?.itemUs, 10_000);
  assertEquals(breakEven(points, (p) => p.warmPoolMs)?.itemUs, 1000);
  assertEquals(breakEven(points.slice(0, 1), (p) => p.coldPoolMs), null);
});

Deno.test("judgeStartup() holds when tiny tasks lose and larger ones win, fails when tiny ones already win", () => {
  const holds = judgeStartup([
    size(1, 0.01, 60, 1),
    size(50_000, 400, 250, 210),
  ], idle);
  assertEquals(holds.verdict, "holds");
  assertMatch(
    holds.why,
    /loses at 1\.0 µs per item and keeps winning from 50 ms per item/,
  );
  assertEquals(
    judgeStartup([size(1, 5, 1, 1), size(10, 50, 10, 10)], idle).verdict,
    "does not hold here",
  );
  assertEquals(
    judgeStartup([size(1, 0.01, 60, 1), size(10, 0.1, 60, 1)], idle).verdict,
    "inconclusive",
  );
  assertMatch(
    judgeStartup([size(1, 0.01, 60, 1), size(10, 0.1, 60, 1)], {
      cpus: 1,
      load: 0,
    }).why,
    /one core/,
  );
  assertThrows(
    () => judgeStartup([size(1, 1, 1, 1)], idle),
    RangeError,
    "at least 2 item sizes",
  );
});

Deno.test("judgeOversubscription() holds when more workers gain at most 5 % and fails above 15 %", () => {
  const at = (two: number, four: number) => [
    { factor: 1, itemsPerSecond: 100 },
    { factor: 2, itemsPerSecond: two },
    { factor: 4, itemsPerSecond: four },
  ];
  assertEquals(judgeOversubscription(at(104, 90), idle).verdict, "holds");
  assertEquals(judgeOversubscription(at(80, 70), idle).verdict, "holds");
  assertEquals(
    judgeOversubscription(at(110, 90), idle).verdict,
    "inconclusive",
  );
  assertEquals(
    judgeOversubscription(at(100, 130), idle).verdict,
    "does not hold here",
  );
  assertMatch(
    judgeOversubscription(at(100, 130), idle).why,
    /\(4× cores\) is \+30 %/,
  );
  assertThrows(
    () => judgeOversubscription([{ factor: 2, itemsPerSecond: 1 }], idle),
    RangeError,
    "must hold factor 1",
  );
});

Deno.test("judgeParallelSleep() holds under 1.5 sleeps and fails when the sleeps add up", () => {
  assertEquals(
    judgeParallelSleep(1000, [{ processes: 2, wallMs: 1060 }, {
      processes: 4,
      wallMs: 1090,
    }], idle).verdict,
    "holds",
  );
  assertEquals(
    judgeParallelSleep(1000, [{ processes: 4, wallMs: 2000 }], idle).verdict,
    "inconclusive",
  );
  assertEquals(
    judgeParallelSleep(1000, [{ processes: 4, wallMs: 3900 }], idle).verdict,
    "does not hold here",
  );
  assertThrows(() => judgeParallelSleep(1000, [], idle), RangeError);
});

Deno.test("judgeAsyncIo() holds when async code is at least 2× faster and fails when it is not faster", () => {
  assertEquals(judgeAsyncIo(20, 500, idle).verdict, "holds");
  assertEquals(judgeAsyncIo(20, 30, idle).verdict, "inconclusive");
  assertEquals(judgeAsyncIo(20, 20, idle).verdict, "does not hold here");
  assertThrows(() => judgeAsyncIo(-1, 20, idle), RangeError);
});

// ------------------------------------------------------------ reports

const environment: Environment = {
  date: "2025-01-02T03:04:05.000Z",
  deno: "2.9.6",
  v8: "15",
  os: "linux x86_64",
  cpuModel: "Test CPU",
  cpus: 2,
  loadBefore: [0.5, 0.4, 0.3],
  loadAfter: [1.5, 0.9, 0.5],
};

function claimsReport(): ClaimsReport {
  return {
    command: "deno task bench:claims --quick",
    repeat: 3,
    quick: true,
    environment,
    claims: [{
      id: "io",
      docs: "002",
      claim: "async beats processes for I/O",
      workload: "100 waits",
      table: { headers: ["how", "time"], rows: [["async", "21 ms"]] },
      summary: "async 21 ms",
      verdict: "holds",
      why: "async code is 25× faster",
      data: {},
    }],
  };
}

Deno.test("renderClaimsMarkdown() and renderClaimsTerminal() show each claim's figures and verdict", () => {
  const report = claimsReport();
  const md = renderClaimsMarkdown(report);
  assert(
    flat(md).includes(
      "Run on 2025-01-02 with `deno task bench:claims --quick` (quick: smaller workloads): 3 runs",
    ),
  );
  assert(
    flat(md).includes(
      "2 cores (Test CPU), linux x86_64, Deno 2.9.6 (V8 15), 1-min load 0.50 before → 1.50 after",
    ),
  );
  assert(
    flat(md).includes(
      "| 002 | async beats processes for I/O | async 21 ms | ✔ holds |",
    ),
  );
  assert(flat(md).includes("**Verdict: holds**: async code is 25× faster."));
  assert(md.endsWith("\n"));
  const text = renderClaimsTerminal(report);
  assert(text.includes("verdict: ✔ holds: async code is 25× faster"));
});

function compareReport(): CompareReport {
  const config = configFor(2, false, 3, kWorkloads.map((w) => w.id));
  return {
    command: "deno task bench:compare",
    quick: false,
    environment,
    config,
    systems: [
      {
        system: "deno",
        status: "ok",
        runtime: "Deno 2.9.6",
        results: {
          start_join: { samples: [40, 50, 45] },
          cpu_efficiency: { samples: [90, 80, 85] },
        },
        errors: { queue_throughput: "Error: boom" },
      },
      {
        system: "python-spawn",
        status: "ok",
        runtime: "CPython 3.11.7",
        results: {
          start_join: { samples: [90, 90, 90] },
          cpu_efficiency: { samples: [85, 85, 85] },
          queue_throughput: { samples: [700, 700, 700] },
        },
        errors: {},
      },
      {
        system: "python-fork",
        status: "skipped",
        notice: "python3 is not installed",
        results: {},
        errors: {},
      },
      {
        system: "piscina",
        status: "ok",
        runtime: "piscina 5.3.2",
        results: {
          start_join: {
            samples: [45, 45, 45],
            equivalent: true,
            note: "bare worker_threads",
          },
        },
        errors: {},
      },
    ],
  };
}

Deno.test("ratioOf() is peer ÷ ours when lower is better and ours ÷ peer when higher is better", () => {
  assertEquals(ratioOf(45, 90, "lower"), 2);
  assertEquals(ratioOf(85, 85 / 2, "higher"), 2);
  assertThrows(
    () => ratioOf(0, 1, "lower"),
    RangeError,
    "'ours' must be a finite number > 0: current value is 0",
  );
  assertThrows(() => ratioOf(1, NaN, "lower"), RangeError, "'peer'");
});

Deno.test("compareTable() shows medians, marks equivalents and errors, skips absent systems, and gives ratios per peer", () => {
  const t = compareTable(compareReport());
  assertEquals(t.headers, [
    "workload",
    "@dmp/multiprocessing",
    "CPython spawn",
    "CPython fork",
    "piscina",
    "ours vs CPython spawn",
    "ours vs CPython fork",
    "ours vs piscina",
  ]);
  const row = (id: string) => t.rows[kWorkloads.findIndex((w) => w.id === id)];
  assertEquals(row("start_join"), [
    "start+join of 2 processes (cpuCount)",
    "45.0 ms",
    "90.0 ms",
    "skipped",
    "45.0 ms *",
    "2.00× faster",
    "n/a",
    "about the same",
  ]);
  assertEquals(row("cpu_efficiency").slice(1, 3), ["85 %", "85 %"]);
  assertMatch(row("cpu_efficiency")[0], /\(higher is better\)$/);
  assertEquals(row("queue_throughput").slice(1, 3), ["error", "700 ms"]);
  assertEquals(row("queue_throughput")[5], "n/a");
  assertEquals(row("map_tiny")[1], "—");
});

Deno.test("renderCompareMarkdown() carries the table, the runtimes, notices, notes and errors", () => {
  const md = renderCompareMarkdown(compareReport(), "compare.svg");
  assert(flat(md).includes("Run on 2025-01-02 with `deno task bench:compare`"));
  assert(flat(md).includes("- CPython fork: (not run) (skipped)"));
  assert(flat(md).includes("- CPython fork: python3 is not installed"));
  assert(flat(md).includes("- start_join, piscina: bare worker_threads"));
  assert(
    flat(md).includes(
      "- queue_throughput, @dmp/multiprocessing: error: Error: boom",
    ),
  );
  assert(flat(md).includes("![bar chart of the table](compare.svg)"));
  assert(
    flat(md).includes(
      "| start+join of 2 processes (cpuCount) | 45.0 ms | 90.0 ms | skipped | 45.0 ms * | 2.00× faster | n/a | about the same |",
    ),
  );
});

Deno.test("compareChart() has one group per workload and one bar per system, null where there is no figure", () => {
  const chart = compareChart(compareReport());
  assertEquals(chart.series, [
    "@dmp/multiprocessing",
    "CPython spawn",
    "CPython fork",
    "piscina",
  ]);
  assertEquals(chart.groups.length, kWorkloads.length);
  assertEquals(chart.groups[0].bars.map((b) => b.value), [45, 90, null, 45]);
  assertEquals(chart.groups[0].bars[3].text, "45.0 ms *");
  assert(renderCompareSvg(compareReport()).includes("n/a  CPython fork"));
});

Deno.test("loadTable() and the markdown report put ours against bare workers at every load level", () => {
  const base = compareReport();
  const run = (
    system: "deno" | "bare",
    load: number,
    ms: number,
  ): SystemRun => ({
    system,
    status: "ok" as const,
    load,
    results: { start_join: { samples: [ms, ms, ms] } },
    errors: system === "bare"
      ? {} as Record<string, string>
      : { map_tiny: "unknown workload" },
  });
  const report: CompareReport = {
    ...base,
    loads: [0, 1],
    systems: [
      run("deno", 0, 40),
      run("bare", 0, 80),
      run("deno", 1, 90),
      run("bare", 1, 45),
    ],
  };
  const t = loadTable(report)!;
  assertEquals(t.headers.slice(1), [
    "idle: ours",
    "idle: bare",
    "idle: ours vs bare",
    "load 1: ours",
    "load 1: bare",
    "load 1: ours vs bare",
  ]);
  const row = (id: string) => t.rows[kWorkloads.findIndex((w) => w.id === id)];
  assertEquals(row("start_join").slice(1), [
    "40.0 ms",
    "80.0 ms",
    "2.00× faster",
    "90.0 ms",
    "45.0 ms",
    "2.00× slower",
  ]);
  // A workload a program has no equivalent for is blank, not an error.
  assertEquals(row("map_tiny").slice(1, 3), ["—", "—"]);
  assertEquals(compareTable(report, 1).rows[0].slice(1), [
    "90.0 ms",
    "45.0 ms",
    "2.00× slower",
  ]);
  const md = renderCompareMarkdown(report);
  assert(flat(md).includes("## All systems, 1 CPU-bound process beside"));
  assert(flat(md).includes("## Ours against bare Web Workers"));
  assert(!flat(md).includes("unknown workload"));
  assertEquals(loadTable(base), null);
  assertEquals(
    compareChart(report).series,
    [
      "@dmp/multiprocessing, idle",
      "bare Web Workers, idle",
      "@dmp/multiprocessing, load 1",
      "bare Web Workers, load 1",
    ],
  );
});

Deno.test("poolRounds() pools each system's samples at each load over the rounds, and the report says how many ran", () => {
  const run = (
    system: "deno" | "bare",
    load: number,
    samples: number[],
    extra: Partial<SystemRun> = {},
  ): SystemRun => ({
    system,
    status: "ok",
    load,
    results: { start_join: { samples, note: `${system} note` } },
    errors: {},
    ...extra,
  });
  const pooled = poolRounds([
    run("deno", 0, [1, 2]),
    run("bare", 0, [10, 20], { runtime: "Deno" }),
    run("deno", 0, [3], { errors: { map_tiny: "x" }, notice: "n" }),
    run("bare", 0, [30]),
    run("deno", 1, [5]),
    run("bare", 1, [50], { status: "failed", results: {} }),
  ]);
  assertEquals(pooled.map((r) => [r.system, r.load]), [
    ["deno", 0],
    ["bare", 0],
    ["deno", 1],
    ["bare", 1],
  ]);
  assertEquals(pooled[0].results.start_join, {
    samples: [1, 2, 3],
    note: "deno note",
  });
  assertEquals(pooled[0].errors, { map_tiny: "x" });
  assertEquals(pooled[0].notice, "n");
  assertEquals(pooled[1].results.start_join.samples, [10, 20, 30]);
  assertEquals(pooled[1].runtime, "Deno");
  assertEquals(pooled[3].status, "failed");
  const base = compareReport();
  assert(
    renderCompareTerminal({ ...base, rounds: 3 }).startsWith(
      `bench:compare: 3 rounds, the systems alternating, of ${base.config.repeat} runs of each workload`,
    ),
  );
  assert(
    renderCompareTerminal(base).startsWith(
      `bench:compare: ${base.config.repeat} runs of each workload`,
    ),
  );
});

Deno.test("parseBenchArgs() reads --rounds as an integer from 1 to 100, only where the tool accepts it", () => {
  const withRounds = { ...spec, rounds: true };
  assertEquals(parseBenchArgs([], withRounds).rounds, 1);
  assertEquals(parseBenchArgs(["--rounds", "4"], withRounds).rounds, 4);
  for (const bad of ["0", "101", "x", "", "1.5", "-2"]) {
    assertThrows(
      () => parseBenchArgs([`--rounds=${bad}`], withRounds),
      RangeError,
      `'--rounds' must be an integer from 1 to 100: current value is '${bad}'`,
    );
  }
  assertThrows(() => parseBenchArgs(["--rounds", "2"], spec), TypeError);
});

Deno.test("startLoad() resolves once its processes spin, and stopLoad() leaves none running", async () => {
  const children = await startLoad(2);
  assertEquals(children.length, 2);
  await stopLoad(children);
  for (const child of children) {
    const status = await child.status;
    assertEquals(status.success, false); // killed, never ended by itself
    assertEquals(status.signal, "SIGKILL");
  }
  assertEquals(await startLoad(0), []);
});

Deno.test("parseSystemOutput() reads the last result line and rejects output without one", () => {
  const out =
    'noise\n{"not":"a result"}\n{"runtime":"r","results":{"a":{"samples":[1,2,3]}},"errors":{"b":"x"}}\n';
  const run = parseSystemOutput("deno", out);
  assertEquals(run.status, "ok");
  assertEquals(run.runtime, "r");
  assertEquals(run.results.a.samples, [1, 2, 3]);
  assertEquals(run.errors, { b: "x" });
  assertThrows(
    () => parseSystemOutput("piscina", "Traceback…\n"),
    SyntaxError,
    "must end with a result JSON line",
  );
  assertThrows(
    () => parseSystemOutput("deno", '{"results":{"a":{"samples":[]}}}'),
    SyntaxError,
    "result 'a' must hold finite samples",
  );
});

Deno.test("configFor() uses the issue's sizes by default and smaller ones for --quick", () => {
  const full = configFor(4, false, 5, ["map_tiny"]);
  assertEquals(
    [
      full.mapItems,
      full.asyncTasks,
      full.applyTrips,
      full.queueMessages,
      full.incrementsPerProcess,
      full.frameBytes,
    ],
    [200_000, 5_000, 2_000, 100_000, 20_000, 3840 * 2160 * 4],
  );
  assertEquals(full.fibTasksPerCpu * full.cpus, 16);
  const quick = configFor(4, true, 3, ["map_tiny"]);
  assert(
    quick.mapItems < full.mapItems && quick.queueMessages < full.queueMessages,
  );
});

Deno.test("wrapProse() fills lines up to the width, keeps code spans whole and indents list items", () => {
  assertEquals(wrapProse("a b c", "", 3), "a b\nc");
  assertEquals(wrapProse("one `a b c d` two", "", 8), "one\n`a b c d`\ntwo");
  assertEquals(
    wrapProse("alpha beta gamma", "- ", 10),
    "- alpha\n  beta\n  gamma",
  );
  assertEquals(wrapProse("  spaced\n  out  "), "spaced out");
  assertEquals(wrapProse("µ×→ abc", "", 7), "µ×→ abc"); // one column per code point
});

Deno.test("the markdown reports are left unchanged by deno fmt", async () => {
  const long = "a workload description long enough to wrap: ".repeat(4);
  const claims = claimsReport();
  const files = {
    "table.md": renderMarkdownTable({
      headers: ["doc", "verdict", "n"],
      rows: [["002", "✔ holds: 1.8× on 2 → 91 %", "1"], [
        "004 / 003",
        "? inconclusive",
        "12.3 µs",
      ]],
      align: ["left", "left", "right"],
    }) + "\n",
    "claims.md": renderClaimsMarkdown({
      ...claims,
      command:
        "deno task bench:claims --quick --only speedup,frame,startup,oversubscription",
      claims: claims.claims.map((c) => ({ ...c, workload: long, why: long })),
    }),
    "compare.md": renderCompareMarkdown(compareReport(), "compare.svg"),
  };
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const { code, stderr } = await runDeno(["fmt", "--check", dir]);
    assertEquals(code, 0, stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
