// Document 001, "Running Multiple Processes": one process per name, all
// started before any is joined, so they greet in whatever order they run.
import { Process } from "@dmp/multiprocessing";

export function sayHello(name: string): void {
  console.log(`Hello from ${name}!`);
}

if (import.meta.main) {
  const names = ["Lucia", "Cherish", "Stephen", "Mary"];
  const processes: Process[] = [];

  for (const name of names) {
    const p = new Process({ target: sayHello, args: [name] });
    p.start();
    processes.push(p);
  }

  for (const p of processes) {
    await p.join();
  }
}
