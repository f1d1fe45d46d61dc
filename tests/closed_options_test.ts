// Options objects are closed: an unknown key is a TypeError that names it,
// with the known key it was likely meant to be, instead of being ignored
// (`new Process({ targt: f })` used to run nothing and exit 0).
import { equal, rejects, throws } from "node:assert/strict";
import {
  Lock,
  Pool,
  Process,
  ProcessPoolExecutor,
  Queue,
  setStartMethod,
  SharedArray,
  SharedMemory,
  Value,
  wait,
} from "../mod.ts";
import { checkKnownKeys } from "../src/_core/known_keys.ts";
import { fixture } from "./_run.ts";

const square = fixture("pool_targets", "square");

/** The message for `key` when `known` was likely meant. */
function unknown(key: string, guess?: string): RegExp {
  const hint = guess === undefined
    ? `'${key.replace(/^.*\./, "")}' is not one`
    : `did you mean '${guess}'\\?`;
  return new RegExp(`as option '${key}' must be one of [^:]*: ${hint}$`);
}

Deno.test("checkKnownKeys() suggests the nearest key for typos, case and snake_case slips only", () => {
  const known = ["maxWorkers", "initializer", "timeout", "block"];
  const check = (key: string) => () =>
    checkKnownKeys({ [key]: 1 }, known, "test");
  throws(check("maxWorker"), unknown("maxWorker", "maxWorkers"));
  throws(check("max_workers"), unknown("max_workers", "maxWorkers"));
  throws(check("Timeout"), unknown("Timeout", "timeout"));
  throws(check("timoeut"), unknown("timoeut", "timeout"));
  throws(check("blok"), unknown("blok", "block"));
  throws(check("bk"), unknown("bk"));
  throws(check("color"), unknown("color"));
  checkKnownKeys({ block: true, timeout: undefined }, known, "test");
  checkKnownKeys(undefined, known, "test");
});

Deno.test("new Process() rejects an unknown option, naming the one it was likely meant to be", () => {
  throws(
    () => new Process({ targt: square } as never),
    (error: Error) =>
      error instanceof TypeError &&
      unknown("targt", "target").test(error.message),
  );
  throws(() => new Process({ colour: "red" } as never), unknown("colour"));
});

Deno.test("new Pool() rejects an unknown option", () => {
  throws(
    () => new Pool(1, { initArgs: [] } as never),
    unknown("initArgs", "initargs"),
  );
  throws(
    () => new Pool(1, { processes: 2 } as never),
    unknown("processes"),
  );
});

Deno.test("new ProcessPoolExecutor() rejects an unknown option", () => {
  throws(
    () => new ProcessPoolExecutor({ maxWorker: 1 } as never),
    unknown("maxWorker", "maxWorkers"),
  );
});

Deno.test("ProcessPoolExecutor's map, submitWith and shutdown options are closed", async () => {
  const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
  try {
    throws(
      () => executor.map(square, [1], { chunkSize: 1 } as never),
      unknown("chunkSize", "chunksize"),
    );
    throws(
      () => executor.submitWith(square, [1], { timout: 1 } as never),
      unknown("timout", "timeout"),
    );
    await rejects(
      executor.shutdown({ cancel_futures: true } as never),
      unknown("cancel_futures", "cancelFutures"),
    );
    // "false" is truthy: it cancelled every queued call.
    await rejects(
      executor.shutdown({ cancelFutures: "false" } as never),
      /Cannot shut down as 'cancelFutures' must be a boolean: current value is "false"/,
    );
    await rejects(
      executor.shutdown({ wait: "no" } as never),
      /Cannot shut down as 'wait' must be a boolean: current value is "no"/,
    );
  } finally {
    await executor.shutdown();
  }
});

Deno.test("Pool task options are closed: apply, applyAsync, mapAsync, starmapAsync", async () => {
  await using pool = new Pool(1);
  await rejects(
    async () => await pool.apply(square, [1], { timeOut: 1 } as never),
    unknown("timeOut", "timeout"),
  );
  await rejects(
    async () => await pool.applyAsync(square, [1], { callBack() {} } as never),
    unknown("callBack", "callback"),
  );
  await rejects(
    async () => await pool.mapAsync(square, [1], { chunkSize: 1 } as never),
    unknown("chunkSize", "chunksize"),
  );
  await rejects(
    async () =>
      await pool.starmapAsync(square, [[1]], { signal: undefined } as never),
    unknown("signal"),
  );
});

Deno.test("an options argument that is not an object is a TypeError, not ignored", async () => {
  const notObject = (value: string) =>
    new RegExp(`'options' must be an object: current value is ${value}`);
  throws(() => new Pool(1, 5 as never), notObject("5"));
  throws(() => new Pool(1, null as never), notObject("null"));
  // CPython's ProcessPoolExecutor(3): the count is an option here.
  throws(
    () => new ProcessPoolExecutor(3 as never),
    (error: Error) =>
      error instanceof TypeError &&
      error.message ===
        "Cannot create executor as 'options' must be an object: current value is 3 (the worker count is { maxWorkers: 3 })",
  );
  throws(() => new ProcessPoolExecutor(null as never), notObject("null"));
  throws(() => setStartMethod("spawn", 5 as never), notObject("5"));
  throws(
    () => setStartMethod("spawn", { force: "no" } as never),
    /Cannot set start method as 'force' must be a boolean: current value is "no"/,
  );
  await using pool = new Pool(1);
  // CPython's map_async(f, items, 4): the chunksize is an option here.
  throws(() => pool.mapAsync(square, [1], 4 as never), notObject("4"));
  throws(() => pool.applyAsync(square, [1], [] as never), notObject("\\[\\]"));
  await rejects(pool.apply(square, [1], null as never), notObject("null"));
});

Deno.test("a callback that is not a function fails at the call", async () => {
  await using pool = new Pool(1);
  throws(
    () => pool.applyAsync(square, [1], { callback: 5 as never }),
    /Cannot applyAsync as 'callback' must be a function: current value is 5/,
  );
  throws(
    () => pool.mapAsync(square, [1], { errorCallback: "x" as never }),
    /Cannot map as 'errorCallback' must be a function: current value is "x"/,
  );
  equal(await pool.applyAsync(square, [3], { callback: undefined }).get(), 9);
});

Deno.test("Queue.put() and Queue.get() options are closed", async () => {
  const queue = new Queue<number>();
  await rejects(
    async () => await queue.put(1, { blok: false } as never),
    unknown("blok", "block"),
  );
  await rejects(
    async () => await queue.get({ timeot: 1 } as never),
    unknown("timeot", "timeout"),
  );
  queue.close();
});

Deno.test("Lock.acquire() options are closed", async () => {
  const lock = new Lock();
  await rejects(
    async () => await lock.acquire({ timout: 1 } as never),
    unknown("timout", "timeout"),
  );
  throws(() => lock.acquireSync({ wait: false } as never), unknown("wait"));
});

Deno.test("new SharedMemory() options are closed", () => {
  throws(
    () => new SharedMemory({ create: true, size: 8, nme: "x" } as never),
    unknown("nme", "name"),
  );
});

Deno.test("new Value() and new SharedArray() options are closed", () => {
  throws(
    () => new Value("i", 0, { lok: false } as never),
    unknown("lok", "lock"),
  );
  throws(
    () => new SharedArray("d", 2, { locked: false } as never),
    unknown("locked", "lock"),
  );
});

Deno.test("permissions objects are closed", () => {
  throws(
    () => new Process({ permissions: { reed: true } as never }),
    unknown("permissions.reed", "read"),
  );
});

Deno.test("setStartMethod() options are closed", () => {
  throws(
    () => setStartMethod("spawn", { forse: true } as never),
    unknown("forse", "force"),
  );
});

Deno.test("wait() options are closed", async () => {
  await rejects(
    wait([], { return_when: "ALL_COMPLETED" } as never),
    unknown("return_when", "returnWhen"),
  );
});
