// Command-line options shared by tools/bench_claims.ts and
// tools/bench_compare.ts. Bad options are a clear error (std's grammar),
// never a silently ignored flag.

import { parseArgs } from "node:util";

/** What a benchmark tool accepts (see {@linkcode parseBenchArgs}). */
export interface BenchArgSpec {
  /** The tool's name, for messages. */
  readonly tool: string;
  /** The fewest repeats allowed. */
  readonly minRepeat: number;
  /** Repeats without `--repeat`, for `--quick` and the default (full) run. */
  readonly defaultRepeat: { readonly quick: number; readonly full: number };
  /** The ids `--only` may name. */
  readonly ids: readonly string[];
  /** The systems `--systems` may name; absent: no `--systems` option. */
  readonly systems?: readonly string[];
  /** Whether `--load N[,N…]` is accepted (CPU-bound processes beside). */
  readonly load?: boolean;
  /** Whether `--rounds N` is accepted (the systems' runs, alternated). */
  readonly rounds?: boolean;
  /** Output files by option name (e.g. `md`, `svg`) with their defaults. */
  readonly outputs: Readonly<Record<string, string>>;
}

/** Parsed options. */
export interface BenchArgs {
  readonly help: boolean;
  /** Print JSON to stdout instead of the terminal table. */
  readonly json: boolean;
  /** Smaller workloads and fewer repeats. */
  readonly quick: boolean;
  readonly repeat: number;
  /** Selected ids, in the spec's order. */
  readonly only: readonly string[];
  /** Selected systems, in the spec's order (empty without `systems`). */
  readonly systems: readonly string[];
  /** `--load` levels, in the given order ([0] without the option). */
  readonly loads: readonly number[];
  /** `--rounds`: how many times each system runs, alternating (1 without). */
  readonly rounds: number;
  /** Output paths by option name; "" means "do not write". */
  readonly outputs: Readonly<Record<string, string>>;
}

function list(
  value: string,
  allowed: readonly string[],
  option: string,
  tool: string,
): string[] {
  const names = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const name of names) {
    if (!allowed.includes(name)) {
      throw new RangeError(
        `Cannot run ${tool} as '--${option}' must be a comma-separated list of ${
          allowed.join(", ")
        }: current value is '${name}'`,
      );
    }
  }
  if (names.length === 0) {
    throw new RangeError(
      `Cannot run ${tool} as '--${option}' must name at least one of ${
        allowed.join(", ")
      }: current value is '${value}'`,
    );
  }
  return allowed.filter((name) => names.includes(name));
}

/**
 * Parses a benchmark tool's arguments: `--json`, `--quick` / `--full`,
 * `--repeat N`, `--only a,b`, `--systems a,b` (when the spec has systems),
 * `--load 0,1,2` and `--rounds N` (when the spec allows them),
 * one `--<output> PATH` per output file (`--no-<output>` skips writing it),
 * `--help`.
 *
 * @param args The command-line arguments (`Deno.args`).
 * @param spec What the tool accepts.
 * @returns The parsed options.
 * @throws {TypeError} For an unknown option, a positional argument, or an
 * option without its value.
 * @throws {RangeError} For a repeat count below the minimum, an unknown id
 * or system, a bad load level or round count, or `--quick` together with
 * `--full`.
 */
export function parseBenchArgs(
  args: readonly string[],
  spec: BenchArgSpec,
): BenchArgs {
  const options: Record<string, { type: "string" | "boolean" }> = {
    help: { type: "boolean" },
    json: { type: "boolean" },
    quick: { type: "boolean" },
    full: { type: "boolean" },
    repeat: { type: "string" },
    only: { type: "string" },
  };
  if (spec.systems) options.systems = { type: "string" };
  if (spec.load) options.load = { type: "string" };
  if (spec.rounds) options.rounds = { type: "string" };
  for (const name of Object.keys(spec.outputs)) {
    options[name] = { type: "string" };
    options[`no-${name}`] = { type: "boolean" };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new TypeError(
      `Cannot run ${spec.tool} as its arguments are invalid: ${
        (error as Error).message
      }`,
    );
  }
  if (values.quick && values.full) {
    throw new RangeError(
      `Cannot run ${spec.tool} as '--quick' and '--full' exclude each other: current value is both`,
    );
  }
  const quick = values.quick === true;
  let repeat = quick ? spec.defaultRepeat.quick : spec.defaultRepeat.full;
  if (values.repeat !== undefined) {
    const text = values.repeat as string;
    repeat = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(repeat) || repeat < spec.minRepeat) {
      throw new RangeError(
        `Cannot run ${spec.tool} as '--repeat' must be an integer ≥ ${spec.minRepeat}: current value is '${text}'`,
      );
    }
  }
  const only = values.only === undefined
    ? [...spec.ids]
    : list(values.only as string, spec.ids, "only", spec.tool);
  const systems = spec.systems === undefined
    ? []
    : values.systems === undefined
    ? [...spec.systems]
    : list(values.systems as string, spec.systems, "systems", spec.tool);
  const loads = values.load === undefined
    ? [0]
    : loadLevels(values.load as string, spec.tool);
  const rounds = values.rounds === undefined
    ? 1
    : roundCount(values.rounds as string, spec.tool);
  // A partial run (some workloads, or some systems) writes no report unless
  // told where: the default files hold the full run that the README quotes.
  const partial = only.length < spec.ids.length ||
    (spec.systems !== undefined && systems.length < spec.systems.length);
  const outputs: Record<string, string> = {};
  for (const [name, fallback] of Object.entries(spec.outputs)) {
    if (values[`no-${name}`] && values[name] !== undefined) {
      throw new RangeError(
        `Cannot run ${spec.tool} as '--${name}' and '--no-${name}' exclude each other: current value is both`,
      );
    }
    const path = values[`no-${name}`]
      ? ""
      : (values[name] as string | undefined) ?? (partial ? "" : fallback);
    if (values[name] === "") {
      throw new RangeError(
        `Cannot run ${spec.tool} as '--${name}' must be a file path: current value is ''`,
      );
    }
    outputs[name] = path;
  }
  return {
    help: values.help === true,
    json: values.json === true,
    quick,
    repeat,
    only,
    systems,
    loads,
    rounds,
    outputs,
  };
}

// `--load 0,1,2`: distinct integers from 0 to 64, in the given order.
function loadLevels(text: string, tool: string): number[] {
  const levels = text.split(",").map((s) => s.trim());
  const bad = levels.find((s) => !/^\d+$/.test(s) || Number(s) > 64);
  if (bad !== undefined || new Set(levels.map(Number)).size < levels.length) {
    throw new RangeError(
      `Cannot run ${tool} as '--load' must be distinct integers from 0 to 64, comma-separated: current value is '${text}'`,
    );
  }
  return levels.map(Number);
}

// `--rounds 3`: an integer from 1 to 100.
function roundCount(text: string, tool: string): number {
  const rounds = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(rounds >= 1 && rounds <= 100)) {
    throw new RangeError(
      `Cannot run ${tool} as '--rounds' must be an integer from 1 to 100: current value is '${text}'`,
    );
  }
  return rounds;
}
