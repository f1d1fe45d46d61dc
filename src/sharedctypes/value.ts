/**
 * `Value` and `RawValue`: one number in shared memory (CPython's
 * `multiprocessing.Value` / `RawValue`).
 *
 * @module
 */

import { kReduce, type SharedDescriptor } from "../reduction.ts";
import type { Lock } from "../synchronize/lock.ts";
import type { RLock } from "../synchronize/rlock.ts";
import { kSemCore } from "../synchronize/_sync.ts";
import {
  type AnyStorage,
  checkCode,
  ctypeMemory,
  describeCType,
  fromStored,
  type InputOf,
  type ItemOf,
  load,
  lockOf,
  registerCType,
  type SharedCTypeOptions,
  store,
  toStored,
  type TypeCode,
} from "./_ctypes.ts";
import { construct } from "../_memory/adopt.ts";

/**
 * One number (or byte) in shared memory. With a lock (the default, an
 * {@linkcode RLock}), each read and write of `value` holds it; hold
 * `getLock()` yourself to make a read-modify-write such as `+= 1` atomic.
 *
 * The accessors take the lock synchronously, on the main thread too: they
 * wait only while another process holds it, which should be briefly.
 *
 * @typeParam C The type code; `Value<"i">` holds a C int.
 *
 * @example A counter shared with children
 * ```ts
 * import { Process, Value } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const counter = new Value("i", 0);
 * const target = new URL("../../examples/004_cpu_bound_multiprocessing/value_counter.ts#increment", import.meta.url);
 * const procs = Array.from({ length: 3 }, () => new Process({ target, args: [counter] }));
 * for (const p of procs) p.start();
 * for (const p of procs) await p.join();
 * assert.deepEqual(counter.value, 3);
 * ```
 *
 * @example C semantics
 * ```ts
 * import { Value } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(new Value("b", 200).value, -56);
 * assert.deepEqual(new Value("q", 1).value, 1n);
 * ```
 */
export class Value<C extends TypeCode = TypeCode> {
  #code: C;
  #data: AnyStorage;
  #lock: Lock | RLock | null;

  /**
   * Creates a shared value.
   *
   * @param typecode The C type (see {@linkcode TypeCode}).
   * @param initial The first value; zero when omitted.
   * @param options `lock: true | false | Lock | RLock`.
   * @throws {TypeError} For an unknown type code, an initial value of the
   * wrong type, or a bad lock option.
   */
  constructor(typecode: C, initial?: InputOf<C>, options?: SharedCTypeOptions);
  constructor(
    typecode: C,
    initial?: InputOf<C>,
    options?: SharedCTypeOptions,
    adopted?: unknown,
  ) {
    const kind = checkCode(typecode, "create value");
    this.#code = typecode;
    const memory = ctypeMemory(adopted, options, "create value", () => {
      const raw = initial === undefined
        ? undefined
        : toStored(typecode, initial, "create value", "initial");
      const data = new kind.make(new SharedArrayBuffer(kind.bytes));
      if (raw !== undefined) store(typecode, data, 0, raw);
      return data;
    });
    this.#data = memory.data;
    this.#lock = memory.lock;
  }

  /** The type code. */
  get typecode(): C {
    return this.#code;
  }

  /** The current value; reading and writing hold the lock, if any. */
  get value(): ItemOf<C> {
    // Written out rather than through guarded(): `value += 1` is the hot
    // path of every counter, and a closure per access shows.
    const lock = this.#lock;
    if (lock === null) {
      return fromStored(this.#code, load(this.#code, this.#data, 0)) as ItemOf<
        C
      >;
    }
    lock[kSemCore]().acquireBrief("read value");
    try {
      return fromStored(this.#code, load(this.#code, this.#data, 0)) as ItemOf<
        C
      >;
    } finally {
      lock.release();
    }
  }

  set value(input: InputOf<C>) {
    const raw = toStored(this.#code, input, "set value", "value");
    const lock = this.#lock;
    if (lock === null) {
      store(this.#code, this.#data, 0, raw);
      return;
    }
    lock[kSemCore]().acquireBrief("set value");
    try {
      store(this.#code, this.#data, 0, raw);
    } finally {
      lock.release();
    }
  }

  /**
   * The lock that guards the value.
   *
   * @returns The Lock or RLock.
   * @throws {TypeError} When the value was created with `lock: false`.
   *
   * @example Using getLock()
   * ```ts
   * import { Value } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * const counter = new Value("i", 0);
   * {
   *   using _ = await counter.getLock().hold();
   *   counter.value += 1;
   * }
   * assert.deepEqual(counter.value, 1);
   * ```
   */
  getLock(): Lock | RLock {
    return lockOf(this.#lock, "value");
  }

  /** Describes the value for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    return describeCType("Value", this.#code, this.#data, this.#lock);
  }

  /** Shows the value in `console.log` (read without the lock). */
  [Symbol.for("Deno.customInspect")](): string {
    const item = fromStored(this.#code, load(this.#code, this.#data, 0));
    return `Value { typecode: "${this.#code}", value: ${Deno.inspect(item)}${
      this.#lock === null ? ", lock: false" : ""
    } }`;
  }
}

/** A {@linkcode Value} without a lock (`getLock()` is absent). */
export type RawValue<C extends TypeCode = TypeCode> = Omit<Value<C>, "getLock">;

/**
 * A shared value without a lock (CPython's `RawValue`): reads and writes
 * are single stores, and nothing makes a read-modify-write atomic.
 *
 * @param typecode The C type.
 * @param initial The first value; zero when omitted.
 * @returns The value.
 * @throws {TypeError} For an unknown type code or a wrong initial value.
 *
 * @example Using RawValue
 * ```ts
 * import { RawValue } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const flag = RawValue("B");
 * flag.value = 1;
 * assert.deepEqual(flag.value, 1);
 * ```
 */
export function RawValue<C extends TypeCode>(
  typecode: C,
  initial?: InputOf<C>,
): RawValue<C> {
  return new Value(typecode, initial, { lock: false });
}

registerCType(
  "Value",
  (code, memory) => construct(Value, code, undefined, undefined, memory),
  import.meta.url,
);
