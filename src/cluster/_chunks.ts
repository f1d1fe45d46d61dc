// How ClusterPool cuts a map into chunks (tasks) when no chunksize is
// given: 4 per process, as the local Pool, but of sizes that differ by one
// at most, larger first, so that every process ends with the same share
// (600 items on 12 processes: 24 chunks of 13, then 24 of 12, 50 items a
// process; chunks of 13 and a last of 2 left one process 52). And fewer,
// larger chunks for a function the agents measured as quick: a chunk costs
// a round trip through the server (~1 ms), more than splitting 2 000 tiny
// items saves; on a small host the wake-ups of 12 workers cost more still.
//
// Tier 8: the cluster export only.

/**
 * Work (ms, at a function's measured cost) a chunk is worth its own round
 * trip for: a map of less is sent in one chunk, of more in one per such
 * amount (up to 4 per process).
 */
export const kChunkMs = 2;
/** Chunks merged for a quick function hold no more items than this, so that their message stays far below the server's max_payload. */
export const kMaxMergedItems = 4_096;
/**
 * Nor more results than this many bytes, at the largest result size per
 * item measured: a merged chunk whose results outgrow the server's
 * max_payload (1 MiB by default) runs again in halves.
 */
export const kMaxMergedBytes = 256 * 1024;

/** Measured costs of functions, and the chunks of a map from them. */
export class ChunkPlanner {
  // Function (module#name) → ms per item, as an agent's pool ran it.
  readonly #msPerItem = new Map<string, number>();
  // Function → the most bytes of result message per item seen.
  readonly #bytesPerItem = new Map<string, number>();

  /**
   * A chunk of `items` calls of `fn` took `ms` on an agent's pool, and its
   * results came in a message of `bytes`.
   */
  record(fn: string, items: number, ms: number, bytes?: number): void {
    if (!(items >= 1)) return;
    if (bytes !== undefined && bytes >= 0) {
      const size = bytes / items;
      const known = this.#bytesPerItem.get(fn);
      if (known === undefined || size > known) {
        this.#bytesPerItem.set(fn, size);
      }
    }
    if (!(ms >= 0)) return;
    const rate = ms / items;
    const known = this.#msPerItem.get(fn);
    // A dearer chunk counts at once (items may cost more than the last
    // map's: merging them would serialise the map), a cheaper one by half
    // (a chunk interrupted by a collection or another thread looks dear,
    // and the next ones bring the estimate back down).
    this.#msPerItem.set(
      fn,
      known === undefined || rate > known ? rate : (known + rate) / 2,
    );
  }

  /** The measured ms per item of `fn`, if any. */
  cost(fn: string): number | undefined {
    return this.#msPerItem.get(fn);
  }

  /**
   * Where each chunk of a map of `n` items ends (exclusive), in order:
   * every `chunksize` items if given, else as the module comment says.
   */
  bounds(
    fn: string,
    n: number,
    processes: number,
    chunksize?: number,
  ): number[] {
    const ends: number[] = [];
    if (chunksize !== undefined) {
      for (let i = chunksize; i < n + chunksize; i += chunksize) {
        ends.push(Math.min(i, n));
      }
      return ends;
    }
    let count = Math.min(n, 4 * Math.max(1, processes));
    const rate = this.#msPerItem.get(fn);
    if (rate !== undefined) {
      const worth = Math.max(
        Math.ceil((n * rate) / kChunkMs),
        Math.ceil(n / kMaxMergedItems),
        Math.ceil((n * (this.#bytesPerItem.get(fn) ?? 0)) / kMaxMergedBytes),
        1,
      );
      count = Math.min(count, worth);
    }
    const size = Math.floor(n / count);
    const larger = n % count;
    let end = 0;
    for (let i = 0; i < count; i++) {
      end += i < larger ? size + 1 : size;
      ends.push(end);
    }
    return ends;
  }
}
