// What a "subprocess" child holds for each shared object it receives: a
// proxy with the public surface of its class, whose every access is a call
// to the real object in the parent (./proxy_parent.ts, ./proxy_channel.ts),
// as CPython's Manager proxies are. Awaited methods send a call and await
// its reply; blocking ones (acquireSync(), locked(), a Value's value) wait
// for theirs with Atomics.wait. Waits that take a predicate
// (Condition.waitFor) run it here, over proxied wait() calls.
//
// A proxy is not an instance of the class it stands for, and it cannot be
// sent on to another process.
//
// This module registers the reviver of placeholders; the child's message
// shim imports it. The proxies of data holders (queues, pipes, Value,
// SharedArray) are in ./proxies_data.ts.
//
// Tier 4 (child start-up).

import { registerReviver, type SharedDescriptor } from "../reduction.ts";
import { kProxyTag } from "./proxy_parent.ts";
import { call, callNow, Remote } from "./proxy_channel.ts";
import { SemLock } from "../synchronize/sem_lock.ts";
import { Condition } from "../synchronize/condition.ts";
import { dataProxies } from "./proxies_data.ts";

/** Lock, RLock, Semaphore and BoundedSemaphore: acquired and released. */
class SemLockProxy extends Remote {
  acquire(options?: unknown): Promise<boolean> {
    return call(this, "acquire", options) as Promise<boolean>;
  }
  acquireSync(options?: unknown): boolean {
    return callNow(this, "acquire", options) as boolean;
  }
  release(): void {
    callNow(this, "release");
  }
  // SemLock's own, over this proxy's acquire() and release().
  readonly hold = SemLock.prototype.hold;
  readonly holdSync = SemLock.prototype.holdSync;
}

/** A Lock or RLock in a subprocess child. */
export class LockProxy extends SemLockProxy {
  locked(): boolean {
    return callNow(this, "locked") as boolean;
  }
}

/** A Semaphore or BoundedSemaphore in a subprocess child. */
class SemaphoreProxy extends SemLockProxy {
  getValue(): number {
    return callNow(this, "getValue") as number;
  }
}

/** A Condition in a subprocess child. */
class ConditionProxy extends SemLockProxy {
  wait(timeout?: number): Promise<boolean> {
    return call(this, "wait", timeout) as Promise<boolean>;
  }
  waitSync(timeout?: number): boolean {
    return callNow(this, "wait", timeout) as boolean;
  }
  // Condition's own predicate loops, over this proxy's wait() and
  // waitSync(): the predicate runs here, in the child.
  readonly waitFor = Condition.prototype.waitFor;
  readonly waitForSync = Condition.prototype.waitForSync;
  notify(n = 1): void {
    callNow(this, "notify", n);
  }
  notifyAll(): void {
    callNow(this, "notifyAll");
  }
}

/** An Event in a subprocess child. */
class EventProxy extends Remote {
  isSet(): boolean {
    return callNow(this, "isSet") as boolean;
  }
  set(): void {
    callNow(this, "set");
  }
  clear(): void {
    callNow(this, "clear");
  }
  wait(timeout?: number): Promise<boolean> {
    return call(this, "wait", timeout) as Promise<boolean>;
  }
  waitSync(timeout?: number): boolean {
    return callNow(this, "wait", timeout) as boolean;
  }
}

/** A Barrier in a subprocess child. */
class BarrierProxy extends Remote {
  readonly #parties: number;
  constructor(id: number, parties: number) {
    super(id, "Barrier");
    this.#parties = parties;
  }
  get parties(): number {
    return this.#parties;
  }
  get nWaiting(): number {
    return callNow(this, "get:nWaiting") as number;
  }
  get broken(): boolean {
    return callNow(this, "get:broken") as boolean;
  }
  wait(timeout?: number): Promise<number> {
    return call(this, "wait", timeout) as Promise<number>;
  }
  waitSync(timeout?: number): number {
    return callNow(this, "wait", timeout) as number;
  }
  reset(): void {
    callNow(this, "reset");
  }
  abort(): void {
    callNow(this, "abort");
  }
}

type Placeholder = SharedDescriptor & { kind: string; id: number };

const build: Record<string, (d: Placeholder) => unknown> = {
  Lock: (d) => new LockProxy(d.id, "Lock"),
  RLock: (d) => new LockProxy(d.id, "RLock"),
  Semaphore: (d) =>
    new SemaphoreProxy(d.id, d.bounded ? "BoundedSemaphore" : "Semaphore"),
  Condition: (d) => new ConditionProxy(d.id, "Condition"),
  Event: (d) => new EventProxy(d.id, "Event"),
  Barrier: (d) => new BarrierProxy(d.id, d.parties as number),
  ...dataProxies,
};

registerReviver(kProxyTag, (d) => {
  const placeholder = d as Placeholder;
  const make = build[placeholder.kind];
  if (make === undefined) {
    throw new TypeError(
      `Cannot revive a shared object as its kind must be one a subprocess child can reach: current value is '${placeholder.kind}'`,
    );
  }
  return make(placeholder);
});
