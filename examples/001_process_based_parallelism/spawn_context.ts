// Document 001, "Spawning vs Forking": choose the "spawn" start method
// explicitly through a context (the only method Web Workers can offer).
import { getContext } from "@dmp/multiprocessing";

export function sayHello(name: string): void {
  console.log(`Hello from ${name}!`);
}

if (import.meta.main) {
  const ctx = getContext("spawn");
  const p = new ctx.Process({ target: sayHello, args: ["Samantha"] });
  p.start();
  await p.join();
}
