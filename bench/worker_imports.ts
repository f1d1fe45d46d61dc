// What a Web Worker's start costs when its module imports this library:
// `new Worker` → its first message, for workers that import nothing, 95
// empty modules (Deno's cost per module), this library's mod.ts, and the
// same code bundled into one module (when this Deno has `deno bundle`).
// Rounds alternate the cases; medians, and each against the worker that
// imports nothing, measured in the same run.
//
//   npx -y deno@2.9.6 run -A bench/worker_imports.ts [--rounds N]
//
// Why: a spawn child's start-up is a bare worker's plus this load (the
// README's "Start methods"), so this is the floor of Process start+join and
// Pool ready with the "spawn" start method.

import { parseArgs } from "node:util";
import { median } from "../tools/_bench_format.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "15" } },
});
const rounds = Number(values.rounds);
if (!Number.isSafeInteger(rounds) || rounds < 3) {
  throw new RangeError(
    `Cannot time worker imports as '--rounds' must be an integer of at least 3: current value is ${values.rounds}`,
  );
}

const mod = new URL("../mod.ts", import.meta.url).href;
const dir = await Deno.makeTempDir({ prefix: "worker_imports_" });
const answer = "self.postMessage(0);\n";
const cases: Record<string, string> = {};

async function entry(name: string, source: string): Promise<void> {
  const path = `${dir}/${name}.js`;
  await Deno.writeTextFile(path, source + answer);
  cases[name] = `file://${path}`;
}

try {
  await entry("nothing", "");
  const chain = 95;
  for (let i = 0; i < chain; i++) {
    const next = i + 1 < chain ? `import "./m${i + 1}.js";\n` : "";
    await Deno.writeTextFile(
      `${dir}/m${i}.js`,
      `${next}export const v = ${i};\n`,
    );
  }
  await entry("95 empty modules", `import "./m0.js";\n`);
  await entry("mod.ts (its modules)", `import ${JSON.stringify(mod)};\n`);
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", mod, "-o", `${dir}/bundle.js`],
    stdout: "null",
    stderr: "null",
  }).output();
  if (bundled.success) {
    await entry("mod.ts bundled in one module", `import "./bundle.js";\n`);
  } else {
    console.log("(no `deno bundle` in this Deno: the bundled row is left out)");
  }

  const start = async (url: string): Promise<number> => {
    const began = performance.now();
    const worker = new Worker(url, { type: "module" });
    await new Promise((resolve, reject) => {
      worker.onmessage = resolve;
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
    });
    const ms = performance.now() - began;
    worker.terminate();
    return ms;
  };

  const samples = new Map<string, number[]>();
  for (const url of Object.values(cases)) await start(url); // compile caches
  for (let r = 0; r < rounds; r++) {
    for (const [name, url] of Object.entries(cases)) {
      const list = samples.get(name) ?? [];
      list.push(await start(url));
      samples.set(name, list);
    }
  }
  const base = median(samples.get("nothing")!);
  console.log(`new Worker → first message, medians of ${rounds}:`);
  for (const [name, list] of samples) {
    const ms = median(list);
    console.log(
      `  ${name.padEnd(30)} ${ms.toFixed(1).padStart(6)} ms  (+${
        (ms - base).toFixed(1)
      } ms, ${(ms / base).toFixed(2)}× nothing)`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
