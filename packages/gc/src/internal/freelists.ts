/**
 * Per-thread free lists of small tuples, lists and dicts: CPython's `struct _Py_freelists`
 * (`Include/internal/pycore_freelist_state.h`), one per thread state (`_PyThreadStateImpl`). A
 * deallocated tuple of size 1–20, list or dict of the exact built-in type goes onto the list of the
 * thread that deallocates it instead of back to the allocator, and the next constructor of that
 * shape on that thread pops it (`_Py_FREELIST_PUSH` / `_Py_FREELIST_POP`); neither is counted as a
 * GC allocation. The lists live in the arena, in the thread state's collector region (@ft/interp)
 * or in a record of their own (standalone), so that another thread can empty them: the thread that
 * clears the thread state (through @ft/interp's clear hook) and the collector, with the world
 * stopped, for every thread (`_PyGC_ClearAllFreeLists`).
 *
 *   word    field                                      who writes it
 *   ------  -----------------------------------------  -------------------------------------------
 *   0…19    head of the tuples of size 1…20            the owner thread (plain stores); others only
 *   20      head of the lists                          while it cannot run: world stopped, or its
 *   21      head of the dicts                          state being cleared
 *   22…43   their lengths (word 22 + list index)
 *   44      next region (standalone: every thread's region of one gc state, from GS_FREE_LISTS)
 *
 * A listed object is a dead block: ob_gc_bits 0 (untracked, so heap walks skip it), its `ob_tid`
 * the link to the next one (0 ends the list), as `_Py_freelist_push` stores the link in the
 * object's first word; tuples keep their size, lists and dicts are empty.
 */

/** Bytes of a free-lists region (fits @ft/interp's `TSTATE_GC_SIZE`). */
export const FREE_LISTS_SIZE = 192;
/** `PyTuple_MAXSAVESIZE`: tuples of size 1…20 are kept, one list per size. */
export const FL_TUPLE_MAX_SIZE = 20;
/** List index of the lists. */
export const FL_LIST = 20;
/** List index of the dicts. */
export const FL_DICT = 21;
/** Number of lists. */
export const FL_LISTS = 22;
/** Word of the lengths (word FL_LENGTHS + list index). */
export const FL_LENGTHS = 22;
/** Word of the next region (standalone chain). */
export const FL_NEXT = 44;
/** `Py_tuple_MAXFREELIST`. */
export const FL_TUPLE_MAX_LENGTH = 2000;
/** `PyList_MAXFREELIST`, `PyDict_MAXFREELIST`. */
export const FL_CONTAINER_MAX_LENGTH = 80;

/** The most objects list `index` keeps. */
export function freeListCapacity(index: number): number {
  return index < FL_TUPLE_MAX_SIZE ? FL_TUPLE_MAX_LENGTH : FL_CONTAINER_MAX_LENGTH;
}

/** Pop the first object of list `index` of `region` (0 when empty); the caller owns the region. */
export function freeListPop(u32: Uint32Array, region: number, index: number): number {
  const w = (region >>> 2) + index;
  const op = u32[w];
  if (op === 0) return 0;
  u32[w] = u32[op >>> 2]; // ob_tid: the link
  u32[w + FL_LENGTHS] -= 1;
  return op;
}

/** Push `op` (untracked, dead) onto list `index` unless it is full; returns whether it was taken. */
export function freeListPush(u32: Uint32Array, region: number, index: number, op: number): boolean {
  const w = (region >>> 2) + index;
  const n = u32[w + FL_LENGTHS];
  if (n >= freeListCapacity(index)) return false;
  u32[op >>> 2] = u32[w];
  u32[w] = op;
  u32[w + FL_LENGTHS] = n + 1;
  return true;
}

/**
 * Empty every list of `region` (`_PyObject_ClearFreeLists`), handing each object to `release`
 * (which frees its block). The owner must not run meanwhile. Returns how many were released.
 */
export function clearFreeLists(u32: Uint32Array, region: number, release: (op: number) => void): number {
  let n = 0;
  for (let index = 0; index < FL_LISTS; index++) {
    for (let op = freeListPop(u32, region, index); op !== 0; op = freeListPop(u32, region, index)) {
      release(op);
      n++;
    }
  }
  return n;
}
