// The layout is the architecture: every library file belongs to one tier,
// imports only from its own tier or lower ones, and stays small enough to do
// one job. These tests keep the README's map true to the code.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(fileURLToPath(new URL("../", import.meta.url)));

/**
 * Tiers from the bottom up, by path prefix relative to the repository root
 * (the longest matching prefix wins). The README's map lists the same.
 */
const kTiers: [prefix: string, tier: number][] = [
  ["src/errors.ts", 0],
  ["src/_wire/", 0],
  ["src/_core/", 1],
  ["src/_memory/", 1],
  ["src/reduction.ts", 1],
  ["src/synchronize/", 2],
  ["src/sharedctypes/", 2],
  ["src/shared_memory/", 2],
  ["src/queues/", 3],
  ["src/connection/", 3],
  ["src/_child/", 4],
  ["src/process.ts", 5],
  ["src/_process/", 5],
  ["src/_engine/", 6],
  ["src/pool", 6],
  ["src/executor", 6],
  ["src/futures.ts", 6],
  ["src/wait.ts", 6],
  ["src/async_result.ts", 6],
  ["src/context.ts", 7],
  ["mod.ts", 7],
  ["src/cluster/", 8],
];

function tierOf(file: string): number | undefined {
  let best: [string, number] | undefined;
  for (const entry of kTiers) {
    if (
      file.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)
    ) {
      best = entry;
    }
  }
  return best?.[1];
}

async function libraryFiles(): Promise<string[]> {
  const found = ["mod.ts"];
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(join(root, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) found.push(path);
    }
  }
  await walk("src");
  return found.sort();
}

// Static imports, re-exports, dynamic imports and `new URL("…", import.meta.url)`
// worker entries: every way one library file can depend on another.
const kSpecifier =
  /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)"(\.{1,2}\/[^"#?]+)"/g;

async function importsOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(join(root, file));
  // Doc comments hold examples that import the package as a user would.
  const code = text.replace(/\/\*\*[\s\S]*?\*\//g, "");
  const out: string[] = [];
  for (const match of code.matchAll(kSpecifier)) {
    out.push(relative(root, resolve(root, dirname(file), match[1])));
  }
  return out;
}

Deno.test("every library file belongs to a tier of the layout", async () => {
  const orphans = (await libraryFiles()).filter((f) => tierOf(f) === undefined);
  assert.deepEqual(orphans, []);
});

Deno.test("no library file imports from a higher tier", async () => {
  const upward: string[] = [];
  for (const file of await libraryFiles()) {
    const tier = tierOf(file)!;
    for (const target of await importsOf(file)) {
      if (!target.startsWith("src/") && target !== "mod.ts") continue;
      const other = tierOf(target);
      if (other !== undefined && other > tier) {
        upward.push(`${file} (T${tier}) imports ${target} (T${other})`);
      }
    }
  }
  assert.deepEqual(upward, []);
});

Deno.test("no library file is over 400 lines", async () => {
  const big: string[] = [];
  for (const file of await libraryFiles()) {
    const lines =
      (await Deno.readTextFile(join(root, file))).split("\n").length - 1;
    if (lines > 400) big.push(`${file} (${lines})`);
  }
  assert.deepEqual(big, []);
});

Deno.test("importsOf() finds static, dynamic and worker-entry imports", async () => {
  const dir = await Deno.makeTempDir({ dir: join(root, "tests") });
  try {
    const file = relative(root, join(dir, "sample.ts"));
    await Deno.writeTextFile(
      join(root, file),
      [
        `import { a } from "./a.ts";`,
        `export * from "../b.ts";`,
        `const m = await import("./c.ts");`,
        `const w = new URL("./d.ts", import.meta.url);`,
        `/** @example\n * import { x } from "./not_code.ts";\n */`,
      ].join("\n"),
    );
    const base = relative(root, dir);
    assert.deepEqual(await importsOf(file), [
      `${base}/a.ts`,
      `${dirname(base)}/b.ts`,
      `${base}/c.ts`,
      `${base}/d.ts`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
