// The initializer of an agent's local pool workers: registers the modules
// the agent serves, so that a worker finds the classes of its results and
// thrown errors by identity. A worker loads a target given by URL without
// registering it, so an error subclass thrown by a task whose arguments
// held no class of its module went back as its nearest built-in base.
//
// Tier 8: the cluster export only (imported by the agent's workers).

import { registerNamespaces } from "../_core/classes.ts";

/**
 * Imports and registers each module (one a worker may not import, under
 * its permissions, is left out: its classes then travel by name only).
 *
 * @param urls The URLs of the modules the agent serves.
 */
export async function registerServed(urls: string[]): Promise<void> {
  for (const url of urls) {
    try {
      registerNamespaces({ [url]: await import(url) });
    } catch { /* not importable here: see above */ }
  }
}
