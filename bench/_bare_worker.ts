// The baseline the pool benchmarks compare against: a plain Web Worker that
// answers each postMessage with one postMessage, the way a hand-rolled
// worker pool does it.
import { fib, noop, square } from "./_targets.ts";

// Typed view of the worker scope (the project is type-checked as Deno main code).
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<[number, string, unknown]>) => void) | null;
  postMessage(message: unknown): void;
};

const functions: Record<string, (x: number) => unknown> = { noop, square, fib };

scope.onmessage = (event) => {
  const [id, name, payload] = event.data;
  const fn = functions[name];
  const result = Array.isArray(payload)
    ? payload.map((x) => fn(x))
    : fn(payload as number);
  scope.postMessage([id, result]);
};
