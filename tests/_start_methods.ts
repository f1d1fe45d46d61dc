import { getContext, type Process } from "../mod.ts";

// The start methods whose children receive shared objects differently:
// "spawn" children share the memory (Web Workers), "subprocess" children
// reach the objects through their parent (OS processes). CPython runs its
// suite once per start method; the tests of shared objects do the same.

/** A start method whose children use shared objects their own way. */
export type ChildMethod = "spawn" | "subprocess";

/**
 * Registers one test per start method, named `name [method]`; `fn` gets the
 * Process class of that method.
 */
export function forEachStartMethod(
  name: string,
  fn: (P: typeof Process, method: ChildMethod) => Promise<void>,
): void {
  for (const method of ["spawn", "subprocess"] as const) {
    Deno.test(`${name} [${method}]`, () =>
      fn(getContext(method).Process, method));
  }
}
