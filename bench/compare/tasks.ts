// Tasks of bench/compare/deno_workloads.ts that live in a module of their
// own, as a program keeps them: this module imports nothing, so a child that
// runs one loads it and the library's child entry, not the benchmark.

/** Does nothing: start-up alone. */
export function nothing(): void {}
