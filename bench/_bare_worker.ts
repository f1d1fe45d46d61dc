// The baseline the pool benchmarks compare against: a plain Web Worker that
// answers each postMessage with one postMessage, the way a hand-rolled
// worker pool does it.
import { fib, noop, square } from "./_targets.ts";

const functions: Record<string, (x: number) => unknown> = { noop, square, fib };

self.onmessage = (event: MessageEvent<[number, string, unknown]>) => {
  const [id, name, payload] = event.data;
  const fn = functions[name];
  const result = Array.isArray(payload)
    ? payload.map((x) => fn(x))
    : fn(payload as number);
  self.postMessage([id, result]);
};
