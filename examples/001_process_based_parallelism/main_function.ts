// Document 001, "Organizing Code with main()": the process code lives in
// main(), which runs only when this file is the program's entry point.
import { Process } from "@dmp/multiprocessing";

export function greet(name: string): void {
  console.log(`Greetings from ${name}!`);
}

async function main(): Promise<void> {
  const p = new Process({ target: greet, args: ["George"] });
  p.start();
  await p.join();
}

if (import.meta.main) {
  await main();
}
