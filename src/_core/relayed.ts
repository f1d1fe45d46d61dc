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
// running (their relays, by buffer and by relay), and the pids of their
// hosts (a lock's holder is a pid).
const users = new WeakMap<ArrayBufferLike, Set<object>>();
const buffers = new Map<object, ArrayBufferLike[]>();
const hosts = new Set<number>();

/** Records that `relay`'s child uses objects over `buffer`. */
export function relayMemory(buffer: ArrayBufferLike, relay: object): void {
  let set = users.get(buffer);
  if (set === undefined) users.set(buffer, set = new Set());
  if (set.has(relay)) return;
  set.add(relay);
  buffers.get(relay)?.push(buffer) ?? buffers.set(relay, [buffer]);
}

/** `relay`'s child has ended: its objects are no longer relayed. */
export function endRelay(relay: object): void {
  for (const buffer of buffers.get(relay) ?? []) {
    users.get(buffer)?.delete(relay);
  }
  buffers.delete(relay);
}

/** Records `pid` as a host this thread relays to (forget: when it ends). */
export function relayHost(pid: number, on: boolean): void {
  if (on) hosts.add(pid);
  else hosts.delete(pid);
}

/**
 * Refuses a blocking wait on an object over `buffer` that a subprocess
 * child uses (`holder`, when given: only while a host holds it).
 *
 * @throws {ProcessError} When the wait could never end.
 */
export function assertNotRelayed(
  buffer: ArrayBufferLike,
  what: string,
  asyncForm: string,
  holder?: number,
): void {
  if ((users.get(buffer)?.size ?? 0) === 0) return;
  if (holder !== undefined && !hosts.has(holder)) return;
  throw new ProcessError(
    `Cannot ${what} by blocking this thread as a "subprocess" child ${
      holder === undefined ? "uses it" : "holds its lock"
    }, and its calls reach the object through this thread: use 'await ${asyncForm}'`,
  );
}
