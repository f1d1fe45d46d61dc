// How ClusterPool cuts a map into chunks (src/cluster/_chunks.ts), and how
// an agent's worker runs one (src/cluster/_worker_init.ts): no server
// needed.

import assert from "node:assert/strict";
import {
  ChunkPlanner,
  kChunkMs,
  kMaxMergedItems,
} from "../src/cluster/_chunks.ts";
import { runChunk } from "../src/cluster/_worker_init.ts";

const sizes = (ends: number[]) =>
  ends.map((end, i) => end - (ends[i - 1] ?? 0));

Deno.test("ClusterPool cuts a map of an unmeasured function into 4 chunks per process, larger first, sizes one apart", () => {
  const planner = new ChunkPlanner();
  const ends = planner.bounds("tasks.ts#nap", 600, 12);
  assert.equal(ends.length, 48);
  assert.equal(ends.at(-1), 600);
  assert.deepEqual(sizes(ends), [...Array(24).fill(13), ...Array(24).fill(12)]);
  // Dealt round the 12 processes in order, every one gets 50 items.
  const shares = Array(12).fill(0);
  sizes(ends).forEach((size, i) => shares[i % 12] += size);
  assert.deepEqual(shares, Array(12).fill(50));
  assert.deepEqual(sizes(planner.bounds("f", 5, 12)), [1, 1, 1, 1, 1]);
  assert.deepEqual(planner.bounds("f", 0, 12), []);
  // No live agent yet: as for one process.
  assert.equal(planner.bounds("f", 100, 0).length, 4);
});

Deno.test("ClusterPool keeps an explicit chunksize", () => {
  const planner = new ChunkPlanner();
  planner.record("f", 1000, 0.01);
  assert.deepEqual(planner.bounds("f", 10, 12, 3), [3, 6, 9, 10]);
  assert.deepEqual(planner.bounds("f", 6, 12, 3), [3, 6]);
});

Deno.test("ClusterPool sends a map of a function measured as quick in one chunk per 2 ms of work", () => {
  const planner = new ChunkPlanner();
  planner.record("tasks.ts#square", 42, 0.0042); // 0.1 µs per item
  assert.deepEqual(planner.bounds("tasks.ts#square", 2_000, 12), [2_000]);
  // 0.01 ms per item: 2 000 items are 20 ms of work, 10 chunks of 2 ms.
  planner.record("tasks.ts#slow", 100, 1);
  const ends = planner.bounds("tasks.ts#slow", 2_000, 12);
  assert.equal(ends.length, 20 / kChunkMs);
  assert.deepEqual(new Set(sizes(ends)), new Set([200]));
  // Other functions keep the default.
  assert.equal(planner.bounds("tasks.ts#other", 2_000, 12).length, 48);
});

Deno.test("ClusterPool's merged chunks hold at most kMaxMergedItems items", () => {
  const planner = new ChunkPlanner();
  planner.record("f", 1, 0);
  const ends = planner.bounds("f", 100_000, 12);
  assert.equal(ends.length, Math.ceil(100_000 / kMaxMergedItems));
  assert.ok(sizes(ends).every((size) => size <= kMaxMergedItems));
  // Never more chunks than the default.
  assert.equal(planner.bounds("f", 1_000_000, 12).length, 48);
});

Deno.test("A dearer chunk counts at once and a cheaper one by half, so a function whose items became dear is split again", () => {
  const planner = new ChunkPlanner();
  planner.record("f", 100, 0.01);
  assert.equal(planner.bounds("f", 1_000, 4).length, 1);
  planner.record("f", 10, 100); // 10 ms per item
  assert.equal(planner.cost("f"), 10);
  assert.equal(planner.bounds("f", 1_000, 4).length, 16);
  planner.record("f", 10, 0);
  assert.equal(planner.cost("f"), 5);
  // Not a measure: nothing changes.
  planner.record("f", 0, 1);
  planner.record("f", 1, Number.NaN);
  assert.equal(planner.cost("f"), 5);
});

Deno.test("an agent's worker awaits each call of a chunk that returns a thenable, as the local pool does", async () => {
  const url = new URL("./cluster/tasks.ts", import.meta.url).href;
  const [results] = await runChunk(url, "thenable", [[1], [2], [3]]);
  assert.deepEqual(results, [2, 4, 6]);
  const [squares] = await runChunk(url, "square", [[3]]);
  assert.deepEqual(squares, [9]);
});

Deno.test("ClusterPool sizes a quick function's merged chunks by the bytes of its results", () => {
  const planner = new ChunkPlanner();
  // Quick, with results of 64 KiB each: 4 a chunk, not all 40 in one.
  planner.record("f", 10, 0.01, 10 * 64 * 1024);
  assert.deepEqual(sizes(planner.bounds("f", 40, 12)), Array(10).fill(4));
  // A smaller result later does not bring the size down; an explicit
  // chunksize stays.
  planner.record("f", 10, 0.01, 10);
  assert.equal(planner.bounds("f", 40, 12).length, 10);
  assert.deepEqual(planner.bounds("f", 40, 12, 40), [40]);
  // Without sizes, by time alone: one chunk.
  planner.record("g", 10, 0.01);
  assert.deepEqual(planner.bounds("g", 40, 12), [40]);
});
