// Per-worker permissions: for each kind, a denied operation fails inside the
// child and a granted one works. The probe exits 0 on success, 77 when Deno
// refused for lack of permission, 78 on any other failure.
import { equal, match, throws } from "node:assert/strict";
import { Process, type WorkerPermissions } from "../mod.ts";
import { fixture, runDeno, type RunResult } from "./_run.ts";

const probe = fixture("permission_targets", "probe");

async function run(
  kind: string,
  arg: string,
  permissions: WorkerPermissions,
): Promise<number> {
  const p = new Process({ target: probe, args: [kind, arg], permissions });
  p.start();
  return (await p.join())!;
}

async function check(
  kind: string,
  arg: string,
  granted: WorkerPermissions,
): Promise<void> {
  equal(
    await run(kind, arg, "none"),
    77,
    `${kind} must be denied under "none"`,
  );
  equal(await run(kind, arg, granted), 0, `${kind} must work when granted`);
}

Deno.test("permissions.read denies and grants file reads in the child", async () => {
  const file = await Deno.makeTempFile();
  try {
    await check("read", file, { read: [file] });
    equal(await run("read", file, { read: ["/nonexistent-dir"] }), 77);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("permissions.write denies and grants file writes in the child", async () => {
  const file = await Deno.makeTempFile();
  try {
    await check("write", file, { write: [file] });
    equal(await Deno.readTextFile(file), "written by a child");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("permissions.net and permissions.import gate a loopback server", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response("export const answer = 42;", {
        headers: { "content-type": "application/javascript" },
      }),
  );
  const host = `127.0.0.1:${server.addr.port}`;
  try {
    await check("net", `http://${host}/`, { net: [host] });
    await check("import", `http://${host}/module.js`, { import: [host] });
  } finally {
    await server.shutdown();
  }
});

Deno.test("permissions.env denies and grants environment access in the child", async () => {
  await check("env", "HOME", { env: ["HOME"] });
});

Deno.test("permissions.run denies and grants subprocesses in the child", async () => {
  await check("run", "true", { run: ["true"] });
});

Deno.test("permissions.sys denies and grants system information in the child", async () => {
  await check("sys", "", { sys: ["hostname"] });
});

Deno.test("permissions.ffi denies and grants dynamic libraries in the child", async () => {
  await check("ffi", "libc.so.6", { ffi: true });
});

Deno.test('a child with permissions "none" still loads and runs its target', async () => {
  const p = new Process({
    target: fixture("permission_targets", "noop"),
    permissions: "none",
  });
  p.start();
  equal(await p.join(), 0);
});

Deno.test("new Process() rejects malformed permissions", () => {
  throws(
    () => new Process({ permissions: "all" as never }),
    /'permissions' must be/,
  );
  throws(
    () => new Process({ permissions: { disk: true } as never }),
    /'permissions.disk' must be one of/,
  );
  throws(
    () => new Process({ permissions: { read: 1 } as never }),
    /'permissions.read' must be/,
  );
});

Deno.test("asking for more than the parent has is a catchable NotCapable", async () => {
  const result = await runDeno(
    ["run", "--allow-read", "tests/fixtures/exit_scenarios.ts", "escalate"],
    30,
  );
  equal(result.code, 0, result.stderr);
  match(
    result.stdout,
    /^NotCapable: Cannot start process as 'permissions' must not exceed the parent's/,
  );
});

const folder = (path: string) => path.replace(/\/[^/]*$/, "");

// A program that asks for permissions, in a folder of its own: `files`
// (deno.json files, say) are written there first, and it runs from the
// folder of `main`.
async function standalone(
  flags: string[],
  { files = {}, main = "main.ts", args = [] }: {
    files?: Record<string, string>;
    main?: string;
    args?: string[];
  } = {},
): Promise<RunResult> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(folder(`${dir}/${name}`), { recursive: true });
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const script = `${dir}/${main}`;
    await Deno.mkdir(folder(script), { recursive: true });
    await Deno.writeTextFile(
      script,
      `import { Process } from ${
        JSON.stringify(new URL("../mod.ts", import.meta.url).href)
      };
export function noop(): void {}
if (import.meta.main) {
  try {
    const p = new Process({ target: noop, permissions: "none" });
    p.start();
    console.log("exit code " + await p.join());
  } catch (error) {
    console.log(error.name + ": " + error.message);
  }
}
`,
    );
    return await runDeno(["run", ...flags, script, ...args], 30, {
      cwd: folder(script),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("permissions are a TypeError, not exit 70, when the command line shows the worker options off", async () => {
  const result = await standalone(["--allow-all"]);
  equal(result.code, 0, result.stderr);
  match(
    result.stdout,
    /^TypeError: Cannot create process as 'permissions' needs Deno's worker options: they are not enabled/,
  );
  match(result.stdout, /--unstable-worker-options/);
});

Deno.test("permissions are a TypeError when the command line shows no flag and deno.json does not list the worker options", async () => {
  const result = await standalone(["--allow-all"], {
    files: { "deno.json": '{ "unstable": ["kv"] }' },
  });
  equal(result.code, 0, result.stderr);
  match(result.stdout, /^TypeError: .*deno\.json does not list them/);
});

Deno.test("permissions work with --allow-read --unstable-worker-options and no deno.json", async () => {
  const result = await standalone([
    "--allow-read",
    "--unstable-worker-options",
  ]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "exit code 0\n");
});

Deno.test("permissions work when worker options come from the command line", async () => {
  const result = await standalone(["--allow-all", "--unstable-worker-options"]);
  equal(result.stdout, "exit code 0\n", result.stderr);
});

Deno.test("a workspace member inherits the worker options of its root's deno.json", async () => {
  const files = {
    "deno.json":
      '{ "workspace": ["./member"], "unstable": ["worker-options"] }',
    "member/deno.json": '{ "name": "@test/member", "exports": "./main.ts" }',
  };
  // --allow-all: the command line is readable, so only the workspace root
  // can make this work.
  const result = await standalone(["--allow-all"], {
    files,
    main: "member/main.ts",
  });
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "exit code 0\n");
});

Deno.test("permissions are trusted when nothing readable can tell: Deno then names the missing flag", async () => {
  // Under --allow-read the flag cannot be seen, so the library creates the
  // worker; without the flag Deno ends the program with its own message.
  const result = await standalone(["--allow-read"]);
  equal(result.code, 70, result.stdout);
  match(result.stderr, /--unstable-worker-options/);
});

Deno.test("--no-config is seen when the command line can be read", async () => {
  const result = await standalone(["--allow-all", "--no-config"]);
  match(result.stdout, /^TypeError: .*--no-config/);
});

Deno.test("the program's own arguments are not read as Deno's flags", async () => {
  // The same words after the script are the program's: Deno ignores them.
  const on = await standalone(["--allow-all"], {
    args: ["--unstable-worker-options"],
  });
  equal(on.code, 0, on.stderr);
  match(on.stdout, /^TypeError: .*they are not enabled/);
  const off = await standalone(["--allow-all"], {
    files: { "deno.json": '{ "unstable": ["worker-options"] }' },
    args: ["--no-config", "--config", "elsewhere.json"],
  });
  equal(off.stdout, "exit code 0\n", off.stderr);
});

Deno.test("a child makes a pool with permissions of its own (a worker has no main module)", async () => {
  const p = new Process({
    target: fixture("permission_targets", "sandboxedPool"),
  });
  p.start();
  equal(await p.join(), 0);
});

Deno.test('a child with permissions "none" still rebuilds shared objects it receives', async () => {
  const { Value } = await import("../mod.ts");
  const counter = new Value("i", 41);
  const p = new Process({
    target: fixture("permission_targets", "increment"),
    args: [counter],
    permissions: "none",
  });
  p.start();
  equal(await p.join(), 0);
  equal(counter.value, 42);
});
