// The inputs of Pool's map family, checked and cut into task payloads.

import { TaskMode } from "../_wire/protocol.ts";
import { reduce } from "../reduction.ts";
import { defaultChunksize } from "../_core/util.ts";

function notIterable(iterable: unknown, what: string): TypeError {
  return new TypeError(
    `Cannot ${what} as 'iterable' must be iterable: current value is ${
      Deno.inspect(iterable)
    }`,
  );
}

/**
 * The items of a map or starmap, checked: an array (the iterable itself
 * when it is one).
 *
 * @throws {TypeError} For an iterable that is not iterable, or a starmap
 * item that is not an array.
 */
export function itemsOf(
  iterable: unknown,
  mode: TaskMode,
  what: string,
): unknown[] {
  if (
    iterable === null ||
    typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] !== "function"
  ) {
    throw notIterable(iterable, what);
  }
  const items = Array.isArray(iterable)
    ? iterable
    : [...iterable as Iterable<unknown>];
  if (mode === TaskMode.Starmap) {
    items.forEach((args, i) => {
      if (!Array.isArray(args)) {
        throw new TypeError(
          `Cannot ${what} as item ${i} must be an array of arguments: current value is ${
            Deno.inspect(args)
          }`,
        );
      }
    });
  }
  return items;
}

/**
 * Checks the items of a map or starmap (see {@linkcode itemsOf}) and cuts
 * them into chunks of `chunksize` (default: CPython's, for `processes`
 * workers), reduced.
 *
 * @throws {TypeError} For an iterable that is not iterable, a starmap item
 * that is not an array, or items that cannot be cloned.
 */
export function chunksOf(
  iterable: unknown,
  chunksize: number | undefined,
  mode: TaskMode,
  processes: number,
  what: string,
): unknown[][] {
  const items = itemsOf(iterable, mode, what);
  const size = chunksize ?? defaultChunksize(items.length, processes);
  const reduced = reduce(items, "iterable", what) as unknown[];
  const chunks: unknown[][] = [];
  for (let i = 0; i < reduced.length; i += size) {
    chunks.push(reduced.slice(i, i + size));
  }
  return chunks;
}

/**
 * The iterator of a sync or async iterable (async preferred).
 *
 * @throws {TypeError} When it is neither.
 */
export function iteratorOf(
  iterable: unknown,
  what: string,
): Iterator<unknown> | AsyncIterator<unknown> {
  checkIterable(iterable, what);
  const source = iterable as Partial<
    AsyncIterable<unknown> & Iterable<unknown>
  >;
  return typeof source[Symbol.asyncIterator] === "function"
    ? source[Symbol.asyncIterator]!()
    : source[Symbol.iterator]!();
}

/**
 * Checks a sync or async iterable without starting it.
 *
 * @throws {TypeError} When it is neither.
 */
export function checkIterable(iterable: unknown, what: string): void {
  const source = iterable as Partial<
    AsyncIterable<unknown> & Iterable<unknown>
  >;
  if (
    typeof source?.[Symbol.asyncIterator] !== "function" &&
    typeof source?.[Symbol.iterator] !== "function"
  ) {
    throw notIterable(iterable, what);
  }
}
