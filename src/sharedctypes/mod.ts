/**
 * Shared numbers and arrays (CPython's `multiprocessing.sharedctypes`):
 * {@linkcode Value}, {@linkcode SharedArray} (CPython's `Array`), and their
 * lock-free forms {@linkcode RawValue} and {@linkcode RawArray}.
 *
 * Items are stored as C stores them: integers wrap around (`Value("b", 200)`
 * holds -56), 64-bit integers (`l L q Q`, C's `long` being 64-bit as on
 * Linux and macOS) are `bigint`s, `f` rounds to float32, and `c` holds one
 * byte, read as a one-character string. Memory starts zeroed.
 *
 * @module
 */

export type {
  BigIntTypeCode,
  InputOf,
  ItemOf,
  SharedCTypeOptions,
  StorageOf,
  TypeCode,
} from "./_ctypes.ts";
export { RawValue, Value } from "./value.ts";
export { RawArray, SharedArray } from "./shared_array.ts";
