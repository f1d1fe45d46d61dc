// Document 001, "Getting Return Values from Processes": a child doubles a
// number and sends the result back through a Queue.
import { Process, Queue } from "@dmp/multiprocessing";

export async function doubleNumber(
  n: number,
  q: Queue<number>,
): Promise<void> {
  await q.put(n * 2);
}

if (import.meta.main) {
  const q = new Queue<number>();
  const p = new Process({ target: doubleNumber, args: [10, q] });
  p.start();
  await p.join();
  const result = await q.get();
  console.log(`Doubled number: ${result}`);
}
