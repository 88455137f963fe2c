/**
 * The collector's per-interpreter state, in the arena (CPython's `struct _gc_runtime_state` plus
 * the biased-refcount table `_brc_state`). It sits in the interpreter record's collector region
 * (`INTERP_GC_OFFSET`, @ft/interp) or, without @ft/interp, in a record of its own; every thread
 * of the interpreter reads it.
 *
 *   word   field                 who writes it
 *   -----  --------------------  ------------------------------------------------------------
 *    0     xmagic                0 → INITIALIZING → GC_STATE_MAGIC, once (CAS)
 *    1     builtins              const: the record holding the built-in types (type-layout.ts)
 *    2     xcollecting           CAS 0 → 1 by the collecting thread (no nested collections)
 *    3     enabled               gc.enable()/disable() (automatic collection only)
 *    4     threshold0            young.threshold (2000); 0 disables automatic collection
 *    5     xyoungCount           ATOMIC add: allocations minus deallocations of GC objects
 *    6     old0Count, 7 old1Count, 8 threshold1, 9 threshold2
 *   10     longLivedTotal        the collector: reachable objects after the last collection
 *   11     debug                 gc.set_debug flags (DEBUG_STATS …)
 *   12     freezeActive          gc.freeze() was called
 *   13     garbage               const: the `gc.garbage` list (a list object, held by this record)
 *   14     xbrcLock              ATOMIC: spin lock (holder's thread id) over the queue table
 *   15     pool                  standalone hosts only: the abandoned pool of its threads
 *   16…24  stats                 3 × {collections, collected, uncollectable}
 *   25     freeLists             standalone hosts only: the first thread's free-list region
 *                                (freelists.ts; chained through their word 44), under xbrcLock
 *   32…47  brcBuckets            queue records by owner thread id % 16 (under xbrcLock)
 *   64     threadCount           standalone hosts only: mimalloc-state records of attached
 *   65…127 threads               threads (not used under @ft/interp, which lists thread states)
 *
 * A merge-queue record (64 bytes, `arena.recordAlloc`), one per owner thread that has queued
 * objects: word 0 owner thread id, 1 next in bucket, 2 count, 3 capacity, 4 items (arena.malloc).
 */

/** Bytes the state needs (fits the interpreter record's 768-byte collector region). */
export const GC_STATE_SIZE = 512;
/** "ftgc" little-endian: the state is initialised. */
export const GC_STATE_MAGIC = 0x63677466;
/** The state is being initialised by another thread. */
export const GC_STATE_INITIALIZING = 1;

export const GS_XMAGIC = 0;
export const GS_BUILTINS = 1;
/** Standalone hosts: head of the chain of the threads' free-list regions. */
export const GS_FREE_LISTS = 25;
export const GS_XCOLLECTING = 2;
export const GS_ENABLED = 3;
export const GS_THRESHOLD0 = 4;
export const GS_XYOUNG_COUNT = 5;
export const GS_OLD0_COUNT = 6;
export const GS_OLD1_COUNT = 7;
export const GS_THRESHOLD1 = 8;
export const GS_THRESHOLD2 = 9;
export const GS_LONG_LIVED_TOTAL = 10;
export const GS_DEBUG = 11;
export const GS_FREEZE_ACTIVE = 12;
export const GS_GARBAGE = 13;
export const GS_XBRC_LOCK = 14;
/** Standalone hosts: the abandoned pool of the state's threads. */
export const GS_POOL = 15;
export const GS_STATS = 16;
export const GS_STATS_WORDS = 3;
export const GS_BRC_BUCKETS = 32;
export const BRC_BUCKET_COUNT = 16;
export const GS_THREAD_COUNT = 64;
export const GS_THREADS = 65;
export const GS_THREADS_MAX = 127 - GS_THREADS;

/** CPython's `_PyGC_InitState`: `young.threshold = 2000`. */
export const DEFAULT_THRESHOLD0 = 2000;
/** `old[0].threshold` (CPython 10). */
export const DEFAULT_THRESHOLD1 = 10;
/** `LOCAL_ALLOC_COUNT_THRESHOLD`: a thread buffers its allocation count up to ±512. */
export const LOCAL_ALLOC_COUNT_THRESHOLD = 512;

/** gc debug flags (`_PyGC_DEBUG_*`). */
export const DEBUG_STATS = 1;
export const DEBUG_COLLECTABLE = 2;
export const DEBUG_UNCOLLECTABLE = 4;
export const DEBUG_SAVEALL = 32;
export const DEBUG_LEAK = DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL;

/** Merge-queue record words. */
export const BRC_RECORD_SIZE = 64;
export const BRC_TID = 0;
export const BRC_NEXT = 1;
export const BRC_COUNT = 2;
export const BRC_CAPACITY = 3;
export const BRC_ITEMS = 4;

/** Word index of field `word` of the state at `gcState`. */
export function gsField(gcState: number, word: number): number {
  return (gcState >>> 2) + word;
}

/**
 * Take the queue-table spin lock. The critical sections are short and allocate nothing but the
 * queue's item array; the holder's thread id is stored so a dead holder can be recognised.
 */
export function brcLock(i32: Int32Array, gcState: number, threadId: number): void {
  const w = gsField(gcState, GS_XBRC_LOCK);
  for (let spins = 0; Atomics.compareExchange(i32, w, 0, threadId) !== 0; spins++) {
    if (spins > 64) Atomics.wait(i32, w, Atomics.load(i32, w), 1);
  }
}

/** Release the queue-table spin lock. */
export function brcUnlock(i32: Int32Array, gcState: number): void {
  const w = gsField(gcState, GS_XBRC_LOCK);
  Atomics.store(i32, w, 0);
  Atomics.notify(i32, w, 1);
}
