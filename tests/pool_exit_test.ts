// What keeps a program with a pool running: a task the program waits for
// (apply, map, an executor's future, a wait in get(), wait() or join()),
// never an AsyncResult nobody waits for. CPython's pool ends with the
// program, so a task that never answers must not hold it forever.
// tests/fixtures/pool_exit_program.ts holds the programs.

import { equal } from "node:assert/strict";
import { runDeno } from "./_run.ts";

const kScenarios: Record<string, string> = {
  // A task stuck for good, its AsyncResult never read: the program ends.
  "stuck-closed": "[ 1, 4, 9 ]\nmain end\n",
  "stuck-open": "16\nmain end\n",
  // A map that failed, an imap left early: their other chunks, stuck for
  // good, hold nothing (they did).
  "map-failed": "zero fails\nmain end\n",
  "imap-left": "1\nmain end\n",
  // Only a wait holds these tasks: the program ends after their results.
  get: "25\n[ 36 ]\n[ 49 ]\nmain end\n",
  wait: "true 64\nmain end\n",
  join: "81\nmain end\n",
  // An executor's futures hold the program, as concurrent.futures' do.
  executor: "main end\n100\n",
  "executor-stuck": "BrokenProcessPoolError\nmain end\n",
};

for (const atomics of ["enabled", "disabled"]) {
  Deno.test(`a pool holds the program only for what it waits for (atomics ${atomics})`, async () => {
    const runs = Object.entries(kScenarios).map(
      async ([scenario, expected]) => {
        const result = await runDeno([
          "run",
          "--allow-read",
          "tests/fixtures/pool_exit_program.ts",
          scenario,
          atomics,
        ]);
        // A hang ends in runDeno's timeout (code -1), never in this test's.
        equal(result.code, 0, `${scenario}: ${result.stderr}`);
        equal(result.stdout, expected, scenario);
      },
    );
    await Promise.all(runs);
  });
}
