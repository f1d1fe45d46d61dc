// Imports every module that registers a reviver for shared objects, so that
// a child can rebuild them whatever its target's module imports. Grows as
// shareable classes are added (synchronize, sharedctypes, queues, …).
export {};
import "./queues.ts";
import "./synchronize.ts";
import "./connection.ts";
import "./sharedctypes.ts";
import "./shared_memory.ts";
