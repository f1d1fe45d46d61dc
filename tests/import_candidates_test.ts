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
