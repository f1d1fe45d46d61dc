// Every SharedArrayBuffer layout of the library, named once. A slot name is
// unique across the whole file, so `kHead` can never mean two things; each
// block has a drawing of its words.
//
// (Sections are filled in as the layouts move here from the modules that
// use them: the process control block, the pool worker control block and
// rings, the queue/pipe ring, the lock family, the shared-memory registry.)

export {};
