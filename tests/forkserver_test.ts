// The "forkserver" start method: children taken from warm workers behave as
// spawned ones (exit codes, shared objects, permissions), a warm worker is
// taken only when it can become the child, and warm workers never keep a
// program alive. Each test waits for warm workers by event (warmReady) and
// ends them (stopForkserver), so Deno's sanitizers see nothing left over.

import {
  deepEqual,
  equal,
  match,
  ok as assert,
  throws,
} from "node:assert/strict";
import {
  cpuCount,
  getContext,
  Lock,
  setForkserverPreload,
  Value,
} from "../mod.ts";
import {
  configureForkserver,
  forkserverCounters,
  stopForkserver,
  warmProfiles,
  warmReady,
} from "../src/_child/forkserver.ts";
import { cells, fixture, runDeno } from "./_run.ts";

const ctx = getContext("forkserver");
const T = (name: string) => fixture("targets", name);

function test(name: string, fn: () => Promise<void>): void {
  Deno.test(name, async () => {
    try {
      await fn();
    } finally {
      stopForkserver();
      configureForkserver([], undefined);
    }
  });
}

// Starts one child cold, so that its profile is warmed, and waits until a
// warm worker is ready.
async function warmUp(permissions?: "none"): Promise<void> {
  const p = new ctx.Process({ target: T("noop"), permissions });
  p.start();
  equal(await p.join(), 0);
  await warmReady();
}

async function runWarm(
  options: ConstructorParameters<typeof ctx.Process>[0],
): Promise<number | null> {
  const before = forkserverCounters.warm;
  const p = new ctx.Process(options);
  p.start();
  const code = await p.join();
  equal(forkserverCounters.warm, before + 1, "the child was not a warm one");
  return code;
}

test("getContext('forkserver').Process runs its target in a warm worker", async () => {
  await warmUp();
  const cell = cells();
  equal(await runWarm({ target: T("writeCell"), args: [cell, 7] }), 0);
  equal(cell[0], 7);
});

test("a warm child's global name is its own, as a spawned child's", async () => {
  await warmUp();
  const name = "Warm-7";
  equal(await runWarm({ target: T("exitUnlessNamed"), args: [name], name }), 0);
});

// The parent wakes the warm worker itself (a notify), not from a later turn
// of its event loop: a parent busy after start() does not hold the child.
test("a warm child runs while its parent's thread stays busy after start()", async () => {
  await warmUp();
  const cell = cells(1);
  const before = forkserverCounters.warm;
  const p = new ctx.Process({ target: T("writeCell"), args: [cell, 5] });
  p.start();
  const end = Date.now() + 30_000;
  while (Atomics.load(cell, 0) === 0 && Date.now() < end) {
    // synchronous work: this thread's event loop does not turn
  }
  equal(cell[0], 5);
  equal(forkserverCounters.warm, before + 1);
  equal(await p.join(), 0);
});

test("a warm child's exit codes are a spawned one's: exit(n), and -15 after terminate()", async () => {
  await warmUp();
  equal(await runWarm({ target: T("exitWith"), args: [3] }), 3);
  await warmReady();
  const flag = cells(1);
  const before = forkserverCounters.warm;
  const p = new ctx.Process({ target: T("waitForever"), args: [flag] });
  p.start();
  await Atomics.waitAsync(flag, 0, 0).value;
  equal(forkserverCounters.warm, before + 1);
  p.terminate();
  equal(await p.join(), -15);
});

test("a warm child imports the modules it lacks: shared objects in args", async () => {
  await warmUp();
  const lock = new Lock();
  const cell = cells(1);
  equal(
    await runWarm({
      target: fixture("sync_targets", "lockedIncrements"),
      args: [lock, cell, 50],
    }),
    0,
  );
  equal(cell[0], 50);
  await warmReady();
  const counter = new Value("i", 0);
  equal(
    await runWarm({
      target: fixture("sync_targets", "incrementValue"),
      args: [counter, 5],
    }),
    0,
  );
  equal(counter.value, 5);
});

test("a warm worker with narrower permissions is taken only when it lacks no module", async () => {
  await warmUp("none");
  // Same target module as the warm-up: the warm worker has it.
  const before = forkserverCounters.cold;
  equal(
    await runWarm({
      target: T("writeCell"),
      args: [cells(), 1],
      permissions: "none",
    }),
    0,
  );
  await warmReady();
  // Another module: a "none" worker could not import it, so it starts cold.
  const p = new ctx.Process({
    target: fixture("pool_targets", "square"),
    args: [3],
    permissions: "none",
  });
  p.start();
  equal(await p.join(), 0);
  equal(forkserverCounters.cold, before + 1);
});

test("getContext('forkserver').Pool takes warm workers after the first pool", async () => {
  const square = fixture("pool_targets", "square");
  {
    await using pool = new ctx.Pool(2);
    deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
  }
  await warmReady();
  const before = forkserverCounters.warm;
  await using pool = new ctx.Pool(2);
  deepEqual(await pool.map(square, [4, 5]), [16, 25]);
  assert(forkserverCounters.warm > before, "no pool worker came warm");
});

test("getContext('forkserver').ProcessPoolExecutor runs calls in warm workers", async () => {
  const square = fixture("pool_targets", "square");
  {
    await using ex = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    equal(await ex.submit(square, 3), 9);
  }
  await warmReady();
  const before = forkserverCounters.warm;
  await using ex = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
  equal(await ex.submit(square, 4), 16);
  equal(forkserverCounters.warm, before + 1);
});

test("setForkserverPreload() after a first child applies to the warm workers started next", async () => {
  await warmUp();
  setForkserverPreload(["./fixtures/preloaded.ts"]);
  // The warm workers started before lack it; those that replace them, as
  // children take them, import it.
  const codes: (number | null)[] = [];
  while (codes.at(-1) !== 0 && codes.length < 8) {
    await warmReady();
    codes.push(await runWarm({ target: T("exitUnlessPreloaded") }));
  }
  equal(codes.at(-1), 0, `exit codes: ${codes}`);
});

test("at most 4 permission sets keep warm workers: the least recently used one lets its go", async () => {
  const sets = [1, 2, 3, 4, 5].map((i) => ({ read: [`/tmp/forkserver-${i}`] }));
  for (const permissions of sets) {
    const p = new ctx.Process({ target: T("noop"), permissions });
    p.start();
    equal(await p.join(), 0);
  }
  equal(warmProfiles(), 4);
  // The first set's warm workers were ended: its next child starts cold.
  const cold = forkserverCounters.cold;
  const first = new ctx.Process({ target: T("noop"), permissions: sets[0] });
  first.start();
  equal(await first.join(), 0);
  equal(forkserverCounters.cold, cold + 1);
  equal(warmProfiles(), 4);
});

test("a preload module that fails to import leaves children starting cold, never stuck", async () => {
  setForkserverPreload(["./fixtures/throws_at_import.ts"]);
  const cell = cells();
  const first = new ctx.Process({ target: T("writeCell"), args: [cell, 1] });
  first.start();
  equal(await first.join(), 0);
  // The warm worker fails its import: the profile stops warming, and a
  // wait for a warm worker ends instead of hanging.
  await warmReady();
  const before = forkserverCounters.cold;
  const second = new ctx.Process({ target: T("writeCell"), args: [cell, 2] });
  second.start();
  equal(await second.join(), 0);
  equal(cell[0], 2);
  equal(forkserverCounters.cold, before + 1);
});

test("setForkserverPreload() checks its arguments", () => {
  throws(
    () => setForkserverPreload("./tasks.ts" as never),
    /'modules' must be an array of module URLs or paths/,
  );
  throws(
    () => setForkserverPreload([], { warm: 0 }),
    /'warm' must be a positive integer: current value is 0/,
  );
  throws(
    () => setForkserverPreload([], { wram: 1 } as never),
    /option 'wram' must be one of warm: did you mean 'warm'\?/,
  );
  // Each warm worker is a thread with its own heap, started ahead.
  const most = 4 * cpuCount();
  throws(
    () => setForkserverPreload([], { warm: most + 1 }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message ===
        `Cannot set forkserver preload as 'warm' must be at most 4 × cpuCount() (${most}): current value is ${
          most + 1
        }`,
  );
  throws(
    () => setForkserverPreload([], 5 as never),
    /Cannot set forkserver preload as 'options' must be an object: current value is 5/,
  );
  throws(
    () => setForkserverPreload([], null as never),
    /'options' must be an object: current value is null/,
  );
  throws(
    () => setForkserverPreload(["http://[bad"]),
    (error: Error) =>
      error instanceof TypeError &&
      /'modules' must be module URLs or paths: current value "http:\/\/\[bad" is neither/
        .test(error.message),
  );
  setForkserverPreload(["./fixtures/targets.ts"], { warm: 1 });
  return Promise.resolve();
});

Deno.test("warm workers never keep a program alive", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/forkserver_program.ts",
  ], 30);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "exit code 0, cell 1\n");
});

Deno.test("a missing guard under forkserver is reported once, as under spawn", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/forkserver_program.ts",
    "unguarded",
  ], 30);
  equal(result.code, 0, result.stderr);
  match(result.stdout, /^exit code 1, cell 0$/m);
  const reports =
    result.stderr.match(/An attempt has been made to start a new process/g) ??
      [];
  equal(reports.length, 1, result.stderr);
});
