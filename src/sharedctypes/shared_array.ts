/**
 * `SharedArray` and `RawArray`: a fixed-length array in shared memory
 * (CPython's `multiprocessing.Array` / `RawArray`).
 *
 * @module
 */

import { kReduce, type SharedDescriptor } from "../reduction.ts";
import type { Lock } from "../synchronize/lock.ts";
import type { RLock } from "../synchronize/rlock.ts";
import {
  type AnyStorage,
  checkCode,
  ctypeMemory,
  describeCType,
  fromStored,
  guarded,
  type InputOf,
  type ItemOf,
  type Kind,
  load,
  lockOf,
  registerCType,
  type SharedCTypeOptions,
  type StorageOf,
  store,
  toStored,
  type TypeCode,
} from "./_ctypes.ts";
import { construct } from "../_memory/adopt.ts";

// Checks the constructor's length or items and allocates the storage.
function freshStorage(
  typecode: TypeCode,
  kind: Kind,
  sizeOrInit: unknown,
): AnyStorage {
  let items: ArrayLike<unknown> | undefined;
  let length: number;
  if (typeof sizeOrInit === "number") {
    if (!Number.isInteger(sizeOrInit) || sizeOrInit < 0) {
      throw new RangeError(
        `Cannot create array as 'sizeOrInit' must be a non-negative integer length: current value is ${sizeOrInit}`,
      );
    }
    length = sizeOrInit;
  } else if (
    typeof sizeOrInit === "string" ||
    (typeof sizeOrInit === "object" && sizeOrInit !== null)
  ) {
    items = typeof (sizeOrInit as ArrayLike<unknown>).length === "number"
      ? sizeOrInit as ArrayLike<unknown>
      : typeof (sizeOrInit as Iterable<unknown>)[Symbol.iterator] ===
          "function"
      ? Array.from(sizeOrInit as Iterable<unknown>)
      : undefined;
    if (items === undefined) {
      throw new TypeError(
        `Cannot create array as 'sizeOrInit' must be a length or the items: current value is ${
          Deno.inspect(sizeOrInit)
        }`,
      );
    }
    length = items.length;
  } else {
    throw new TypeError(
      `Cannot create array as 'sizeOrInit' must be a length or the items: current value is ${
        Deno.inspect(sizeOrInit)
      }`,
    );
  }
  const raws = items === undefined ? undefined : Array.from(
    items,
    (item, i) => toStored(typecode, item, "create array", `sizeOrInit[${i}]`),
  );
  let buffer: SharedArrayBuffer;
  try {
    buffer = new SharedArrayBuffer(length * kind.bytes);
  } catch (error) {
    throw new RangeError(
      `Cannot create array as 'sizeOrInit' must be a length that fits in memory: current value is ${length}`,
      { cause: error },
    );
  }
  const data = new kind.make(buffer);
  if (raws !== undefined) {
    (data as unknown as { set(a: ArrayLike<number | bigint>): void })
      .set(raws);
  }
  return data;
}

/**
 * A fixed-length array of numbers (or bytes) in shared memory: CPython's
 * `multiprocessing.Array` (named so as not to shadow the global `Array`).
 * With a lock (the default, an {@linkcode RLock}), each `get`/`set`, each
 * `slice` and each iteration holds it; `array` is the raw typed array,
 * without locking.
 *
 * @typeParam C The type code; `SharedArray<"d">` holds C doubles.
 *
 * @example Using SharedArray
 * ```ts
 * import { SharedArray } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const arr = new SharedArray("i", [1, 2, 3]);
 * arr.set(-1, 30); // negative indices count from the end
 * assert.deepEqual([...arr], [ 1, 2, 30 ]);
 * assert.deepEqual(arr.slice(1), [ 2, 30 ]);
 * ```
 */
export class SharedArray<C extends TypeCode = TypeCode> {
  #code: C;
  #data: AnyStorage;
  #lock: Lock | RLock | null;

  /**
   * Creates a shared array.
   *
   * @param typecode The C type (see {@linkcode TypeCode}).
   * @param sizeOrInit The length (items start at zero), or the items.
   * @param options `lock: true | false | Lock | RLock`.
   * @throws {TypeError} For an unknown type code, items of the wrong type,
   * or a bad lock option.
   * @throws {RangeError} For a negative, fractional or too large length.
   */
  constructor(
    typecode: C,
    sizeOrInit: number | ArrayLike<InputOf<C>> | Iterable<InputOf<C>>,
    options?: SharedCTypeOptions,
  );
  constructor(
    typecode: C,
    sizeOrInit: number | ArrayLike<InputOf<C>> | Iterable<InputOf<C>>,
    options?: SharedCTypeOptions,
    adopted?: unknown,
  ) {
    const kind = checkCode(typecode, "create array");
    this.#code = typecode;
    const memory = ctypeMemory(
      adopted,
      options,
      "create array",
      () => freshStorage(typecode, kind, sizeOrInit),
    );
    this.#data = memory.data;
    this.#lock = memory.lock;
  }

  /** The type code. */
  get typecode(): C {
    return this.#code;
  }

  /** The number of items. */
  get length(): number {
    return this.#data.length;
  }

  /**
   * The raw typed array over the shared memory (no locking; `c` arrays are
   * bytes). Hold `getLock()` while using it when others write.
   */
  get array(): StorageOf<C> {
    return this.#data as StorageOf<C>;
  }

  #index(index: unknown, what: string): number {
    const n = this.#data.length;
    if (typeof index !== "number" || !Number.isInteger(index)) {
      throw new TypeError(
        `Cannot ${what} as 'index' must be an integer: current value is ${
          Deno.inspect(index)
        }`,
      );
    }
    const i = index < 0 ? index + n : index;
    if (i < 0 || i >= n) {
      throw new RangeError(
        `Cannot ${what} as 'index' must be in [-${n}, ${n}): current value is ${index}`,
      );
    }
    return i;
  }

  /**
   * Reads one item (negative indices count from the end).
   *
   * @param index The position.
   * @returns The item.
   * @throws {RangeError} When `index` is out of range.
   *
   * @example Using get()
   * ```ts
   * import { SharedArray } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new SharedArray("d", [0.5, 1.5]).get(-1), 1.5);
   * ```
   */
  get(index: number): ItemOf<C> {
    const i = this.#index(index, "get item");
    return guarded(
      this.#lock,
      "get item",
      () => fromStored(this.#code, load(this.#code, this.#data, i)),
    ) as ItemOf<C>;
  }

  /**
   * Writes one item (negative indices count from the end).
   *
   * @param index The position.
   * @param value The new item, wrapped to the type as in C.
   * @throws {RangeError} When `index` is out of range.
   * @throws {TypeError} When `value` has the wrong type.
   *
   * @example Using set()
   * ```ts
   * import { SharedArray } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const bytes = new SharedArray("B", 2);
   * bytes.set(0, 257);
   * assert.deepEqual(bytes.get(0), 1);
   * ```
   */
  set(index: number, value: InputOf<C>): void {
    const i = this.#index(index, "set item");
    const raw = toStored(this.#code, value, "set item", "value");
    guarded(
      this.#lock,
      "set item",
      () => store(this.#code, this.#data, i, raw),
    );
  }

  /**
   * Copies items out, like Python's `arr[start:end]` (negative bounds count
   * from the end; out-of-range bounds are clamped).
   *
   * @param start First position.
   * @param end Position after the last.
   * @returns The items.
   *
   * @example Using slice()
   * ```ts
   * import { SharedArray } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SharedArray("c", "hello").slice(1, -1).join(""), "ell");
   * ```
   */
  slice(start?: number, end?: number): ItemOf<C>[] {
    return guarded(this.#lock, "slice array", () => {
      const raws = Array.from(
        this.#data.subarray(start, end) as ArrayLike<number | bigint>,
      );
      return this.#code === "c"
        ? raws.map((r) => fromStored("c", r)) as ItemOf<C>[]
        : raws as ItemOf<C>[];
    });
  }

  /**
   * Overwrites items from `start`, like Python's `arr[start:start+n] = values`.
   *
   * @param start The first position (negative counts from the end).
   * @param values The items.
   * @throws {RangeError} When the items do not fit.
   * @throws {TypeError} When an item has the wrong type.
   *
   * @example Using setSlice()
   * ```ts
   * import { SharedArray } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const arr = new SharedArray("i", 4);
   * arr.setSlice(1, [7, 8]);
   * assert.deepEqual(arr.slice(), [ 0, 7, 8, 0 ]);
   * ```
   */
  setSlice(start: number, values: ArrayLike<InputOf<C>>): void {
    const n = this.#data.length;
    const from = start === n ? n : this.#index(start, "set slice");
    const raws = Array.from(
      values,
      (v, i) => toStored(this.#code, v, "set slice", `values[${i}]`),
    );
    if (from + raws.length > n) {
      throw new RangeError(
        `Cannot set slice as 'values' must fit in the array from ${from}: current value has ${raws.length} items for ${
          n - from
        } places`,
      );
    }
    guarded(this.#lock, "set slice", () => {
      (this.#data as unknown as {
        set(a: ArrayLike<number | bigint>, at: number): void;
      }).set(raws, from);
    });
  }

  /**
   * Iterates over a snapshot of the items, taken under the lock.
   *
   * @returns The items' iterator.
   */
  [Symbol.iterator](): IterableIterator<ItemOf<C>> {
    return this.slice()[Symbol.iterator]();
  }

  /**
   * The lock that guards the array.
   *
   * @returns The Lock or RLock.
   * @throws {TypeError} When the array was created with `lock: false`.
   *
   * @example Using getLock()
   * ```ts
   * import { SharedArray } from "@dmp/multiprocessing";
   *
   * const arr = new SharedArray("i", 3);
   * {
   *   using _ = await arr.getLock().hold();
   *   arr.set(0, arr.get(0) + 1);
   * }
   * ```
   */
  getLock(): Lock | RLock {
    return lockOf(this.#lock, "array");
  }

  /** Describes the array for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return describeCType("SharedArray", this.#code, this.#data, this.#lock);
  }

  /** Shows the items in `console.log` (read without the lock). */
  [Symbol.for("Deno.customInspect")](): string {
    const items = Array.from(
      this.#data as ArrayLike<number | bigint>,
      (r) => fromStored(this.#code, r),
    );
    return `SharedArray { typecode: "${this.#code}", items: ${
      Deno.inspect(items)
    } }`;
  }
}

/** A {@linkcode SharedArray} without a lock (`getLock()` is absent). */
export type RawArray<C extends TypeCode = TypeCode> = Omit<
  SharedArray<C>,
  "getLock"
>;

/**
 * A shared array without a lock (CPython's `RawArray`).
 *
 * @param typecode The C type.
 * @param sizeOrInit The length (items start at zero), or the items.
 * @returns The array.
 * @throws {TypeError} For an unknown type code or wrong items.
 * @throws {RangeError} For a bad length.
 *
 * @example Using RawArray
 * ```ts
 * import { RawArray } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const frame = RawArray("B", 16);
 * frame.array.fill(255);
 * assert.deepEqual(frame.get(15), 255);
 * ```
 */
export function RawArray<C extends TypeCode>(
  typecode: C,
  sizeOrInit: number | ArrayLike<InputOf<C>> | Iterable<InputOf<C>>,
): RawArray<C> {
  return new SharedArray(typecode, sizeOrInit, { lock: false });
}

registerCType(
  "SharedArray",
  (code, memory) => construct(SharedArray, code, 0, undefined, memory),
  import.meta.url,
);
