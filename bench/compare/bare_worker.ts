// The worker side of bare_workloads.ts: what a program does without a
// library, with plain Web Workers. The worker's `name` picks its role.
//
//   exit         posts "done" and closes (a process that starts and exits)
//   task         answers [id, fn, arg] with [id, result]; an array arg is
//                mapped (a hand-rolled pool's chunk)
//   producer     on "go", posts n objects to the port it was given
//   consumer     sums the ids of n objects from its port, posts the total
//   incrementer  a futex-style Atomics mutex around counter += 1, n times
//   frame        answers each posted frame with its first byte (a copy)
//   shared       waits on a shared word, checks the shared frame, notifies
//   echo         posts back each message it gets (a pipe's other end)

const scope = self as unknown as {
  name: string;
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const functions: Record<string, (x: number) => unknown> = {
  noop: () => undefined,
  square: (x) => x * x,
  fib,
};

function lock(word: Int32Array): void {
  if (Atomics.compareExchange(word, 0, 0, 1) === 0) return;
  while (Atomics.exchange(word, 0, 2) !== 0) Atomics.wait(word, 0, 2);
}

function unlock(word: Int32Array): void {
  if (Atomics.sub(word, 0, 1) !== 1) {
    Atomics.store(word, 0, 0);
    Atomics.notify(word, 0, 1);
  }
}

switch (scope.name) {
  case "exit":
    scope.postMessage("done");
    scope.close();
    break;
  case "task":
    scope.onmessage = (event) => {
      const [id, name, arg] = event.data as [number, string, unknown];
      const fn = functions[name];
      const result = Array.isArray(arg)
        ? arg.map((x) => fn(x))
        : fn(arg as number);
      scope.postMessage([id, result]);
    };
    break;
  case "producer":
    scope.onmessage = (event) => {
      const { port, n } = event.data as { port: MessagePort; n: number };
      scope.onmessage = () => {
        for (let i = 0; i < n; i++) port.postMessage({ id: i, name: "item" });
      };
      scope.postMessage("ready");
    };
    break;
  case "consumer":
    scope.onmessage = (event) => {
      const { port, n } = event.data as { port: MessagePort; n: number };
      let seen = 0;
      let total = 0;
      port.onmessage = (message) => {
        total += (message.data as { id: number }).id;
        if (++seen === n) {
          scope.postMessage(total);
          port.close();
        }
      };
      scope.postMessage("ready");
    };
    break;
  case "incrementer":
    scope.onmessage = (event) => {
      const { shared, n } = event.data as {
        shared: SharedArrayBuffer;
        n: number;
      };
      const word = new Int32Array(shared, 0, 1);
      const counter = new Int32Array(shared, 4, 1);
      const go = new Int32Array(shared, 8, 1);
      scope.postMessage("ready");
      Atomics.wait(go, 0, 0);
      for (let i = 0; i < n; i++) {
        lock(word);
        counter[0] = counter[0] + 1;
        unlock(word);
      }
      scope.postMessage("done");
    };
    break;
  case "frame":
    scope.onmessage = (event) => {
      const frame = event.data as Uint8Array;
      scope.postMessage(
        frame[0] === frame[frame.length - 1] ? frame[0] : -1,
      );
    };
    break;
  case "shared":
    scope.onmessage = (event) => {
      const { bytes, words } = event.data as {
        bytes: Uint8Array;
        words: Int32Array; // [0] ready counter, [1] ack counter, [2] echo, [3] stop
      };
      let seen = 0;
      while (true) {
        Atomics.wait(words, 0, seen);
        seen = Atomics.load(words, 0);
        if (Atomics.load(words, 3) === 1) break;
        words[2] = bytes[0] === bytes[bytes.length - 1] ? bytes[0] : -1;
        Atomics.add(words, 1, 1);
        Atomics.notify(words, 1);
      }
      scope.close();
    };
    break;
  case "echo":
    scope.onmessage = (event) => scope.postMessage(event.data);
    break;
}
