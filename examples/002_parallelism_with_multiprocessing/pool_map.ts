// Document 002, "Creating a Simple Pool": Pool(4).map of square over range(10).
import { Pool } from "@dmp/multiprocessing";

export function square(x: number): number {
  return x ** 2;
}

if (import.meta.main) {
  await using pool = new Pool(4);
  const results = await pool.map(
    square,
    Array.from({ length: 10 }, (_, i) => i),
  );
  console.log(`[${results.join(", ")}]`);
  // [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]
}
