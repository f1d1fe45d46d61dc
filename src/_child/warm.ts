// Child side of the "forkserver" start method (./forkserver.ts): a warm
// worker's entry imports this module first, then the child entry of its
// kind and the modules it preloads, and calls warmMain(). The worker then
// idles until the parent takes it for a child:
//
//  parent (forkserver.ts)                       warm worker
//  createWorker(warm entry) ──────────────────▶ warm.ts, entry, preloads
//                           ◀── {t:"warm"} ──── warmMain(): imported, idle
//  take(): {t:"activate", modules} ───────────▶ import what is not loaded yet
//  handshake's ChildInit ─────────────────────▶ (held until main() is set up)
//                                               main(modules): a child as
//                                               any other (./handshake.ts)
//
// Tier 4 (child start-up).

import { quietUntilActive } from "./bootstrap.ts";
import { watchMessagePoll } from "./event_loop.ts";
import { workerScope } from "../_core/state.ts";
import type { Namespaces } from "../_core/target.ts";
import type { ActivateMessage, WarmMessage } from "../_wire/protocol.ts";

// An error while warming (a main module without its guard, say) ends this
// worker without a word: the parent drops it, and the child it would have
// become starts cold and reports the error the usual way.
const activated = quietUntilActive();

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
  workerScope.onmessage = (event: MessageEvent) => {
    watchMessagePoll();
    if (started) return held.push(event);
    started = true;
    const { modules: wanted } = event.data as ActivateMessage;
    // Once active, a failure is the child's own, reported as any other.
    become(wanted).finally(activated).then(() => {
      main(modules);
      // main() set this worker's own handler; it gets what came meanwhile.
      for (const message of held) {
        workerScope.onmessage?.call(workerScope, message);
      }
    });
  };
  const ready: WarmMessage = { t: "warm" };
  workerScope.postMessage(ready);

  // Modules this child needs that the warm entry did not preload: imported
  // now, under the worker's own permissions (the parent only takes a warm
  // worker for that when they allow it).
  async function become(wanted: string[]): Promise<void> {
    for (const url of wanted) modules[url] ??= await import(url);
  }
}
