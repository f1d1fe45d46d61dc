// Document 004, "5. Modern Pattern: ProcessPoolExecutor": map over inputs and
// show which worker handled each. Workers are threads of one OS process, so
// os.getpid() would print the same number for all of them; the honest
// equivalent is the worker's own name and pid (unique within the program).
import { currentProcess, ProcessPoolExecutor } from "@dmp/multiprocessing";

export function wasteCpu(x: number): string {
  // Returns the worker's identity so we can see it is different workers
  const me = currentProcess();
  return `Input ${x} processed by ${me.name} (pid ${me.pid})`;
}

if (import.meta.main) {
  // Uses all available CPU cores by default
  const results: string[] = [];
  {
    await using executor = new ProcessPoolExecutor();
    for await (const res of executor.map(wasteCpu, [0, 1, 2, 3, 4])) {
      results.push(res);
    }
  }
  for (const res of results) console.log(res);
}
