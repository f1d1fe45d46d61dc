// Document 003, "Lock": four processes print one message each, one at a time.
import { Lock, Process } from "@dmp/multiprocessing";

export function printer(lock: Lock, message: string): void {
  using _ = lock.holdSync(); // with lock:
  console.log(message);
}

if (import.meta.main) {
  const lock = new Lock();
  const messages = ["Hello", "World", "From", "Multiprocessing"];
  const processes = messages.map((msg) =>
    new Process({ target: printer, args: [lock, msg] })
  );

  for (const p of processes) p.start();
  for (const p of processes) await p.join();
}
