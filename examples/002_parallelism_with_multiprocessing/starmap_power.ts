// Document 002, "Using Multiple Arguments": starmap unpacks each tuple into
// the function's arguments.
import { Pool } from "@dmp/multiprocessing";

export function power(base: number, exponent: number): number {
  return base ** exponent;
}

if (import.meta.main) {
  await using pool = new Pool(4);
  // Pass tuples that get unpacked as arguments
  const results = await pool.starmap(power, [[2, 3], [3, 3], [4, 3]]);
  console.log(`[${results.join(", ")}]`);
  // [8, 27, 64]
}
