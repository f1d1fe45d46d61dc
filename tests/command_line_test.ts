// Deno's command line, split into its flags and the program's arguments:
// the same words after the script belong to the program.

import { deepEqual } from "node:assert/strict";
import { argvOf, parseCommandLine } from "../src/_core/command_line.ts";

Deno.test("parseCommandLine() keeps Deno's flags, with separate values, and leaves the script's arguments", () => {
  deepEqual(
    parseCommandLine(
      ["deno", "run", "-A", "--config", "c.json", "main.ts", "--no-config"],
      1,
    ),
    { flags: ["-A", "--config", "c.json"], script: "main.ts" },
  );
  // An implicit run, and a script named like a flag's value.
  deepEqual(
    parseCommandLine(["deno", "--seed=3", "run", "x", "y"], 2),
    { flags: ["--seed=3"], script: "run" },
  );
  deepEqual(parseCommandLine(["deno", "run", "main.ts"], 0), {
    flags: [],
    script: "main.ts",
  });
});

Deno.test("parseCommandLine() reads test and bench command lines up to --", () => {
  deepEqual(
    parseCommandLine(
      [
        "deno",
        "test",
        "-A",
        "a_test.ts",
        "--filter",
        "x",
        "b_test.ts",
        "--",
        "--deny-read",
      ],
      1,
    ),
    { flags: ["-A", "--filter", "x"] },
  );
});

Deno.test("argvOf() splits a cmdline file's NUL-terminated arguments", () => {
  const bytes = new TextEncoder().encode("deno\0run\0a b.ts\0\0x\0");
  deepEqual(argvOf(bytes), ["deno", "run", "a b.ts", "", "x"]);
  deepEqual(argvOf(new Uint8Array()), undefined);
});
