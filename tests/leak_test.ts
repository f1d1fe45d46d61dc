// Nothing of a worker is kept once it has ended: its parent-side Worker
// object becomes garbage. Each case runs as its own program, with the
// garbage collector exposed (tests/fixtures/leak_program.ts counts the
// workers still reachable). bench/leak_check.ts measures the memory.

import { deepEqual, equal, ok } from "node:assert/strict";
import { Pool, Process } from "../mod.ts";
import { fixture, runDeno } from "./_run.ts";

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

// Deno 2.9.6 keeps the source of every data: module a worker loads (~2.4 KB
// a pool worker, bench/leak_check.ts); a blob: module's, nothing.
Deno.test("workers load their generated entry from one reused blob: URL, never a data: URL", async () => {
  const urls: string[] = [];
  const original = globalThis.Worker;
  globalThis.Worker = new Proxy(original, {
    construct(target, args, newTarget) {
      urls.push(String(args[0]));
      return Reflect.construct(target, args, newTarget);
    },
  });
  try {
    for (let i = 0; i < 2; i++) {
      const p = new Process({ target: fixture("targets", "noop") });
      p.start();
      equal(await p.join(), 0);
    }
    const pool = new Pool(2);
    deepEqual(await pool.map(fixture("pool_targets", "square"), [1, 2]), [
      1,
      4,
    ]);
    pool.terminate();
    await pool.join();
  } finally {
    globalThis.Worker = original;
  }
  equal(urls.length, 4);
  ok(urls.every((url) => url.startsWith("blob:")), urls.join(", "));
  equal(urls[0], urls[1], "two Processes of one target had two entries");
  equal(urls[2], urls[3], "two workers of one pool had two entries");
});
