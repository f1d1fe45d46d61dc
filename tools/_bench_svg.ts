// A horizontal grouped bar chart as a standalone SVG document, written by
// hand (no dependency). Each group (one workload) is scaled to its own
// largest bar, because the workloads' figures differ by orders of
// magnitude: compare bars within a group, read the printed figure across
// groups.
//
//   Workload label (unit, lower is better)
//   ███████████████ 12.3 ms  series A
//   ██████████████████████████████ 24.0 ms  series B
//   n/a  series C

/** One bar: a series' figure in one group; `value: null` draws "n/a". */
export interface Bar {
  readonly series: string;
  readonly value: number | null;
  /** The figure as printed beside the bar, e.g. "12.3 ms". */
  readonly text: string;
}

/** One group of bars (one workload). */
export interface BarGroup {
  readonly label: string;
  /** A second line under the label, e.g. "ms, lower is better". */
  readonly note?: string;
  readonly bars: readonly Bar[];
}

/** What {@linkcode renderBarChart} draws. */
export interface BarChart {
  readonly title: string;
  readonly subtitle?: string;
  /** Series in legend order; each gets a colour. */
  readonly series: readonly string[];
  readonly groups: readonly BarGroup[];
}

const kPalette = ["#2f6fd0", "#e07b24", "#3c9d4e", "#b04a9c", "#8a8a8a"];
const kWidth = 900;
const kLabelX = 16;
const kBarX = 16;
const kBarMax = 560;
const kBarHeight = 16;
const kBarGap = 4;
const kGroupGap = 18;

/**
 * Escapes text for an SVG text node or attribute value.
 *
 * @param text Any text.
 * @returns The text with &, <, >, " and ' escaped.
 */
export function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;").replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/**
 * Renders `chart` as an SVG document.
 *
 * @param chart Title, series and groups.
 * @returns The SVG text (UTF-8, with a trailing newline).
 * @throws {RangeError} When a bar names a series not in `chart.series`, or
 * a value is negative or not finite.
 */
export function renderBarChart(chart: BarChart): string {
  const colour = new Map(
    chart.series.map((s, i) => [s, kPalette[i % kPalette.length]]),
  );
  const body: string[] = [];
  let y = 24;
  body.push(
    `<text x="${kLabelX}" y="${y}" font-size="18" font-weight="bold">${
      escapeXml(chart.title)
    }</text>`,
  );
  if (chart.subtitle) {
    y += 20;
    body.push(
      `<text x="${kLabelX}" y="${y}" font-size="12" fill="#555">${
        escapeXml(chart.subtitle)
      }</text>`,
    );
  }
  // Legend, one swatch per series.
  y += 24;
  let x = kLabelX;
  for (const series of chart.series) {
    body.push(
      `<rect x="${x}" y="${y - 11}" width="12" height="12" fill="${
        colour.get(series)
      }"/>`,
      `<text x="${x + 16}" y="${y}" font-size="12">${escapeXml(series)}</text>`,
    );
    x += 24 + series.length * 7;
  }
  y += 12;
  for (const group of chart.groups) {
    for (const bar of group.bars) {
      if (!colour.has(bar.series)) {
        throw new RangeError(
          `Cannot render chart as bar series must be one of chart.series: current value is '${bar.series}'`,
        );
      }
      if (
        bar.value !== null && (!Number.isFinite(bar.value) || bar.value < 0)
      ) {
        throw new RangeError(
          `Cannot render chart as a bar value must be a finite number ≥ 0 or null: current value is ${bar.value}`,
        );
      }
    }
    y += kGroupGap;
    body.push(
      `<text x="${kLabelX}" y="${y}" font-size="13" font-weight="bold">${
        escapeXml(group.label)
      }</text>`,
    );
    if (group.note) {
      y += 15;
      body.push(
        `<text x="${kLabelX}" y="${y}" font-size="11" fill="#555">${
          escapeXml(group.note)
        }</text>`,
      );
    }
    y += 6;
    const top = Math.max(
      0,
      ...group.bars.map((b) => b.value ?? 0),
    );
    for (const bar of group.bars) {
      const length = bar.value === null || top === 0
        ? 0
        : Math.max(1, Math.round((bar.value / top) * kBarMax));
      body.push(
        `<rect x="${kBarX}" y="${y}" width="${length}" height="${kBarHeight}" fill="${
          colour.get(bar.series)
        }"><title>${escapeXml(`${bar.series}: ${bar.text}`)}</title></rect>`,
        `<text x="${kBarX + length + 6}" y="${y + 12}" font-size="12">${
          escapeXml(`${bar.value === null ? "n/a" : bar.text}  ${bar.series}`)
        }</text>`,
      );
      y += kBarHeight + kBarGap;
    }
  }
  y += 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${kWidth}" height="${y}" viewBox="0 0 ${kWidth} ${y}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
