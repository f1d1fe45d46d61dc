// Every SharedArrayBuffer layout of the library, named once. A slot name is
// unique across the whole file, so `kHead` can never mean two things; each
// block has a drawing of its words.
//
// Blocks, in order: the control block of every child, a warm worker's
// state, the pool's SPSC channel, the mutex, the MPMC ring (queues and
// pipes) and its records, the pipe, the lock family, semaphore, event,
// condition, the life table, barrier, and the shared-memory registry.

// ---------------------------------------------------------------------------
// The control block of every child (Process children and pool workers
// alike): one Int32Array per child, made by the parent when it starts the
// child and handed over in the init message.
//
//   Int32 slot   0                      1                        2                     3
//              ┌──────────────────────┬────────────────────────┬─────────────────────┬─────────────────────────┐
//              │ kChildStop           │ kChildTask             │ kChildEnded         │ kChildClaim             │
//              │ 1: the parent asked  │ id of the pool task    │ 1: the child has    │ id of the last pool     │
//              │ the child to stop    │ the child runs now     │ ended               │ task the child claimed, │
//              │                      │ (0: none; Process: 0)  │                     │ or the parent took back │
//              └──────────────────────┴────────────────────────┴─────────────────────┴─────────────────────────┘
//
// The parent stores kChildStop and notifies it; the child's blocking …Sync
// waits poll it, so terminate() ends a child that sits in one of them.
// kChildEnded is set (and notified) by the child as it exits and by its
// parent when it learns of the end or ends it; the child's own children
// receive this block as their parent's, so their parentProcess() sees it.
// kChildClaim is compare-and-swapped by both sides: a pool worker moves it
// from the previous task's id to the next one's before running it, the pool
// moves it past tasks the worker has not started to give them to an idle
// worker (src/_engine/dispatch.ts); whoever loses the swap leaves the task.
// -1: the pool is ending the worker, which starts no more tasks.

/** Index of the stop flag in a child's control block. */
export const kChildStop = 0;
/** Index of the id of the pool task a child is running (0: none). */
export const kChildTask = 1;
/** Index of the "this child has ended" flag (its children watch it). */
export const kChildEnded = 2;
/** Index of the id of the last pool task claimed by the worker or taken back. */
export const kChildClaim = 3;
/** Size of a child's control block, in Int32 slots. */
export const kChildControlSlots = 4;

// ---------------------------------------------------------------------------
// A forkserver's warm worker (src/_child/forkserver.ts): one Int32 slot the
// warm worker makes and sends with its {t:"warm"} message, then blocks on
// (Atomics.wait), off its event loop: a futex wake-up reaches an idle thread
// in ~0.2 ms where a message takes ~0.6 ms and more.
//
//   Int32 slot   0
//              ┌─────────────────────────────────────────────┐
//              │ kWarmState: kWarmIdle, kWarmTaken, kWarmStop │
//              └─────────────────────────────────────────────┘
//
// The parent stores kWarmTaken once the child's messages are posted, or
// kWarmStop before it ends the worker (terminate() does not interrupt a
// wait), and notifies the slot.

/** Index of a warm worker's state. */
export const kWarmState = 0;
/** Size of a warm worker's block, in Int32 slots. */
export const kWarmSlots = 1;
/** kWarmState: waiting to be taken. */
export const kWarmIdle = 0;
/** kWarmState: taken for a child, whose messages are queued. */
export const kWarmTaken = 1;
/** kWarmState: the parent ends the worker. */
export const kWarmStop = 2;

// ---------------------------------------------------------------------------
// The SPSC channel (src/_memory/channel.ts): the pool's ring between the
// main thread and one worker. Byte offsets:
//
//   0              4              8              12             16
//   +--------------+--------------+--------------+--------------+-----------+
//   | head         | tail         | waiting      | posted       | data …    |
//   +--------------+--------------+--------------+--------------+-----------+

/** Int32 index of the reader's position (bytes consumed, uint32, wraps). */
export const kChannelHead = 0;
/** Int32 index of the writer's position; readers wait on it. */
export const kChannelTail = 1;
/** Int32 index of the "reader may be asleep" flag. */
export const kChannelWaiting = 2;
/**
 * Int32 index of a count of messages the writer sent by postMessage instead
 * (too large, or not JSON-safe): a reader blocked in Atomics.wait must yield
 * to its event loop to receive those.
 */
export const kChannelPosted = 3;
/** Bytes before the channel's data area. */
export const kChannelHeaderBytes = 16;

// ---------------------------------------------------------------------------
// A mutex (src/_memory/mutex.ts), two Int32 words wherever one is embedded:
//
//   [ state | sleepers ]   state: 0 free, 1 held; sleepers: threads asleep
//
// The sleeper count is always the word after the state: the mutex functions
// take the state's index only.

/** Offset of a mutex's sleeper count from its state word. */
export const kMutexSleepers = 1;

// ---------------------------------------------------------------------------
// The MPMC ring (src/_memory/ring_buffer.ts) behind Queue and Pipe. Control
// block, Int32 slots (rounded up to a cache line):
//
//   0 lock | 1 lock sleepers | 2 head | 3 tail | 4 count | 5 capacity |
//   6 put seq | 7 get seq | 8 getters | 9 putters | 10 unfinished |
//   11 joiners | 12–15 spare
//
// Data area (a growable SharedArrayBuffer), records at 8-aligned positions:
//
//   [len: int32][tag: int32][payload: len bytes][pad to 8]

/** The ring's mutex (and, next word, its sleepers). */
export const kRingLock = 0;
/** Absolute byte index of the oldest record (uint32, wraps). */
export const kRingHead = 2;
/** Absolute byte index just past the newest record. */
export const kRingTail = 3;
/** Records in the ring (qsize). */
export const kRingCount = 4;
/** Current data-area size in bytes (a power of two). */
export const kRingCapacity = 5;
/** Bumped after every push (and by wake()); getters sleep on it. */
export const kRingPutSeq = 6;
/** Bumped after every pop; putters sleep on it. */
export const kRingGetSeq = 7;
/** Threads asleep (or about to be) on kRingPutSeq. */
export const kRingGetters = 8;
/** Threads asleep (or about to be) on kRingGetSeq. */
export const kRingPutters = 9;
/** JoinableQueue: items put and not yet taskDone(). */
export const kRingUnfinished = 10;
/** Threads asleep on kRingUnfinished. */
export const kRingJoiners = 11;
/** Int32 slots of a ring's control block. */
export const kRingControlSlots = 16;
/** Bytes of a record header. */
export const kRecordHeader = 8;

/** Record tag: JSON text. */
export const kRecordJson = 1;
/** Record tag: a string as UTF-8. */
export const kRecordString = 2;
/** Record tag: raw bytes (Connection.sendBytes, or a top-level Uint8Array). */
export const kRecordBytes = 3;
/** Record tag: a typed array other than Uint8Array, its kind in bits 8–15. */
export const kRecordTyped = 4;
/** Record tag: node:v8 serialization (structured clone format). */
export const kRecordV8 = 5;

// ---------------------------------------------------------------------------
// A pipe's control block (src/connection/): Int32 slots
//
//   0 lock | 1 lock sleepers | 2 duplex | 3 spare |
//   4 …  end 0's table, then end 1's table, each:
//        [open handles][kPipeHolders × (pid, parent pid, handles)]

/** The mutex of the handle tables (rare operations). */
export const kPipeLock = 0;
/** 1 for a duplex pipe. */
export const kPipeDuplex = 2;
/** Index of end 0's table. */
export const kPipeTables = 4;
/** Child holders recorded per end. */
export const kPipeHolders = 16;
/** Int32 slots of one end's table. */
export const kPipeTableSlots = 1 + 3 * kPipeHolders;
/** Int32 slots of a pipe's control block. */
export const kPipeSlots = kPipeTables + 2 * kPipeTableSlots;

// ---------------------------------------------------------------------------
// Lock and RLock (src/synchronize/): Int32
//
//   [ state | sleepers | owner | depth ]
//     state, sleepers: a mutex; owner: the pid that took it (0 = none);
//     depth: RLock's nesting count

/** Index of the lock's mutex (0 free, 1 held). */
export const kLockState = 0;
/** Index of the owner's pid (0 = none). */
export const kLockOwner = 2;
/** Index of an RLock's depth. */
export const kLockDepth = 3;
/** Int32 slots of a lock. */
export const kLockSlots = 4;

// ---------------------------------------------------------------------------
// Semaphore and BoundedSemaphore: Int32
//
//   [ value | sleepers | bound ]
//     the counter; sleepers on it; the highest value a release may reach
//     (kSemaphoreUnbounded for a plain Semaphore)

/** Index of the semaphore's counter. */
export const kSemaphoreValue = 0;
/** Index of the highest value a release may reach. */
export const kSemaphoreBound = 2;
/** Int32 slots of a semaphore. */
export const kSemaphoreSlots = 3;
/** The bound of a plain Semaphore (and the largest value of any). */
export const kSemaphoreUnbounded = 0x7fffffff;

// ---------------------------------------------------------------------------
// Event: Int32
//
//   [ word | sleepers ]
//     word = generation << 1 | flag: set() bumps the generation as it raises
//     the flag, so a waiter that saw the flag down wakes for *that* set()
//     even when clear() follows at once

/** Index of the event's generation and flag. */
export const kEventWord = 0;
/** Index of the event's sleeper count. */
export const kEventSleepers = 1;
/** Int32 slots of an event. */
export const kEventSlots = 2;

// ---------------------------------------------------------------------------
// Condition: Int32
//
//   [ ticket | active | high | - | state₀ | ticket₀ | life₀ | pid₀ | state₁ | … ]
//     ticket: the next waiter's ticket (FIFO order, wraps)
//     active: slots not free (waiting, notified or abandoned)
//     high:   one past the highest slot ever used (bounds the scans)
//     stateₖ: kWaiterFree, kWaiterWaiting, kWaiterNotified, kWaiterAbandoned
//     lifeₖ, pidₖ: the waiter's life word and pid (the life table below), so
//             that notify() can pass over a waiter whose process has ended

/** Index of the next waiter's ticket. */
export const kConditionTicket = 0;
/** Index of the count of slots in use. */
export const kConditionActive = 1;
/** Index of one past the highest slot ever used. */
export const kConditionHigh = 2;
/** Int32 words before the first waiter slot. */
export const kConditionHeader = 4;
/** Waiter slots of a condition (concurrent waiters at most). */
export const kConditionWaiters = 256;
/** Int32 words of one waiter slot: state, ticket, life, pid. */
export const kConditionSlotWords = 4;
/** Waiter slot state: free. */
export const kWaiterFree = 0;
/** Waiter slot state: a waiter sleeps on it. */
export const kWaiterWaiting = 1;
/** Waiter slot state: notified, its waiter not yet gone. */
export const kWaiterNotified = 2;
/** Waiter slot state: its waiter timed out or died (reusable). */
export const kWaiterAbandoned = 3;

// ---------------------------------------------------------------------------
// The life table: Int32, one for the whole OS process (processWide()). A
// parent claims a word for each Web Worker child and proxy host it starts
// and frees it as soon as it learns that the child has ended; any thread
// can then tell that a waiter it meets in shared memory is gone.
//
//   [ cursor | life₁ | … | lifeₙ₋₁ | - | parent₁ | … | parentₙ₋₁ ]
//     cursor:  where the next claim starts looking (wraps)
//     lifeₖ:   the pid of the live process that holds word k; 0 when free
//     parentₖ: the life word of the process that claimed word k (0: the
//              main thread): when a process ends, so do its Web Worker
//              children, and freeing its word frees theirs

/** Index of the word the next claim starts from. */
export const kLifeCursor = 0;
/** Int32 words of the life table's first part (the cursor and the life words). */
export const kLifeWords = 4096;
/** Where the parent words begin: parentₖ is at kLifeParents + k. */
export const kLifeParents = kLifeWords;

// ---------------------------------------------------------------------------
// Barrier: Int32
//
//   [ state | count ]
//     state: kBarrierFilling, kBarrierDraining, kBarrierResetting,
//            kBarrierBroken; count: parties inside wait()

/** Index of the barrier's state. */
export const kBarrierState = 0;
/** Index of the parties inside wait(). */
export const kBarrierCount = 1;
/** Barrier state: parties are arriving. */
export const kBarrierFilling = 0;
/** Barrier state: the parties of a full round are leaving. */
export const kBarrierDraining = 1;
/** Barrier state: reset() waits for the parties inside to leave. */
export const kBarrierResetting = -1;
/** Barrier state: broken (abort(), a timeout, or a failed action). */
export const kBarrierBroken = -2;

// ---------------------------------------------------------------------------
// The shared-memory registry (src/shared_memory/_registry.ts), one
// SharedArrayBuffer:
//
//   Int32   [ lock | lock sleepers | entries used | - ]
//           then per entry [ state | refs | name length | generation ]
//   Float64 [ arena top | high-water mark ]
//           then per entry [ offset | capacity | size ]
//   Uint8   per entry: the name, UTF-8, kRegistryNameBytes
//
//   state: kEntryEmpty, kEntryNamed (live), kEntryUnlinked (still attached),
//          kEntryFree (its capacity is reused by a later create)

/** How many blocks may exist at once. */
export const kRegistryEntries = 1024;
/** The longest name, in UTF-8 bytes. */
export const kRegistryNameBytes = 128;
/** The registry's mutex (and, next word, its sleepers). */
export const kRegistryLock = 0;
/** Int32 index of the count of entries ever used. */
export const kRegistryUsed = 2;
/** Int32 words before the first entry. */
export const kRegistryIntHeader = 4;
/** Int32 words per entry. */
export const kRegistryIntsPerEntry = 4;
/** Float64 index of the arena's top. */
export const kRegistryTop = 0;
/** Float64 index of the arena's high-water mark. */
export const kRegistryHighWater = 1;
/** Float64 words before the first entry. */
export const kRegistryFloatHeader = 2;
/** Float64 words per entry. */
export const kRegistryFloatsPerEntry = 3;
/** Entry Int32 field: its state. */
export const kEntryState = 0;
/** Entry Int32 field: SharedMemory objects attached. */
export const kEntryRefs = 1;
/** Entry Int32 field: the name's length in bytes. */
export const kEntryNameLength = 2;
/** Entry Int32 field: bumped on reuse, so a stale descriptor never attaches. */
export const kEntryGeneration = 3;
/** Entry Float64 field: the block's offset in the arena. */
export const kEntryOffset = 0;
/** Entry Float64 field: the bytes reserved for the block. */
export const kEntryCapacity = 1;
/** Entry Float64 field: the block's size as asked. */
export const kEntrySize = 2;
/** Entry state: never used. */
export const kEntryEmpty = 0;
/** Entry state: named and live. */
export const kEntryNamed = 1;
/** Entry state: unlinked, still attached somewhere. */
export const kEntryUnlinked = 2;
/** Entry state: free, its capacity reusable. */
export const kEntryFree = 3;
