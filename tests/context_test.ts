import { equal, ok as assert } from "node:assert/strict";
import {
  Barrier,
  getContext,
  JoinableQueue,
  Lock,
  Pool,
  Process,
  Queue,
  SharedArray,
  Value,
} from "../mod.ts";

Deno.test("Context offers the module's factories", async () => {
  const ctx = getContext("spawn");
  // Process and Pool are CPython's SpawnProcess/SpawnPool: subclasses that
  // carry the context's start method; the rest are the module's own.
  assert(ctx.Process.prototype instanceof Process);
  assert(ctx.Pool.prototype instanceof Pool);
  equal(ctx.Process, getContext("spawn").Process);
  equal(ctx.Queue, Queue);
  equal(ctx.JoinableQueue, JoinableQueue);
  equal(ctx.Lock, Lock);
  equal(ctx.Barrier, Barrier);
  equal(ctx.SharedArray, SharedArray);
  const value = new ctx.Value("i", 41);
  assert(value instanceof Value);
  value.value += 1;
  equal(value.value, 42);
  const queue = new ctx.Queue<number>();
  await queue.put(7);
  equal(await queue.get(), 7);
  const [a, b] = ctx.Pipe();
  a.send("hi");
  equal(await b.recv(), "hi");
  a.close();
  b.close();
  equal(ctx.cpuCount(), navigator.hardwareConcurrency);
  equal(ctx.currentProcess().name, "MainProcess");
});
