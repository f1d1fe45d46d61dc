// Document 000, "Method 2: Using a Process Pool (Recommended)": a Pool with
// one worker per CPU maps square_number over a list.
import { cpuCount, Pool } from "@dmp/multiprocessing";

export function squareNumber(x: number): number {
  return x * x;
}

if (import.meta.main) {
  const data = [1, 2, 3, 4, 5];
  // Check available CPUs
  const cores = cpuCount();
  console.log(`Distributing work across ${cores} cores.`);
  // `await using` terminates the pool at the end of the block, like `with`.
  {
    await using pool = new Pool(cores);
    // Map inputs to the function in parallel: like data.map(squareNumber).
    const results = await pool.map(squareNumber, data);
    console.log(`Results: [${results.join(", ")}]`);
  }
}
