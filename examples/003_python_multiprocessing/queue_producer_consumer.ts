// Document 003, "Queue and Pipe": one process puts a message into a Queue,
// another takes it out.
import { Process, Queue } from "@dmp/multiprocessing";

export async function producer(queue: Queue<string>): Promise<void> {
  await queue.put("Hello from producer!");
}

export async function consumer(queue: Queue<string>): Promise<void> {
  const msg = await queue.get();
  console.log(`Consumer received: ${msg}`);
}

if (import.meta.main) {
  const q = new Queue<string>();
  const p1 = new Process({ target: producer, args: [q] });
  const p2 = new Process({ target: consumer, args: [q] });
  p1.start();
  p2.start();
  await p1.join();
  await p2.join();
}
