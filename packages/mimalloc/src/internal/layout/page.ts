/**
 * The page record, which is also the slice-table entry (mimalloc: `typedef mi_page_t mi_slice_t`).
 * Every slice of a segment has one, in the segment header; a page's first slice record holds the
 * page, its other slices point back to it with `sliceOffset`.
 *
 * ```
 *  word  field          owner / who writes it
 *  ┌───┬──────────────┬──────────────────────────────────────────────────────────────┐
 *  │ 0 │ xthreadFree  │ ATOMIC. other threads CAS-push freed blocks; bit 0 = NOTIFY  │
 *  │ 1 │ free         │ owner: blocks ready to hand out (singly linked, next at +0)  │
 *  │ 2 │ localFree    │ owner: blocks freed by the owner                             │
 *  │ 3 │ used         │ owner: blocks handed out (incl. not yet collected frees)     │
 *  │ 4 │ capacity     │ owner: blocks threaded into the lists so far                 │
 *  │ 5 │ reserved     │ const: blocks that fit in the page                           │
 *  │ 6 │ blockSize    │ const: bytes per block                                       │
 *  │ 7 │ pageStart    │ const: offset of block 0                                     │
 *  │ 8 │ xheap        │ owner / abandoner: heap record, 0 = abandoned                │
 *  │ 9 │ next         │ owner: page queue link                                       │
 *  │10 │ prev         │ owner: page queue link                                       │
 *  │11 │ flags        │ owner: IN_USE, IN_FULL, HAS_ALIGNED, CHECKED, tag << 8,       │
 *  │   │              │ owner hint << 12 (see below)                                 │
 *  │12 │ sliceCount   │ const: slices in the page                                    │
 *  │13 │ sliceOffset  │ const: bytes from this slice record back to the page's first │
 *  │14 │ retireExpire │ owner: rounds an empty page stays before it is freed         │
 *  │15 │ bin          │ const: size class (BIN_HUGE for huge pages)                  │
 *  └───┴──────────────┴──────────────────────────────────────────────────────────────┘
 * ```
 * Invariant (checked by `checkArena`): `used + |free| + |localFree| == capacity`, where `used`
 * still counts the blocks other threads freed onto `xthreadFree` until the owner collects them
 * (so the live blocks are `used - |threadFree|`); every listed block lies in the page at a block
 * boundary and is listed once.
 *
 * `xthreadFree` NOTIFY: the owner sets it when it moves the page to the full queue; the first
 * remote free that finds it clears it in the same CAS that pushes the block and then sets its heap's
 * `xhasDelayed` flag, so the owner looks at its full pages again (mimalloc's delayed-free
 * handshake, reduced to one flag; no thread ever waits on another).
 *
 * Owner hint (flags bits 12–30): the id of the thread that owns the page's segment when it is
 * below 2^19, else 0; 0 while the segment is abandoned. It is set with the flags when the page is
 * made, cleared by abandonment and set again by reclaim, always by the thread that changes the
 * segment's owner. The local free fast path compares the flags word alone with
 * `IN_USE | hint(its id) << 12` (one load instead of also reading the segment's thread id); a
 * thread whose id has no hint, and every page it does not own, take the generic path, which reads
 * the segment's thread id. The hint can only name the segment's real owner or nobody.
 */
export const PAGE_XTHREAD_FREE = 0;
export const PAGE_FREE = 1;
export const PAGE_LOCAL_FREE = 2;
export const PAGE_USED = 3;
export const PAGE_CAPACITY = 4;
export const PAGE_RESERVED = 5;
export const PAGE_BLOCK_SIZE = 6;
export const PAGE_START = 7;
export const PAGE_XHEAP = 8;
export const PAGE_NEXT = 9;
export const PAGE_PREV = 10;
export const PAGE_FLAGS = 11;
export const PAGE_SLICE_COUNT = 12;
export const PAGE_SLICE_OFFSET = 13;
export const PAGE_RETIRE_EXPIRE = 14;
export const PAGE_BIN = 15;
export const PAGE_WORDS = 16;
export const PAGE_RECORD_SHIFT = 6;
export const PAGE_RECORD_SIZE = 1 << PAGE_RECORD_SHIFT; // 64 bytes

/** `xthreadFree` bit 0: notify the owner (page is in the full queue). */
export const THREAD_FREE_NOTIFY_MASK = 1;
export const THREAD_FREE_PTR_MASK = ~7 >>> 0;

export const PAGE_FLAG_IN_USE_MASK = 1 << 0;
export const PAGE_FLAG_IN_FULL_MASK = 1 << 1;
export const PAGE_FLAG_HAS_ALIGNED_MASK = 1 << 2;
/** The arena runs with checks: frees to this page go through the checked slow path. */
export const PAGE_FLAG_CHECKED_MASK = 1 << 3;
/** Flags the local free fast path looks at: it applies when, of these, only IN_USE is set. */
export const PAGE_FLAGS_FAST_MASK = PAGE_FLAG_IN_USE_MASK | PAGE_FLAG_HAS_ALIGNED_MASK | PAGE_FLAG_CHECKED_MASK;
export const PAGE_FLAG_TAG_SHIFT = 8;
export const PAGE_FLAG_TAG_MASK = 0xf << PAGE_FLAG_TAG_SHIFT;
export const PAGE_FLAG_OWNER_SHIFT = 12;
/** Largest thread id a page's owner hint can hold. */
export const PAGE_OWNER_HINT_MAX = 0x7ffff;
export const PAGE_FLAG_OWNER_MASK = PAGE_OWNER_HINT_MAX << PAGE_FLAG_OWNER_SHIFT;
/** Flags the local free fast path compares: the fast flags and the owner hint. */
export const PAGE_FLAGS_FREE_FAST_MASK = PAGE_FLAGS_FAST_MASK | PAGE_FLAG_OWNER_MASK;

/** The owner hint bits for thread `threadId` (0 when its id is too large to hint). */
export function pageOwnerHint(threadId: number): number {
  return threadId <= PAGE_OWNER_HINT_MAX ? threadId << PAGE_FLAG_OWNER_SHIFT : 0;
}
