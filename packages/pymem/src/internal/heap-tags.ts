/**
 * The four mimalloc heaps of a thread state and their tags, after CPython's `_Py_MIMALLOC_HEAP_*`
 * (`Include/internal/pycore_mimalloc.h`). `tstate_mimalloc_bind` gives heap `i` the tag `i`, and
 * its pages copy the tag, so the collector can visit only GC-tagged pages (of live heaps and of
 * the interpreter's abandoned pool) and a page is reclaimed only into a heap with the same tag.
 *
 *   tag  name    receives                                         routed by
 *   ---  ------  -----------------------------------------------  -------------------------------
 *    0   MEM     PyMem_* (MEM domain)                             always
 *    1   OBJECT  objects of non-GC types                          current object heap (default)
 *    2   GC      GC objects without pre-header                    current object heap, set by type
 *    3   GC_PRE  GC objects with pre-header (managed dict/weakref) current object heap, set by type
 */

/** Heap tags, numbered as CPython's `_Py_MIMALLOC_HEAP_*`. */
export const HeapTag = {
  /** `_Py_MIMALLOC_HEAP_MEM`: `PyMem_Malloc` and friends. */
  MEM: 0,
  /** `_Py_MIMALLOC_HEAP_OBJECT`: objects whose type is not GC. */
  OBJECT: 1,
  /** `_Py_MIMALLOC_HEAP_GC`: GC objects without a pre-header. */
  GC: 2,
  /** `_Py_MIMALLOC_HEAP_GC_PRE`: GC objects with a pre-header (`Py_TPFLAGS_PREHEADER`). */
  GC_PRE: 3,
} as const;

/** One of {@link HeapTag}'s values. */
export type HeapTag = (typeof HeapTag)[keyof typeof HeapTag];

/** `_Py_MIMALLOC_HEAP_COUNT`: heaps per thread state; valid tags are `0 <= tag < HEAP_TAG_COUNT`. */
export const HEAP_TAG_COUNT = 4;

const HEAP_TAG_NAMES = ["MEM", "OBJECT", "GC", "GC_PRE"] as const;

/** The name of a heap tag, as in {@link HeapTag}'s keys. */
export type HeapTagName = (typeof HEAP_TAG_NAMES)[number];

/**
 * Validate a heap tag that came from outside and return it typed.
 *
 * @throws TypeError when `value` is not an integer number.
 * @throws RangeError when it is not one of the four tags a thread state's heaps carry.
 */
export function checkHeapTag(value: unknown): HeapTag {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`heap tag must be an integer, got ${typeof value} ${String(value)}`);
  }
  if (value < 0 || value >= HEAP_TAG_COUNT) {
    throw new RangeError(
      `heap tag ${value} out of range: expected MEM (0), OBJECT (1), GC (2) or GC_PRE (3)`,
    );
  }
  return value as HeapTag;
}

/** `"MEM"`, `"OBJECT"`, `"GC"` or `"GC_PRE"`. @throws as {@link checkHeapTag}. */
export function heapTagName(tag: HeapTag): HeapTagName {
  return HEAP_TAG_NAMES[checkHeapTag(tag)];
}
