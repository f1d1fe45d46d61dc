// Document 000, "Sharing Data with Queues": a producer puts fruit and a
// `null` sentinel (Python's None) into a Queue; a consumer takes items until
// it sees the sentinel.
import { Process, Queue } from "@dmp/multiprocessing";

/** Puts data into the queue. */
export async function producer(queue: Queue<string | null>): Promise<void> {
  const items = ["Apple", "Banana", "Cherry"];
  for (const item of items) {
    await queue.put(item);
    console.log(`Produced: ${item}`);
  }
  await queue.put(null); // Sentinel value to signal 'done'
}

/** Gets data from the queue. */
export async function consumer(queue: Queue<string | null>): Promise<void> {
  while (true) {
    const item = await queue.get();
    if (item === null) break; // Check for sentinel
    console.log(`Consumed: ${item}`);
  }
}

if (import.meta.main) {
  // A queue every process can use
  const q = new Queue<string | null>();
  const p1 = new Process({ target: producer, args: [q] });
  const p2 = new Process({ target: consumer, args: [q] });
  p1.start();
  p2.start();
  await p1.join();
  await p2.join();
}
