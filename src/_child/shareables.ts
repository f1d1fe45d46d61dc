// Imports every module that registers a reviver for shared objects, so that
// a child can rebuild them whatever its target's module imports. Grows as
// shareable classes are added (synchronize, sharedctypes, queues, …).
export {};
import "../queues/queues.ts";
import "../synchronize/mod.ts";
import "../connection/connection.ts";
import "../sharedctypes/mod.ts";
import "../shared_memory/shared_memory.ts";
