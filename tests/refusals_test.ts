// A refusal inside a child: Deno tells a worker "run again with the
// --allow-read flag" even when the program has that flag. The parent
// rebuilds it as the same class (Deno.errors.NotCapable) and, when it holds
// the access itself, says that the child's own permissions refused it and
// which option grants it.
import { doesNotMatch, equal, match, rejects } from "node:assert/strict";
import { Pool, ProcessPoolExecutor } from "../mod.ts";
import { fixture, runDeno } from "./_run.ts";

const readText = fixture("refusal_targets", "readText");
// Workers import the target's module under their own permissions.
const mayImport = { read: [readText.pathname] };
const file = new URL("../deno.json", import.meta.url).pathname;
const explained =
  /^Requires read access to ".*deno\.json", refused by the worker's own permissions: grant it with permissions: \{ read: \[".*deno\.json"\] \}$/;

Deno.test("Pool.apply() rejects a read refused by the workers' own permissions with NotCapable, naming the option", async () => {
  await using pool = new Pool(1, { permissions: mayImport });
  await rejects(pool.apply(readText, [file]), (error: Error) => {
    equal(error instanceof Deno.errors.NotCapable, true, String(error));
    match(error.message, explained);
    match((error.cause as Error).message, /refused by the worker's own/);
    return true;
  });
});

Deno.test("ProcessPoolExecutor.submit() fails a read refused by the workers' own permissions with NotCapable, naming the option", async () => {
  await using executor = new ProcessPoolExecutor({
    maxWorkers: 1,
    permissions: mayImport,
  });
  const error = await executor.submit(readText, file).exception();
  equal(error instanceof Deno.errors.NotCapable, true, String(error));
  match(error!.message, explained);
});

Deno.test("Pool.apply() explains an import refused by the workers' own permissions", async () => {
  await using pool = new Pool(1, { permissions: "none" });
  await rejects(
    pool.apply(readText, [file]),
    (error: Error) => error instanceof TypeError,
  );
  await rejects(
    pool.apply(readText, [file]),
    /^TypeError: Requires read access to ".*refusal_targets\.ts", refused by the worker's own permissions: grant it with permissions: \{ read: \[".*refusal_targets\.ts"\] \}$/,
  );
});

Deno.test("a Process child's refused read is explained on stderr when the program has the flag", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/refusal_targets.ts",
    "read",
    file,
  ]);
  equal(result.stdout, "exit code 1\n", result.stderr);
  match(
    result.stderr,
    /Process Process-1: Requires read access to ".*deno\.json", refused by the worker's own permissions: grant it with permissions: \{ read: \[".*deno\.json"\] \}/,
  );
});

Deno.test("a refusal the program itself lacks keeps Deno's advice to run again with the flag", async () => {
  const result = await runDeno([
    "run",
    "--allow-read",
    "tests/fixtures/refusal_targets.ts",
    "env",
    "HOME",
  ]);
  equal(result.stdout, "exit code 1\n", result.stderr);
  match(result.stderr, /run again with the --allow-env flag/);
  doesNotMatch(result.stderr, /own permissions/);
});

Deno.test("Pool.apply() explains the refused static import of a target's module, and keeps where it was imported", async () => {
  // The worker may read the barrel, not the module it re-exports from:
  // Deno's message names the refused module on its first line and the
  // importing module on the next.
  const barrel = new URL("./fixtures/imported/barrel.ts", import.meta.url);
  await using pool = new Pool(1, { permissions: { read: [barrel.pathname] } });
  await rejects(pool.apply(`${barrel.href}#cube`, [2]), (error: Error) => {
    equal(error instanceof TypeError, true, String(error));
    match(
      error.message,
      /^Requires read access to ".*imported\/tasks\.ts", refused by the worker's own permissions: grant it with permissions: \{ read: \[".*imported\/tasks\.ts"\] \}\n.*barrel\.ts/,
    );
    doesNotMatch(error.message, /run again with/);
    return true;
  });
});
