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
import { forward, Remote } from "./proxy_channel.ts";
import { SemLock } from "../synchronize/sem_lock.ts";
import { Condition } from "../synchronize/condition.ts";
import { dataProxies } from "./proxies_data.ts";

/** Lock, RLock, Semaphore and BoundedSemaphore: acquired and released. */
class SemLockProxy extends Remote {}
forward(SemLockProxy, {
  acquire: "later",
  acquireSync: ["now", "acquire"],
  release: "now",
  hold: SemLock.prototype.hold,
  holdSync: SemLock.prototype.holdSync,
});

/** A Lock or RLock in a subprocess child. */
export class LockProxy extends SemLockProxy {}
forward(LockProxy, { locked: "now" });

/** A Semaphore or BoundedSemaphore in a subprocess child. */
class SemaphoreProxy extends SemLockProxy {}
forward(SemaphoreProxy, { getValue: "now" });

/** A Condition in a subprocess child. */
class ConditionProxy extends SemLockProxy {}
forward(ConditionProxy, {
  wait: "later",
  waitSync: ["now", "wait"],
  notify: "now",
  notifyAll: "now",
  // The predicate loops run here, in the child, over wait()/waitSync().
  waitFor: Condition.prototype.waitFor,
  waitForSync: Condition.prototype.waitForSync,
});

/** An Event in a subprocess child. */
class EventProxy extends Remote {}
forward(EventProxy, {
  isSet: "now",
  set: "now",
  clear: "now",
  wait: "later",
  waitSync: ["now", "wait"],
});

/** A Barrier in a subprocess child. */
class BarrierProxy extends Remote {}
forward(BarrierProxy, {
  parties: "fact",
  nWaiting: "get",
  broken: "get",
  wait: "later",
  waitSync: ["now", "wait"],
  reset: "now",
  abort: "now",
});

type Placeholder = SharedDescriptor & { kind: string; id: number };

const build: Record<string, (d: Placeholder) => unknown> = {
  Lock: (d) => new LockProxy(d.id, "Lock"),
  RLock: (d) => new LockProxy(d.id, "RLock"),
  Semaphore: (d) =>
    new SemaphoreProxy(d.id, d.bounded ? "BoundedSemaphore" : "Semaphore"),
  Condition: (d) => new ConditionProxy(d.id, "Condition"),
  Event: (d) => new EventProxy(d.id, "Event"),
  Barrier: (d) => new BarrierProxy(d.id, "Barrier", { parties: d.parties }),
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
