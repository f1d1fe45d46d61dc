// Pure helpers of the benchmark tools (tools/bench_claims.ts,
// tools/bench_compare.ts): statistics over repeated samples, number
// formatting, and tables for a terminal and for markdown.

/** The median, minimum and maximum of a set of samples. */
export interface Summary {
  /** The middle sample (the mean of the two middle ones for an even count). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many samples there were. */
  readonly count: number;
}

function checkSamples(samples: readonly number[], what: string): void {
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new RangeError(
      `Cannot ${what} as 'samples' must be a non-empty array: current value is ${
        Array.isArray(samples) ? "[]" : String(samples)
      }`,
    );
  }
  for (const sample of samples) {
    if (typeof sample !== "number" || !Number.isFinite(sample)) {
      throw new TypeError(
        `Cannot ${what} as 'samples' must hold finite numbers: current value is ${
          String(sample)
        }`,
      );
    }
  }
}

/**
 * The median of `samples`: the figure the reports print, because one sample
 * slowed down by another program on a shared machine moves it least.
 *
 * @param samples Finite numbers, at least one.
 * @returns The middle value (mean of the two middle values for an even count).
 * @throws {RangeError} When `samples` is empty.
 * @throws {TypeError} When a sample is not a finite number.
 */
export function median(samples: readonly number[]): number {
  checkSamples(samples, "compute median");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Median, minimum and maximum of `samples`.
 *
 * @param samples Finite numbers, at least one.
 * @returns The summary.
 * @throws {RangeError} When `samples` is empty.
 * @throws {TypeError} When a sample is not a finite number.
 */
export function summarize(samples: readonly number[]): Summary {
  checkSamples(samples, "summarize samples");
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    count: samples.length,
  };
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

/** Three significant figures at most, no exponent. */
function sig3(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return fixed(value, 0);
  if (abs >= 10) return fixed(value, 1);
  return fixed(value, 2);
}

/**
 * A duration in milliseconds, in the unit that reads best: "850 µs",
 * "12.3 ms", "1.24 s".
 *
 * @param ms Milliseconds (finite, ≥ 0).
 * @returns The formatted duration.
 * @throws {RangeError} When `ms` is negative or not finite.
 */
export function formatMs(ms: number): string {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(
      `Cannot format duration as 'ms' must be a finite number ≥ 0: current value is ${ms}`,
    );
  }
  if (ms === 0) return "0 ms";
  if (ms < 1) return `${sig3(ms * 1000)} µs`;
  if (ms < 1000) return `${sig3(ms)} ms`;
  return `${sig3(ms / 1000)} s`;
}

/**
 * A rate per second: "950 items/s", "12.3 k items/s", "1.20 M/s".
 *
 * @param perSecond Events per second (finite, ≥ 0).
 * @param unit What is counted, e.g. "items" (none by default).
 * @returns The formatted rate.
 */
export function formatRate(perSecond: number, unit = ""): string {
  const per = unit === "" ? "/s" : `${unit}/s`;
  if (perSecond >= 1e6) {
    return `${sig3(perSecond / 1e6)} M${unit ? " " : ""}${per}`;
  }
  if (perSecond >= 1e3) {
    return `${sig3(perSecond / 1e3)} k${unit ? " " : ""}${per}`;
  }
  return `${sig3(perSecond)} ${per}`;
}

/**
 * A ratio "how many times better ours is" as words: "2.3× faster",
 * "1.5× slower", "about the same" (within 5 %).
 *
 * @param ratio Ours compared with a peer: > 1 means ours is better.
 * @param better The word for "better" ("faster", "higher").
 * @param worse The word for "worse" ("slower", "lower").
 * @returns The phrase.
 */
export function formatRatio(
  ratio: number,
  better = "faster",
  worse = "slower",
): string {
  if (!Number.isFinite(ratio) || ratio <= 0) return "n/a";
  if (ratio >= 0.95 && ratio <= 1 / 0.95) return "about the same";
  return ratio > 1
    ? `${sig3(ratio)}× ${better}`
    : `${sig3(1 / ratio)}× ${worse}`;
}

/** Column alignment of a {@linkcode Table}. */
export type Align = "left" | "right";

/** A table: a header row and body rows of text cells. */
export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Per column; left when absent. */
  readonly align?: readonly Align[];
}

function checkTable(table: Table): void {
  const width = table.headers.length;
  if (width === 0) {
    throw new RangeError(
      "Cannot render table as 'headers' must not be empty: current value is []",
    );
  }
  table.rows.forEach((row, i) => {
    if (row.length !== width) {
      throw new RangeError(
        `Cannot render table as row ${i} must have ${width} cells: current value has ${row.length}`,
      );
    }
  });
}

/** Display width: code points, so "µ" and "×" count as one column. */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, to: number, align: Align): string {
  const fill = " ".repeat(Math.max(0, to - width(text)));
  return align === "right" ? fill + text : text + fill;
}

/**
 * A table for a terminal: columns padded to their widest cell, a rule under
 * the header.
 *
 * @param table The table.
 * @returns The lines joined by "\n" (no trailing newline).
 * @throws {RangeError} When a row's length differs from the header's.
 */
export function renderTerminalTable(table: Table): string {
  checkTable(table);
  const cells = [table.headers, ...table.rows].map((row) =>
    row.map((cell) => cell.replaceAll("\n", " "))
  );
  const widths = table.headers.map((_, c) =>
    Math.max(...cells.map((row) => width(row[c])))
  );
  const align = (c: number): Align => table.align?.[c] ?? "left";
  const line = (row: readonly string[]) =>
    row.map((cell, c) => pad(cell, widths[c], align(c))).join("  ").trimEnd();
  return [
    line(cells[0]),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ].join("\n");
}

function escapeMarkdown(cell: string): string {
  return cell.replaceAll("|", "\\|").replaceAll("\n", "<br>");
}

/**
 * A GitHub-flavoured markdown table, padded as `deno fmt` pads one (so a
 * copy into a formatted file stays unchanged); "|" in cells is escaped and
 * newlines become `<br>`.
 *
 * @param table The table.
 * @returns The lines joined by "\n" (no trailing newline).
 * @throws {RangeError} When a row's length differs from the header's.
 */
export function renderMarkdownTable(table: Table): string {
  checkTable(table);
  const cells = [table.headers, ...table.rows].map((row) =>
    row.map(escapeMarkdown)
  );
  const widths = table.headers.map((_, c) =>
    Math.max(3, ...cells.map((row) => width(row[c])))
  );
  const align = (c: number): Align => table.align?.[c] ?? "left";
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, c) => pad(cell, widths[c], align(c))).join(" | ")} |`;
  const rule = widths.map((w, c) =>
    align(c) === "right" ? "-".repeat(w - 1) + ":" : "-".repeat(w)
  );
  return [
    line(cells[0]),
    `| ${rule.join(" | ")} |`,
    ...cells.slice(1).map(line),
  ]
    .join("\n");
}

/** Splits prose into words, keeping each `code span` whole. */
function words(text: string): string[] {
  return text.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
}

/**
 * Wraps a markdown paragraph to `width` columns greedily, as `deno fmt`
 * does (its default prose wrap): code spans never break, and `prefix`
 * (e.g. "- " for a list item) opens the first line while continuation
 * lines are indented to match it.
 *
 * @param text One paragraph (newlines count as spaces).
 * @param prefix Text before the first word, e.g. "- ".
 * @param width The column limit.
 * @returns The wrapped lines joined by "\n".
 */
export function wrapProse(text: string, prefix = "", width = 80): string {
  const indent = " ".repeat(width > 0 ? [...prefix].length : 0);
  const lines: string[] = [];
  let line = "";
  for (const word of words(text)) {
    if (line === "") line = prefix + word;
    else if ([...line].length + 1 + [...word].length <= width) {
      line += ` ${word}`;
    } else {
      lines.push(line);
      line = indent + word;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}
