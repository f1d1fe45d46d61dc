// Document 003, "2. Pool Class": Pool(processes=4) maps square over a list.
import { Pool } from "@dmp/multiprocessing";

export function square(num: number): number {
  return num * num;
}

if (import.meta.main) {
  const numbers = [1, 2, 3, 4, 5];
  let results: number[];
  {
    await using pool = new Pool(4);
    results = await pool.map(square, numbers);
  }
  console.log(`[${results.join(", ")}]`); // Output: [1, 4, 9, 16, 25]
}
