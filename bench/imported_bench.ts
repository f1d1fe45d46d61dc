// A function imported from another module, run in a sequential loop and
// through Pool.map: the layout most programs have (tasks in their own
// module), with no URL strings. `deno bench` prints a clean table: the
// workers import their modules without being type-checked again.
//
//   npx -y deno@2.9.6 bench -A bench/imported_bench.ts

import { cpuCount, Pool } from "../mod.ts";
import { fib, square } from "./_targets.ts";

// Created on first use, inside a benchmark: workers import this module, and
// a pool created at its top level would be created again in each of them.
let pool: Pool | undefined;
const thePool = () => pool ??= new Pool(cpuCount());
// There is no hook after the last benchmark; idle workers never keep the
// program alive, so this only tidies up.
addEventListener("unload", () => pool?.terminate());

const fibs = Array.from({ length: 4 * cpuCount() }, () => 25);
const items = Array.from({ length: 100_000 }, (_, i) => i);

Deno.bench({
  name: "sequential loop",
  group: `imported fib(25) × ${fibs.length}`,
  baseline: true,
  fn: () => {
    for (const n of fibs) fib(n);
  },
});

Deno.bench({
  name: `Pool(${cpuCount()}).map`,
  group: `imported fib(25) × ${fibs.length}`,
  fn: async () => {
    await thePool().map(fib, fibs);
  },
});

Deno.bench({
  name: "sequential loop",
  group: "imported square of 100 000 items",
  baseline: true,
  fn: () => {
    for (const x of items) square(x);
  },
});

Deno.bench({
  name: `Pool(${cpuCount()}).map`,
  group: "imported square of 100 000 items",
  fn: async () => {
    await thePool().map(square, items);
  },
});
