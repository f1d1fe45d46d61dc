// How a revived shared object gets the memory it must use: its class's
// constructor takes one more, hidden argument, an Adopted, that only the
// revivers make (this module is internal). The public signatures are the
// constructors' overloads, so the docs never show it, and no module-level
// variable carries it from the reviver to the constructor.

/** The memory (and what goes with it) a revived object adopts. */
export class Adopted<T> {
  /** What the object is built over. */
  readonly memory: T;

  constructor(memory: T) {
    this.memory = memory;
  }
}

/**
 * Builds an instance of `cls` through the hidden form of its constructor.
 *
 * @param cls The class.
 * @param args Its public arguments, then the Adopted where its hidden
 * parameter sits.
 */
export function construct<T>(
  cls: abstract new (...args: never[]) => T,
  ...args: unknown[]
): T {
  return new (cls as unknown as new (...args: unknown[]) => T)(...args);
}
