// Child side of the "forkserver" start method (./forkserver.ts): a warm
// worker's entry imports this module first, then the child entry of its
// kind and the modules it preloads, and calls warmMain(). The worker then
// idles until the parent takes it for a child:
//
//  parent (forkserver.ts)                       warm worker
//  createWorker(warm entry) ──────────────────▶ warm.ts, entry, preloads
//                   ◀── {t:"warm", state} ──── warmMain(): imported
//  {t:"prime"} ───────────────────────────────▶ idle(): blocks on `state`
//                                               (Atomics.wait)
//  take(), then the handshake's ChildInit:
//    {t:"activate", modules, first: ChildInit} ▶ (queued)
//    state = kWarmTaken, notify ──────────────▶ wakes: imports what is not
//                                               loaded yet, then hands
//                                               `first` to main()'s handler
//                                               main(modules): a child as
//                                               any other (./handshake.ts)
//
// Tier 4 (child start-up).

import { quietUntilActive } from "./bootstrap.ts";
import { watchMessagePoll } from "./event_loop.ts";
import { workerScope } from "../_core/state.ts";
import type { Namespaces } from "../_core/target.ts";
import type { WarmMessage, WarmToMessage } from "../_wire/protocol.ts";
import {
  kWarmIdle,
  kWarmSlots,
  kWarmState,
  kWarmStop,
} from "../_wire/layouts.ts";

// An error while warming (a main module without its guard, say) ends this
// worker without a word: the parent drops it, and the child it would have
// become starts cold and reports the error the usual way.
const activated = quietUntilActive();

// Idles off the event loop until taken: the parent's notify wakes this
// thread in ~0.2 ms, where a message takes ~0.6 ms, and the child's messages
// are then already queued. The runtime's message path has run once (the
// prime message), so their dispatch is warm too: the first dispatch of a
// worker costs ~1 ms more. Nothing else can reach this worker meanwhile.
function idle(state: Int32Array): void {
  Atomics.wait(state, kWarmState, kWarmIdle);
  if (Atomics.load(state, kWarmState) === kWarmStop) workerScope.close();
}

/**
 * Called by a warm worker's entry once its modules are imported: tells the
 * parent it is ready and waits to become a child, which then runs
 * `main(modules)` exactly as a freshly spawned one does.
 */
export function warmMain(
  main: (modules: Namespaces) => void,
  modules: Namespaces,
): void {
  const held: MessageEvent[] = [];
  let started = false;
  const state = new Int32Array(new SharedArrayBuffer(4 * kWarmSlots));
  workerScope.onmessage = (event: MessageEvent<WarmToMessage>) => {
    watchMessagePoll();
    if (event.data.t === "prime") return idle(state);
    if (started) return held.push(event);
    started = true;
    const { modules: wanted, first } = event.data;
    // The child's own name, as a freshly spawned worker has it (Worker's
    // name option) where its code reads it.
    const init = first as { name?: unknown };
    if (typeof init?.name === "string") {
      (globalThis as { name?: string }).name = init.name;
    }
    // Once active, a failure is the child's own, reported as any other.
    become(wanted).finally(activated).then(() => {
      main(modules);
      // main() set this worker's own handler; it gets the child's first
      // message, then what came meanwhile.
      held.unshift(new MessageEvent("message", { data: first }));
      for (const message of held) {
        workerScope.onmessage?.call(workerScope, message);
      }
    });
  };
  const ready: WarmMessage = {
    t: "warm",
    state: state.buffer as SharedArrayBuffer,
  };
  workerScope.postMessage(ready);

  // Modules this child needs that the warm entry did not preload: imported
  // now, under the worker's own permissions (the parent only takes a warm
  // worker for that when they allow it).
  async function become(wanted: string[]): Promise<void> {
    for (const url of wanted) modules[url] ??= await import(url);
  }
}
