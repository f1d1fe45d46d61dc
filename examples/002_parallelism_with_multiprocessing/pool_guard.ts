// Document 002, "Common Gotchas: The if __name__ == '__main__' Guard": each
// pool worker imports this module again, so the pool is created only under
// `if (import.meta.main)`.
import { Pool } from "@dmp/multiprocessing";

export function cube(x: number): number {
  return x ** 3;
}

if (import.meta.main) {
  await using pool = new Pool(4);
  // Pool code here
  console.log(`[${(await pool.map(cube, [1, 2, 3, 4])).join(", ")}]`);
}
