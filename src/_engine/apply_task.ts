// How a pool worker applies a function to a task's payload, by TaskMode:
// the argument list of one call (apply), or a chunk of items (map, starmap).
// A promise a call returns is awaited before the next item runs, so a chunk
// of async calls runs one at a time, as CPython's worker does.
//
// Tier 6 (the pool engine), the worker's side.

import { TaskMode } from "../_wire/protocol.ts";

/** A task's function, as the worker imported it. */
type Fn = (...args: unknown[]) => unknown;

/** Applies `fn` to `payload` as `mode` says; a chunk gives its results. */
export async function apply(
  fn: Fn,
  mode: TaskMode,
  payload: unknown,
): Promise<unknown> {
  if (mode === TaskMode.Apply) {
    const result = fn(...(payload as unknown[]));
    return result instanceof Promise ? await result : result;
  }
  const items = payload as unknown[];
  const out = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    let result = mode === TaskMode.Map
      ? fn(items[i])
      : fn(...(items[i] as unknown[]));
    if (result instanceof Promise) result = await result;
    out[i] = result;
  }
  return out;
}
