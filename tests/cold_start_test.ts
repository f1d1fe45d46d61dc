// A worker can be sent messages while its modules still load, and Deno drops
// those that find no handler. With a module cache that is still empty (a
// first run), loading takes long enough that the parent's first message
// always arrived too early: the child then waited forever before its
// target. A child now says it is up before the parent sends it anything.

import { equal } from "node:assert/strict";

Deno.test("a child whose modules load from an empty module cache runs its target", async () => {
  const cache = await Deno.makeTempDir({ prefix: "dmp_cold_cache_" });
  try {
    const command = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        new URL(
          "../examples/000_basic_parallel_program/guarded.ts",
          import.meta.url,
        )
          .pathname,
      ],
      cwd: new URL("../", import.meta.url),
      env: { NO_COLOR: "1", DENO_DIR: cache },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    });
    const { code, stdout, stderr } = await command.output();
    const decoder = new TextDecoder();
    equal(code, 0, decoder.decode(stderr));
    equal(decoder.decode(stdout), "Working\n");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
