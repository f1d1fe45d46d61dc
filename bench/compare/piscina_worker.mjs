// Tasks run by piscina's pooled threads (piscina_workloads.mjs): the same
// functions as the targets of deno_workloads.ts and python_workloads.py.

export function noop() {}

export function square(x) {
  return x * x;
}

export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** The frame's stamp: its first byte, or -1 when the last byte disagrees. */
export function frameStamp(frame) {
  return frame[0] === frame[frame.length - 1] ? frame[0] : -1;
}
