/**
 * `Queue`, `SimpleQueue` and `JoinableQueue`: FIFO queues any number of
 * processes can put to and get from at once (CPython's
 * `multiprocessing.queues`).
 *
 * ```
 *  producer (any process)                        consumer (any process)
 *  q.put(item)                                   q.get()
 *   │ encode outside the lock                      ▲ decode outside the lock
 *   │ (UTF-8 / JSON / bytes / node:v8)             │
 *   ▼                                              │
 *  ┌─ lock ── copy record in ── unlock ─┐   ┌─ lock ── copy record out ── unlock ─┐
 *  │   ring (growable SharedArrayBuffer) ───────────────────────────────────▶     │
 *  └─ kPutSeq++ ; notify getters ───────┘   └─ kGetSeq++ ; notify putters ──────┘
 *   ▲ full (maxsize)? sleep on kGetSeq           empty? sleep on kPutSeq
 * ```
 *
 * Unlike CPython there is no feeder thread: `put()` has written the item
 * into shared memory by the time it returns, so nothing is lost when the
 * producer ends right after, and a value that cannot travel is a
 * `TypeError` at `put()` instead of an error printed by a background thread.
 *
 * @module
 */

export { type GetOptions, type PutOptions, Queue } from "./queue.ts";
export { JoinableQueue } from "./joinable_queue.ts";
export { SimpleQueue } from "./simple_queue.ts";
