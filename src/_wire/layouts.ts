// Every SharedArrayBuffer layout of the library, named once. A slot name is
// unique across the whole file, so `kHead` can never mean two things; each
// block has a drawing of its words.
//
// (Sections are filled in as the layouts move here from the modules that
// use them: the process control block, the pool worker control block and
// rings, the queue/pipe ring, the lock family, the shared-memory registry.)

// ---------------------------------------------------------------------------
// The control block of every child (Process children and pool workers
// alike): one Int32Array per child, made by the parent when it starts the
// child and handed over in the init message.
//
//   Int32 slot   0                      1
//              ┌──────────────────────┬──────────────────────────────────┐
//              │ kChildStop           │ kChildTask                       │
//              │ 1: the parent asked  │ id of the pool task the child    │
//              │ the child to stop    │ runs now (0: none; Process: 0)   │
//              └──────────────────────┴──────────────────────────────────┘
//
// The parent stores kChildStop and notifies it; the child's blocking …Sync
// waits poll it, so terminate() ends a child that sits in one of them.

/** Index of the stop flag in a child's control block. */
export const kChildStop = 0;
/** Index of the id of the pool task a child is running (0: none). */
export const kChildTask = 1;
/** Size of a child's control block, in Int32 slots. */
export const kChildControlSlots = 2;
