// Document 001, "Starting a Single Process": run say_hello in a child.
import { Process } from "@dmp/multiprocessing";

export function sayHello(name: string): void {
  console.log(`Hello from ${name}!`);
}

if (import.meta.main) {
  const p = new Process({ target: sayHello, args: ["Edward"] });
  p.start();
  await p.join();
}
