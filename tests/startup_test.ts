// What a child loads before its target runs is its start-up time: every
// module of the graph costs each new worker ~0.3 ms, and a module that
// brings in Deno's Node compatibility layer (any node: import) ~5–15 ms
// more. A child imports its entry and its target's module, which usually
// imports the library (mod.ts), so none of these graphs may hold a node:
// module statically.

import { deepEqual } from "node:assert/strict";
import { runDeno } from "./_run.ts";

interface GraphModule {
  specifier: string;
  dependencies?: {
    code?: { specifier: string };
    type?: { specifier: string };
    isDynamic?: boolean;
  }[];
}

/**
 * The modules of `entry`'s static graph (what a worker loads before the
 * entry runs; a dynamic import loads only when it runs) that are not files.
 */
async function nonFileModules(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await runDeno(["info", "--json", entry]);
  deepEqual(code, 0, stderr);
  const graph = JSON.parse(stdout) as {
    roots: string[];
    modules: GraphModule[];
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const walk = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code !== undefined) {
        walk(dependency.code.specifier);
      }
    }
  };
  for (const root of graph.roots) walk(root);
  return [...seen].filter((s) => !s.startsWith("file:"));
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
