// Bare node:worker_threads roles for the workloads piscina has no API for
// (piscina_workloads.mjs says which): a process-like thread that starts and
// exits, a MessagePort producer/consumer pair standing in for a Queue, and
// locked increments with a hand-written Atomics mutex standing in for a
// Lock. `workerData.role` picks the role.

import { parentPort, workerData } from "node:worker_threads";

/**
 * A futex-style mutex on one Int32 word (0 free, 1 held, 2 held with
 * waiters): the usual Atomics lock when no library provides one.
 */
function lock(word) {
  if (Atomics.compareExchange(word, 0, 0, 1) === 0) return;
  while (Atomics.exchange(word, 0, 2) !== 0) Atomics.wait(word, 0, 2);
}

function unlock(word) {
  if (Atomics.sub(word, 0, 1) !== 1) {
    Atomics.store(word, 0, 0);
    Atomics.notify(word, 0, 1);
  }
}

const data = workerData ?? {};

if (data.role === "producer") {
  const { port, n } = data;
  parentPort.once("message", () => {
    for (let i = 0; i < n; i++) port.postMessage({ id: i, name: "item" });
    port.close();
  });
  parentPort.postMessage("ready");
} else if (data.role === "consumer") {
  const { port, n } = data;
  let seen = 0;
  let total = 0;
  port.on("message", (message) => {
    total += message.id;
    if (++seen === n) {
      parentPort.postMessage({ total });
      port.close();
    }
  });
  parentPort.postMessage("ready");
} else if (data.role === "incrementer") {
  const { shared, n } = data;
  const word = new Int32Array(shared, 0, 1);
  const counter = new Int32Array(shared, 4, 1);
  const go = new Int32Array(shared, 8, 1);
  parentPort.postMessage("ready");
  Atomics.wait(go, 0, 0);
  for (let i = 0; i < n; i++) {
    lock(word);
    counter[0] = counter[0] + 1;
    unlock(word);
  }
  parentPort.postMessage("done");
}
// role "noop": nothing; the thread exits at once.
