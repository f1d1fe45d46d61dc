// A worker can be sent messages while its modules still load, and Deno drops
// those that find no handler. With a module cache that is still empty (a
// first run), loading takes long enough that the parent's first message
// always arrived too early: the child then waited forever before its
// target. A child now says it is up before the parent sends it anything.

import { equal } from "node:assert/strict";
import { runDeno } from "./_run.ts";

Deno.test("a child whose modules load from an empty module cache runs its target", async () => {
  const cache = await Deno.makeTempDir({ prefix: "dmp_cold_cache_" });
  try {
    const result = await runDeno(
      [
        "run",
        "--allow-read",
        "examples/000_basic_parallel_program/guarded.ts",
      ],
      120,
      { env: { DENO_DIR: cache } },
    );
    equal(result.code, 0, result.stderr);
    equal(result.stdout, "Working\n");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
