/**
 * `SharedMemory`: named blocks of memory that any process can attach to
 * (CPython's `multiprocessing.shared_memory.SharedMemory`).
 *
 * @module
 */

import {
  describe,
  kReduce,
  registerReviver,
  type SharedDescriptor,
} from "../reduction.ts";
import { ProcessError } from "../errors.ts";
import {
  attachByName,
  attachEntry,
  type Attachment,
  createBlock,
  detach,
  kNameBytes,
  registry,
  unlinkEntry,
  viewOf,
  viewsOf,
} from "./_registry.ts";
import { Adopted, construct } from "../_memory/adopt.ts";
import { checkKnownKeys } from "../_core/known_keys.ts";
import { checkBoolean } from "../_core/validate.ts";

// Why an arena, and how blocks are laid out: see _shm_registry.ts.

const encoder = new TextEncoder();

function checkName(name: unknown, what: string): Uint8Array {
  if (typeof name !== "string") {
    throw new TypeError(
      `Cannot ${what} as 'name' must be a string: current value is ${
        Deno.inspect(name)
      }`,
    );
  }
  const bytes = encoder.encode(name);
  if (bytes.length === 0 || bytes.length > kNameBytes) {
    throw new RangeError(
      `Cannot ${what} as 'name' must be 1 to ${kNameBytes} bytes long: current value is ${
        Deno.inspect(name)
      }`,
    );
  }
  return bytes;
}

/** Options of {@linkcode SharedMemory}. */
export interface SharedMemoryOptions {
  /**
   * The block's name. Required to attach; when creating without one, a
   * unique `psm_…` name is chosen.
   */
  name?: string;
  /**
   * Create a new block (`true`) or attach to an existing one.
   *
   * @default {false}
   */
  create?: boolean;
  /** The size in bytes of a new block (ignored when attaching). */
  size?: number;
}

/** A typed array class, as {@linkcode SharedMemory.view} takes it. */
export interface TypedArrayClass<T> {
  /** Creates a view of `length` elements from `byteOffset`. */
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  /** Bytes per element. */
  readonly BYTES_PER_ELEMENT: number;
}

const collector = new FinalizationRegistry<Attachment>((a) => {
  detach(a.registry, a.entry, a.generation);
});

/**
 * A block of shared memory with a name: one process creates it, any
 * process attaches to it by name (or receives it through `args`), and
 * `buf` is a view on the same bytes everywhere. Memory starts zeroed.
 *
 * As in CPython, `close()` detaches this object, and `unlink()` removes the
 * name (call it once, usually in the creator); the memory is reused once
 * the block is unlinked and every attached object is closed (or garbage
 * collected). All blocks live in one program-wide arena (see the source
 * for why), so the main process must import this library before it starts
 * the children that will attach by name.
 *
 * @example Create, attach by name, unlink
 * ```ts
 * import { SharedMemory } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * using shm = new SharedMemory({ create: true, size: 16 });
 * shm.buf[0] = 42;
 * using other = new SharedMemory({ name: shm.name }); // in any process
 * assert.deepEqual(other.buf[0], 42);
 * shm.unlink();
 * ```
 */
export class SharedMemory {
  #name: string;
  #size: number;
  #buf: Uint8Array | null;
  #attachment: Attachment;

  /**
   * Creates a block, or attaches to one by name.
   *
   * @param options `{ create: true, size, name? }` or `{ name }`.
   * @throws {TypeError} When options have the wrong type, or `name` is
   * missing when attaching.
   * @throws {RangeError} For a size that is not a positive integer or does
   * not fit, or a name that is empty or too long.
   * @throws {Deno.errors.AlreadyExists} When creating under a taken name.
   * @throws {Deno.errors.NotFound} When attaching to an unknown name.
   */
  constructor(options: SharedMemoryOptions);
  constructor(options: SharedMemoryOptions, adopted?: unknown) {
    this.#attachment = adopted instanceof Adopted
      ? adopted.memory as Attachment
      : open(options);
    this.#name = this.#attachment.name;
    this.#buf = viewOf(this.#attachment);
    this.#size = this.#buf.length;
    collector.register(this, this.#attachment, this);
  }

  /** The block's name. */
  get name(): string {
    return this.#name;
  }

  /** The block's size in bytes. */
  get size(): number {
    return this.#size;
  }

  /**
   * The bytes of the block, shared with every process attached to it.
   *
   * `buf.buffer` is the arena that holds every block, not this block: for
   * another element type use {@linkcode SharedMemory.view}, which starts at
   * the block.
   *
   * @throws {ProcessError} After `close()`.
   */
  get buf(): Uint8Array {
    if (this.#buf === null) {
      throw new ProcessError(
        `Cannot read 'buf' as the shared memory '${this.#name}' is closed`,
      );
    }
    return this.#buf;
  }

  /**
   * A typed view of the block (CPython's `np.ndarray(buffer=shm.buf)`),
   * from `byteOffset` within the block, `length` elements long.
   *
   * @param type A typed array class (`Float64Array`, `Int32Array`, …).
   * @param options `byteOffset` (a multiple of the element size) and
   * `length` (elements). @default {{ byteOffset: 0, length: as many as fit }}
   * @returns The view, shared like `buf`.
   * @throws {RangeError} When the view would not fit the block, or the
   * offset is not a multiple of the element size.
   * @throws {ProcessError} After `close()`.
   *
   * @example Doubles in a block, never in another one
   * ```ts
   * import { SharedMemory } from "@dmp/multiprocessing";
   * import assert from "node:assert/strict";
   *
   * using shm = new SharedMemory({ create: true, size: 16 });
   * const doubles = shm.view(Float64Array);
   * doubles[1] = 0.5;
   * assert.equal(doubles.length, 2);
   * using other = new SharedMemory({ name: shm.name }); // in any process
   * assert.equal(other.view(Float64Array)[1], 0.5);
   * shm.unlink();
   * ```
   */
  view<T>(
    type: TypedArrayClass<T>,
    options: { byteOffset?: number; length?: number } = {},
  ): T {
    const buf = this.buf;
    const step = type.BYTES_PER_ELEMENT;
    const start = options.byteOffset ?? 0;
    if (
      !Number.isInteger(start) || start < 0 || start > buf.length ||
      start % step
    ) {
      throw new RangeError(
        `Cannot view shared memory as 'byteOffset' must be a multiple of ${step} from 0 to ${buf.length}: current value is ${start}`,
      );
    }
    const fit = Math.floor((buf.length - start) / step);
    const length = options.length ?? fit;
    if (!Number.isInteger(length) || length < 0 || length > fit) {
      throw new RangeError(
        `Cannot view shared memory as 'length' must be an integer from 0 to ${fit}: current value is ${length}`,
      );
    }
    return new type(buf.buffer, buf.byteOffset + start, length);
  }

  /**
   * Detaches this object from the block (others keep it). Calling it again
   * does nothing.
   *
   * @example Using close()
   * ```ts
   * import { SharedMemory } from "@dmp/multiprocessing";
   *
   * const shm = new SharedMemory({ create: true, size: 8 });
   * shm.close();
   * shm.unlink();
   * ```
   */
  close(): void {
    if (this.#buf === null) return;
    this.#buf = null;
    collector.unregister(this);
    const { registry, entry, generation } = this.#attachment;
    detach(registry, entry, generation);
  }

  /**
   * Removes the block's name, so that nobody can attach to it any more;
   * the memory is reused once every attached object is closed.
   *
   * @throws {Deno.errors.NotFound} When the name was already unlinked.
   *
   * @example Using unlink()
   * ```ts
   * import { SharedMemory } from "@dmp/multiprocessing";
   * import { throws } from "node:assert/strict";
   *
   * using shm = new SharedMemory({ create: true, size: 8 });
   * shm.unlink();
   * throws(() => shm.unlink(), Deno.errors.NotFound);
   * ```
   */
  unlink(): void {
    const { registry, entry, generation } = this.#attachment;
    if (!unlinkEntry(registry, entry, generation)) {
      throw new Deno.errors.NotFound(
        `Cannot unlink shared memory as 'name' must name a block: current value is '${this.#name}' (already unlinked)`,
      );
    }
  }

  /** Closes this object (`using shm = new SharedMemory(…)`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes the block for a child (see reduction.ts). */
  [kReduce](): SharedDescriptor {
    const { registry: r, entry, generation } = this.#attachment;
    if (this.#buf === null) {
      throw new ProcessError(
        `Cannot send shared memory as '${this.#name}' is closed`,
      );
    }
    return describe("SharedMemory", {
      registry: r.ints.buffer,
      arena: r.arena,
      entry,
      generation,
      name: this.#name,
    });
  }

  /** Shows the block in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `SharedMemory { name: "${this.#name}", size: ${this.#size}${
      this.#buf === null ? ", closed: true" : ""
    } }`;
  }
}

function open(options: SharedMemoryOptions): Attachment {
  const what = "open shared memory";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${what} as 'options' must be an object: current value is ${
        Deno.inspect(options)
      }`,
    );
  }
  checkKnownKeys(options, ["name", "create", "size"], what);
  const { name, create = false, size } = options;
  checkBoolean(create, "create", what);
  const r = registry();
  if (!create) {
    if (name === undefined) {
      throw new TypeError(
        `Cannot ${what} as 'name' must be given to attach to a block (or pass 'create: true'): current value is undefined`,
      );
    }
    const bytes = checkName(name, what);
    const found = attachByName(r, bytes);
    if (found === undefined) {
      throw new Deno.errors.NotFound(
        `Cannot ${what} as 'name' must name an existing block: current value is '${name}'`,
      );
    }
    return found;
  }
  const whatCreate = "create shared memory";
  if (typeof size !== "number") {
    throw new TypeError(
      `Cannot ${whatCreate} as 'size' must be a number of bytes: current value is ${
        Deno.inspect(size)
      }`,
    );
  }
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new RangeError(
      `Cannot ${whatCreate} as 'size' must be a positive integer: current value is ${size}`,
    );
  }
  const bytes = name === undefined ? undefined : checkName(name, whatCreate);
  const attachment = createBlock(r, bytes, size);
  if (attachment === undefined) {
    throw new Deno.errors.AlreadyExists(
      `Cannot ${whatCreate} as 'name' must not be taken: current value is '${name}'`,
    );
  }
  return attachment;
}

registerReviver("SharedMemory", (d) => {
  const buffer = d.registry as SharedArrayBuffer;
  const arena = d.arena as SharedArrayBuffer;
  const mine = registry();
  const r = mine.ints.buffer === buffer ? mine : viewsOf(buffer, arena);
  const e = d.entry as number;
  const generation = d.generation as number;
  const ok = attachEntry(r, e, generation);
  if (!ok) {
    throw new Deno.errors.NotFound(
      `Cannot attach shared memory as 'name' must name a live block: current value is '${d.name}' (freed before this process received it)`,
    );
  }
  const name = d.name as string;
  const memory = new Adopted({ registry: r, entry: e, generation, name });
  return construct(SharedMemory, { name }, memory);
});
