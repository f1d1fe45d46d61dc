// Targets imported from other modules: the tasks live in their own module,
// as in most programs, and this test module imports them under every shape
// an import can take (it is itself "the calling module").

import {
  deepEqual,
  equal,
  match,
  ok as assert,
  rejects,
} from "node:assert/strict";
import {
  getContext,
  Pool,
  Process,
  ProcessPoolExecutor,
  Queue,
} from "../mod.ts";
import { basename } from "node:path";
import * as nodePath from "node:path";
import { runDeno } from "./_run.ts";
import {
  addBase,
  cube,
  cube as c,
  Cuber,
  CubeReporter,
  makeAdder,
  reportCallerRan,
  reportCube,
  setBase,
} from "./fixtures/imported/tasks.ts";
import * as t from "./fixtures/imported/tasks.ts";
import triple from "./fixtures/imported/tasks.ts";
import { writeCell } from "./fixtures/imported/slow_tasks.ts";
import {
  describeSelf,
  exitWith,
  fail,
  reportLight,
  writeLater,
} from "./fixtures/imported/plain_tasks.ts";
import {
  addToBase,
  cube as barrelCube,
  reportCube as barrelReport,
} from "./fixtures/imported/barrel.ts";
import { parallelMap, runInProcess } from "./fixtures/imported/helper_pools.ts";
import Box from "./fixtures/imported/default_classes.ts";
import Oops from "./fixtures/imported/default_error.ts";
import {
  makeBox,
  readBox,
  throwOops,
} from "./fixtures/imported/default_tasks.ts";

// This module's own top level: it runs again in any child that imports it.
(globalThis as Record<string, unknown>).importedTargetsCallerRan = true;

Deno.test("a Process child runs a target imported by name without importing the calling module", async () => {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const p = new Process({ target: reportCallerRan, args: [cell] });
  p.start();
  equal(await p.join(), 0);
  equal(cell[0], 2);
});

Deno.test("Pool.map() runs a function imported by name from another module", async () => {
  await using pool = new Pool(2);
  deepEqual(await pool.map(cube, [1, 2, 3]), [1, 8, 27]);
});

Deno.test("Pool.apply() runs an aliased, a namespace and a default import", async () => {
  await using pool = new Pool(1);
  equal(await pool.apply(c, [2]), 8);
  equal(await pool.apply(t.cube, [3]), 27);
  equal(await pool.apply(triple, [5]), 15);
});

Deno.test("Pool.apply() runs functions re-exported through a barrel, renamed or not", async () => {
  await using pool = new Pool(1, { initializer: setBase, initargs: [100] });
  equal(await pool.apply(barrelCube, [4]), 64);
  equal(await pool.apply(addToBase, [1]), 101);
});

Deno.test("Pool's initializer may be imported: it sets state the imported tasks see", async () => {
  await using pool = new Pool(2, { initializer: setBase, initargs: [10] });
  deepEqual(await pool.map(addBase, [1, 2]), [11, 12]);
});

Deno.test("ProcessPoolExecutor.submit() runs imported functions, its initializer too", async () => {
  await using ex = new ProcessPoolExecutor({
    maxWorkers: 1,
    initializer: t.setBase,
    initargs: [7],
  });
  equal(await ex.submit(t.addBase, 1), 8);
  equal(await ex.submit(triple, 2), 6);
  deepEqual(await Array.fromAsync(await ex.map(c, [2, 3])), [8, 27]);
});

Deno.test("Pool with atomics disabled runs imported functions by postMessage", async () => {
  await using pool = new Pool(1, { atomics: "disabled" });
  equal(await pool.apply(t.cube, [2]), 8);
  equal(await pool.apply(addToBase, [2]), 2);
});

Deno.test("Process runs an imported target, named, aliased, namespaced or from a barrel", async () => {
  const queue = new Queue<number>();
  const targets = [reportCube, t.reportCube, barrelReport];
  for (const [i, target] of targets.entries()) {
    const p = new Process({ target, args: [queue, i + 2] });
    p.start();
    equal(await p.join(), 0);
    equal(await queue.get(), (i + 2) ** 3);
  }
  queue.close();
});

Deno.test("a Process subclass imported from another module runs its run()", async () => {
  const queue = new Queue<number>();
  const p = new CubeReporter(queue, 5);
  p.start();
  equal(await p.join(), 0);
  equal(await queue.get(), 125);
  // With or without a constructor of its own, the subclass's constructor is
  // the first frame outside the library: its own module is the reference.
  const q = Object.assign(new Cuber(), { queue, x: 2 });
  q.start();
  equal(await q.join(), 0);
  equal(await queue.get(), 8);
  queue.close();
});

Deno.test("Process runs a target whose module awaits at its top level", async () => {
  // The child's first message arrives while it still imports that module,
  // dynamically (the parent's permissions) or statically (sandboxed).
  for (const permissions of ["inherit", "none"] as const) {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const p = new Process({ target: writeCell, args: [cell, 7], permissions });
    p.start();
    const code = await p.join(30);
    if (code === null) p.terminate();
    equal(code, 0, permissions);
    equal(cell[0], 7, permissions);
  }
});

Deno.test("Process with a sandboxed child runs an imported target", async () => {
  const queue = new Queue<number>();
  const p = new Process({
    target: reportCube,
    args: [queue, 3],
    permissions: "none",
  });
  p.start();
  equal(await p.join(), 0);
  equal(await queue.get(), 27);
  queue.close();
});

Deno.test("Pool with sandboxed workers runs a function its creator imports", async () => {
  await using pool = new Pool(1, { permissions: "none" });
  equal(await pool.apply(c, [2]), 8);
  equal(await pool.apply(addToBase, [3]), 3);
});

Deno.test("a pool runs a built-in module's function imported by name or through a namespace", async () => {
  await using pool = new Pool(1);
  deepEqual(await pool.map(basename, ["/a/b.txt", "c/d"]), ["b.txt", "d"]);
  deepEqual(await pool.map(nodePath.extname, ["/a/b.txt"]), [".txt"]);
});

Deno.test("instances and errors of anonymous default-exported classes travel as their class", async () => {
  await using pool = new Pool(1);
  const box = await pool.apply(makeBox);
  assert(box instanceof Box);
  equal(box.x, 1);
  equal(await pool.apply(readBox, [new Box()]), 1);
  await rejects(pool.apply(throwOops), (error: unknown) => {
    assert(error instanceof Oops);
    equal(error.code, 7);
    return true;
  });
});

/** Declared here and passed to a helper module's pool. */
export function negate(x: number): number {
  return -x;
}

Deno.test("a pool made in a helper module runs functions its caller imports or declares", async () => {
  deepEqual(await parallelMap(cube, [1, 2, 3]), [1, 8, 27]);
  deepEqual(await parallelMap(c, [2]), [8]);
  deepEqual(await parallelMap(negate, [1, 2]), [-1, -2]);
});

Deno.test("a sandboxed pool made in a helper module that cannot import its caller's function says how to fix it", async () => {
  // The worker imports what the pool's module imports at its start, and
  // nothing later under its own permissions.
  await rejects(
    parallelMap(cube, [1, 2], "none"),
    // Whether its reference names tasks.ts (as an earlier call from this
    // module made it) or lists it as a candidate, the refusal is named.
    /(refused by the worker's own permissions: grant it|its own permissions refused) .*fixtures\/imported\/tasks\.ts/,
  );
});

Deno.test("a Process started in a helper module runs a target its caller imports", async () => {
  const queue = new Queue<number>();
  equal(await runInProcess(reportCube, [queue, 3]), 0);
  equal(await queue.get(), 27);
  queue.close();
});

Deno.test("Pool.apply() of a closure from another module fails with the fix named", async () => {
  await using pool = new Pool(1);
  await rejects(pool.apply(makeAdder(1), [1]), (error: Error) => {
    match(
      error.message,
      /function 'add' must be exported from its module: it is not exported from file:.*imported_targets_test\.ts nor from the modules it imports it from/,
    );
    match(error.message, /closures and methods cannot be targets/);
    return true;
  });
});

Deno.test("a target from an http:// module (as npm: and https: ones) runs in a pool and a Process", async () => {
  // A module that is only reachable by URL, served from this process: the
  // program that imports it runs as its own `deno run`.
  const source = await Deno.readTextFile(
    new URL("./fixtures/imported/remote_tasks.js", import.meta.url),
  );
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(source, {
        headers: { "content-type": "application/javascript" },
      }),
  );
  const dir = await Deno.makeTempDir({
    dir: new URL("./fixtures/imported/", import.meta.url).pathname,
    prefix: "remote_",
  });
  try {
    const main = `${dir}/main.ts`;
    const port = server.addr.port;
    await Deno.writeTextFile(
      main,
      `import { quadruple } from "http://127.0.0.1:${port}/remote_tasks.js";
import { Pool, Process } from "../../../../mod.ts";
if (import.meta.main) {
  await using pool = new Pool(1);
  console.log(await pool.map(quadruple, [1, 2]));
  const p = new Process({ target: quadruple, args: [1] });
  p.start();
  console.log(await p.join());
}
`,
    );
    const result = await runDeno([
      "run",
      "--allow-read",
      `--allow-import=127.0.0.1:${port}`,
      "--reload=http://127.0.0.1",
      main,
    ]);
    equal(result.stderr.includes("Error"), false, result.stderr);
    equal(result.stdout, "[ 4, 8 ]\n0\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A "subprocess" child, which imports its modules statically, always has its
// Process object; Web Worker children have one only when their code uses it.
for (const method of ["spawn", "forkserver"] as const) {
  const { Process: P } = getContext(method);

  Deno.test(`a target whose module does not import the library ends as Process.run() would [${method}]`, async () => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const runs = [
      new P({ target: writeLater, args: [cell, 5] }),
      new P({ target: fail, args: ["no"] }),
      new P({ target: exitWith, args: [3] }),
    ];
    // The failing child prints its traceback, as CPython's does.
    for (const p of runs) p.start();
    deepEqual(await Promise.all(runs.map((p) => p.join())), [0, 1, 3]);
    equal(cell[0], 5);
  });

  Deno.test(`currentProcess() in a child that imports the library only later describes that child [${method}]`, async () => {
    const cell = new Int32Array(new SharedArrayBuffer(12));
    const p = new P({
      target: describeSelf,
      args: [cell, "Late-1"],
      name: "Late-1",
      daemon: true,
    });
    p.start();
    equal(await p.join(), 0);
    deepEqual([...cell], [p.pid, 1, 1]);
  });
}

Deno.test("a spawn child whose target's module does not import the library never loads the Process API", async () => {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const p = new Process({ target: reportLight, args: [cell] });
  p.start();
  equal(await p.join(), 0);
  equal(cell[0], 1);
});

/** Writes `files` (path → text) under the folder `dir`. */
async function writeFiles(
  dir: string,
  files: Record<string, string>,
): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), {
      recursive: true,
    });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
}

Deno.test("a function and a class a workspace member imports through its own import map travel by reference", async () => {
  // The member's map is not the root's, which is all the library's own
  // import.meta.resolve() sees.
  const dir = await Deno.makeTempDir({ prefix: "workspace_" });
  const files: Record<string, string> = {
    "deno.json": JSON.stringify({ workspace: ["./app"] }),
    "app/deno.json": JSON.stringify({ imports: { "@lib/": "./lib/" } }),
    "app/lib/work.ts": `export function inc(x: number): number {
  return x + 1;
}
export class Point {
  constructor(public x: number, public y: number) {}
}
export function moved(p: Point): Point | string {
  return p instanceof Point ? new Point(p.x + 1, p.y) : "not a Point";
}
`,
    "app/main.ts": `import { Pool, Process } from "${
      new URL("../mod.ts", import.meta.url).href
    }";
import { inc, moved, Point } from "@lib/work.ts";
if (import.meta.main) {
  await using pool = new Pool(2);
  console.log(await pool.map(inc, [1, 2]));
  const back = await pool.apply(moved, [new Point(1, 2)]);
  console.log(back instanceof Point, back);
  const p = new Process({ target: inc, args: [1] });
  p.start();
  console.log(await p.join());
}
`,
  };
  try {
    await writeFiles(dir, files);
    // Deno finds the workspace from the member's folder as from the root's.
    for (
      const [cwd, main] of [[dir, "app/main.ts"], [`${dir}/app`, "main.ts"]]
    ) {
      const result = await runDeno(["run", "--allow-read", main], 60, { cwd });
      equal(result.stderr.includes("Error"), false, result.stderr);
      equal(result.stdout, "[ 2, 3 ]\ntrue Point { x: 2, y: 2 }\n0\n", cwd);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bare name goes through the import map the program runs with, --config and --import-map included", async () => {
  // Two modules export the same source under one name: the pool must run
  // the one the program imported, not the nearest deno.json's.
  const dir = await Deno.makeTempDir({ prefix: "import_map_" });
  const who = (name: string) =>
    `const WHO = "${name}";\nexport function who(): string {\n  return WHO;\n}\n`;
  const files: Record<string, string> = {
    "a/mod.ts": who("a"),
    "b/mod.ts": who("b"),
    "deno.json": JSON.stringify({ imports: { "@lib/": "./a/" } }),
    "alt.json": JSON.stringify({ imports: { "@lib/": "./b/" } }),
    "main.ts": `import { Pool } from "${
      new URL("../mod.ts", import.meta.url).href
    }";
import { who } from "@lib/mod.ts";
if (import.meta.main) {
  await using pool = new Pool(1);
  console.log(who(), await pool.apply(who));
}
`,
  };
  try {
    await writeFiles(dir, files);
    for (
      const [flags, expected] of [
        [[], "a a\n"],
        [["--config", "alt.json"], "b b\n"],
        [["--import-map", "alt.json"], "b b\n"],
      ] as const
    ) {
      const result = await runDeno(
        ["run", "--allow-read", ...flags, "main.ts"],
        60,
        { cwd: dir },
      );
      equal(result.stdout, expected, `${flags.join(" ")}: ${result.stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
