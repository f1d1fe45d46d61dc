// Typed calls: what must type-check and, under `@ts-expect-error`, what must
// not. `deno check` (and `deno test`, which checks first) is the test: the
// functions below are never called, as only their types matter; an
// expected error that stops happening fails the check too.

import { deepEqual, equal } from "node:assert/strict";
import {
  asCompleted,
  type Future,
  type Pool,
  Process,
  ProcessPoolExecutor,
  wait,
} from "../mod.ts";
import type { ClusterPool } from "../src/cluster/mod.ts";
import { fixture } from "./_run.ts";
import {
  add,
  echo,
  noop,
  slowSquare,
  square,
} from "./fixtures/pool_targets.ts";

function greet(name: string, times?: number): string {
  return name.repeat(times ?? 1);
}

// Only the types of these are used: `typeof` of a local function is the same
// as of an exported one.
export async function poolCalls(pool: Pool): Promise<void> {
  const sum: number = await pool.apply(add, [1, 2]);
  const later: number = await pool.apply(slowSquare, [3, 1]);
  const none: void = await pool.apply(noop);
  const greeting: string = await pool.apply(greet, ["hi"]);
  const same: string = await pool.apply(echo<string>, ["x"]);
  const async: number = await pool.applyAsync(add, [1, 2]).get();
  const squares: number[] = await pool.map(square, [1, 2, 3]);
  const mapped: number[] = await pool.mapAsync(square, [1]).get();
  const sums: number[] = await pool.starmap(add, [[1, 2], [3, 4]]);
  const starred: number[] = await pool.starmapAsync(add, [[1, 2]]).get();
  for await (const x of pool.imap(square, [1, 2])) x satisfies number;
  for await (const x of pool.imapUnordered(square, [1])) x satisfies number;
  // String and URL targets stay untyped: anything goes in, unknown comes out.
  const loose: unknown = await pool.apply("./tasks.ts#f", ["any", 1]);
  const url = new URL("./tasks.ts#f", import.meta.url);
  const looseMap: unknown[] = await pool.map(url, ["a", 1]);
  console.log(sum, later, none, greeting, same, async, squares, mapped);
  console.log(sums, starred, loose, looseMap);

  // A list made `as const` (readonly) is a list of arguments too.
  const pair = [1, 2] as const;
  const fromConst: number = await pool.apply(add, pair);
  const fromConsts: number[] = await pool.starmap(add, [pair, [3, 4] as const]);
  console.log(fromConst, fromConsts);

  // @ts-expect-error a string where a number is expected
  await pool.apply(add, ["1", 2]);
  // @ts-expect-error map calls its function with each item alone
  await pool.map(add, [1, 2]);
  // @ts-expect-error so do imap and mapAsync
  pool.imap(add, [1, 2]);
  // @ts-expect-error a missing argument
  await pool.apply(add, [1]);
  // @ts-expect-error one argument too many
  await pool.apply(square, [1, 2]);
  // @ts-expect-error the argument list left out, though add takes two
  await pool.apply(add);
  // @ts-expect-error the same without waiting
  pool.applyAsync(square);
  // @ts-expect-error the result is a number
  const wrong: string = await pool.apply(add, [1, 2]);
  // @ts-expect-error a callback gets the result's type
  pool.applyAsync(add, [1, 2], { callback: (r: string) => r });
  // @ts-expect-error items are the first parameter's type
  await pool.map(square, ["1"]);
  // @ts-expect-error an item of starmap is the argument list
  await pool.starmap(add, [[1, "2"]]);
  // @ts-expect-error imap items too
  pool.imap(square, [true]);
  console.log(wrong);
}

// The cluster's Pool checks the same calls (a string target stays untyped).
export async function clusterCalls(pool: ClusterPool): Promise<void> {
  const sum: number = await pool.apply(add, [1, 2]);
  const none: void = await pool.apply(noop);
  const later: number = await pool.applyAsync(square, [2]).get();
  const loose: unknown = await pool.apply("./tasks.ts#f", ["any", 1]);
  const sums: number[] = await pool.starmap(add, [[1, 2]]);
  console.log(sum, none, later, loose, sums);

  // @ts-expect-error a string where a number is expected
  await pool.apply(add, ["1", 2]);
  // @ts-expect-error the argument list left out, though add takes two
  await pool.apply(add);
  // @ts-expect-error the same without waiting
  pool.applyAsync(square, ["2"]);
  // @ts-expect-error an item of starmap is the argument list
  await pool.starmap(add, [[1, "2"]]);
  // @ts-expect-error map calls its function with each item alone
  await pool.map(add, [1, 2]);
}

export async function executorCalls(ex: ProcessPoolExecutor): Promise<void> {
  const sum: number = await ex.submit(add, 1, 2);
  const viaResult: number = await ex.submit(slowSquare, 2, 1).result();
  const withOptions: number = await ex.submitWith(add, [1, 2], {
    timeout: 1,
  });
  const loose: unknown = await ex.submit("./tasks.ts#f", 1, "x");
  for await (const x of ex.map(add, [1, 2], [3, 4])) x satisfies number;
  for await (const x of ex.map(add, [1], [2], { chunksize: 1 })) {
    x satisfies number;
  }
  console.log(sum, viaResult, withOptions, loose);

  // @ts-expect-error a missing argument
  ex.submit(add, 1);
  // @ts-expect-error an argument list instead of arguments
  ex.submit(add, [1, 2]);
  // @ts-expect-error a string where a number is expected
  ex.submitWith(add, [1, "2"]);
  ex.submitWith(add, [1, 2] as const, {});
  // @ts-expect-error the second iterable holds numbers
  ex.map(add, [1], ["2"]);
  // @ts-expect-error the result is a number
  const wrong: string = await ex.submit(square, 2);
  console.log(wrong);
}

export function processes(): void {
  new Process({ target: add, args: [1, 2] });
  new Process({ target: greet, args: ["x"] });
  new Process({ target: noop });
  new Process({ target: "./tasks.ts#f", args: [1, "a"] });
  new Process({ target: new URL("./tasks.ts#f", import.meta.url), args: [] });
  new Process({ name: "idle" });
  const list: Process[] = [new Process({ target: add, args: [1, 2] })];
  console.log(list);

  // @ts-expect-error a string where a number is expected
  new Process({ target: add, args: ["x"] });
  // @ts-expect-error a missing argument
  new Process({ target: add, args: [1] });
  // @ts-expect-error the argument list left out, though add takes two
  new Process({ target: add });
  new Process({ target: add, args: [1, 2] as const });
  // @ts-expect-error a number is no target
  new Process({ target: 42 });
}

export async function futures(ex: ProcessPoolExecutor): Promise<void> {
  const num = ex.submit(square, 2);
  const str = ex.submit(greet, "a");
  const anyFuture: Future<unknown> = num;
  const labels = new Map<Future<unknown>, string>([[num, "num"], [str, "s"]]);
  for await (const future of asCompleted([num, str])) {
    future satisfies Future<number> | Future<string>;
    const label: string | undefined = labels.get(future);
    const result: number | string = await future.result();
    console.log(label, result);
  }
  for await (const future of asCompleted(labels.keys())) {
    labels.get(future);
  }
  const { done, notDone } = await wait([num, str]);
  done satisfies Set<Future<number> | Future<string>>;
  for (const future of notDone) labels.get(future);
  console.log(anyFuture);

  // @ts-expect-error a Future<string> is no Future<number>
  const narrow: Future<number> = str;
  for await (const future of asCompleted([num])) {
    // @ts-expect-error the loop yields the future, not its result
    future satisfies number;
    // @ts-expect-error its `then` is hidden: read it with result()
    future.then(() => {});
  }
  console.log(narrow);
}

Deno.test("asCompleted() and wait() give back the futures that went in, keyed in a Map", async () => {
  await using ex = new ProcessPoolExecutor({ maxWorkers: 1 });
  const square = fixture("pool_targets", "square");
  const labels = new Map<Future<unknown>, string>();
  labels.set(ex.submit(square, 2), "two");
  labels.set(ex.submit(square, 3), "three");
  const seen: [string | undefined, unknown][] = [];
  for await (const future of asCompleted(labels.keys())) {
    seen.push([labels.get(future), await future.result()]);
  }
  seen.sort(([a], [b]) => String(a).localeCompare(String(b)));
  deepEqual(seen, [["three", 9], ["two", 4]]);
  const { done } = await wait(labels.keys());
  deepEqual([...done].map((f) => labels.get(f)).sort(), ["three", "two"]);
  equal(done.size, 2);
});
