// Prints this program's resident memory once N idle children are running.
// Run by process_bench.ts as a subprocess, with N = 0 and N = 8, so the two
// figures differ only by the children.
import { Process } from "../mod.ts";

const children = Number(Deno.args[0] ?? 0);
const idle = new URL("./_targets.ts#idle", import.meta.url);
const noop = new URL("./_targets.ts#noop", import.meta.url);

// Same module loading and compilation in both runs.
const warm = new Process({ target: noop });
warm.start();
await warm.join();

const ready = new Int32Array(new SharedArrayBuffer(4));
const ps = Array.from(
  { length: children },
  (_, i) => new Process({ target: idle, args: [ready, i] }),
);
for (const p of ps) p.start();
while (Atomics.load(ready, 0) < children) {
  await Atomics.waitAsync(ready, 0, Atomics.load(ready, 0), 1000).value;
}
await new Promise((resolve) => setTimeout(resolve, 200)); // let the children settle idle
console.log(Deno.memoryUsage().rss);
for (const p of ps) p.terminate();
