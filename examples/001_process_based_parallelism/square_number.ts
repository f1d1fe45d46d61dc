// Document 001, "Passing More Data to Processes": each process squares one
// number after a second of pretend work.
import { Process } from "@dmp/multiprocessing";

function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

export async function squareNumber(num: number): Promise<void> {
  console.log(`Squaring ${num}`);
  await sleep(1);
  console.log(`${num} squared is ${num * num}`);
}

if (import.meta.main) {
  const numbers = [1, 2, 3, 4];
  const processes: Process[] = [];

  for (const num of numbers) {
    const p = new Process({ target: squareNumber, args: [num] });
    p.start();
    processes.push(p);
  }

  for (const p of processes) {
    await p.join();
  }
}
