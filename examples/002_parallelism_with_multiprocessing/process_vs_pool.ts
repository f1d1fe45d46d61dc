// Document 002, "Process vs Pool": the same function run both ways.
import { Pool, Process } from "@dmp/multiprocessing";

export function myFunction(x: number): number {
  const result = x * 2;
  console.log(`myFunction(${x}) = ${result}`);
  return result;
}

if (import.meta.main) {
  // Direct process: more control, more boilerplate
  const p = new Process({ target: myFunction, args: [21] });
  p.start();
  await p.join();
  console.log(`Process exit code: ${p.exitCode}`);

  // Pool: simpler for parallelizable tasks
  await using pool = new Pool(4);
  const results = await pool.map(myFunction, [1, 2, 3]);
  console.log(`Pool results: [${results.join(", ")}]`);
}
