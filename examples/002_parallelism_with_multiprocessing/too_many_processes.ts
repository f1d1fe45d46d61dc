// Document 002, "Common Gotchas: Too Many Processes": size the pool by the
// number of cores; more workers than cores only adds switching.
import { cpuCount, Pool } from "@dmp/multiprocessing";

export function double(x: number): number {
  return x * 2;
}

if (import.meta.main) {
  // Good: match to available cores
  const cores = cpuCount();
  const pool = new Pool(cores);
  console.log(`Pool of ${pool.processes} workers for ${cores} cores`);
  const results = await pool.map(
    double,
    Array.from({ length: 8 }, (_, i) => i),
  );
  console.log(`[${results.join(", ")}]`);
  pool.close();
  await pool.join();
}
