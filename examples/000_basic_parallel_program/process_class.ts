// Document 000, "Method 1: Using the Process Class (Manual)": two workers
// simulate a second of work each while the main process waits for both.
import { Process } from "@dmp/multiprocessing";

function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** A simple task that simulates work. */
export async function workerTask(name: string): Promise<void> {
  console.log(`Worker ${name} starting...`);
  await sleep(1); // Simulate computation
  console.log(`Worker ${name} finished.`);
}

if (import.meta.main) {
  // 1. Create process objects
  const p1 = new Process({ target: workerTask, args: ["A"] });
  const p2 = new Process({ target: workerTask, args: ["B"] });

  // 2. Start the processes (this spawns them)
  p1.start();
  p2.start();

  console.log("Main process waiting...");

  // 3. Wait for processes to complete
  await p1.join();
  await p2.join();

  console.log("All tasks completed.");
}
