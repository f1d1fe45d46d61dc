// What this thread relays for "subprocess" children (src/_child/
// proxy_parent.ts): their calls to shared objects reach the objects' host
// worker through this thread's event loop. So a wait here that blocks the
// thread for something only such a child can do (release a lock its host
// holds, put an item) never ends: it is refused, with the awaited form to
// use instead.
//
// Tier 1.

import { ProcessError } from "../errors.ts";

// The memory of the shared objects sent to subprocess children still
// running, by the pid of each child's proxy host (a lock's holder is a
// pid), and the other way round.
const hosts = new WeakMap<ArrayBufferLike, Set<number>>();
const buffers = new Map<number, ArrayBufferLike[]>();

/** Records that the child whose proxy host is `host` uses `buffer`. */
export function relayMemory(buffer: ArrayBufferLike, host: number): void {
  let set = hosts.get(buffer);
  if (set === undefined) hosts.set(buffer, set = new Set());
  if (set.has(host)) return;
  set.add(host);
  buffers.get(host)?.push(buffer) ?? buffers.set(host, [buffer]);
}

/** The child of proxy host `host` has ended: nothing of it is relayed. */
export function endRelay(host: number): void {
  for (const buffer of buffers.get(host) ?? []) hosts.get(buffer)?.delete(host);
  buffers.delete(host);
}

/**
 * Refuses a blocking wait on an object over `buffer` that a subprocess
 * child uses (`holder`, when given: only while that child's host holds it).
 *
 * @throws {ProcessError} When the wait could never end.
 */
export function assertNotRelayed(
  buffer: ArrayBufferLike,
  what: string,
  asyncForm: string,
  holder?: number,
): void {
  const users = hosts.get(buffer);
  if (users === undefined || users.size === 0) return;
  if (holder !== undefined && !users.has(holder)) return;
  throw new ProcessError(
    `Cannot ${what} by blocking this thread as a "subprocess" child ${
      holder === undefined ? "uses it" : "holds its lock"
    }, and its calls reach the object through this thread: use 'await ${asyncForm}'`,
  );
}
