// importCandidates() reads the head of a calling module: each way to write an
// import there, and nothing that only looks like one further down.

import { deepEqual, equal } from "node:assert/strict";
import { pathToFileURL } from "node:url";
import {
  importCandidates,
  importedModules,
  namedImport,
} from "../src/_core/imports.ts";

async function caller(source: string): Promise<[string, string]> {
  const dir = await Deno.makeTempDir({ prefix: "imports_" });
  const path = `${dir}/main.ts`;
  await Deno.writeTextFile(path, source);
  return [pathToFileURL(path).href, pathToFileURL(`${dir}/`).href];
}

Deno.test("importCandidates() finds named, renamed, namespace and default imports", async () => {
  const [url, dir] = await caller(`#!/usr/bin/env -S deno run
// A comment, then the imports, over several lines.
/* A block comment. */
import triple, {
  cube, // the one
  type Shape,
  square as sq,
} from "./tasks.ts";
import * as t from "./more.ts";
import config from "./config.json" with { type: "json" };
import "./side_effect.ts";
export { helper } from "./helpers.ts";
import { join } from "node:path";
`);
  try {
    deepEqual(importCandidates(url, "cube"), [
      `${dir}tasks.ts#cube`,
      `${dir}tasks.ts#default`,
      `${dir}more.ts#cube`,
    ]);
    deepEqual(importCandidates(url, "triple"), [
      `${dir}tasks.ts#default`,
      `${dir}more.ts#triple`,
    ]);
    // No import has the name: every named import is a candidate.
    deepEqual(importCandidates(url, "renamed"), [
      `${dir}tasks.ts#default`,
      `${dir}more.ts#renamed`,
      `${dir}tasks.ts#cube`,
      `${dir}tasks.ts#square`,
    ]);
    deepEqual(importedModules(url), [
      `${dir}tasks.ts`,
      `${dir}more.ts`,
      `${dir}side_effect.ts`,
      `${dir}helpers.ts`,
    ]);
  } finally {
    await Deno.remove(new URL(dir), { recursive: true });
  }
});

Deno.test("importCandidates() reads an import whose clause holds comments with quotes or semicolons", async () => {
  const [url, dir] = await caller(`import {
  cube, // don't inline: it's the hot path; see "perf"
  /* half's twin; \`x\` */ half,
} from "./tasks.ts";
import { later } from "./later.ts";
`);
  try {
    deepEqual(importCandidates(url, "cube"), [`${dir}tasks.ts#cube`]);
    deepEqual(importCandidates(url, "half"), [`${dir}tasks.ts#half`]);
    // The scan goes on past it.
    deepEqual(importCandidates(url, "later"), [`${dir}later.ts#later`]);
  } finally {
    await Deno.remove(new URL(dir), { recursive: true });
  }
});

Deno.test("importCandidates() reads no import after the module's first statement", async () => {
  const [url, dir] = await caller(`import { cube } from "./tasks.ts";
export const program = \`
import { cube } from "./elsewhere.ts";
\`;
import { late } from "./late.ts";
`);
  try {
    deepEqual(importCandidates(url, "cube"), [`${dir}tasks.ts#cube`]);
    deepEqual(importCandidates(url, "late"), [`${dir}tasks.ts#cube`]);
    deepEqual(importedModules(url), [`${dir}tasks.ts`]);
  } finally {
    await Deno.remove(new URL(dir), { recursive: true });
  }
});

Deno.test("importCandidates() tries no renamed import for a function the caller declares", async () => {
  const [url, dir] = await caller(`import { cube } from "./tasks.ts";
// the function local is a comment, not a declaration

export function local(): void {}
`);
  try {
    deepEqual(importCandidates(url, "local"), []);
    deepEqual(importCandidates(url, "other"), [`${dir}tasks.ts#cube`]);
  } finally {
    await Deno.remove(new URL(dir), { recursive: true });
  }
});

Deno.test("namedImport() names the module a function is imported from under its own name, and only that", async () => {
  const [url, dir] = await caller(
    `import { cube, square as sq } from "./tasks.ts";
import { triple as triple } from "./more.ts";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import * as t from "./all.ts";
import half from "./half.ts";
`,
  );
  try {
    equal(namedImport(url, "cube"), `${dir}tasks.ts`);
    equal(namedImport(url, "triple"), `${dir}more.ts`);
    // Renamed (the caller may declare its own `square`), a built-in, a bare
    // name (resolved through this library's import map: a guess), a
    // namespace or a default import: no module is sure.
    equal(namedImport(url, "square"), undefined);
    equal(namedImport(url, "join"), undefined);
    equal(namedImport(url, "jetstream"), undefined);
    equal(namedImport(url, "t"), undefined);
    equal(namedImport(url, "half"), undefined);
  } finally {
    await Deno.remove(new URL(dir), { recursive: true });
  }
});

/** A temporary folder holding `files` (relative path to text); its URL. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "imports_" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), {
      recursive: true,
    });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return pathToFileURL(`${dir}/`).href;
}

Deno.test("importCandidates() resolves a bare name through the import map of the workspace member that holds the caller", async () => {
  const imports = `import { inc } from "@lib/work.ts";
import { deep } from "@lib/deep/x.ts";
import { cube } from "tasks";
import { join } from "@std/path/join";
import { shared } from "@root/shared.ts";
`;
  const dir = await tree({
    "deno.json": JSON.stringify({
      workspace: ["./app"],
      imports: { "@root/": "./root/" },
    }),
    // A member's map may hold comments and trailing commas.
    "app/deno.jsonc": `{
  // "imports": { "@lib/": "./wrong/" }, a "quoted" comment
  "imports": {
    "@lib/": "./lib/", /* the longest prefix wins: */ "@lib/deep/": "./deep/",
    "tasks": "./lib/tasks.ts",
    "@std/path": "jsr:@std/path@^1", // and "//" in a value stays: "https://x"
  },
}`,
    "app/main.ts": imports,
    "app/nested/main.ts": imports,
    "other/main.ts": imports,
    // One that cannot be parsed maps nothing (Deno says why when it runs).
    "bad/deno.json": `{ "imports": `,
    "bad/main.ts": imports,
  });
  try {
    for (const caller of ["app/main.ts", "app/nested/main.ts"]) {
      const url = `${dir}${caller}`;
      deepEqual(importCandidates(url, "inc"), [`${dir}app/lib/work.ts#inc`]);
      deepEqual(importCandidates(url, "deep"), [`${dir}app/deep/x.ts#deep`]);
      deepEqual(importCandidates(url, "cube"), [`${dir}app/lib/tasks.ts#cube`]);
      deepEqual(importCandidates(url, "join"), ["jsr:@std/path@^1/join#join"]);
    }
    // Outside the member its map does not apply; the root's does.
    const other = `${dir}other/main.ts`;
    deepEqual(importCandidates(other, "shared"), [
      `${dir}root/shared.ts#shared`,
    ]);
    equal(
      importCandidates(other, "inc").includes(`${dir}app/lib/work.ts#inc`),
      false,
    );
    deepEqual(importCandidates(`${dir}bad/main.ts`, "inc"), []);
    // A bare name is a guess, never loaded statically by a sandboxed child.
    deepEqual(importedModules(`${dir}app/main.ts`), []);
  } finally {
    await Deno.remove(new URL(dir), { recursive: true });
  }
});
