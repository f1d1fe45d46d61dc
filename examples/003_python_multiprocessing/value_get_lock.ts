// Document 003, "Shared Memory (Value and Array)": ten processes increment a
// shared Value under the Value's own lock.
import { Process, Value } from "@dmp/multiprocessing";

export function increment(counter: Value<"i">): void {
  using _ = counter.getLock().holdSync(); // Lock for thread safety
  counter.value += 1;
}

if (import.meta.main) {
  const counter = new Value("i", 0); // 'i' for integer
  const processes = Array.from(
    { length: 10 },
    () => new Process({ target: increment, args: [counter] }),
  );

  for (const p of processes) p.start();
  for (const p of processes) await p.join();

  console.log(`Final counter value: ${counter.value}`);
}
