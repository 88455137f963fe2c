/**
 * What the collector needs from the runtime around it, kept to one small interface so that the
 * core runs the same under @ft/interp (many threads, stop-the-world per interpreter), alone in one
 * thread, or in GIL mode (no stop-the-world):
 *
 *   stopTheWorld / startTheWorld    `_PyEval_StopTheWorld(interp)` / `_PyEval_StartTheWorld`
 *   threadHeapsWorldStopped(out)    for each thread state of the interpreter with live heaps:
 *                                   its tld (whose GC and GC_PRE heaps are visited) and owner id
 *                                   (GIL mode: the interpreter's one shared tld and virtual id)
 *   ownerThreadId                   the objects' owner id (GIL mode: the interpreter's virtual id)
 *   pool                            the interpreter's abandoned pool (dead threads' pages)
 *   freeListRegionsWorldStopped     every thread's free lists (emptied by each collection)
 */
export interface GcHost {
  /** True when there is no stop-the-world (GIL mode, or one thread): the two calls do nothing. */
  readonly gil: boolean;
  /** Stop every other thread of the interpreter; returns when none runs. */
  stopTheWorld(): void;
  /** Let them run again. */
  startTheWorld(): void;
  /**
   * Push `tld, ownerThreadId` pairs onto `out`, one per thread state of the interpreter whose
   * heaps are live (not abandoned). Called with the world stopped.
   */
  threadHeapsWorldStopped(out: number[]): void;
  /** The interpreter's abandoned pool (visited for the GC tags); 0 when there is none. */
  readonly pool: number;
  /**
   * The `ob_tid` this thread's objects get and the id whose counts it changes with plain stores
   * (the biased-refcount owner). Without it, the arena thread id. In GIL mode: the interpreter's
   * virtual owner id (its shared mimalloc state's), the same for every thread holding the GIL, so
   * every count is a plain `ob_ref_local` store, as the default build's single `ob_refcnt`.
   */
  readonly ownerThreadId?: number;
  /**
   * Push the free-list region of every thread of the interpreter onto `out` (freelists.ts), for
   * the collector to empty (`_PyGC_ClearAllFreeLists`). Called with the world stopped. A host
   * without it: only the collecting thread's free lists are emptied.
   */
  freeListRegionsWorldStopped?(out: number[]): void;
}
