// One end of a pipe over its shared memory: the rings it sends and receives
// through, and the pipe's table of open handles. Connection is a facade over
// a PipeEnd; Pipe() and the reviver build them.

import { ProcessError } from "../errors.ts";
import {
  checkStop,
  kGetterWait,
  kPutterWait,
  type Record_,
  type Ring,
} from "../_memory/ring_buffer.ts";
import {} from "../_wire/layouts.ts";
import type { Encoded } from "../_memory/record_codec.ts";
import { lockSync, unlock } from "../_memory/mutex.ts";
import { asyncSpin } from "../_memory/spin.ts";
import {
  kPipeDuplex as kDuplex,
  kPipeHolders as kHolderSlots,
  kPipeLock,
  kPipeTables as kTables,
  kPipeTableSlots as kTableSlots,
} from "../_wire/layouts.ts";
import { describe, type SharedDescriptor } from "../reduction.ts";
import { state } from "../_core/state.ts";
import { BrokenPipeError, EOFError } from "./pipe_errors.ts";

/** How often a waiting receiver looks for ended child holders (ms). */
const kReclaimSliceMs = 100;
/**
 * Loads a main-thread receiver spins before sleeping: a worker's reply
 * usually lands within a few microseconds, while waking from
 * Atomics.waitAsync costs tens of them.
 */
const kRecvSpin = 20_000;

/** The shared memory of a pipe. */
export interface PipeParts {
  control: SharedArrayBuffer;
  /** Ring written by end 0 (read by end 1); absent for a one-way pipe. */
  r01: Ring | null;
  /** Ring written by end 1 (read by end 0). */
  r10: Ring;
}

function tableOf(end: number): number {
  return kTables + end * kTableSlots;
}

function lockPipe(c: Int32Array): void {
  lockSync(c, kPipeLock);
}

function unlockPipe(c: Int32Array): void {
  unlock(c, kPipeLock);
}

function liveChild(pid: number): boolean {
  for (const child of state().children) {
    if ((child as { pid?: number | null }).pid === pid) {
      try {
        return child.isAlive();
      } catch {
        return false;
      }
    }
  }
  return false;
}

// Counts the open handles of `end`, first dropping those held by children
// of this process that have ended (only a parent knows its children).
function openHandles(c: Int32Array, end: number): number {
  const table = tableOf(end);
  const me = state().pid;
  let mine = false;
  for (let s = 0; s < kHolderSlots; s++) {
    const at = table + 1 + 3 * s;
    if (Atomics.load(c, at) !== 0 && Atomics.load(c, at + 1) === me) {
      mine = true;
      break;
    }
  }
  if (!mine) return Atomics.load(c, table);
  lockPipe(c);
  try {
    for (let s = 0; s < kHolderSlots; s++) {
      const at = table + 1 + 3 * s;
      const pid = c[at];
      if (pid !== 0 && c[at + 1] === me && !liveChild(pid)) {
        c[table] -= c[at + 2];
        c[at] = c[at + 1] = c[at + 2] = 0;
      }
    }
    return c[table];
  } finally {
    unlockPipe(c);
  }
}

// Counts the caller's handle of `end` as closed.
function closeHandle(c: Int32Array, end: number): void {
  const table = tableOf(end);
  const pid = state().pid;
  lockPipe(c);
  try {
    c[table]--;
    for (let slot = 0; slot < kHolderSlots; slot++) {
      const at = table + 1 + 3 * slot;
      if (c[at] === pid && c[at + 2] > 0) {
        if (--c[at + 2] === 0) c[at] = c[at + 1] = 0;
        break;
      }
    }
  } finally {
    unlockPipe(c);
  }
}

/**
 * Records that this child holds a handle of `end`, so that its parent can
 * count the handle as closed once the child has ended.
 */
export function recordHolder(control: SharedArrayBuffer, end: number): void {
  const s = state();
  if (s.parent === null) return;
  const c = new Int32Array(control);
  const table = tableOf(end);
  lockPipe(c);
  try {
    let free = -1;
    for (let slot = 0; slot < kHolderSlots; slot++) {
      const at = table + 1 + 3 * slot;
      if (c[at] === s.pid) {
        free = at;
        break;
      }
      if (c[at] === 0 && free < 0) free = at;
    }
    if (free >= 0) {
      c[free] = s.pid;
      c[free + 1] = s.parent.pid;
      c[free + 2]++;
    }
  } finally {
    unlockPipe(c);
  }
}

/** Fills a new pipe's control block: both ends open once. */
export function initPipe(control: SharedArrayBuffer, duplex: boolean): void {
  const c = new Int32Array(control);
  c[kDuplex] = duplex ? 1 : 0;
  c[tableOf(0)] = 1;
  c[tableOf(1)] = 1;
}

type Fresh = boolean | ((tag: number) => boolean);
type Limit = number | ((tag: number) => number);

/** One end of a pipe: what a Connection does, without its docs. */
export class PipeEnd {
  readonly #control: Int32Array;
  readonly #parts: PipeParts;
  readonly #end: number;
  readonly #in: Ring | null;
  readonly #out: Ring | null;
  // Learned per end: spinning pays only while the peer answers promptly.
  readonly #recvSpin = asyncSpin(kRecvSpin);
  closed = false;

  constructor(parts: PipeParts, end: number) {
    this.#parts = parts;
    this.#end = end;
    this.#control = new Int32Array(parts.control);
    const duplex = this.#control[kDuplex] === 1;
    if (end === 0) {
      this.#in = parts.r10;
      this.#out = duplex ? parts.r01 : null;
    } else {
      this.#in = duplex ? parts.r01 : null;
      this.#out = parts.r10;
    }
  }

  get readable(): boolean {
    return this.#in !== null;
  }

  get writable(): boolean {
    return this.#out !== null;
  }

  checkOpen(what: string): void {
    if (this.closed) {
      throw new ProcessError(`Cannot ${what} as the connection is closed`);
    }
  }

  #inRing(what: string): Ring {
    this.checkOpen(what);
    if (this.#in === null) {
      throw new ProcessError(`Cannot ${what} as the connection is write-only`);
    }
    checkStop();
    return this.#in;
  }

  #outRing(what: string): Ring {
    this.checkOpen(what);
    if (this.#out === null) {
      throw new ProcessError(`Cannot ${what} as the connection is read-only`);
    }
    // Every send passes here: a child that was terminated while it sends in
    // a loop stops at its next send (one Atomics.load), as at a put, instead
    // of sending on until the reader closes. A send that has to wait for
    // room sees the stop in its wait.
    checkStop();
    return this.#out;
  }

  #peerGone(): boolean {
    return openHandles(this.#control, 1 - this.#end) <= 0;
  }

  /**
   * Sends one record.
   *
   * @throws {BrokenPipeError} When the other end is closed everywhere.
   */
  push(what: string, encoded: () => Encoded): void {
    const ring = this.#outRing(what);
    const { tag, bytes } = encoded();
    if (this.#peerGone()) throw new BrokenPipeError();
    if (ring.push(tag, bytes, 0) === "ok") return;
    // The ring is at its largest and full: wait for the reader.
    const copy = bytes.slice();
    const retry = (): true | undefined => {
      if (ring.push(tag, copy, 0) === "ok") return true;
      if (this.#peerGone()) throw new BrokenPipeError();
    };
    ring.untilSync(retry, kPutterWait, Infinity, kReclaimSliceMs);
  }

  // One receive attempt: a record, or undefined (nothing yet).
  #take(ring: Ring, fresh: Fresh, maxLength?: Limit): Record_ | undefined {
    const record = ring.pop(fresh, maxLength);
    if (record !== undefined || !this.#peerGone()) return record;
    // The last messages may have landed between pop() and the check.
    const last = ring.pop(fresh, maxLength);
    if (last === undefined) throw new EOFError();
    return last;
  }

  /** Receives one record, blocking the thread. */
  receiveSync(what: string, fresh: Fresh, maxLength?: Limit): Record_ {
    const ring = this.#inRing(what);
    const take = () => this.#take(ring, fresh, maxLength);
    return ring.untilSync(take, kGetterWait, Infinity, kReclaimSliceMs)!;
  }

  /** Receives one record without blocking the thread. */
  async receive(
    what: string,
    fresh: Fresh,
    maxLength?: Limit,
  ): Promise<Record_> {
    const ring = this.#inRing(what);
    const take = () => {
      this.checkOpen(what);
      return this.#take(ring, fresh, maxLength);
    };
    return (await ring.until(take, kGetterWait, Infinity, {
      slice: kReclaimSliceMs,
      spin: this.#recvSpin,
    }))!;
  }

  // Whether a receive would not wait now: a message is there, or the other
  // end is closed (then receiving throws EOFError).
  #ready = (): true | undefined => {
    const ring = this.#inRing("poll");
    return ring.count > 0 || this.#peerGone() || undefined;
  };

  // The answer of a poll that need not wait: ready now, or out of time.
  #pollNow(deadline: number): boolean | undefined {
    if (this.#ready()) return true;
    if (performance.now() >= deadline) return false;
  }

  /** Connection.pollSync() with a checked deadline. */
  pollSync(deadline: number): boolean {
    const ring = this.#inRing("poll");
    const [ready, slice] = [this.#ready, kReclaimSliceMs];
    return this.#pollNow(deadline) ??
      ring.untilSync(ready, kGetterWait, deadline, slice) ?? false;
  }

  /** Connection.poll() with a checked deadline. */
  async poll(deadline: number): Promise<boolean> {
    const ring = this.#inRing("poll");
    const [ready, slice] = [this.#ready, kReclaimSliceMs];
    return this.#pollNow(deadline) ??
      await ring.until(ready, kGetterWait, deadline, { slice }) ?? false;
  }

  /** Closes this handle and wakes every sleeper of the pipe. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeHandle(this.#control, this.#end);
    this.#in?.wake();
    this.#out?.wake();
  }

  /** The descriptor of this end; the child's copy is one more handle. */
  reduce(): SharedDescriptor {
    this.checkOpen("pass connection to a process");
    Atomics.add(this.#control, tableOf(this.#end), 1);
    const { control, r01, r10 } = this.#parts;
    return describe("Connection", {
      end: this.#end,
      control,
      r01: r01 === null ? null : [r01.control.buffer, r01.data],
      r10: [r10.control.buffer, r10.data],
    });
  }
}
