// imap's engine on the cluster: reads the input a bounded number of chunks
// ahead (never all of it: it may be infinite), and yields in input order or
// in completion order. An input error comes after the results before it.
//
// Tier 8: the cluster export only.

/** How lazyMap reads and yields. */
export interface LazyOptions {
  /** Items per chunk. */
  size: number;
  /** The most chunks in flight. */
  ahead: number;
  /** Input order (imap) or completion order (imapUnordered). */
  ordered: boolean;
}

/**
 * Maps `run` over chunks of `iterable`, at most `ahead` chunks in flight.
 *
 * @param run Runs one chunk; resolves with its results.
 */
export async function* lazyMap<R>(
  iterable: Iterable<unknown> | AsyncIterable<unknown>,
  run: (chunk: unknown[]) => Promise<unknown>,
  { size, ahead, ordered }: LazyOptions,
): AsyncGenerator<R, void, undefined> {
  const iterator: Iterator<unknown> | AsyncIterator<unknown> =
    Symbol.asyncIterator in iterable
      ? iterable[Symbol.asyncIterator]()
      : iterable[Symbol.iterator]();
  const window: Promise<unknown[]>[] = [];
  let exhausted = false;
  let inputError: { error: unknown } | undefined;
  async function fill(): Promise<void> {
    while (!exhausted && window.length < ahead) {
      const chunk: unknown[] = [];
      try {
        while (chunk.length < size) {
          const step = await iterator.next();
          if (step.done) {
            exhausted = true;
            break;
          }
          chunk.push(step.value);
        }
      } catch (error) {
        exhausted = true;
        inputError = { error };
      }
      if (chunk.length === 0) continue;
      const promise = run(chunk) as Promise<unknown[]>;
      promise.catch(() => {}); // read in its turn below
      window.push(promise);
    }
  }
  try {
    while (true) {
      await fill();
      if (window.length === 0) break;
      let next: Promise<unknown[]>;
      if (ordered) {
        next = window.shift()!;
      } else {
        const index = await Promise.race(
          window.map((p, i) => p.then(() => i, () => i)),
        );
        next = window.splice(index, 1)[0];
      }
      for (const value of await next) yield value as R;
    }
    if (inputError) throw inputError.error;
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
