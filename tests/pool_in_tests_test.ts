// Pools inside `deno test` and `deno bench`: the patterns the README shows
// run clean (no type-check lines from worker start-up, sanitizers on), and
// the natural mistake, a pool at a bench file's top level, is reported once,
// with the fix. Each runs as its own deno with a fresh cache directory: a
// worker graph type-checked before would print nothing even when it is
// type-checked, since Deno caches the check.

import { equal, match, ok } from "node:assert/strict";

async function deno(args: string[]) {
  const cache = await Deno.makeTempDir({ prefix: "deno_dir_" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: new URL("../", import.meta.url),
      env: { NO_COLOR: "1", DENO_DIR: cache },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const text = new TextDecoder();
    return { code, output: text.decode(stdout) + text.decode(stderr) };
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
}

const count = (text: string, part: string) => text.split(part).length - 1;
// Type-check lines for a worker's generated entry (data: until 2026-12-03).
const entryChecks = (text: string) =>
  text.match(/Check (?:data|blob):/g)?.length ?? 0;

Deno.test("deno test of a file with pools prints no type-check line for worker entries and passes its sanitizers", async () => {
  const { code, output } = await deno([
    "test",
    "--allow-read",
    "tests/fixtures/in_tests/pool_tests.ts",
  ]);
  equal(code, 0, output);
  match(output, /ok \| 3 passed \| 0 failed/);
  equal(entryChecks(output), 0, output);
  // The test file itself is type-checked, as any test file is.
  match(output, /Check .*pool_tests\.ts/);
});

Deno.test("deno bench with a lazily created pool prints a clean table", async () => {
  const { code, output } = await deno([
    "bench",
    "--allow-read",
    "tests/fixtures/in_tests/pool_bench.ts",
  ]);
  equal(code, 0, output);
  equal(entryChecks(output), 0, output);
  equal(count(output, "error"), 0, output);
  match(output, /\| sequential +\|/);
  match(output, /\| Pool\.map +\|/);
});

Deno.test("a pool at a bench file's top level reports the bootstrapping error once, with the fix", async () => {
  const { code, output } = await deno([
    "bench",
    "--allow-read",
    "tests/fixtures/in_tests/top_level_pool_bench.ts",
  ]);
  ok(code !== 0, output);
  equal(count(output, "Cannot start pool worker"), 1, output);
  equal(count(output, "creates a pool at import time"), 1, output);
  match(output, /top_level_pool_bench\.ts:8:\d+/);
  match(output, /if \(import\.meta\.main\)/);
  match(output, /inside the test or bench function, or lazily on first use/);
  // Neither the worker's own report nor the error chain repeats it.
  equal(count(output, "An attempt has been made"), 0, output);
  equal(entryChecks(output), 0, output);
});
