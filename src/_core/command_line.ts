// Deno's own command line in this OS process: the flags the program was run
// with, apart from its arguments. Deno shows it only to a program run with
// --allow-all (and no --deny-* flag), through /proc/self/cmdline on Linux;
// anywhere else this knows nothing, and a caller that needs the flags must
// find them another way (src/_child/subprocess_flags.ts) or not guess.
//
// Tier 1: imports nothing.

/** Subcommands whose arguments after the script belong to the script. */
const kRunsScript = new Set(["run", "serve"]);
/** Other subcommands that run a program of this library's users. */
const kRunsFiles = new Set(["test", "bench"]);
/** Flags whose value may come as the next argument (others need `=`). */
const kSeparateValue = new Set([
  "-c",
  "--config",
  "--import-map",
  "--location",
  "--seed",
  "--cert",
  "-L",
  "--log-level",
  "--ext",
  "--filter",
  "--reporter",
  "--junit-path",
]);

// A "subprocess" child's shim moves its name out of Deno.args: one more
// argument after the script than Deno.args says (src/_child/subprocess_main.ts).
let hiddenArgs = 0;

/** Tells the parser that `n` arguments after the script are not in Deno.args. */
export function hideScriptArgs(n: number): void {
  hiddenArgs = n;
}

/**
 * The Deno flags of `argv` (a whole command line: the executable, the
 * subcommand, flags, the script, its arguments), each value that came as
 * the next argument kept after its flag; the script's own arguments (the
 * last `scriptArgs` of a `run`) are left out.
 *
 * @returns The flags, and the script as given (for `run`).
 */
export function parseCommandLine(
  argv: readonly string[],
  scriptArgs: number,
): CommandLine {
  let at = 1;
  const subcommand = argv[at];
  let end = argv.length;
  if (kRunsFiles.has(subcommand)) {
    at++;
    const dashes = argv.indexOf("--", at);
    if (dashes >= 0) end = dashes;
  } else {
    // `deno run main.ts`, or `deno main.ts` (an implicit run).
    if (kRunsScript.has(subcommand)) at++;
    end = argv.length - 1 - scriptArgs;
  }
  const flags: string[] = [];
  for (; at < end; at++) {
    const arg = argv[at];
    if (!arg.startsWith("-")) continue; // a test or bench file
    flags.push(arg);
    if (kSeparateValue.has(arg) && at + 1 < end) flags.push(argv[++at]);
  }
  const script = kRunsFiles.has(subcommand) ? undefined : argv[end];
  return script === undefined ? { flags } : { flags, script };
}

/** The flags and script of a command line (see parseCommandLine()). */
export interface CommandLine {
  flags: string[];
  script?: string;
}

/** The flags and script of `argv`, this program's whole command line. */
export function commandLineOf(argv: readonly string[]): CommandLine {
  return parseCommandLine(argv, Deno.args.length + hiddenArgs);
}

let cached: CommandLine | null | undefined;

/**
 * This program's Deno flags and script (see {@linkcode parseCommandLine}),
 * or undefined when Deno does not let it read its command line.
 */
export function ownCommandLine(): CommandLine | undefined {
  if (cached === undefined) {
    const argv = readArgv("/proc/self/cmdline");
    cached = argv === undefined ? null : commandLineOf(argv);
  }
  return cached ?? undefined;
}

/**
 * The URL of `script` as the command line gave it (a path is taken from the
 * working directory, as Deno took it: right unless the program changed it).
 */
export function scriptUrl(script: string | undefined): string | undefined {
  if (script === undefined) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(script)) return script;
  try {
    return new URL(script, `file://${Deno.cwd()}/`).href;
  } catch {
    return undefined;
  }
}

/** The arguments of a `/proc/<pid>/cmdline` file, when it can be read. */
export function readArgv(path: string): string[] | undefined {
  try {
    return argvOf(Deno.readFileSync(path));
  } catch {
    return undefined;
  }
}

/** The arguments of a cmdline file's bytes (NUL-terminated strings). */
export function argvOf(bytes: Uint8Array): string[] | undefined {
  const text = new TextDecoder().decode(bytes);
  if (text === "") return undefined;
  return text.replace(/\0$/, "").split("\0");
}
