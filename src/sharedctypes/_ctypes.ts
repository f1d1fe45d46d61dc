// What Value and SharedArray share: the type codes, how items are stored
// (C's wrap-around), the lock option, and the descriptor they travel as.

import { describe, kReduce, registerReviverOf, revive } from "../reduction.ts";
import type { SharedDescriptor } from "../reduction.ts";
import { Adopted } from "../_memory/adopt.ts";
import type { Lock } from "../synchronize/lock.ts";
import { RLock } from "../synchronize/rlock.ts";
import { kSemCore } from "../synchronize/_sync.ts";
import { hasLockCore } from "../synchronize/_lock_core.ts";
import { checkKnownKeys } from "../_core/known_keys.ts";

/** The type codes of `array`/`ctypes`, as CPython's sharedctypes accepts them. */
export type TypeCode =
  | "c"
  | "b"
  | "B"
  | "h"
  | "H"
  | "i"
  | "I"
  | "l"
  | "L"
  | "q"
  | "Q"
  | "f"
  | "d";

/** The 64-bit integer codes, whose items are `bigint`s. */
export type BigIntTypeCode = "l" | "L" | "q" | "Q";

/** What reading an item of type code `C` gives. */
export type ItemOf<C extends TypeCode> = C extends BigIntTypeCode ? bigint
  : C extends "c" ? string
  : number;

/**
 * What may be stored in an item of type code `C`: integer codes take
 * integral numbers or bigints (wrapped to the width), float codes numbers,
 * `c` a one-character string of code 0–255 or an integer 0–255.
 */
export type InputOf<C extends TypeCode> = C extends "c" ? string | number
  : C extends "f" | "d" ? number
  : number | bigint;

/** The lock option of {@linkcode Value} and {@linkcode SharedArray}. */
export interface SharedCTypeOptions {
  /**
   * `true` guards every access with a new {@linkcode RLock}, `false` gives
   * no lock (a raw object), or pass the Lock/RLock to use.
   *
   * @default {true}
   */
  lock?: boolean | Lock | RLock;
}

/** The typed array that stores items of type code `C`. */
export type StorageOf<C extends TypeCode> = C extends "l" | "q" ? BigInt64Array
  : C extends "L" | "Q" ? BigUint64Array
  : C extends "b" ? Int8Array
  : C extends "c" | "B" ? Uint8Array
  : C extends "h" ? Int16Array
  : C extends "H" ? Uint16Array
  : C extends "i" ? Int32Array
  : C extends "I" ? Uint32Array
  : C extends "f" ? Float32Array
  : C extends "d" ? Float64Array
  : never;

export type AnyStorage =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface Kind {
  make: new (buffer: SharedArrayBuffer) => AnyStorage;
  bytes: number;
  /** 0 float, n integer of n bits, -n signed. */
  bits: number;
}

export const kinds: Record<TypeCode, Kind> = {
  c: { make: Uint8Array, bytes: 1, bits: 8 },
  b: { make: Int8Array, bytes: 1, bits: -8 },
  B: { make: Uint8Array, bytes: 1, bits: 8 },
  h: { make: Int16Array, bytes: 2, bits: -16 },
  H: { make: Uint16Array, bytes: 2, bits: 16 },
  i: { make: Int32Array, bytes: 4, bits: -32 },
  I: { make: Uint32Array, bytes: 4, bits: 32 },
  l: { make: BigInt64Array, bytes: 8, bits: -64 },
  L: { make: BigUint64Array, bytes: 8, bits: 64 },
  q: { make: BigInt64Array, bytes: 8, bits: -64 },
  Q: { make: BigUint64Array, bytes: 8, bits: 64 },
  f: { make: Float32Array, bytes: 4, bits: 0 },
  d: { make: Float64Array, bytes: 8, bits: 0 },
};

export function checkCode(typecode: unknown, what: string): Kind {
  if (typeof typecode !== "string" || !Object.hasOwn(kinds, typecode)) {
    throw new TypeError(
      `Cannot ${what} as 'typecode' must be one of c b B h H i I l L q Q f d: current value is ${
        Deno.inspect(typecode)
      }`,
    );
  }
  return kinds[typecode as TypeCode];
}

/** Converts an input to what the typed array stores (wrapping as C does). */
export function toStored(
  code: TypeCode,
  input: unknown,
  what: string,
  name: string,
): number | bigint {
  const kind = kinds[code];
  const bad = (expected: string) =>
    new TypeError(
      `Cannot ${what} as '${name}' must be ${expected} for typecode '${code}': current value is ${
        Deno.inspect(input)
      }`,
    );
  if (code === "c") {
    if (typeof input === "string") {
      if (input.length !== 1 || input.charCodeAt(0) > 255) {
        throw bad("one character of code 0-255");
      }
      return input.charCodeAt(0);
    }
    if (typeof input === "number" && Number.isInteger(input)) {
      if (input < 0 || input > 255) {
        throw new RangeError(
          `Cannot ${what} as '${name}' must be between 0 and 255 for typecode 'c': current value is ${input}`,
        );
      }
      return input;
    }
    throw bad("one character of code 0-255");
  }
  if (kind.bits === 0) {
    if (typeof input === "number") return input;
    if (typeof input === "bigint") return Number(input);
    throw bad("a number");
  }
  const big = kind.bytes === 8;
  if (typeof input === "bigint") {
    return big ? input : Number(
      kind.bits < 0
        ? BigInt.asIntN(-kind.bits, input)
        : BigInt.asUintN(kind.bits, input),
    );
  }
  if (typeof input === "number" && Number.isInteger(input)) {
    return big ? BigInt(input) : input;
  }
  throw bad("an integer");
}

export function fromStored(code: TypeCode, raw: number | bigint): unknown {
  return code === "c" ? String.fromCharCode(raw as number) : raw;
}

// Float arrays have no Atomics; the others use Atomics so that a reader
// polling a value in a loop is never served a stale, hoisted load.
export function load(
  code: TypeCode,
  data: AnyStorage,
  i: number,
): number | bigint {
  return code === "f" || code === "d"
    ? data[i]
    : Atomics.load(data as Int32Array, i);
}

export function store(
  code: TypeCode,
  data: AnyStorage,
  i: number,
  raw: number | bigint,
): void {
  if (code === "f" || code === "d") data[i] = raw as number;
  else Atomics.store(data as Int32Array, i, raw as number);
}

export function lockOption(
  options: SharedCTypeOptions | undefined,
  what: string,
): Lock | RLock | null {
  if (options === undefined) return new RLock();
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${what} as 'options' must be an object: current value is ${
        Deno.inspect(options)
      }`,
    );
  }
  checkKnownKeys(options, ["lock"], what);
  const lock = options.lock ?? true;
  if (lock === true) return new RLock();
  if (lock === false) return null;
  if (hasLockCore(lock)) return lock as Lock | RLock;
  throw new TypeError(
    `Cannot ${what} as 'lock' must be a boolean, a Lock or an RLock: current value is ${
      Deno.inspect(lock)
    }`,
  );
}

/**
 * The getLock() of Value and SharedArray.
 *
 * @throws {TypeError} When the object was created with `lock: false`.
 */
export function lockOf(
  lock: Lock | RLock | null,
  what: string,
): Lock | RLock {
  if (lock !== null) return lock;
  throw new TypeError(
    `Cannot get lock as the ${what} was created with 'lock: false' (a raw ${what} has no lock)`,
  );
}

// Runs `body` holding `lock` (if any), the way CPython's synchronized
// wrappers guard each access.
export function guarded<T>(
  lock: Lock | RLock | null,
  what: string,
  body: () => T,
): T {
  if (lock === null) return body();
  lock[kSemCore]().acquireBrief(what);
  try {
    return body();
  } finally {
    lock.release();
  }
}

/** What a revived Value or SharedArray adopts: its storage and its lock. */
export type CTypeMemory = { data: AnyStorage; lock: Lock | RLock | null };

/**
 * The storage and lock of a new Value or SharedArray: adopted when the
 * constructor's hidden argument carries them (a copy revived in a child),
 * else made by `fresh` (which checks the constructor's arguments) with the
 * `lock` option read.
 */
export function ctypeMemory(
  adopted: unknown,
  options: SharedCTypeOptions | undefined,
  what: string,
  fresh: () => AnyStorage,
): CTypeMemory {
  if (adopted instanceof Adopted) return adopted.memory as CTypeMemory;
  const data = fresh();
  return { data, lock: lockOption(options, what) };
}

/** The descriptor a Value or SharedArray travels as. */
export function describeCType(
  tag: string,
  code: TypeCode,
  data: AnyStorage,
  lock: Lock | RLock | null,
): SharedDescriptor {
  const reducible = lock as { [kReduce](): SharedDescriptor } | null;
  return describe(tag, {
    code,
    buffer: data.buffer,
    lock: reducible?.[kReduce]() ?? null,
  });
}

/**
 * Registers the reviver of a Value or SharedArray: `build` calls the
 * constructor with the type code and the Adopted memory; `module` is the
 * class's own module (its import.meta.url), the one a child imports.
 */
export function registerCType(
  tag: string,
  build: (code: TypeCode, memory: Adopted<CTypeMemory>) => unknown,
  module: string,
): void {
  registerReviverOf(tag, (d) => {
    const code = d.code as TypeCode;
    const data = new kinds[code].make(d.buffer as SharedArrayBuffer);
    const lock = d.lock === null ? null : revive(d.lock) as Lock | RLock;
    return build(code, new Adopted({ data, lock }));
  }, module);
}
