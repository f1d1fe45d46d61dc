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
 * The modules of `entry`'s static graph: what a worker loads before the
 * entry runs (a dynamic import loads only when it runs).
 */
async function staticGraph(entry: string): Promise<string[]> {
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
  return [...seen];
}

/** The modules of `entry`'s static graph that are not files. */
async function nonFileModules(entry: string): Promise<string[]> {
  return (await staticGraph(entry)).filter((s) => !s.startsWith("file:"));
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

// What only some children need is imported when they need it: the other
// start methods (registered by src/context.ts, which a child's code loads
// if it starts children that way), a "subprocess" child's frames and
// proxies, the pool engine (the parent's side) and the cluster.
const parentOnly = [
  /\/src\/_child\/(forkserver|subprocess(_main|_options)?|frames)\.ts$/,
  /\/src\/_child\/prox(y|ies)(_\w+)?\.ts$/,
  /\/src\/_engine\/(?!worker_main|worker_claims|apply_task)\w+\.ts$/,
  /\/src\/cluster\//,
  /\/src\/context\.ts$/,
];

for (
  const [entry, alsoNot] of [
    // A Process child loads the Process class (and the parent's side of
    // starting children) only when its own code uses it.
    [
      "src/_process/child_main.ts",
      [/\/src\/(process|_process\/(?!child_main)\w+)\.ts$/],
    ],
    // A pool worker starts no child itself unless its tasks' code does.
    ["src/_engine/worker_main.ts", [/\/src\/(process|_process\/\w+)\.ts$/]],
    ["src/_child/warm.ts", [/\/src\/(process|_process\/\w+)\.ts$/]],
  ] as const
) {
  Deno.test(`${entry} loads what only some children need only when they need it`, async () => {
    const graph = await staticGraph(entry);
    const extra = graph.filter((url) =>
      [...parentOnly, ...alsoNot].some((pattern) => pattern.test(url))
    );
    deepEqual(extra, []);
  });
}
