// Pool.imap's lazy input: read a (sync or async) iterator a bounded amount
// ahead, run each chunk as a task, and yield the results in input order or
// as they come.

/** A chunk in flight or waiting to be yielded. */
interface Slot {
  promise: Promise<unknown[]>;
  done: boolean;
  value?: unknown[];
  error?: unknown;
}

/**
 * Yields `run(chunk)`'s results for chunks of `size` items of `iterator`,
 * with at most `window` chunks in flight or waiting to be yielded, whatever
 * the size of the input; `ordered` yields them in input order, otherwise as
 * each chunk finishes. The iterator is closed if iteration stops early. An
 * error from the iterator is raised after the results of the items before it.
 */
export async function* readAhead(
  iterator: Iterator<unknown> | AsyncIterator<unknown>,
  size: number,
  window: number,
  ordered: boolean,
  run: (chunk: unknown[]) => Promise<unknown[]>,
): AsyncGenerator<unknown, void, undefined> {
  const slots: Slot[] = [];
  let exhausted = false;
  // An input that throws ends the input: as in CPython's imap, the results
  // before it are yielded, then its error is raised (here also those of the
  // chunk it cut short, which CPython drops).
  let inputError: { error: unknown } | undefined;
  let wake = Promise.withResolvers<void>();
  const fill = async () => {
    while (!exhausted && slots.length < window) {
      const chunk: unknown[] = [];
      while (chunk.length < size) {
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (error) {
          inputError = { error };
          exhausted = true;
          break;
        }
        if (next.done) {
          exhausted = true;
          break;
        }
        chunk.push(next.value);
      }
      if (chunk.length === 0) break;
      const slot: Slot = { done: false, promise: run(chunk) };
      slot.promise.then(
        (value) => {
          slot.done = true;
          slot.value = value;
          wake.resolve();
        },
        (error) => {
          slot.done = true;
          slot.error = error;
          wake.resolve();
        },
      );
      slots.push(slot);
    }
  };
  try {
    await fill();
    while (slots.length > 0) {
      let index = 0;
      if (ordered) {
        await slots[0].promise.catch(() => {});
      } else {
        while ((index = slots.findIndex((s) => s.done)) < 0) {
          await wake.promise;
          wake = Promise.withResolvers();
        }
      }
      const [slot] = slots.splice(index, 1);
      if (slot.error !== undefined) throw slot.error;
      await fill();
      yield* slot.value!;
    }
    if (inputError !== undefined) throw inputError.error;
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
