/**
 * The narrow interface through which @ft/gc allocates: object blocks by heap kind (OBJECT, GC,
 * GC_PRE — CPython's `_PyObject_MallocWithType`) and item arrays in the MEM heap, over one
 * thread's @ft/pymem. The OBJ-domain call runs with the thread's current object heap set to the
 * kind, so hooks in the chain (debug, tracing) still reach the right heap.
 */
import type { Arena } from "@ft/mimalloc";
import { HeapTag, PyMem } from "@ft/pymem";

/** What the object space needs from the allocator layer. Pointers are arena offsets, 0 = NULL. */
export interface ObjectAllocator {
  /** `PyObject_Malloc` into the heap of `kind`; returns the data pointer or 0. */
  mallocObject(kind: HeapTag, size: number): number;
  /** `PyObject_Free` of a data pointer `mallocObject` returned for `kind`. */
  freeObject(kind: HeapTag, p: number): void;
  /** `PyMem_Malloc` / `PyMem_Realloc` / `PyMem_Free`: item arrays of lists and dicts. */
  memMalloc(size: number): number;
  memRealloc(p: number, size: number): number;
  memFree(p: number): void;
  /** Bytes between a block's start and its data (the debug header when debug hooks are on). */
  debugHeaderBytes(): number;
  /**
   * The arena whose `free` every `freeObject` and `memFree` would end in, when nothing sits in
   * between (the default allocators in every domain: no debug hooks, no tracing, no user hook),
   * else null. The collector's delete phase then frees garbage straight to @ft/mimalloc.
   */
  directFreeArena?(): Arena | null;
}

/** The allocator over a thread's PyMem. */
export function pymemAllocator(pymem: PyMem): ObjectAllocator {
  if (!(pymem instanceof PyMem)) {
    throw new TypeError(`pymemAllocator: pymem must be a PyMem (createPyMem), got ${pymem === null ? "null" : typeof pymem}`);
  }
  return {
    mallocObject: (kind, size) => pymem.objectMallocKind(kind, size),
    freeObject: (kind, p) => pymem.objectFreeKind(kind, p),
    memMalloc: (size) => pymem.malloc(size),
    memRealloc: (p, size) => pymem.realloc(p, size),
    memFree: (p) => pymem.free(p),
    debugHeaderBytes: () => pymem.objectDebugHeaderSize(),
    directFreeArena: () => (pymem.allocatorName() === "mimalloc" ? pymem.arena : null),
  };
}

export { HeapTag };
