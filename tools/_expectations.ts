// The expected-output format of the examples (`examples/<doc>/<name>.out`)
// and the matcher that checks a run against it.
//
//   # comment                 ignored, like blank lines
//   @flags --allow-read       `deno run` flags of the example (repeatable)
//   @exit 0                   expected exit code (default 0)
//   @timeout 60               seconds before the run is killed (default 60)
//   [ordered]                 following stdout lines come in this order (default)
//   [unordered]               following stdout lines come in any order, together
//   [stderr]                  following lines appear in stderr in this order,
//                             other stderr lines may come between them
//   literal line              a whole line, exactly (trailing whitespace ignored)
//   ~regex                    a whole line matching the JS regular expression
//   \literal                  a literal line that starts with #, @, [, ~ or \
//
// Every stdout line must be accounted for (trailing blank lines excepted).
// Without a [stderr] section stderr must be empty, so a child that fails
// quietly beside a correct stdout is still caught.
//
// Matching stdout, block by block:
//
//   stdout:   l0 l1 l2 l3 l4 l5 l6
//             |--|  |------|  |--|
//   blocks:  [ordered] [unordered: 3 lines] [ordered]
//
// An unordered block of k patterns takes exactly the next k lines and needs a
// one-to-one pairing of patterns and lines (bipartite matching, since two
// regular expressions may both match one line).

/** A line pattern: a literal line or a whole-line regular expression. */
export interface LinePattern {
  /** The text after the `~` for a regex, else the literal line. */
  readonly source: string;
  /** Whether `source` is a regular expression. */
  readonly regex: boolean;
  /** The 1-based line in the .out file, for reports. */
  readonly line: number;
  /** Whether `text` (trailing whitespace removed) is matched. */
  test(text: string): boolean;
}

/** A run of stdout patterns in one mode. */
export interface Block {
  readonly mode: "ordered" | "unordered";
  readonly patterns: LinePattern[];
}

/** A parsed .out file. */
export interface Expectation {
  /** `deno run` flags. */
  readonly flags: string[];
  /** The expected exit code. */
  readonly exitCode: number;
  /** Seconds before the run is killed. */
  readonly timeoutSeconds: number;
  /** stdout blocks, in order. */
  readonly stdout: Block[];
  /** stderr patterns, in order; `undefined` when there is no [stderr] section. */
  readonly stderr: LinePattern[] | undefined;
}

/** The default `@timeout`, in seconds. */
export const kDefaultTimeoutSeconds = 60;

/** A .out file that does not follow the format. */
export class ExpectationSyntaxError extends Error {
  /**
   * @param file The .out file's name, for the message.
   * @param line The 1-based line.
   * @param message What is wrong.
   */
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "ExpectationSyntaxError";
  }
}

function trimEnd(text: string): string {
  return text.replace(/\s+$/u, "");
}

function pattern(text: string, line: number, file: string): LinePattern {
  if (text.startsWith("~")) {
    const source = text.slice(1);
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${source})$`, "u");
    } catch (error) {
      throw new ExpectationSyntaxError(
        file,
        line,
        `invalid regular expression: ${(error as Error).message}`,
      );
    }
    return { source, regex: true, line, test: (t) => re.test(trimEnd(t)) };
  }
  const source = trimEnd(text.startsWith("\\") ? text.slice(1) : text);
  return { source, regex: false, line, test: (t) => trimEnd(t) === source };
}

/**
 * Parses the text of a .out file.
 *
 * @param text The file's content.
 * @param file Its name, used in error messages.
 * @returns The expectation.
 * @throws {ExpectationSyntaxError} For an unknown directive or marker, a bad
 * value, or an invalid regular expression.
 */
export function parseExpectation(text: string, file = "<out>"): Expectation {
  const flags: string[] = [];
  let exitCode: number | undefined;
  let timeoutSeconds: number | undefined;
  const stdout: Block[] = [];
  let stderr: LinePattern[] | undefined;
  let current: LinePattern[] = [];
  let inStderr = false;
  const open = (mode: Block["mode"]) => {
    inStderr = false;
    current = [];
    stdout.push({ mode, patterns: current });
  };
  open("ordered");
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const n = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (raw.startsWith("@")) {
      const [directive, ...values] = trimmed.split(/\s+/);
      switch (directive) {
        case "@flags":
          for (const flag of values) {
            if (!flag.startsWith("-")) {
              throw new ExpectationSyntaxError(
                file,
                n,
                `@flags takes deno run flags (starting with '-'): got '${flag}'`,
              );
            }
            flags.push(flag);
          }
          break;
        case "@exit": {
          if (exitCode !== undefined) {
            throw new ExpectationSyntaxError(file, n, "@exit given twice");
          }
          const value = values.length === 1 ? Number(values[0]) : NaN;
          if (!Number.isInteger(value) || value < 0 || value > 255) {
            throw new ExpectationSyntaxError(
              file,
              n,
              `@exit takes one integer from 0 to 255: got '${
                values.join(" ")
              }'`,
            );
          }
          exitCode = value;
          break;
        }
        case "@timeout": {
          if (timeoutSeconds !== undefined) {
            throw new ExpectationSyntaxError(file, n, "@timeout given twice");
          }
          const value = values.length === 1 ? Number(values[0]) : NaN;
          if (!(value > 0) || !Number.isFinite(value)) {
            throw new ExpectationSyntaxError(
              file,
              n,
              `@timeout takes one positive number of seconds: got '${
                values.join(" ")
              }'`,
            );
          }
          timeoutSeconds = value;
          break;
        }
        default:
          throw new ExpectationSyntaxError(
            file,
            n,
            `unknown directive '${directive}' (expected @flags, @exit or @timeout)`,
          );
      }
      continue;
    }
    if (raw.startsWith("[")) {
      switch (trimmed) {
        case "[ordered]":
          open("ordered");
          break;
        case "[unordered]":
          open("unordered");
          break;
        case "[stderr]":
          inStderr = true;
          stderr ??= [];
          break;
        default:
          throw new ExpectationSyntaxError(
            file,
            n,
            `unknown marker '${trimmed}' (expected [ordered], [unordered] or [stderr]; write \\[ for a literal line)`,
          );
      }
      continue;
    }
    const p = pattern(raw, n, file);
    if (inStderr) stderr!.push(p);
    else current.push(p);
  }
  return {
    flags,
    exitCode: exitCode ?? 0,
    timeoutSeconds: timeoutSeconds ?? kDefaultTimeoutSeconds,
    stdout: stdout.filter((b) => b.patterns.length > 0),
    stderr,
  };
}

/** Splits program output into lines without trailing blank lines. */
export function outputLines(text: string): string[] {
  const lines = text.split(/\r?\n/).map(trimEnd);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** One line of a diff-like report. */
export interface ReportLine {
  /** `" "` matched, `"-"` expected but missing, `"+"` printed but unexpected. */
  readonly kind: " " | "-" | "+";
  /** The stdout/stderr line, or the pattern (a regex shown as `~source`). */
  readonly text: string;
}

/** The result of checking one run. */
export interface MatchResult {
  /** Whether everything matched. */
  readonly ok: boolean;
  /** One sentence per problem found. */
  readonly problems: string[];
  /** Diff-like listing of stdout against the expected blocks. */
  readonly stdoutReport: ReportLine[];
  /** Diff-like listing of stderr against the [stderr] patterns. */
  readonly stderrReport: ReportLine[];
}

function show(p: LinePattern): string {
  return p.regex ? `~${p.source}` : p.source;
}

// Kuhn's augmenting paths: pairs patterns with lines one-to-one. Returns the
// line index per pattern (-1 when unpaired). Blocks are small.
function pairUp(patterns: LinePattern[], lines: string[]): number[] {
  const lineOwner = new Array<number>(lines.length).fill(-1);
  const tryPattern = (p: number, seen: boolean[]): boolean => {
    for (let l = 0; l < lines.length; l++) {
      if (seen[l] || !patterns[p].test(lines[l])) continue;
      seen[l] = true;
      if (lineOwner[l] === -1 || tryPattern(lineOwner[l], seen)) {
        lineOwner[l] = p;
        return true;
      }
    }
    return false;
  };
  for (let p = 0; p < patterns.length; p++) {
    tryPattern(p, new Array<boolean>(lines.length).fill(false));
  }
  const linePerPattern = new Array<number>(patterns.length).fill(-1);
  lineOwner.forEach((p, l) => {
    if (p !== -1) linePerPattern[p] = l;
  });
  return linePerPattern;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

function matchStdout(
  blocks: Block[],
  lines: string[],
  problems: string[],
): ReportLine[] {
  const report: ReportLine[] = [];
  let pos = 0;
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b];
    if (block.mode === "ordered") {
      for (let k = 0; k < block.patterns.length; k++) {
        const p = block.patterns[k];
        if (pos < lines.length && p.test(lines[pos])) {
          report.push({ kind: " ", text: lines[pos++] });
          continue;
        }
        problems.push(
          pos < lines.length
            ? `stdout line ${pos + 1}: expected ${
              quote(show(p))
            } (.out line ${p.line}), got ${quote(lines[pos])}`
            : `stdout ended before ${quote(show(p))} (.out line ${p.line})`,
        );
        for (const rest of block.patterns.slice(k)) {
          report.push({ kind: "-", text: show(rest) });
        }
        return finish(report, blocks.slice(b + 1), lines.slice(pos));
      }
      continue;
    }
    const window = lines.slice(pos, pos + block.patterns.length);
    const paired = pairUp(block.patterns, window);
    const missing = block.patterns.filter((_, k) => paired[k] === -1);
    if (missing.length === 0) {
      for (const line of window) report.push({ kind: " ", text: line });
      pos += window.length;
      continue;
    }
    const used = new Set(paired);
    const first = missing[0];
    problems.push(
      `stdout lines ${pos + 1}-${pos + block.patterns.length}: no line for ${
        quote(show(first))
      } (.out line ${first.line}) in the [unordered] block` +
        (missing.length > 1 ? ` (and ${missing.length - 1} more)` : ""),
    );
    window.forEach((line, l) => {
      if (used.has(l)) report.push({ kind: " ", text: line });
    });
    for (const p of missing) report.push({ kind: "-", text: show(p) });
    const stray = window.filter((_, l) => !used.has(l));
    for (const line of stray) report.push({ kind: "+", text: line });
    return finish(
      report,
      blocks.slice(b + 1),
      lines.slice(pos + window.length),
    );
  }
  if (pos < lines.length) {
    problems.push(
      `stdout line ${pos + 1}: unexpected ${quote(lines[pos])}` +
        (lines.length - pos > 1
          ? ` (and ${lines.length - pos - 1} more lines)`
          : ""),
    );
    for (const line of lines.slice(pos)) report.push({ kind: "+", text: line });
  }
  return report;
}

// After the first mismatch: what was still expected, then what was printed.
function finish(
  report: ReportLine[],
  blocks: Block[],
  lines: string[],
): ReportLine[] {
  for (const block of blocks) {
    for (const p of block.patterns) report.push({ kind: "-", text: show(p) });
  }
  for (const line of lines) report.push({ kind: "+", text: line });
  return report;
}

function matchStderr(
  patterns: LinePattern[] | undefined,
  lines: string[],
  problems: string[],
): ReportLine[] {
  if (patterns === undefined) {
    if (lines.length > 0) {
      problems.push(
        `unexpected stderr output (add a [stderr] section if it is expected): ${
          quote(lines[0])
        }` + (lines.length > 1 ? ` (and ${lines.length - 1} more lines)` : ""),
      );
    }
    return lines.map((text) => ({ kind: "+", text }));
  }
  const report: ReportLine[] = [];
  let pos = 0;
  for (let k = 0; k < patterns.length; k++) {
    const p = patterns[k];
    let at = pos;
    while (at < lines.length && !p.test(lines[at])) at++;
    if (at === lines.length) {
      problems.push(
        `stderr: no line for ${quote(show(p))} (.out line ${p.line})` +
          (pos > 0 ? ` after stderr line ${pos}` : ""),
      );
      for (const rest of patterns.slice(k)) {
        report.push({ kind: "-", text: show(rest) });
      }
      break;
    }
    // Other stderr lines are allowed around the expected ones: show them as
    // context, not as errors.
    for (const line of lines.slice(pos, at + 1)) {
      report.push({ kind: " ", text: line });
    }
    pos = at + 1;
  }
  for (const line of lines.slice(pos)) report.push({ kind: " ", text: line });
  return report;
}

/**
 * Checks a finished run against an expectation.
 *
 * @param expectation The parsed .out file.
 * @param run The exit code (`null` for a killed run: not checked) and the
 * two output streams.
 * @returns Whether it matched, the problems, and diff-like reports.
 */
export function matchRun(
  expectation: Expectation,
  run: { exitCode: number | null; stdout: string; stderr: string },
): MatchResult {
  const problems: string[] = [];
  if (run.exitCode !== null && run.exitCode !== expectation.exitCode) {
    problems.push(
      `exit code ${run.exitCode}, expected ${expectation.exitCode}`,
    );
  }
  const stdoutReport = matchStdout(
    expectation.stdout,
    outputLines(run.stdout),
    problems,
  );
  const stderrReport = matchStderr(
    expectation.stderr,
    outputLines(run.stderr),
    problems,
  );
  return { ok: problems.length === 0, problems, stdoutReport, stderrReport };
}
