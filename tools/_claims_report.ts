// The report of tools/bench_claims.ts: one entry per claim of the
// documents, rendered for a terminal and as markdown (pure functions; the
// JSON form is the report object itself).

import { describeEnvironment, type Environment } from "./_bench_env.ts";
import {
  renderMarkdownTable,
  renderTerminalTable,
  type Table,
  wrapProse,
} from "./_bench_format.ts";
import type { Verdict } from "./_claims_verdicts.ts";

/** One claim, measured. */
export interface ClaimResult {
  /** Short id, as `--only` takes it. */
  readonly id: string;
  /** The documents making the claim, e.g. "002" or "004 / 003". */
  readonly docs: string;
  /** The claim, quoted or closely paraphrased. */
  readonly claim: string;
  /** What was run to test it. */
  readonly workload: string;
  /** The measured figures (medians). */
  readonly table: Table;
  /** The decisive figure in a few words, for the overview. */
  readonly summary: string;
  readonly verdict: Verdict;
  readonly why: string;
  /** Raw numbers, for `--json`. */
  readonly data: unknown;
}

/** A whole run of the claims tool. */
export interface ClaimsReport {
  readonly command: string;
  readonly repeat: number;
  readonly quick: boolean;
  readonly environment: Environment;
  readonly claims: readonly ClaimResult[];
}

const kMark: Record<Verdict, string> = {
  "holds": "✔ holds",
  "does not hold here": "✘ does not hold here",
  "inconclusive": "? inconclusive",
};

function overview(report: ClaimsReport): Table {
  return {
    headers: ["doc", "claim", "measured here", "verdict"],
    rows: report.claims.map((
      c,
    ) => [c.docs, c.claim, c.summary, kMark[c.verdict]]),
  };
}

/**
 * The report for a terminal: the overview table, then each claim's figures.
 *
 * @param report The run.
 * @returns Text without a trailing newline.
 */
export function renderClaimsTerminal(report: ClaimsReport): string {
  const parts = [
    `Claims of the documents, measured (${report.repeat} runs each, medians)`,
    describeEnvironment(report.environment),
    "",
    renderTerminalTable(overview(report)),
  ];
  for (const c of report.claims) {
    parts.push(
      "",
      `[${c.id}] ${c.docs}: ${c.claim}`,
      `workload: ${c.workload}`,
      renderTerminalTable(c.table),
      `verdict: ${kMark[c.verdict]}: ${c.why}`,
    );
  }
  return parts.join("\n");
}

/**
 * The report as a markdown document.
 *
 * @param report The run.
 * @returns Markdown with a trailing newline.
 */
export function renderClaimsMarkdown(report: ClaimsReport): string {
  const env = report.environment;
  const parts = [
    "# The documents' performance claims, measured",
    "",
    wrapProse(
      `Run on ${env.date.slice(0, 10)} with \`${report.command}\`${
        report.quick ? " (quick: smaller workloads)" : ""
      }: ${report.repeat} runs of each workload after a warm-up, medians shown.`,
    ),
    "",
    wrapProse(`Machine: ${describeEnvironment(env)}.`),
    "",
    wrapProse(
      "A worker here is a Web Worker (a thread with its own isolate), not an OS " +
        "process; the documents speak of CPython processes. Verdicts follow fixed " +
        "thresholds (tools/_claims_verdicts.ts); a negative verdict taken while the " +
        "machine was busy (load ≥ half its cores) is reported as inconclusive.",
    ),
    "",
    renderMarkdownTable(overview(report)),
  ];
  for (const c of report.claims) {
    parts.push(
      "",
      `## ${c.docs}: ${c.claim}`,
      "",
      wrapProse(`Workload: ${c.workload}`),
      "",
      renderMarkdownTable(c.table),
      "",
      wrapProse(`**Verdict: ${c.verdict}**: ${c.why}.`),
    );
  }
  return parts.join("\n") + "\n";
}
