// Document 000, "Crucial Step: The Main Execution Guard" (Solution): the
// process creation sits inside `if (import.meta.main)`, so the child, which
// imports this module to find `task`, does not run it again.
import { Process } from "@dmp/multiprocessing";

export function task(): void {
  console.log("Working");
}

// ✅ Correct: protects the entry point
if (import.meta.main) {
  const p = new Process({ target: task });
  p.start();
  await p.join();
}
