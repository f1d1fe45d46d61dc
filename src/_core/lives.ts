// Whether a process of this OS process is still alive, for a thread that
// meets its traces in shared memory: a Condition's notify() must pass over
// a waiter that was killed while it waited, or the notification goes to
// nobody (CPython's semaphore-based Condition hands it to a live waiter).
//
// A killed Web Worker runs no more code, so it cannot withdraw itself; its
// parent learns of the end (the exit report, or its own stop()) and frees
// the child's life word then. A waiter records its word and pid with what
// it leaves in shared memory; a life word freed and claimed again holds
// another pid, so a stale record never looks alive. The main thread, and a
// process that found no free word, have none and always count as alive.
//
// Layout: the life table of src/_wire/layouts.ts.
//
// Tier 1: below the synchronization primitives that consult it.

import { processWide, state } from "./state.ts";
import { kLifeCursor, kLifeParents, kLifeWords } from "../_wire/layouts.ts";

/** The life word of a process that has none (always counts as alive). */
export const kNoLife = -1;

const kKey = "lives";
// This thread's view of the table, once it has one: a child receives the
// table with its init message, the main thread makes it for its first
// child, and it never changes after.
let view: Int32Array | undefined;

function table(create: boolean): Int32Array | undefined {
  if (view !== undefined) return view;
  const buffer = create
    ? processWide(kKey, () => new SharedArrayBuffer(2 * kLifeWords * 4))
    : state().shared[kKey];
  return view = buffer && new Int32Array(buffer);
}

/**
 * Claims a life word for a child with `pid`; the parent calls it before
 * it sends the child its init message (which carries the shared table).
 *
 * @returns The word's index, or {@linkcode kNoLife} when none is free.
 */
export function claimLife(pid: number): number {
  const a = table(true)!;
  const words = kLifeWords - 1;
  const start = Atomics.add(a, kLifeCursor, 1) >>> 0;
  const parent = state().life;
  for (let k = 0; k < words; k++) {
    const i = 1 + (start + k) % words;
    if (Atomics.compareExchange(a, i, 0, pid) === 0) {
      Atomics.store(a, kLifeParents + i, parent === kNoLife ? 0 : parent);
      return i;
    }
  }
  return kNoLife;
}

/**
 * Frees the life word of a process that has ended (once; later calls do
 * nothing), and those of its Web Worker children, which ended with it:
 * nobody else is left to free them.
 */
export function endLife(life: number, pid: number): void {
  const a = table(false);
  if (life === kNoLife || a === undefined || Atomics.load(a, life) !== pid) {
    return;
  }
  // Its children's words first, while its own is still held: a word freed
  // and claimed again is another process's, whose children are not these.
  for (let k = 1; k < kLifeWords; k++) {
    if (Atomics.load(a, kLifeParents + k) !== life) continue;
    const child = Atomics.load(a, k);
    if (child !== 0) endLife(k, child);
  }
  // The parent word goes before the life word: a claim of the word then
  // finds it 0 until it writes its own.
  Atomics.store(a, kLifeParents + life, 0);
  Atomics.compareExchange(a, life, pid, 0);
}

/** Whether the process with life word `life` and `pid` has not been seen to end. */
export function isAlive(life: number, pid: number): boolean {
  if (life === kNoLife) return true;
  const a = table(false);
  return a === undefined || Atomics.load(a, life) === pid;
}
