// Document 002, "A Real Example: Processing Data": several operations per
// number, the numbers spread over a Pool of 4.
import { Pool } from "@dmp/multiprocessing";

/** Calculate the nth Fibonacci number recursively. */
export function fibonacci(n: number): number {
  if (n < 2) return n;
  return fibonacci(n - 1) + fibonacci(n - 2);
}

/** Apply multiple operations to a number. */
export function processNumber(n: number) {
  return {
    input: n,
    fib: fibonacci(Math.min(n, 20)), // Cap to avoid overflow
    sqrt: Math.sqrt(n),
    log: n > 0 ? Math.log(n) : null,
  };
}

if (import.meta.main) {
  const numbers = [10, 15, 20, 25, 30, 35, 40];
  await using pool = new Pool(4);
  const results = await pool.map(processNumber, numbers);
  for (const r of results) {
    console.log(
      `Number: ${r.input}, Fib: ${r.fib}, Sqrt: ${r.sqrt.toFixed(2)}`,
    );
  }
}
