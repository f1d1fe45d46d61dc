// Document 004, "Shared Memory (Advanced)": ten processes increment a shared
// Value; its lock is still needed for `+= 1`.
import { Process, Value } from "@dmp/multiprocessing";

export function increment(counter: Value<"i">): void {
  using _ = counter.getLock().holdSync(); // Yes, we still need locks!
  counter.value += 1;
}

if (import.meta.main) {
  const counter = new Value("i", 0); // 'i' = Integer

  const procs = Array.from(
    { length: 10 },
    () => new Process({ target: increment, args: [counter] }),
  );

  for (const p of procs) p.start();
  for (const p of procs) await p.join();

  console.log(counter.value); // 10
}
