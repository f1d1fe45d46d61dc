// Nothing of a worker is kept once it has ended: its parent-side Worker
// object becomes garbage. Each case runs as its own program, with the
// garbage collector exposed (tests/fixtures/leak_program.ts counts the
// workers still reachable). bench/leak_check.ts measures the memory.

import { equal, ok } from "node:assert/strict";
import { runDeno } from "./_run.ts";

async function reachableWorkers(which: string): Promise<string> {
  const { code, stdout, stderr } = await runDeno([
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    "tests/fixtures/leak_program.ts",
    which,
  ], 120);
  equal(code, 0, stderr);
  return stdout.trim();
}

Deno.test("Pool with maxTasksPerChild keeps none of the workers it replaced", async () => {
  // The last worker may be up, or already retired with its replacement not
  // started yet (1 run in 10 before and after 2026-12-03): at most it stays.
  const [created, reachable] = (await reachableWorkers("replace"))
    .match(/\d+/g)!.map(Number);
  equal(created, 6);
  ok(reachable <= 1, `${reachable} workers reachable: more than the last one`);
});

Deno.test("Pool keeps none of its workers once terminated and joined", async () => {
  equal(await reachableWorkers("pool"), "12 created, 0 reachable");
});

Deno.test("ProcessPoolExecutor keeps none of its workers once shut down", async () => {
  equal(await reachableWorkers("executor"), "12 created, 0 reachable");
});
