// The `hold()`/`holdSync()` of every primitive that acquires and releases
// (Lock, RLock, Semaphore): acquire, then hand back a Disposable that
// releases once, so that CPython's `with lock:` reads
// `using _ = await lock.hold();`.

/** What `hold()` needs: the acquire forms and a release. */
export interface Holdable {
  /** Acquires, without blocking the thread. */
  acquire(): Promise<boolean>;
  /** Acquires, blocking the thread. */
  acquireSync(): boolean;
  /** Releases once. */
  release(): void;
}

// A class, not an object literal: a literal with a computed
// [Symbol.dispose] key is built in dictionary mode, several times slower.
class Held implements Disposable {
  #owner: { release(): void } | null;
  constructor(owner: { release(): void }) {
    this.#owner = owner;
  }
  [Symbol.dispose](): void {
    const owner = this.#owner;
    if (owner === null) return;
    this.#owner = null;
    owner.release();
  }
}

/** A Disposable that calls `owner.release()` once. */
export function releaser(owner: { release(): void }): Disposable {
  return new Held(owner);
}

/** Acquires `p` without blocking; the Disposable releases it. */
export async function holdAsync(p: Holdable): Promise<Disposable> {
  await p.acquire();
  return new Held(p);
}

/** Acquires `p`, blocking the thread; the Disposable releases it. */
export function holdSyncOf(p: Holdable): Disposable {
  p.acquireSync();
  return new Held(p);
}
