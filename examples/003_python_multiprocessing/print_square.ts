// Document 003, "Core Components: 1. Process Class": run print_square in a
// child process and wait for it.
import { Process } from "@dmp/multiprocessing";

export function printSquare(num: number): void {
  console.log(`The square of ${num} is ${num * num}`);
}

if (import.meta.main) {
  const p = new Process({ target: printSquare, args: [5] });
  p.start();
  await p.join();
}
