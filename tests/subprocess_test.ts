// The "subprocess" start method: children that are deno OS processes.
// Children report through exit codes, whole programs through their output
// (runDeno): an OS process shares no memory with its parent.
import {
  deepEqual,
  equal,
  match,
  notEqual,
  ok,
  rejects,
  throws,
} from "node:assert/strict";
import {
  BrokenProcessPoolError,
  getContext,
  Process,
  ProcessError,
} from "../mod.ts";
import { runDeno } from "./_run.ts";
import { Buffer } from "node:buffer";
import { encodeFrame, FrameReader } from "../src/_child/frames.ts";
import {
  checkValues,
  denoExit,
  echoViews,
  exitOn,
  exitWith,
  fail,
  isChildOf,
  killSelf,
  pid,
  Point,
  read,
  spin,
  square,
  squareOrStall,
  viewLayouts,
  waitForever,
} from "./fixtures/subprocess_targets.ts";

const ctx = getContext("subprocess");
const program = "tests/fixtures/subprocess_program.ts";

async function run(process: Process): Promise<number | null> {
  process.start();
  return await process.join();
}

/** True once no process has `pid` (polled: it is another OS process). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return true;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

Deno.test("getContext('subprocess') hands out Subprocess classes", () => {
  equal(ctx.getStartMethod(), "subprocess");
  equal(ctx.Process.name, "SubprocessProcess");
  equal(ctx.Pool.name, "SubprocessPool");
  equal(ctx.ProcessPoolExecutor.name, "SubprocessProcessPoolExecutor");
});

Deno.test("A subprocess child is an OS process: pid is its OS pid, its parent this program", async () => {
  const p = new ctx.Process({ target: isChildOf, args: [Deno.pid] });
  equal(await run(p), 0);
  notEqual(p.pid, Deno.pid);
  ok(await gone(p.pid!));
});

Deno.test("A subprocess child receives Map, Date, class instances and errors through the codec", async () => {
  const p = new ctx.Process({
    target: checkValues,
    args: [
      new Map([["a", 1n]]),
      new Date(0),
      new Point(3, 4),
      new RangeError("bad"),
    ],
  });
  equal(await run(p), 0);
});

Deno.test("A subprocess child's exit(n), Deno.exit(n) and uncaught error give n, n and 1", async () => {
  equal(await run(new ctx.Process({ target: exitWith, args: [3] })), 3);
  equal(await run(new ctx.Process({ target: denoExit, args: [5] })), 5);
  equal(
    await run(new ctx.Process({ target: fail, args: ["expected in a test"] })),
    1,
  );
});

Deno.test("terminate() and kill() end a busy subprocess child at once with -15 and -9", async () => {
  const a = new ctx.Process({ target: spin });
  a.start();
  a.terminate();
  equal(await a.join(), -15);
  ok(await gone(a.pid!));
  const b = new ctx.Process({ target: spin });
  b.start();
  b.kill();
  equal(await b.join(), -9);
  ok(await gone(b.pid!));
});

Deno.test("A subprocess child's permissions are flags: it reads only what it is given", async () => {
  const file = await Deno.makeTempFile();
  try {
    equal(
      await run(
        new ctx.Process({ target: read, args: [file], permissions: "none" }),
      ),
      77,
    );
    equal(
      await run(
        new ctx.Process({
          target: read,
          args: [file],
          permissions: { read: [file] },
        }),
      ),
      0,
    );
    equal(await run(new ctx.Process({ target: read, args: [file] })), 0);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("A subprocess child may not get more permissions than its parent (NotCapable)", async () => {
  const { stdout } = await runDeno([
    "run",
    "--allow-run",
    "--allow-read=tests,src,mod.ts,deno.json",
    program,
    "start",
  ]);
  match(
    stdout,
    /NotCapable: Cannot start process as 'permissions.read' must not exceed the parent's/,
  );
});

Deno.test("A subprocess child's Deno.args are the program's, not its name", async () => {
  const { stdout, stderr } = await runDeno([
    "run",
    "-A",
    program,
    "args",
    "--port",
    "8080",
  ]);
  equal(stdout, `["args","--port","8080"]\nexit 0\n`, stderr);
});

Deno.test("A subprocess pool worker whose module cannot load names Deno's error, as a spawned one does", async () => {
  const pool = new ctx.Pool(1, {
    initializer: new URL("./fixtures/no_such_module.ts#init", import.meta.url),
  });
  try {
    await rejects(
      pool.apply(square, [2]),
      /exited with code 1 during start-up .*Module not found .*no_such_module\.ts/,
    );
  } finally {
    pool.terminate();
  }
});

Deno.test("The subprocess start method without --allow-run is a clear error", async () => {
  const { stdout } = await runDeno(["run", "--allow-read", program, "start"]);
  match(
    stdout,
    /NotCapable: .*"subprocess" start method runs deno as a child process: run with --allow-run/,
  );
});

Deno.test("resourceLimits needs the subprocess start method", () => {
  throws(
    () =>
      new Process({
        target: square,
        resourceLimits: { maxHeapMb: 64 },
      } as never),
    /Cannot create process as 'resourceLimits' needs the "subprocess" start method/,
  );
  throws(
    () =>
      new ctx.Process({
        target: square,
        resourceLimits: { maxHeapMb: 0 },
      } as never),
    /'resourceLimits.maxHeapMb' must be a positive integer/,
  );
});

Deno.test("A subprocess child that runs out of memory ends alone", async () => {
  const { stdout, stderr } = await runDeno([
    "run",
    "-A",
    program,
    "oom-process",
  ]);
  match(stdout, /exit -\d+\nparent alive/);
  match(stderr, /out of memory/);
});

Deno.test("A daemonic subprocess child ends when its parent is killed", async () => {
  const { code, stdout } = await runDeno([
    "run",
    "-A",
    program,
    "parent-killed",
  ]);
  equal(code, 137);
  const child = Number(/child (\d+)/.exec(stdout)?.[1]);
  ok(child > 0);
  ok(await gone(child), "the daemonic child outlived its killed parent");
});

Deno.test("A non-daemonic subprocess child outlives its killed parent and parentProcess() sees it end", async () => {
  const { code, stdout } = await runDeno(["run", "-A", program, "orphan"]);
  equal(code, 137);
  match(stdout, /alive true\nparent ended, alive false/);
});

/** The parent's view and its subprocess child's (fixtures' programView()). */
async function views(flags: string[], path: string) {
  const { code, stdout, stderr } = await runDeno(
    ["run", ...flags, program, "flags", path, "DMP_SECRET"],
    60,
    { env: { DMP_SECRET: "hidden" } },
  );
  equal(code, 0, stderr);
  const [parent, child] = stdout.trim().split("\n").map((l) => JSON.parse(l));
  return { parent, child };
}

Deno.test("A subprocess child keeps the program's --deny-* flags and runs with its runtime flags", async () => {
  const secret = await Deno.makeTempFile();
  try {
    // Not --allow-all: Deno hides the command line, read through Deno.
    const { parent, child } = await views([
      "--allow-read",
      "--allow-env",
      "--allow-run",
      `--deny-read=${secret}`,
      "--deny-env=DMP_SECRET",
      "--seed=7",
      "--location=https://example.com/app/",
      "--v8-flags=--max-old-space-size=80",
      "--unstable-kv",
    ], secret);
    equal(parent.read, "NotCapable");
    equal(parent.env, "NotCapable");
    equal(parent.kv, "function");
    // Refused the same, the same random numbers, location, API and heap.
    deepEqual(child, parent);
  } finally {
    await Deno.remove(secret);
  }
});

Deno.test("A subprocess child inherits the program's flags under --allow-all, and its permission lists", async () => {
  const secret = await Deno.makeTempFile();
  try {
    const all = await views(["-A", "--seed=3", "--unstable-kv"], secret);
    equal(all.parent.read, "allowed");
    deepEqual(all.child, all.parent);
    // A kind granted in part (a list) is passed on, item for item.
    const listed = await views([
      `--allow-read=tests,src,mod.ts,deno.json,${secret}`,
      "--allow-env=DMP_SECRET",
      "--allow-run",
    ], secret);
    equal(listed.parent.read, "allowed");
    equal(listed.child.read, "allowed");
    equal(listed.child.env, "allowed");
  } finally {
    await Deno.remove(secret);
  }
});

Deno.test("Children run with the program's --config or --import-map, from another folder and a path with a space", async () => {
  const dir = await Deno.makeTempDir();
  const mod = new URL("../mod.ts", import.meta.url).href;
  const files: Record<string, string> = {
    "cfg/alt.json": '{ "imports": { "@mapped/": "../lib/" } }',
    "cfg/map.json": '{ "imports": { "@mapped/": "../lib/" } }',
    "lib/double.ts": "export const double = (x: number) => 2 * x;\n",
    "my app (1)/tasks.ts": `import { double } from "@mapped/double.ts";
export function viaMap(x: number): number {
  return double(x) + 1;
}
`,
    "my app (1)/main.ts": `import { getContext } from ${JSON.stringify(mod)};
import { viaMap } from "./tasks.ts";
if (import.meta.main) {
  for (const method of ["spawn", "subprocess"] as const) {
    await using pool = new (getContext(method).Pool)(1);
    console.log(method, JSON.stringify(await pool.map(viaMap, [1, 2])));
  }
}
`,
  };
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(`${dir}/${name.replace(/\/[^/]*$/, "")}`, {
        recursive: true,
      });
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    for (const flag of ["--config", "--import-map"]) {
      const name = flag === "--config" ? "alt" : "map";
      const { code, stdout, stderr } = await runDeno(
        ["run", "-A", flag, `cfg/${name}.json`, "my app (1)/main.ts"],
        60,
        { cwd: dir },
      );
      equal(code, 0, stderr);
      equal(stdout, "spawn [3,5]\nsubprocess [3,5]\n", flag);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A daemonic subprocess child busy in synchronous code ends when its parent exits", async () => {
  const { code, stdout } = await runDeno(["run", "-A", program, "daemon-busy"]);
  equal(code, 0);
  const child = Number(/child (\d+)/.exec(stdout)?.[1]);
  ok(child > 0);
  ok(await gone(child), "the daemonic child outlived its parent");
});

Deno.test("A SharedArrayBuffer passed to a subprocess child is a TypeError naming its path", async () => {
  // Shared objects (a Lock, a Queue, …) reach the child as proxies
  // (tests/subprocess_shared_test.ts); bare shared memory cannot.
  const buffer = new SharedArrayBuffer(4);
  throws(
    () =>
      new ctx.Process({ target: square, args: [{ cells: [buffer] }] as never })
        .start(),
    /Cannot start process as 'args\[0\].cells\[0\]' must not be shared memory: it is a SharedArrayBuffer, which cannot cross to an OS process/,
  );
  const pool = new ctx.Pool(1);
  try {
    await rejects(
      pool.apply(square, [new Int32Array(buffer) as never]),
      /'args\[0\]' must not be shared memory: it is a view of a SharedArrayBuffer/,
    );
  } finally {
    pool.terminate();
    await pool.join();
  }
});

Deno.test({
  name:
    "A subprocess Pool replaces a worker that dies and fails its task with the cause",
  // A killed worker's OS process is reaped after terminate() returns.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pool = new ctx.Pool(2);
    try {
      deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
      await rejects(
        pool.apply(exitOn, [3]),
        (error: Error) =>
          error instanceof ProcessError &&
          /exited with code 4 while running it/.test(error.message),
      );
      await rejects(pool.apply(killSelf), /was killed by SIGKILL/);
      await rejects(pool.apply(spin, [], { timeout: 0.2 }), /timeout/);
      deepEqual(await pool.map(square, [4, 5]), [16, 25]);
    } finally {
      pool.terminate();
      await pool.join();
    }
  },
});

Deno.test({
  name:
    "A subprocess Pool runs later work beside a task that never answers (nothing is queued behind it)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // An OS process's tasks cannot be taken back once sent, so none may
    // wait behind a call whose cost is unknown or that overran.
    for (const stuck of [waitForever, spin]) {
      const pool = new ctx.Pool(2);
      try {
        pool.applyAsync(stuck as () => void);
        for (let round = 0; round < 3; round++) {
          const items = [1, 2, 3, 4, 5];
          deepEqual(
            await pool.map(square, items, 1),
            items.map((x) => x * x),
          );
        }
      } finally {
        pool.terminate();
        await pool.join();
      }
    }
  },
});

Deno.test({
  name:
    "A subprocess Pool takes back what waits behind a quick function's call that never answers",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pool = new ctx.Pool(2);
    try {
      // Measured as quick, its calls go many to a worker: the one for 0
      // stalls with twenty others sent behind it, in the same OS process.
      const warm = Array.from(
        { length: 400 },
        (_, x): [number, number] => [x, -1],
      );
      await pool.starmap(squareOrStall, warm);
      const items = Array.from({ length: 41 }, (_, x) => x);
      const calls = items.map((x) => pool.apply(squareOrStall, [x, 0]));
      calls[0].catch(() => {}); // fails at terminate()
      // The other worker asks for them back once idle, and the stalled
      // child, whose event loop is free, gives them: fail, not hang.
      let left = 40;
      const forty = Promise.withResolvers<void>();
      for (const call of calls.slice(1)) {
        call.then(() => --left === 0 && forty.resolve(), forty.reject);
      }
      const timer = setTimeout(
        () => forty.reject(new Error(`${left} of 40 calls never came back`)),
        30_000,
      );
      try {
        await forty.promise;
      } finally {
        clearTimeout(timer);
      }
      deepEqual(
        await Promise.all(calls.slice(1)),
        items.slice(1).map((x) => x * x),
      );
      deepEqual(await pool.map(square, [4, 5]), [16, 25]);
    } finally {
      pool.terminate();
      await pool.join();
    }
  },
});

Deno.test({
  name:
    "A subprocess Pool with maxTasksPerChild runs each task in a new OS process",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pool = new ctx.Pool(1, { maxTasksPerChild: 1 });
    try {
      const pids = await pool.map(pid as (x: number) => number, [1, 2, 3], 1);
      equal(new Set(pids).size, 3);
      ok(!pids.includes(Deno.pid));
    } finally {
      pool.close();
      await pool.join();
    }
  },
});

Deno.test({
  name: "A subprocess executor breaks when a worker exits",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    try {
      equal(await executor.submit(square, 6), 36);
      await rejects(
        executor.submit(exitOn, 3).result(),
        BrokenProcessPoolError,
      );
    } finally {
      await executor.shutdown();
    }
  },
});

Deno.test("A subprocess Pool worker that runs out of memory fails its task and is replaced", async () => {
  const { stdout, stderr } = await runDeno(["run", "-A", program, "oom-pool"]);
  match(stdout, /ProcessError: .*ran out of memory\nthen 49/);
  match(stderr, /out of memory/);
});

Deno.test("A subprocess executor whose worker runs out of memory is broken", async () => {
  const { stdout } = await runDeno(["run", "-A", program, "oom-executor"]);
  match(stdout, /broken true\n.*ran out of memory/);
});

Deno.test("FrameReader splits frames from printed text, across any chunking", () => {
  const text = new TextEncoder().encode("Process P:\nError: \0x\n");
  const frames = [
    encodeFrame({ t: "ready" }),
    encodeFrame({ m: new Map([[1, 2n]]) }),
  ];
  const stream = new Uint8Array([...text, ...frames[0], ...text, ...frames[1]]);
  for (const size of [1, 3, 7, stream.length]) {
    const reader = new FrameReader();
    const messages: unknown[] = [];
    const printed: number[] = [];
    for (let at = 0; at < stream.length; at += size) {
      reader.push(
        stream.subarray(at, at + size),
        (m) => messages.push(m),
        (bytes) => printed.push(...bytes),
      );
    }
    printed.push(...reader.rest());
    deepEqual(messages, [{ t: "ready" }, { m: new Map([[1, 2n]]) }]);
    deepEqual(
      new TextDecoder().decode(new Uint8Array(printed)),
      new TextDecoder().decode(text).repeat(2),
    );
  }
});

Deno.test("encodeFrame() refuses a SharedArrayBuffer as structured clone does", () => {
  throws(
    () => encodeFrame({ b: new SharedArrayBuffer(4) }),
    (error: Error) =>
      error instanceof DOMException && error.name === "DataCloneError",
  );
});

// Counts the bytes Uint8Array's set() and slice() copy while `counting`.
function copiesOf(run: (count: (on: boolean) => void) => void): number {
  const proto = Uint8Array.prototype as unknown as Record<string, unknown>;
  const { set, slice } = Uint8Array.prototype;
  let counting = false;
  let copied = 0;
  proto.set = function (
    this: Uint8Array,
    source: ArrayLike<number>,
    offset?: number,
  ) {
    if (counting) copied += source.length;
    return set.call(this, source, offset);
  };
  proto.slice = function (this: Uint8Array, start?: number, end?: number) {
    const out = slice.call(this, start, end);
    if (counting) copied += out.length;
    return out;
  };
  try {
    run((on) => counting = on);
  } finally {
    delete proto.set;
    delete proto.slice;
  }
  return copied;
}

Deno.test("FrameReader.push() copies a frame read in many chunks a bounded number of times", () => {
  const body = "x".repeat(1 << 20);
  const text = new TextEncoder().encode("printed\n");
  const frame = encodeFrame(body);
  const stream = new Uint8Array(frame.length + 2 * text.length);
  stream.set(text);
  stream.set(frame, text.length);
  stream.set(text, text.length + frame.length);
  const reader = new FrameReader();
  const messages: unknown[] = [];
  const printed: number[] = [];
  // One buffer for every read, as the child's stdin reader does: what the
  // reader keeps must be its own.
  const scratch = new Uint8Array(1 << 10);
  const copied = copiesOf((count) => {
    for (let at = 0; at < stream.length; at += scratch.length) {
      const chunk = stream.subarray(at, at + scratch.length);
      scratch.set(chunk);
      count(true);
      reader.push(
        scratch.subarray(0, chunk.length),
        (m) => messages.push(m),
        (bytes) => printed.push(...bytes),
      );
      count(false);
    }
  });
  equal(messages.length, 1);
  ok(messages[0] === body);
  equal(
    new TextDecoder().decode(new Uint8Array(printed)),
    "printed\n".repeat(2),
  );
  equal(reader.rest().length, 0);
  // Each byte kept once and joined once (copying all that came before on
  // every chunk was ~1 000 times the frame: quadratic).
  ok(copied <= 3 * stream.length, `copied ${copied} bytes of ${stream.length}`);
});

Deno.test("A subprocess Pool's typed arrays and DataViews own their bytes, both ways", async () => {
  const value = {
    u8: new Uint8Array([1, 2, 3, 4]),
    buffer: Buffer.from([5, 6, 7]),
    nested: { f64: new Float64Array([1.5, -2]) },
    map: new Map([["i64", new BigInt64Array([3n, -4n])]]),
    view: new DataView(new Uint8Array([8, 9, 10]).buffer),
    // A window on a larger buffer arrives as its own bytes, as structured
    // clone sends a view of a whole buffer.
    part: new Uint16Array(new Uint16Array([0, 11, 12, 0]).buffer, 2, 2),
  };
  const expected = [[0, 4, 4], [0, 3, 3], [0, 16, 16], [0, 16, 16], [0, 3, 3], [
    0,
    4,
    4,
  ]];
  const pool = new ctx.Pool(1);
  try {
    const { value: back, layouts } = await pool.apply(echoViews, [value]) as {
      value: typeof value;
      layouts: number[][];
    };
    deepEqual(layouts, expected, "as the child received them");
    deepEqual(viewLayouts(back), expected, "as the parent received them");
    deepEqual([...back.u8], [1, 2, 3, 4]);
    ok(Buffer.isBuffer(back.buffer));
    deepEqual([...back.buffer], [5, 6, 7]);
    deepEqual([...back.nested.f64], [1.5, -2]);
    deepEqual([...back.map.get("i64")!], [3n, -4n]);
    deepEqual(
      [0, 1, 2].map((i) => back.view.getUint8(i)),
      [8, 9, 10],
    );
    deepEqual([...back.part], [11, 12]);
  } finally {
    await pool.close();
    await pool.join();
  }
});
