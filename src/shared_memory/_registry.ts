// The program-wide name table and arena behind SharedMemory.

import { processWide, state } from "../_core/state.ts";
import { ProcessError } from "../errors.ts";
import { lockSync, unlock } from "../_memory/mutex.ts";
import {
  kEntryCapacity as fCapacity,
  kEntryEmpty as kEmpty,
  kEntryFree as kFreeBlock,
  kEntryGeneration as fGeneration,
  kEntryNamed as kNamed,
  kEntryNameLength as fNameLength,
  kEntryOffset as fOffset,
  kEntryRefs as fRefs,
  kEntrySize as fSize,
  kEntryState as fState,
  kEntryUnlinked as kUnlinked,
  kRegistryEntries as kEntries,
  kRegistryFloatHeader as kFloatHeader,
  kRegistryFloatsPerEntry as kFloatsPerEntry,
  kRegistryHighWater as kHighWater,
  kRegistryIntHeader as kIntHeader,
  kRegistryIntsPerEntry as kIntsPerEntry,
  kRegistryLock,
  kRegistryNameBytes as kNameBytes,
  kRegistryTop as kTop,
  kRegistryUsed as kUsed,
} from "../_wire/layouts.ts";

// Why an arena: `new SharedMemory({ name })` is synchronous, and it must
// find a block created by *any* process, including one created after this
// process started. Workers can only share a SharedArrayBuffer by message,
// and a message cannot be received synchronously. So every block lives in
// one growable SharedArrayBuffer (the arena) that the main process creates
// at import time and that every child receives when it starts (see
// processWide()); a growable SharedArrayBuffer grows in place for every
// thread that holds it, so a block carved out later is visible everywhere.
// A name table in a second program-wide buffer maps names to blocks. The
// arena reserves address space (not memory) up to its maximum size; memory
// is committed as it grows and is never returned to the system, but freed
// blocks are reused.
//
// Registry layout: the shared-memory registry block of src/_wire/layouts.ts.

const kIntBytes = (kIntHeader + kEntries * kIntsPerEntry) * 4;
const kFloatBytes = (kFloatHeader + kEntries * kFloatsPerEntry) * 8;
const kRegistryBytes = kIntBytes + kFloatBytes + kEntries * kNameBytes;
/** Blocks start at multiples of this (cache lines; fits any typed array). */
const kAlign = 64;

const kRegistryKey = "shared_memory.registry";
const kArenaKey = "shared_memory.arena";

function createArena(): SharedArrayBuffer {
  // The largest reservation the platform grants, from 64 GiB down.
  for (let max = 2 ** 36; max > 2 ** 24; max /= 2) {
    try {
      return new SharedArrayBuffer(0, { maxByteLength: max });
    } catch {
      // Not that much address space: try half.
    }
  }
  return new SharedArrayBuffer(0, { maxByteLength: 2 ** 24 });
}

// The main process creates both buffers now, before it can start a child;
// a child receives them at start (and must not create throwaway ones here).
if (!state().isChild) {
  processWide(kRegistryKey, () => new SharedArrayBuffer(kRegistryBytes));
  processWide(kArenaKey, createArena);
}

/** Views on one registry + arena pair. */
export interface Registry {
  ints: Int32Array;
  floats: Float64Array;
  names: Uint8Array;
  arena: SharedArrayBuffer;
}

let cached: Registry | undefined;

export function viewsOf(
  buffer: SharedArrayBuffer,
  arena: SharedArrayBuffer,
): Registry {
  return {
    ints: new Int32Array(buffer, 0, kIntBytes / 4),
    floats: new Float64Array(buffer, kIntBytes, kFloatBytes / 8),
    names: new Uint8Array(buffer, kIntBytes + kFloatBytes),
    arena,
  };
}

// Looked up on each use: a child's program-wide buffers arrive after this
// module was evaluated.
export function registry(): Registry {
  const buffer = processWide(
    kRegistryKey,
    () => new SharedArrayBuffer(kRegistryBytes),
  );
  const arena = processWide(kArenaKey, createArena);
  if (cached?.ints.buffer !== buffer || cached.arena !== arena) {
    cached = viewsOf(buffer, arena);
  }
  return cached;
}

function locked<T>(r: Registry, body: () => T): T {
  // Held for a table scan (and, on reuse, zeroing a block): brief enough to
  // wait for synchronously even on the main thread.
  lockSync(r.ints, kRegistryLock);
  try {
    return body();
  } finally {
    unlock(r.ints, kRegistryLock);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function int(e: number, field: number): number {
  return kIntHeader + e * kIntsPerEntry + field;
}
function float(e: number, field: number): number {
  return kFloatHeader + e * kFloatsPerEntry + field;
}

function nameOf(r: Registry, e: number): string {
  const length = r.ints[int(e, fNameLength)];
  return decoder.decode(r.names.slice(e * kNameBytes, e * kNameBytes + length));
}

function find(r: Registry, name: Uint8Array): number {
  const used = r.ints[kUsed];
  outer: for (let e = 0; e < used; e++) {
    if (r.ints[int(e, fState)] !== kNamed) continue;
    if (r.ints[int(e, fNameLength)] !== name.length) continue;
    const base = e * kNameBytes;
    for (let k = 0; k < name.length; k++) {
      if (r.names[base + k] !== name[k]) continue outer;
    }
    return e;
  }
  return -1;
}

function setName(r: Registry, e: number, name: Uint8Array): void {
  r.names.set(name, e * kNameBytes);
  r.ints[int(e, fNameLength)] = name.length;
}

/** Carves a zeroed block of `size` bytes; returns its entry. */
function allocate(r: Registry, size: number): number {
  const { ints, floats } = r;
  const used = ints[kUsed];
  // Best fit among freed blocks.
  let best = -1;
  for (let e = 0; e < used; e++) {
    if (ints[int(e, fState)] !== kFreeBlock) continue;
    const capacity = floats[float(e, fCapacity)];
    if (
      capacity >= size &&
      (best < 0 || capacity < floats[float(best, fCapacity)])
    ) best = e;
  }
  if (best >= 0) {
    const offset = floats[float(best, fOffset)];
    new Uint8Array(r.arena, offset, size).fill(0);
    return best;
  }
  let entry = -1;
  for (let e = 0; e < used; e++) {
    if (ints[int(e, fState)] === kEmpty) {
      entry = e;
      break;
    }
  }
  if (entry < 0) {
    if (used === kEntries) {
      throw new ProcessError(
        `Cannot create shared memory as all ${kEntries} blocks are in use: close() and unlink() some first`,
      );
    }
    entry = used;
    ints[kUsed] = used + 1;
  }
  const capacity = Math.ceil(size / kAlign) * kAlign;
  const offset = floats[kTop];
  const top = offset + capacity;
  const arena = r.arena;
  if (top > arena.maxByteLength) {
    throw new RangeError(
      `Cannot create shared memory as 'size' must fit in the ${arena.maxByteLength}-byte arena (${
        arena.maxByteLength - offset
      } bytes left): current value is ${size}`,
    );
  }
  if (top > arena.byteLength) {
    // Grow geometrically (fewer grow calls), by whole 64 KiB pages.
    const want = Math.max(
      top,
      Math.min(arena.maxByteLength, arena.byteLength * 1.5),
    );
    const length = Math.min(
      arena.maxByteLength,
      Math.ceil(want / 65536) * 65536,
    );
    try {
      arena.grow(length);
    } catch (error) {
      throw new RangeError(
        `Cannot create shared memory as 'size' must fit in the memory the system grants (growing the arena to ${length} bytes failed): current value is ${size}`,
        { cause: error },
      );
    }
  }
  // Memory under the high-water mark belonged to a freed block: zero it
  // (memory the arena grows by is zero already).
  const highWater = floats[kHighWater];
  if (offset < highWater) {
    new Uint8Array(arena, offset, Math.min(top, highWater) - offset).fill(0);
  }
  floats[kTop] = top;
  floats[kHighWater] = Math.max(highWater, top);
  floats[float(entry, fOffset)] = offset;
  floats[float(entry, fCapacity)] = capacity;
  return entry;
}

/**
 * Returns a block to the pool: merged with the freed blocks beside it (so
 * no two freed blocks touch), and given back to the arena's top when it
 * ends there. Without the merge, blocks of growing sizes (a buffer replaced
 * by a larger one) never fitted a freed block: the arena grew by each one
 * and every freed block kept its entry, until all entries were "in use".
 */
function free(r: Registry, e: number): void {
  const { ints, floats } = r;
  ints[int(e, fNameLength)] = 0;
  let offset = floats[float(e, fOffset)];
  let capacity = floats[float(e, fCapacity)];
  const used = ints[kUsed];
  for (let k = 0; k < used; k++) {
    if (k === e || ints[int(k, fState)] !== kFreeBlock) continue;
    const kOffset = floats[float(k, fOffset)];
    const kCapacity = floats[float(k, fCapacity)];
    if (kOffset + kCapacity === offset) {
      offset = kOffset;
      capacity += kCapacity;
    } else if (offset + capacity === kOffset) {
      capacity += kCapacity;
    } else continue;
    ints[int(k, fState)] = kEmpty;
  }
  floats[float(e, fOffset)] = offset;
  floats[float(e, fCapacity)] = capacity;
  if (offset + capacity === floats[kTop]) {
    floats[kTop] = offset;
    ints[int(e, fState)] = kEmpty;
  } else {
    ints[int(e, fState)] = kFreeBlock;
  }
}

/** Releases one attachment; frees an unlinked block with none left. */
export function detach(r: Registry, e: number, generation: number): void {
  locked(r, () => {
    const { ints } = r;
    if (ints[int(e, fGeneration)] !== generation) return;
    const refs = --ints[int(e, fRefs)];
    if (refs <= 0 && ints[int(e, fState)] === kUnlinked) free(r, e);
  });
}

/** One SharedMemory object's hold on a block. */
export interface Attachment {
  registry: Registry;
  entry: number;
  generation: number;
  name: string;
}

/** The bytes of an attached block. */
export function viewOf(a: Attachment): Uint8Array {
  const { registry: r, entry: e } = a;
  return new Uint8Array(
    r.arena,
    r.floats[float(e, fOffset)],
    r.floats[float(e, fSize)],
  );
}

/** Attaches to the block named `name`; undefined when there is none. */
export function attachByName(
  r: Registry,
  name: Uint8Array,
): Attachment | undefined {
  return locked(r, () => {
    const e = find(r, name);
    if (e < 0) return undefined;
    r.ints[int(e, fRefs)]++;
    return {
      registry: r,
      entry: e,
      generation: r.ints[int(e, fGeneration)],
      name: nameOf(r, e),
    };
  });
}

/**
 * Attaches to a block a descriptor names, unlinked or not; false when it
 * was freed (and possibly reused) meanwhile.
 */
export function attachEntry(
  r: Registry,
  e: number,
  generation: number,
): boolean {
  return locked(r, () => {
    const st = r.ints[int(e, fState)];
    if (
      r.ints[int(e, fGeneration)] !== generation ||
      (st !== kNamed && st !== kUnlinked)
    ) return false;
    r.ints[int(e, fRefs)]++;
    return true;
  });
}

/**
 * Creates a zeroed block of `size` bytes under `name` (a fresh `psm_…` one
 * when undefined); undefined when the name is taken.
 */
export function createBlock(
  r: Registry,
  name: Uint8Array | undefined,
  size: number,
): Attachment | undefined {
  return locked(r, () => {
    let chosen = name;
    if (chosen === undefined) {
      do chosen = encoder.encode(randomName()); while (find(r, chosen) >= 0);
    } else if (find(r, chosen) >= 0) {
      return undefined;
    }
    const e = allocate(r, size);
    const { ints, floats } = r;
    setName(r, e, chosen);
    floats[float(e, fSize)] = size;
    ints[int(e, fRefs)] = 1;
    ints[int(e, fGeneration)] = (ints[int(e, fGeneration)] + 1) | 0;
    ints[int(e, fState)] = kNamed;
    return {
      registry: r,
      entry: e,
      generation: ints[int(e, fGeneration)],
      name: decoder.decode(chosen),
    };
  });
}

/** Removes a block's name; false when it was unlinked already. */
export function unlinkEntry(
  r: Registry,
  e: number,
  generation: number,
): boolean {
  return locked(r, () => {
    const { ints } = r;
    if (
      ints[int(e, fGeneration)] !== generation ||
      ints[int(e, fState)] !== kNamed
    ) return false;
    ints[int(e, fNameLength)] = 0;
    if (ints[int(e, fRefs)] <= 0) free(r, e);
    else ints[int(e, fState)] = kUnlinked;
    return true;
  });
}

function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `psm_${
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

/** The longest name, in UTF-8 bytes. */
export { kNameBytes };
