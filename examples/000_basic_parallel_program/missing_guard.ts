// Document 000, "Crucial Step: The Main Execution Guard" (Error): the
// process creation is NOT inside `if (import.meta.main)`.
//
// The child imports this module to find `task`, so the top-level code runs
// again there and tries to start another process while the child is still
// bootstrapping. The library refuses with CPython's bootstrapping error
// instead of spawning recursively; the child fails, and the parent carries on.
import { Process } from "@dmp/multiprocessing";

export function task(): void {
  console.log("Working");
}

// ⛔️ Error: missing the `if (import.meta.main)` guard
const p = new Process({ target: task });
p.start();
await p.join();
