// Document 004, "2. Syntax: Creating Processes": two CPU-heavy processes,
// each summing i * i for every i below 10 000 000 on its own core.
import { Process } from "@dmp/multiprocessing";

// Python's int never overflows; the total (about 3.3e20) is beyond what a
// Number holds exactly (2^53 ≈ 9e15). Each square (below 1e14) is exact, so
// the loop adds them into `low` and carries whole quadrillions into `high`:
// an exact result at Number speed (about 25 times faster than a bigint loop).
function sumOfSquares(stop: number): bigint {
  const unit = 1e15;
  let high = 0;
  let low = 0;
  for (let i = 0; i < stop; i++) {
    low += i * i;
    if (low >= unit) {
      high += 1;
      low -= unit;
    }
  }
  return BigInt(high) * BigInt(unit) + BigInt(low);
}

export function heavyCalculation(name: string): void {
  // This runs on a separate CPU core!
  const total = sumOfSquares(10_000_000);
  console.log(`${name} finished: ${total}`);
}

if (import.meta.main) {
  // The `if (import.meta.main)` guard keeps each child, which imports this
  // module to find heavyCalculation, from starting processes of its own.
  const p1 = new Process({ target: heavyCalculation, args: ["Core-1"] });
  const p2 = new Process({ target: heavyCalculation, args: ["Core-2"] });

  p1.start();
  p2.start();
  await p1.join();
  await p2.join();
}
