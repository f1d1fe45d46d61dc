// Document 004, "Communication: Queues and Pipes": a child sends its result
// back to the main process through a Queue.
import { Process, Queue } from "@dmp/multiprocessing";

export async function worker(q: Queue<string>): Promise<void> {
  await q.put("Result from Process");
}

if (import.meta.main) {
  const q = new Queue<string>();
  const p = new Process({ target: worker, args: [q] });
  p.start();

  console.log(await q.get()); // Reads "Result from Process"
  await p.join();
}
