import {
  deepEqual,
  equal,
  match,
  notEqual,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import {
  activeChildren,
  cpuCount,
  currentProcess,
  getAllStartMethods,
  getContext,
  getStartMethod,
  parentProcess,
  Process,
  ProcessError,
  setStartMethod,
} from "../mod.ts";
import { availableParallelism } from "node:os";
import {
  chooseStartMethod,
  chosenStartMethod,
} from "../src/_child/start_method.ts";
import { cells, fixture, letDueTimersRun, runDeno } from "./_run.ts";
import { Constructed, Counter } from "./fixtures/targets.ts";

const T = (name: string) => fixture("targets", name);

async function started(flag: Int32Array): Promise<void> {
  await Atomics.waitAsync(flag, 0, 0).value;
}

Deno.test("Process.join() resolves to 0 when the target returns", async () => {
  const cell = cells();
  const p = new Process({ target: T("writeCell"), args: [cell, 7] });
  p.start();
  equal(await p.join(), 0);
  equal(p.exitCode, 0);
  equal(cell[0], 7);
  equal(p.isAlive(), false);
});

Deno.test("Process.exitCode is 1 when the target throws, sync or async", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/exit_scenarios.ts",
    "throws",
  ]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "Sync exit code 1\nAsync exit code 1\n");
  // The code is 1 because the target threw, not for another failure: each
  // child printed its own error, class and message, under its name.
  match(result.stderr, /Process Sync:\nTypeError: Sync thrown on purpose\n/);
  match(
    result.stderr,
    /Process Async:\nRangeError: Async thrown on purpose\n/,
  );
});

Deno.test("Process.exitCode is n after exit(n) and 0 after self.close()", async () => {
  const p = new Process({ target: T("exitWith"), args: [3] });
  p.start();
  equal(await p.join(), 3);
  const q = new Process({ target: T("selfClose") });
  q.start();
  equal(await q.join(), 0);
});

Deno.test("Process.terminate() ends an idle child with -15 and join() resolves", async () => {
  const flag = cells(1);
  const p = new Process({ target: T("waitForever"), args: [flag] });
  p.start();
  await started(flag);
  assert(p.isAlive());
  p.terminate();
  equal(await p.join(), -15);
  equal(p.isAlive(), false);
  p.terminate(); // no-op once ended
  equal(p.exitCode, -15);
});

Deno.test("Process.kill() ends a child stuck in synchronous code with -9", async () => {
  const flag = cells(2);
  const p = new Process({ target: T("spinUntil"), args: [flag] });
  p.start();
  await started(flag);
  p.kill();
  equal(await p.join(), -9);
  // The thread itself runs on until its loop yields; let it end.
  Atomics.store(flag, 1, 1);
});

Deno.test("Process.join(timeout) resolves to null while the child runs", async () => {
  const flag = cells(1);
  const p = new Process({ target: T("waitForever"), args: [flag] });
  p.start();
  await started(flag);
  equal(await p.join(0.01), null);
  p.terminate();
  equal(await p.join(5), -15);
});

Deno.test("Process.join() waits for Infinity or a timeout past 24.8 days, and treats a negative timeout as 0", async () => {
  const flag = cells(1);
  const p = new Process({ target: T("waitForever"), args: [flag] });
  p.start();
  await started(flag);
  let settled = 0;
  const joins = [p.join(Infinity), p.join(3e6)].map((join) =>
    join.finally(() => settled++)
  );
  await letDueTimersRun();
  equal(settled, 0);
  equal(await p.join(-1), null); // CPython: join(-1) returns None at once
  p.terminate();
  deepEqual(await Promise.all(joins), [-15, -15]);
  equal(await p.join(-1), -15);
});

Deno.test("Process.join() rejects a bad timeout and an unstarted process", async () => {
  const p = new Process({ target: T("hello"), args: ["x"] });
  await rejects(p.join(), ProcessError);
  await rejects(p.join("1" as unknown as number), TypeError);
});

Deno.test("Process.start() throws when called twice", async () => {
  const p = new Process({ target: T("hello"), args: ["twice"] });
  p.start();
  throws(() => p.start(), /already been started/);
  await p.join();
});

Deno.test("Process.close() throws while running and blocks later use", async () => {
  const flag = cells(1);
  const p = new Process({ target: T("waitForever"), args: [flag] });
  p.start();
  await started(flag);
  throws(() => p.close(), /still running/);
  p.terminate();
  await p.join();
  p.close();
  throws(() => p.isAlive(), /closed/);
  // CPython's exitcode and pid check too; the name stays readable.
  throws(
    () => p.exitCode,
    /Cannot read 'exitCode' as the process object is closed/,
  );
  throws(() => p.pid, /Cannot read 'pid' as the process object is closed/);
  equal(typeof p.name, "string");
  p.close(); // again: nothing to do, as in CPython
  await rejects(p.join(), /closed/);
  throws(() => p.start(), /closed/);
});

Deno.test("Process.name and pid follow CPython's rules", async () => {
  const p = new Process({ target: T("hello"), args: ["pid"] });
  match(p.name, /^Process-\d+$/);
  equal(p.pid, null);
  const named = new Process({
    target: T("hello"),
    args: ["named"],
    name: "worker-a",
  });
  equal(named.name, "worker-a");
  p.start();
  named.start();
  assert(Number.isInteger(p.pid) && p.pid! > 0);
  notEqual(p.pid, named.pid);
  await Promise.all([p.join(), named.join()]);
});

Deno.test("currentProcess() and parentProcess() describe the child inside it", async () => {
  const cell = cells();
  const p = new Process({ target: T("report"), args: [cell] });
  p.start();
  await p.join();
  equal(cell[0], p.pid);
  equal(cell[1], Deno.pid);
  equal(currentProcess().name, "MainProcess");
  equal(currentProcess().pid, Deno.pid);
  equal(parentProcess(), null);
});

Deno.test("parentProcess() in a grandchild is alive while its parent runs, and join(timeout) returns after the timeout", async () => {
  const flags = cells(3);
  const parent = new Process({
    target: fixture("lifecycle_targets", "parentOfWatcher"),
    args: [flags],
  });
  parent.start();
  equal(await parent.join(), 0);
  // The watcher saw its parent alive, and a timed join() of a running
  // parent returned with it still alive.
  equal(flags[1], 1, "alive while the parent ran");
  equal(flags[2], 1, "join(timeout) returned while the parent ran");
});

Deno.test("parentProcess().join(timeout) in a child of the main process waits out the timeout; the main process stays alive", async () => {
  const flags = cells(1);
  const p = new Process({
    target: fixture("lifecycle_targets", "parentJoinTimesOut"),
    args: [flags],
  });
  p.start();
  equal(await p.join(), 0);
  equal(flags[0], 1);
});

Deno.test("a child exits once its target returned and its pending timers ran", async () => {
  const flags = cells(1);
  const p = new Process({
    target: fixture("lifecycle_targets", "finishLater"),
    args: [flags],
  });
  p.start();
  equal(await p.join(), 0);
  equal(flags[0], 1);
});

Deno.test("a child exits once its target returned and its pending queue get() settled", async () => {
  const { Queue } = await import("../mod.ts");
  const flags = cells(1);
  const queue = new Queue<number>();
  const p = new Process({
    target: fixture("lifecycle_targets", "getLater"),
    args: [queue, flags],
  });
  p.start();
  await queue.put(7);
  equal(await p.join(), 0);
  equal(flags[0], 7);
});

Deno.test("a child's exit code after its target returned: 1 for a timer that throws, n for exit(n)", async () => {
  const thrower = new Process({
    target: fixture("lifecycle_targets", "throwLater"),
  });
  thrower.start();
  equal(await thrower.join(), 1);
  const exiter = new Process({
    target: fixture("lifecycle_targets", "exitLater"),
    args: [4],
  });
  exiter.start();
  equal(await exiter.join(), 4);
});

Deno.test("a subprocess child also waits for the timers its target left: their error gives 1, their exit(n) n", async () => {
  const { Process: SubprocessProcess } = getContext("subprocess");
  const runs = [
    new SubprocessProcess({
      target: fixture("lifecycle_targets", "throwLater"),
    }),
    new SubprocessProcess({
      target: fixture("lifecycle_targets", "exitLater"),
      args: [4],
    }),
    // An unreferenced timer holds nothing, here too.
    new SubprocessProcess({
      target: fixture("lifecycle_targets", "leaveUnrefTimer"),
    }),
  ];
  for (const p of runs) p.start();
  deepEqual(await Promise.all(runs.map((p) => p.join())), [1, 4, 0]);
});

Deno.test("a child's unreferenced timer does not keep it alive after its target returns", async () => {
  const p = new Process({
    target: fixture("lifecycle_targets", "leaveUnrefTimer"),
  });
  p.start();
  equal(await p.join(), 0);
});

Deno.test("activeChildren() lists running children only", async () => {
  const flag = cells(1);
  const p = new Process({ target: T("waitForever"), args: [flag] });
  p.start();
  await started(flag);
  assert(activeChildren().includes(p));
  p.terminate();
  await p.join();
  assert(!activeChildren().includes(p));
});

Deno.test("Process targets can start grandchildren", async () => {
  const cell = cells();
  const p = new Process({ target: T("startGrandchild"), args: [cell] });
  p.start();
  equal(await p.join(), 0);
  equal(cell[0], 42);
  equal(cell[1], 0);
});

Deno.test("Process subclasses run their own run() with their fields", async () => {
  const cell = cells();
  const p = new Counter(cell, 5);
  p.start();
  equal(await p.join(), 0);
  equal(cell[0], 5);
});

// As CPython unpickles it: the child gets the parent's object, fields and
// all, and its constructor does not run a second time.
Deno.test("a Process subclass's constructor runs in the parent only", async () => {
  const cell = cells(2);
  const p = new Constructed(cell);
  p.start();
  equal(await p.join(), 0);
  deepEqual([...cell], [1, 1]);
});

// CPython's child numbers its own children from 1 ("Process-2:1").
Deno.test("a child numbers its first child 1", async () => {
  const cell = cells(1);
  const p = new Process({ target: T("childNumber"), args: [cell] });
  p.start();
  equal(await p.join(), 0);
  equal(cell[0], 1);
});

Deno.test("Process signal terminates the child when aborted", async () => {
  const flag = cells(1);
  const controller = new AbortController();
  const p = new Process({
    target: T("waitForever"),
    args: [flag],
    signal: controller.signal,
  });
  p.start();
  await started(flag);
  controller.abort();
  equal(await p.join(), -15);
  const aborted = new Process({
    target: T("hello"),
    signal: AbortSignal.abort(new Error("stop")),
  });
  throws(() => aborted.start(), /stop/);
});

Deno.test("daemonic children cannot start children of their own", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/exit_scenarios.ts",
    "daemon-parent",
  ]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "exit code 1, grandchild wrote 0\n");
  match(
    result.stderr,
    /Process Daemon:\nProcessError: Cannot start process as daemonic processes are not allowed to have children/,
  );
});

Deno.test("new Process() rejects targets that cannot travel", () => {
  const arrow = () => 1;
  throws(() => new Process({ target: () => 1 }), /anonymous function/);
  throws(() => new Process({ target: arrow.bind(null) }), /bound function/);
  throws(() => new Process({ target: Math.max }), /built-in/);
  const object = {
    method(x: number) {
      return x;
    },
  };
  throws(
    () => new Process({ target: object.method } as never),
    /method 'method'/,
  );
  throws(() => new Process({ target: 42 } as never), TypeError);
  throws(
    () => new Process({ target: "./fixtures/targets.ts" }),
    /must name an export/,
  );
  throws(() => new Process({ args: "x" as never }), /'args' must be an array/);
});

Deno.test("Process.start() rejects arguments that cannot be cloned", () => {
  const p = new Process({ target: T("hello"), args: [{ callback: () => 1 }] });
  throws(() => p.start(), /'args\[0\]\.callback' must be structured-cloneable/);
  equal(p.pid, null);
  const q = new Process({ target: T("hello"), args: [Symbol("s")] });
  throws(() => q.start(), TypeError);
});

Deno.test("a non-exported target ends the child with exit code 1", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/exit_scenarios.ts",
    "not-exported",
  ]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "exit code 1\n");
  match(
    result.stderr,
    /Process Missing:\nTypeError: Cannot run the target as the function 'doesNotExist' must be exported from its module: it is not exported from file:.*targets\.ts/,
  );
});

Deno.test("a nested function target fails in the child with the fix named", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/exit_scenarios.ts",
    "closure",
  ]);
  equal(result.code, 0, result.stderr);
  match(result.stdout, /exit code 1/);
  match(result.stderr, /function 'inner' must be exported from its module/);
  match(result.stderr, /add 'export'/);
});

Deno.test("an uncaught error prints 'Process <name>:' and the stack", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/exit_scenarios.ts",
    "error",
  ]);
  equal(result.code, 0, result.stderr);
  match(result.stdout, /exit code 1/);
  match(
    result.stderr,
    /Process Failing:\nRangeError: broken on purpose\n\s+at fail/,
  );
});

Deno.test("a module without the main guard fails in the child without recursing", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/missing_guard.ts",
  ]);
  equal(result.code, 0, result.stderr);
  match(result.stdout, /^exit code 1$/m);
  const reports =
    result.stderr.match(/An attempt has been made to start a new process/g) ??
      [];
  equal(reports.length, 1, result.stderr);
  match(result.stderr, /if \(import\.meta\.main\)/);
  assert(!result.stdout.includes("Working"));
});

Deno.test("the program exits while a daemonic child still runs", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/exit_scenarios.ts",
    "daemon",
  ], 30);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "main done\n");
});

Deno.test("the program waits for a running non-daemonic child", async () => {
  const result = await runDeno(
    ["run", "--allow-read", "tests/fixtures/exit_scenarios.ts", "non-daemon"],
    30,
  );
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "main done\nchild done\n");
});

Deno.test("a child that returned, leaving only an unreferenced timer, never keeps the program alive", async () => {
  const result = await runDeno(
    ["run", "--allow-read", "tests/fixtures/exit_scenarios.ts", "idle-child"],
    30,
  );
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "target returned\njoined 0\n");
});

Deno.test("the program exits after terminating a child stuck in synchronous code", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/exit_scenarios.ts",
    "stuck",
  ], 20);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "terminated -15\n");
});

Deno.test("getContext() offers spawn and forkserver and refuses fork", async () => {
  const ctx = getContext("spawn");
  equal(ctx.getStartMethod(), "spawn");
  const cell = cells();
  const p = new ctx.Process({ target: T("writeCell"), args: [cell, 3] });
  p.start();
  equal(await p.join(), 0);
  equal(cell[0], 3);
  throws(() => getContext("fork" as never), /'fork' has no equivalent/);
  equal(getContext("forkserver").getStartMethod(), "forkserver");
  throws(() => getContext("thread" as never), /must be one of "spawn"/);
  deepEqual(getAllStartMethods(), ["spawn", "forkserver", "subprocess"]);
  // setStartMethod() changes the program's start method: leave it as found.
  const before = chosenStartMethod();
  try {
    equal(getStartMethod(), "spawn");
    setStartMethod("spawn", { force: true });
    equal(chosenStartMethod(), "spawn");
    throws(() => setStartMethod("spawn"), /already been set/);
    throws(() => setStartMethod("fork" as never, { force: true }), TypeError);
  } finally {
    chooseStartMethod(before);
  }
  equal(chosenStartMethod(), before);
});

Deno.test("cpuCount() is the CPUs this program may use, in every process", async () => {
  const count = cpuCount();
  assert(Number.isInteger(count) && count >= 1, `cpuCount() is ${count}`);
  // node:os computes it apart from navigator (libuv's available
  // parallelism, which honours CPU affinity as well).
  equal(count, availableParallelism());
  // A child sees the same machine: Pool's default size relies on it.
  const cell = cells(1);
  const p = new Process({ target: T("reportCpuCount"), args: [cell] });
  p.start();
  equal(await p.join(), 0);
  equal(cell[0], count);
});
