// Tests of the examples runner: the .out parser, the matcher, and the CLI run
// over throwaway examples in tests/fixtures/examples/ (900 passes, 901 fails,
// 902 has no .out, 903 hangs).
import assert from "node:assert/strict";
import {
  ExpectationSyntaxError,
  kDefaultTimeoutSeconds,
  matchRun,
  outputLines,
  parseExpectation,
} from "../tools/_expectations.ts";
import { discover, type Io, main, select } from "../tools/run_examples.ts";
import { runDeno } from "./_run.ts";

const fixtures = "tests/fixtures/examples";

function run(stdout: string, exitCode = 0, stderr = "") {
  return { exitCode, stdout, stderr };
}

Deno.test("parseExpectation() reads directives, markers and patterns", () => {
  const e = parseExpectation(
    [
      "# a comment",
      "@flags --allow-read --allow-env=HOME",
      "@flags -q",
      "@exit 3",
      "@timeout 2.5",
      "first",
      "",
      "[unordered]",
      "~x\\d+",
      "\\[not a marker]",
      "[ordered]",
      "last   ",
      "[stderr]",
      "oops",
    ].join("\n"),
  );
  assert.deepEqual(e.flags, ["--allow-read", "--allow-env=HOME", "-q"]);
  assert.equal(e.exitCode, 3);
  assert.equal(e.timeoutSeconds, 2.5);
  assert.deepEqual(
    e.stdout.map((b) => [b.mode, b.patterns.map((p) => [p.source, p.regex])]),
    [
      ["ordered", [["first", false]]],
      ["unordered", [["x\\d+", true], ["[not a marker]", false]]],
      ["ordered", [["last", false]]],
    ],
  );
  assert.deepEqual(e.stderr?.map((p) => p.source), ["oops"]);
  assert.equal(e.stdout[1].patterns[0].line, 9);
});

Deno.test("parseExpectation() uses the defaults when nothing is given", () => {
  const e = parseExpectation("only line\n");
  assert.deepEqual(e.flags, []);
  assert.equal(e.exitCode, 0);
  assert.equal(e.timeoutSeconds, kDefaultTimeoutSeconds);
  assert.equal(e.stderr, undefined);
});

Deno.test("parseExpectation() throws naming the file and line when the syntax is wrong", () => {
  const cases: [string, RegExp][] = [
    ["ok\n@color red", /^x\.out:2: unknown directive '@color'/],
    ["[sorted]", /^x\.out:1: unknown marker '\[sorted\]'/],
    ["@exit zero", /^x\.out:1: @exit takes one integer/],
    ["@exit 0\n@exit 1", /^x\.out:2: @exit given twice/],
    ["@exit 256", /@exit takes one integer from 0 to 255/],
    ["@timeout -1", /@timeout takes one positive number/],
    ["@flags run.ts", /@flags takes deno run flags/],
    ["~(unclosed", /^x\.out:1: invalid regular expression/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseExpectation(text, "x.out"),
      (e) => e instanceof ExpectationSyntaxError && message.test(e.message),
      text,
    );
  }
});

Deno.test("outputLines() drops trailing whitespace and trailing blank lines", () => {
  assert.deepEqual(outputLines("a  \r\n\nb\t\n\n\n"), ["a", "", "b"]);
  assert.deepEqual(outputLines(""), []);
});

Deno.test("matchRun() passes when ordered and unordered blocks are met", () => {
  const e = parseExpectation(
    "start\n[unordered]\nb\n~a|c\na\n[ordered]\n~n=\\d+\nend",
  );
  const result = matchRun(e, run("start\na\nc\nb\nn=42\nend\n\n"));
  assert.deepEqual(result.problems, []);
  assert.ok(result.ok);
});

Deno.test("matchRun() pairs patterns one-to-one when a greedy choice would fail", () => {
  // "~.*" listed first would take "a" greedily and leave "a" without a line.
  const e = parseExpectation("[unordered]\n~.*\na");
  assert.ok(matchRun(e, run("a\nb")).ok);
  assert.ok(!matchRun(e, run("b\nb")).ok);
});

Deno.test("matchRun() fails when an unordered line lies outside its block", () => {
  const e = parseExpectation("[unordered]\nx\ny\n[ordered]\nz");
  const result = matchRun(e, run("x\nz\ny"));
  assert.ok(!result.ok);
  assert.match(result.problems[0], /no line for "y" \(\.out line 3\)/);
  assert.deepEqual(result.stdoutReport, [
    { kind: " ", text: "x" },
    { kind: "-", text: "y" },
    { kind: "+", text: "z" },
    { kind: "-", text: "z" },
    { kind: "+", text: "y" },
  ]);
});

Deno.test("matchRun() fails with a diff when an ordered line differs", () => {
  const e = parseExpectation("hello\ngoodbye");
  const result = matchRun(e, run("hello\nworld\n"));
  assert.deepEqual(result.problems, [
    'stdout line 2: expected "goodbye" (.out line 2), got "world"',
  ]);
  assert.deepEqual(result.stdoutReport, [
    { kind: " ", text: "hello" },
    { kind: "-", text: "goodbye" },
    { kind: "+", text: "world" },
  ]);
});

Deno.test("matchRun() fails when stdout has unaccounted or missing lines", () => {
  const e = parseExpectation("one");
  assert.match(
    matchRun(e, run("one\ntwo\nthree")).problems[0],
    /stdout line 2: unexpected "two" \(and 1 more lines\)/,
  );
  assert.match(
    matchRun(e, run("")).problems[0],
    /stdout ended before "one"/,
  );
  assert.match(
    matchRun(parseExpectation("[unordered]\na\nb"), run("a")).problems[0],
    /no line for "b"/,
  );
});

Deno.test("matchRun() fails when a regex matches only part of a line", () => {
  const e = parseExpectation("~\\d+");
  assert.ok(matchRun(e, run("12")).ok);
  assert.ok(!matchRun(e, run("12 apples")).ok);
});

Deno.test("matchRun() checks the exit code unless the run was killed", () => {
  const e = parseExpectation("@exit 1\nx");
  assert.ok(matchRun(e, run("x", 1)).ok);
  assert.deepEqual(matchRun(e, run("x", 0)).problems, [
    "exit code 0, expected 1",
  ]);
  assert.ok(matchRun(e, { ...run("x"), exitCode: null }).ok);
});

Deno.test("matchRun() finds stderr lines in order with others between them", () => {
  const e = parseExpectation("[stderr]\nfirst\n~sec.nd");
  assert.ok(matchRun(e, run("", 0, "noise\nfirst\nmore\nsecond\ntail")).ok);
  const swapped = matchRun(e, run("", 0, "second\nfirst"));
  assert.match(swapped.problems[0], /stderr: no line for "~sec\.nd"/);
});

Deno.test("matchRun() fails on stderr output when there is no [stderr] section", () => {
  const result = matchRun(parseExpectation("x"), run("x", 0, "error: boom"));
  assert.match(result.problems[0], /unexpected stderr output .*"error: boom"/);
});

Deno.test("discover() finds <doc>/*.ts and skips files starting with _", async () => {
  const found = await discover(fixtures);
  assert.deepEqual(found.map((e) => e.name), [
    "900/pass",
    "901/wrong_exit",
    "901/wrong_output",
    "902/no_expectation",
    "903/hangs",
  ]);
  assert.deepEqual(found[0], {
    name: "900/pass",
    document: "900",
    file: `${fixtures}/900/pass.ts`,
    outFile: `${fixtures}/900/pass.out`,
  });
});

Deno.test("select() keeps examples by document or name and rejects a filter that matches nothing", async () => {
  const found = await discover(fixtures);
  assert.deepEqual(select(found, ["901"]).map((e) => e.name), [
    "901/wrong_exit",
    "901/wrong_output",
  ]);
  assert.deepEqual(select(found, ["pass", "hang"]).map((e) => e.name), [
    "900/pass",
    "903/hangs",
  ]);
  assert.throws(
    () => select(found, ["900", "nothing"]),
    /^Error: Unknown filter 'nothing'/,
  );
});

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    tty: false,
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
  };
  return io;
}

Deno.test("main() passes an example whose output matches its .out", async () => {
  const io = capture();
  const code = await main(["--dir", fixtures, "--json", "900"], io);
  const report = JSON.parse(io.stdout);
  assert.equal(code, 0, io.stderr);
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.examples.map((e: { name: string; status: string }) => [
      e.name,
      e.status,
    ]),
    [["900/pass", "pass"]],
  );
  assert.deepEqual(report.examples[0].flags, ["--allow-env=NO_COLOR"]);
  assert.match(io.stderr, /900\/pass +900 +pass +\d+\.\d\d s/);
});

Deno.test("main() reports failing, unchecked and hanging examples and returns 1", async () => {
  const io = capture();
  const code = await main(["--dir", fixtures, "--json", "90"], io);
  assert.equal(code, 1);
  const report = JSON.parse(io.stdout);
  const byName = Object.fromEntries(
    report.examples.map((e: { name: string }) => [e.name, e]),
  );
  assert.equal(report.passed, 1);
  assert.equal(report.failed, 4);
  assert.equal(byName["901/wrong_output"].status, "fail");
  assert.deepEqual(byName["901/wrong_output"].problems, [
    'stdout line 2: expected "goodbye" (.out line 3), got "world"',
  ]);
  assert.equal(byName["901/wrong_exit"].status, "fail");
  assert.deepEqual(byName["901/wrong_exit"].problems, [
    "exit code 3, expected 0",
  ]);
  assert.equal(byName["902/no_expectation"].status, "no-expectation");
  assert.equal(byName["903/hangs"].status, "timeout");
  assert.equal(byName["903/hangs"].exitCode, null);
  assert.match(io.stderr, /FAIL 901\/wrong_output/);
  assert.match(io.stderr, /5 examples: 1 passed, 4 failed/);
});

Deno.test("main() --verbose shows the outputs and a diff of the mismatch", async () => {
  const io = capture();
  const code = await main(["--dir", fixtures, "--verbose", "wrong_output"], io);
  assert.equal(code, 1);
  assert.match(io.stdout, /command: deno run .*901\/wrong_output\.ts/);
  assert.match(io.stdout, /\n {5}hello\n {3}- goodbye\n {3}\+ world\n/);
});

Deno.test("main() --list names the examples and their flags without running them", async () => {
  const io = capture();
  assert.equal(await main(["--dir", fixtures, "--list", "900", "902"], io), 0);
  assert.equal(
    io.stdout,
    "900/pass            --allow-env=NO_COLOR\n902/no_expectation  (no-expectation)\n",
  );
});

Deno.test("main() returns 2 with a one-line error for bad usage", async () => {
  const cases: [string[], RegExp][] = [
    [["--frob"], /^error: Unknown option '--frob' \(see --help\)\n$/],
    [["--dir", fixtures, "nothing"], /^error: Unknown filter 'nothing'.*\n$/],
    [["--jobs", "0"], /^error: --jobs must be a positive integer.*\n$/],
    [
      ["--dir", "no/such/dir"],
      /^error: examples folder 'no\/such\/dir' does not exist\n$/,
    ],
  ];
  for (const [args, message] of cases) {
    const io = capture();
    assert.equal(await main(args, io), 2, args.join(" "));
    assert.match(io.stderr, message);
    assert.equal(io.stdout, "");
  }
});

Deno.test("deno task examples exits non-zero and names the failure when an example fails", async () => {
  const { code, stdout, stderr } = await runDeno([
    "task",
    "-q",
    "examples",
    "--dir",
    fixtures,
    "pass",
    "wrong_output",
  ]);
  assert.equal(code, 1, stderr);
  assert.match(stdout, /^ok {3}900\/pass \(\d+\.\d\d s\)$/m);
  assert.match(stdout, /^FAIL 901\/wrong_output/m);
  assert.match(stdout, /^901\/wrong_output +901 +fail /m);
  assert.match(stdout, /2 examples: 1 passed, 1 failed/);
});

Deno.test("deno task examples exits 2 with one line for an unknown flag", async () => {
  const { code, stdout, stderr } = await runDeno([
    "task",
    "-q",
    "examples",
    "--nope",
  ]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(stderr, "error: Unknown option '--nope' (see --help)\n");
});

Deno.test("main() runs examples with --start-method through a preload and names it in the table", async () => {
  const io = capture();
  const code = await main(
    ["--dir", fixtures, "--json", "--start-method", "subprocess", "900"],
    io,
  );
  assert.equal(code, 0, io.stderr);
  assert.match(io.stderr, /status +time +start method/);
  assert.match(io.stderr, /900\/pass +900 +pass +\d+\.\d\d s +subprocess/);
  const bad = capture();
  assert.equal(await main(["--start-method", "fork"], bad), 2);
  assert.match(
    bad.stderr,
    /--start-method must be one of spawn, forkserver, subprocess/,
  );
});
