// What a child loads before its target runs is its start-up time: every
// module of the graph costs each new worker ~0.3 ms, and a module that
// brings in Deno's Node compatibility layer (any node: import) ~5–15 ms
// more. A child imports its entry and its target's module, which usually
// imports the library (mod.ts), so none of these graphs may hold a node:
// module statically.

import { deepEqual } from "node:assert/strict";
import { runDeno } from "./_run.ts";

/** The modules of `entry`'s static graph that are not files. */
async function nonFileModules(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await runDeno(["info", "--json", entry]);
  deepEqual(code, 0, stderr);
  const graph = JSON.parse(stdout) as { modules: { specifier: string }[] };
  return graph.modules.map((m) => m.specifier).filter((s) =>
    !s.startsWith("file:")
  );
}

for (
  const entry of [
    "mod.ts",
    "src/_process/child_main.ts",
    "src/_engine/worker_main.ts",
    "src/_child/warm.ts",
  ]
) {
  Deno.test(`${entry} loads no node: module when a worker starts`, async () => {
    deepEqual(await nonFileModules(entry), []);
  });
}
