// The former single module of the queues, kept as a path other modules
// import; the queues live in queue.ts, joinable_queue.ts, simple_queue.ts.

export * from "./mod.ts";
