// Document 002, "Sharing Data Between Processes": four processes increment a
// shared Value, each increment under a Lock.
import { Lock, Process, Value } from "@dmp/multiprocessing";

/** Increment a shared counter. */
export function worker(counter: Value<"i">, lock: Lock): void {
  for (let i = 0; i < 1000; i++) {
    using _ = lock.holdSync(); // with lock:
    counter.value += 1;
  }
}

if (import.meta.main) {
  // Create shared integer with a lock
  const counter = new Value("i", 0);
  const lock = new Lock();

  // Spawn 4 processes that all increment the same counter
  const processes = Array.from(
    { length: 4 },
    () => new Process({ target: worker, args: [counter, lock] }),
  );
  for (const p of processes) p.start();
  for (const p of processes) await p.join();

  console.log(`Final counter: ${counter.value}`);
}
