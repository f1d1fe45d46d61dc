/**
 * `Pipe()`, `Connection` and `wait()` (CPython's
 * `multiprocessing.connection`): two connected ends that send whole
 * messages to each other.
 *
 * ```
 *   end 0                       ring r01                       end 1
 *   send() / sendBytes() ──▶ [ record | record | … ] ──▶ recv() / recvBytes()
 *   recv() / recvBytes() ◀── [ record | … ] ◀── ring r10 ◀── send() / sendBytes()
 *
 *   pipe control block: how many handles of each end are open, and which
 *   child processes hold them (so a parent sees EOF when such a child ends)
 * ```
 *
 * Each message is one record of a shared ring (see src/_memory/ring_buffer.ts), so
 * messages are never merged or split, an empty message is a message, and a
 * message can be as large as 1 GiB.
 *
 * **End of file.** As with CPython's pipes, a receiver gets {@linkcode EOFError}
 * once the pipe is drained and every handle of the other end is closed.
 * Passing an end to a child through `args` adds a handle (the child's copy);
 * closing it in the parent (CPython's usual `child_conn.close()` after
 * `start()`) leaves the child's copy open. A child's copies count as closed
 * when it calls `close()`, and, seen from its parent, when the child ends.
 *
 * @module
 */

export { BrokenPipeError, EOFError } from "./pipe_errors.ts";
export { Connection } from "./connection.ts";
export { Pipe } from "./pipe.ts";
export { wait, type Waitable } from "./wait.ts";
