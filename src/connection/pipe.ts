/**
 * `Pipe()` (CPython's `multiprocessing.Pipe`): two connected
 * {@linkcode Connection}s.
 *
 * @module
 */

import { Ring } from "../_memory/ring_buffer.ts";
import { kPipeSlots } from "../_wire/layouts.ts";
import { checkBoolean } from "../_core/validate.ts";
import { registerReviver } from "../reduction.ts";
import { Connection } from "./connection.ts";
import {
  initPipe,
  PipeEnd,
  type PipeParts,
  recordHolder,
} from "./_pipe_end.ts";

function connect(parts: PipeParts, end: number): Connection {
  return new (Connection as new (end: PipeEnd) => Connection)(
    new PipeEnd(parts, end),
  );
}

/**
 * Creates a pipe: two connected {@linkcode Connection}s (CPython's
 * `multiprocessing.Pipe`).
 *
 * @param duplex `true`: both ends send and receive; `false`: the first end
 * only receives, the second only sends.
 * @default {true}
 * @returns The two ends.
 * @throws {TypeError} When `duplex` is not a boolean.
 *
 * @example Using Pipe
 * ```ts
 * import { Pipe } from "@dmp/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * const [reader, writer] = Pipe(false);
 * writer.send([1, "two"]);
 * assert.deepEqual(await reader.recv(), [ 1, "two" ]);
 * ```
 */
export function Pipe(duplex = true): [Connection, Connection] {
  checkBoolean(duplex, "duplex", "create pipe");
  const control = new SharedArrayBuffer(4 * kPipeSlots);
  initPipe(control, duplex);
  const capacity = 16 * 1024;
  const parts: PipeParts = {
    control,
    r01: duplex ? Ring.create(capacity) : null,
    r10: Ring.create(capacity),
  };
  return [connect(parts, 0), connect(parts, 1)];
}

registerReviver("Connection", (d) => {
  const ring = (pair: unknown) => {
    const [control, data] = pair as [SharedArrayBuffer, SharedArrayBuffer];
    return new Ring(control, data);
  };
  const parts: PipeParts = {
    control: d.control as SharedArrayBuffer,
    r01: d.r01 === null ? null : ring(d.r01),
    r10: ring(d.r10),
  };
  const end = d.end as number;
  const conn = connect(parts, end);
  recordHolder(parts.control, end);
  return conn;
});
