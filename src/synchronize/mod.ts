/**
 * Synchronization primitives shared by processes (CPython's
 * `multiprocessing.synchronize`): {@linkcode Lock}, {@linkcode RLock},
 * {@linkcode Semaphore}, {@linkcode BoundedSemaphore}, {@linkcode Condition},
 * {@linkcode Event} and {@linkcode Barrier}.
 *
 * Each keeps all of its state in a SharedArrayBuffer, so the object a child
 * receives through `args` is the same primitive, not a copy. Every blocking
 * call has an async form that never blocks the thread (use it on the main
 * thread) and a `…Sync` form that blocks the calling worker; on the main
 * thread a `…Sync` call succeeds when it need not wait and otherwise throws
 * a `ProcessError` rather than freeze the event loop. Waits spin briefly
 * before they sleep, and sleeping waits in workers wake every 50 ms to notice
 * `terminate()`.
 *
 * @module
 */

export type { AcquireOptions } from "./_sync.ts";
export { SemLock } from "./sem_lock.ts";
export { Lock } from "./lock.ts";
export { RLock } from "./rlock.ts";
export { BoundedSemaphore, Semaphore } from "./semaphore.ts";
export { Condition } from "./condition.ts";
export { Event } from "./event.ts";
export { Barrier } from "./barrier.ts";
