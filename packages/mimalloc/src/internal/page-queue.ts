/**
 * Slow paths of allocation, owner side: `mallocGeneric` and what it needs — page queues, finding a
 * page with free blocks, extending a page's free list, collecting the frees of other threads, the
 * full queue, retiring empty pages, and heap-wide collect / destroy / delete.
 *
 * Views: a function that may claim a segment (`pageFresh`, `findFreePage`, `segmentAlloc`, …) may
 * grow the buffer, which replaces `a.u32`; callers re-read `a.u32` after such a call.
 *
 * Every function here runs on the heap's owner thread (or on a thread abandoning a dead owner's
 * heap, see `abandon.ts`); owner-only fields are read and written with plain stores.
 */
import type { Arena } from "./arena.ts";
import { EMPTY_PAGE, POOL_XCOUNT, RECORD_AREA_START } from "./layout/arena.ts";
import {
  LARGE_OBJ_SIZE_MAX,
  MAX_ALIGN_SIZE,
  MAX_ALLOC_SIZE,
  MEDIUM_OBJ_SIZE_MAX,
  MEDIUM_PAGE_SLICES,
  SEGMENT_SIZE,
  SLICE_SIZE,
  SMALL_OBJ_SIZE_MAX,
  SMALL_WSIZE_MAX,
} from "./layout/constants.ts";
import {
  HEAP_DIRECT,
  HEAP_FLAG_DESTROYED_MASK,
  HEAP_FLAGS,
  HEAP_GENERIC_COUNT,
  HEAP_NEXT,
  HEAP_PAGE_COUNT,
  HEAP_QUEUES,
  HEAP_RETIRED_MAX,
  HEAP_RETIRED_MIN,
  HEAP_TAG,
  HEAP_TLD,
  HEAP_XHAS_DELAYED,
  QUEUE_FIRST,
  QUEUE_LAST,
  QUEUE_WORDS,
} from "./layout/heap.ts";
import {
  PAGE_BIN,
  PAGE_BLOCK_SIZE,
  PAGE_CAPACITY,
  PAGE_FLAG_HAS_ALIGNED_MASK,
  PAGE_FLAG_IN_FULL_MASK,
  PAGE_FLAG_TAG_MASK,
  PAGE_FLAG_TAG_SHIFT,
  PAGE_FLAGS,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_NEXT,
  PAGE_PREV,
  PAGE_RESERVED,
  PAGE_RETIRE_EXPIRE,
  PAGE_START,
  PAGE_USED,
  PAGE_XHEAP,
  PAGE_XTHREAD_FREE,
  THREAD_FREE_NOTIFY_MASK,
  THREAD_FREE_PTR_MASK,
} from "./layout/page.ts";
import { BIN_BLOCK_SIZE, BIN_COUNT, BIN_FULL, BIN_HUGE, DIRECT_BIN, DIRECT_WSIZE_MAX, DIRECT_WSIZE_MIN, binOfValidSize } from "./layout/size-class.ts";
import {
  TLD_FLAG_SHARED_MASK,
  TLD_FLAGS,
  TLD_HEAP_BACKING,
  TLD_HEAPS,
  TLD_INTENT_HEAD,
  TLD_INTENT_PAGE,
  TLD_POOL,
  TLD_RECORD_SIZE,
  TLD_STATE_LIVE,
  TLD_THREAD_ID,
  TLD_XSTATE,
} from "./layout/tld.ts";
import { assert, checkAlignment, checkSize } from "./errors.ts";
import { hugePageAlloc, segmentsPageAlloc, segmentsPageFree } from "./segments.ts";
import { heapStaleReason, tryReclaim } from "./abandon.ts";
import { pageOfBlock } from "./free.ts";

/** Word index of the last tld record of the record area, counted from its start (`mallocGeneric`). */
const TLD_RECORD_AREA_LAST = (SEGMENT_SIZE - TLD_RECORD_SIZE - RECORD_AREA_START) >>> 2;

/** Bytes threaded into a page's free list per extension (mimalloc: 4 KiB; memory here is committed). */
const EXTEND_BYTES = 16 * 1024;
/** Housekeeping every this many slow-path calls: remote frees into full pages, retired pages. */
const HOUSEKEEPING_INTERVAL = 64;
/** Rounds of housekeeping an empty page that is alone in its queue survives (mimalloc: 16 / 4). */
const RETIRE_CYCLES_SMALL = 16;
const RETIRE_CYCLES_LARGE = 4;

function queueIndex(heap: number, bin: number): number {
  return (heap >>> 2) + HEAP_QUEUES + bin * QUEUE_WORDS;
}

// ---------------------------------------------------------------------------- mallocGeneric

/**
 * Everything `Heap.malloc` does not: argument checks, housekeeping, finding or making a page, large
 * and huge blocks, and aligned allocation (`alignment` 0 = none).
 */
export function mallocGeneric(a: Arena, heap: number, size: number, alignment: number, offset: number, fn: string): number {
  checkSize(fn, "size", size);
  if (alignment !== 0 || fn !== "malloc") checkAlignment(fn, alignment);
  if (size > 0xffffffff) throw new RangeError(`${fn}: size must be below 2^32, got ${size}`);
  if (size > MAX_ALLOC_SIZE) return 0; // more than any arena holds: out of memory, as C's malloc
  a.checkAttached(fn);
  const u32 = a.u32;
  const h = heap >>> 2;
  // A handle whose tld another thread abandoned reaches here (the abandoner emptied its direct
  // table); its records may since hold anything. One range test and three loads in the common
  // case (a live tld of this thread, or a shared one); `heapStaleReason` says what is wrong.
  const t = u32[h + HEAP_TLD]! >>> 2;
  if (
    ((t - (RECORD_AREA_START >>> 2)) >>> 0) > TLD_RECORD_AREA_LAST ||
    Atomics.load(u32, t + TLD_XSTATE) !== TLD_STATE_LIVE ||
    (u32[t + TLD_THREAD_ID] !== a.threadId && (u32[t + TLD_FLAGS]! & TLD_FLAG_SHARED_MASK) === 0)
  ) {
    throw new Error(`${fn}: ${heapStaleReason(a, heap, true)}`);
  }
  if ((u32[h + HEAP_FLAGS]! & HEAP_FLAG_DESTROYED_MASK) !== 0) throw new Error(`${fn}: the heap was destroyed or deleted`);
  const count = u32[h + HEAP_GENERIC_COUNT]! + 1;
  u32[h + HEAP_GENERIC_COUNT] = count;
  if (count % HOUSEKEEPING_INTERVAL === 0) heapHousekeeping(a, heap);

  if (alignment > MAX_ALIGN_SIZE || (alignment !== 0 && (offset !== 0 || size < alignment))) {
    return mallocAlignedGeneric(a, heap, size, alignment, offset);
  }
  return mallocSize(a, heap, size);
}

/**
 * The malloc fast path found the direct page's free list empty, for a small, already validated
 * `size` (mimalloc's `mi_find_free_page` first step): collect that page's local and remote frees
 * and pop from it; anything else goes to `mallocGeneric`.
 */
export function mallocSmallCollect(a: Arena, heap: number, page: number, size: number): number {
  if (page !== EMPTY_PAGE) {
    pageFreeCollect(a, page);
    const u32 = a.u32;
    const pi = page >>> 2;
    const block = u32[pi + PAGE_FREE]!;
    if (block !== 0) {
      u32[pi + PAGE_FREE] = u32[block >>> 2]!;
      u32[pi + PAGE_USED]++;
      return block;
    }
  }
  return mallocGeneric(a, heap, size, 0, 0, "malloc");
}

/** Allocate a block of at least `size` bytes (validated) from `heap`. */
function mallocSize(a: Arena, heap: number, size: number): number {
  if (size > LARGE_OBJ_SIZE_MAX) return hugeAlloc(a, heap, size, 0);
  const bin = binOfValidSize(size);
  const page = findFreePage(a, heap, bin);
  if (page === 0) return 0;
  const u32 = a.u32; // read after findFreePage: a new segment may have grown the buffer (new views)
  const pi = page >>> 2;
  const block = u32[pi + PAGE_FREE]!;
  if (__DEBUG__) assert(block !== 0, "findFreePage returns a page with a free block");
  u32[pi + PAGE_FREE] = u32[block >>> 2]!;
  u32[pi + PAGE_USED]++;
  return block;
}

/**
 * Aligned allocation. A bin whose block size is a multiple of the alignment gives aligned blocks by
 * itself (pages start at slice boundaries); otherwise over-allocate and return an interior pointer,
 * marking the page HAS_ALIGNED so that `free` finds the block start (as mimalloc does).
 */
function mallocAlignedGeneric(a: Arena, heap: number, size: number, alignment: number, offset: number): number {
  if (offset === 0 && alignment <= SLICE_SIZE) {
    const need = Math.max(size, alignment);
    if (need <= LARGE_OBJ_SIZE_MAX) {
      for (let bin = binOfValidSize(need); bin < BIN_HUGE; bin++) {
        const blockSize = BIN_BLOCK_SIZE[bin]!;
        if (blockSize !== 0 && blockSize % alignment === 0) return mallocSize(a, heap, blockSize);
      }
    }
  }
  const padded = size + alignment - 1 + (offset % alignment);
  if (padded > MAX_ALLOC_SIZE) return 0;
  const p = padded > LARGE_OBJ_SIZE_MAX ? hugeAlloc(a, heap, padded, 0) : mallocSize(a, heap, padded);
  if (p === 0) return 0;
  const aligned = Math.ceil((p + offset) / alignment) * alignment - offset;
  if (aligned !== p) {
    const page = pageOfBlock(a, p);
    a.u32[(page >>> 2) + PAGE_FLAGS]! |= PAGE_FLAG_HAS_ALIGNED_MASK;
  }
  if (__DEBUG__) assert((aligned + offset) % alignment === 0 && aligned + size <= p + padded, "aligned pointer inside its block");
  return aligned;
}


function hugeAlloc(a: Arena, heap: number, size: number, _alignment: number): number {
  const page = hugePageAlloc(a, heap, size);
  if (page === 0) return 0;
  const u32 = a.u32;
  const pi = page >>> 2;
  pageQueuePush(a, heap, BIN_HUGE, page);
  pageExtend(a, page);
  const block = u32[pi + PAGE_FREE]!;
  u32[pi + PAGE_FREE] = 0;
  u32[pi + PAGE_USED] = 1;
  return block;
}

// ---------------------------------------------------------------------------- finding pages

/** A page of `bin` in `heap` with a free block (collecting, extending or making one); 0 when out of memory. */
function findFreePage(a: Arena, heap: number, bin: number): number {
  const u32 = a.u32;
  const q = queueIndex(heap, bin);
  let page = u32[q + QUEUE_FIRST]!;
  while (page !== 0) {
    const pi = page >>> 2;
    const next = u32[pi + PAGE_NEXT]!;
    pageFreeCollect(a, page);
    if (u32[pi + PAGE_FREE] !== 0) {
      if (page !== u32[q + QUEUE_FIRST]) pageQueueMoveToFront(a, heap, bin, page);
      return page;
    }
    if (u32[pi + PAGE_CAPACITY]! < u32[pi + PAGE_RESERVED]!) {
      pageExtend(a, page);
      if (page !== u32[q + QUEUE_FIRST]) pageQueueMoveToFront(a, heap, bin, page);
      return page;
    }
    pageToFull(a, heap, page);
    page = next;
  }
  page = pageFresh(a, heap, bin);
  if (page === 0) return 0;
  if (a.u32[(page >>> 2) + PAGE_FREE] === 0) pageExtend(a, page); // a.u32: the buffer may have grown
  return page;
}

/** A new page for `bin`: reclaimed from the tld's abandoned pool, or carved from a segment. */
function pageFresh(a: Arena, heap: number, bin: number): number {
  const tld = a.u32[(heap >>> 2) + HEAP_TLD]!;
  const pool = a.u32[(tld >>> 2) + TLD_POOL]!;
  if (Atomics.load(a.u32, (pool >>> 2) + POOL_XCOUNT) !== 0) {
    tryReclaim(a, tld);
    const u32 = a.u32; // after tryReclaim: the views may have been replaced
    // A reclaimed page of this bin with free blocks?
    const q = queueIndex(heap, bin);
    let page = u32[q + QUEUE_FIRST]!;
    while (page !== 0) {
      const pi = page >>> 2;
      if (u32[pi + PAGE_FREE] !== 0 || u32[pi + PAGE_CAPACITY]! < u32[pi + PAGE_RESERVED]!) {
        if (page !== u32[q + QUEUE_FIRST]) pageQueueMoveToFront(a, heap, bin, page);
        return page;
      }
      page = u32[pi + PAGE_NEXT]!;
    }
  }
  const blockSize = BIN_BLOCK_SIZE[bin]!;
  const slices =
    blockSize <= SMALL_OBJ_SIZE_MAX ? 1 : blockSize <= MEDIUM_OBJ_SIZE_MAX ? MEDIUM_PAGE_SLICES : Math.ceil(blockSize / SLICE_SIZE);
  const page = segmentsPageAlloc(a, heap, slices, blockSize, bin);
  if (page === 0) return 0;
  pageQueuePush(a, heap, bin, page);
  return page;
}

/** Thread `min(reserved - capacity, EXTEND_BYTES / blockSize)` more blocks onto the page's free list. */
export function pageExtend(a: Arena, page: number): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  const reserved = u32[pi + PAGE_RESERVED]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  if (__DEBUG__) assert(u32[pi + PAGE_FREE] === 0 && capacity < reserved, "extend a page with an empty free list and room");
  const n = Math.min(reserved - capacity, Math.max(1, Math.floor(EXTEND_BYTES / blockSize)));
  const first = u32[pi + PAGE_START]! + capacity * blockSize;
  let block = first;
  for (let i = 1; i < n; i++) {
    const next = block + blockSize;
    u32[block >>> 2] = next;
    block = next;
  }
  u32[block >>> 2] = 0;
  u32[pi + PAGE_FREE] = first;
  u32[pi + PAGE_CAPACITY] = capacity + n;
}

// ---------------------------------------------------------------------------- collecting frees

/**
 * Take the frees of other threads (`xthreadFree`) onto `localFree`, then move `localFree` to
 * `free` if `free` is empty (mimalloc's `_mi_page_free_collect`).
 */
export function pageFreeCollect(a: Arena, page: number): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  if ((Atomics.load(u32, pi + PAGE_XTHREAD_FREE) & THREAD_FREE_PTR_MASK) !== 0) pageThreadFreeCollect(a, page);
  if (u32[pi + PAGE_FREE] === 0) {
    u32[pi + PAGE_FREE] = u32[pi + PAGE_LOCAL_FREE]!;
    u32[pi + PAGE_LOCAL_FREE] = 0;
  }
}

/**
 * Detach the page's thread-free list (keeping the NOTIFY bit) and append it to `localFree`.
 *
 * Termination safety: between the CAS that detaches the list and the store that links it into
 * `localFree`, the list belongs to nobody. The owner records it in its tld's intent words right
 * after the CAS (straight-line code: V8 delivers `terminate()` only at function entries and loop
 * back edges), and `abandonTld` finishes the append if the owner died in between.
 */
export function pageThreadFreeCollect(a: Arena, page: number): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  const heap = u32[pi + PAGE_XHEAP]!;
  const t = heap === 0 ? 0 : u32[(heap >>> 2) + HEAP_TLD]! >>> 2;
  let head = Atomics.load(u32, pi + PAGE_XTHREAD_FREE);
  for (;;) {
    if ((head & THREAD_FREE_PTR_MASK) === 0) return;
    const seen = Atomics.compareExchange(u32, pi + PAGE_XTHREAD_FREE, head, head & THREAD_FREE_NOTIFY_MASK);
    if (seen === head) break;
    head = seen;
  }
  const list = (head & THREAD_FREE_PTR_MASK) >>> 0;
  if (t !== 0) {
    u32[t + TLD_INTENT_PAGE] = page;
    u32[t + TLD_INTENT_HEAD] = list;
  }
  const capacity = u32[pi + PAGE_CAPACITY]!;
  let tail = list;
  let count = 1;
  for (let next = u32[tail >>> 2]!; next !== 0; next = u32[tail >>> 2]!) {
    tail = next;
    if (++count > capacity) throw new Error(`heap corruption: the thread-free list of page ${page} is longer than its capacity`);
  }
  u32[tail >>> 2] = u32[pi + PAGE_LOCAL_FREE]!;
  u32[pi + PAGE_LOCAL_FREE] = list;
  u32[pi + PAGE_USED] -= count;
  if (t !== 0) u32[t + TLD_INTENT_PAGE] = 0;
}

// ---------------------------------------------------------------------------- queues

export function pageQueuePush(a: Arena, heap: number, bin: number, page: number): void {
  const u32 = a.u32;
  const q = queueIndex(heap, bin);
  const pi = page >>> 2;
  const first = u32[q + QUEUE_FIRST]!;
  u32[pi + PAGE_PREV] = 0;
  u32[pi + PAGE_NEXT] = first;
  if (first !== 0) u32[(first >>> 2) + PAGE_PREV] = page;
  else u32[q + QUEUE_LAST] = page;
  u32[q + QUEUE_FIRST] = page;
  u32[(heap >>> 2) + HEAP_PAGE_COUNT]++;
  if (bin < BIN_HUGE) directUpdate(a, heap, bin);
}

/** Append at the end of the queue: a page coming back from the full queue should collect more frees before it is used again (mimalloc's `mi_page_queue_enqueue_from`). */
export function pageQueuePushBack(a: Arena, heap: number, bin: number, page: number): void {
  const u32 = a.u32;
  const q = queueIndex(heap, bin);
  const pi = page >>> 2;
  const last = u32[q + QUEUE_LAST]!;
  u32[pi + PAGE_NEXT] = 0;
  u32[pi + PAGE_PREV] = last;
  if (last !== 0) u32[(last >>> 2) + PAGE_NEXT] = page;
  else {
    u32[q + QUEUE_FIRST] = page;
    if (bin < BIN_HUGE) directUpdate(a, heap, bin);
  }
  u32[q + QUEUE_LAST] = page;
  u32[(heap >>> 2) + HEAP_PAGE_COUNT]++;
}

export function pageQueueRemove(a: Arena, heap: number, bin: number, page: number): void {
  const u32 = a.u32;
  const q = queueIndex(heap, bin);
  const pi = page >>> 2;
  const prev = u32[pi + PAGE_PREV]!;
  const next = u32[pi + PAGE_NEXT]!;
  if (prev !== 0) u32[(prev >>> 2) + PAGE_NEXT] = next;
  else u32[q + QUEUE_FIRST] = next;
  if (next !== 0) u32[(next >>> 2) + PAGE_PREV] = prev;
  else u32[q + QUEUE_LAST] = prev;
  u32[pi + PAGE_PREV] = 0;
  u32[pi + PAGE_NEXT] = 0;
  u32[(heap >>> 2) + HEAP_PAGE_COUNT]--;
  if (prev === 0 && bin < BIN_HUGE) directUpdate(a, heap, bin);
}

function pageQueueMoveToFront(a: Arena, heap: number, bin: number, page: number): void {
  pageQueueRemove(a, heap, bin, page);
  pageQueuePush(a, heap, bin, page);
}

/** Point the direct table entries of `bin` at the bin's first page (or the empty page). */
function directUpdate(a: Arena, heap: number, bin: number): void {
  if (bin > DIRECT_BIN[SMALL_WSIZE_MAX]!) return;
  const u32 = a.u32;
  const first = u32[queueIndex(heap, bin) + QUEUE_FIRST]!;
  const d = (heap >>> 2) + HEAP_DIRECT;
  const target = first === 0 ? EMPTY_PAGE : first;
  for (let w = DIRECT_WSIZE_MIN[bin]!, end = DIRECT_WSIZE_MAX[bin]!; w <= end; w++) u32[d + w] = target;
}

/** The queue a page sits in: its bin's, or the full queue. */
export function pageQueueBin(a: Arena, page: number): number {
  const pi = page >>> 2;
  return (a.u32[pi + PAGE_FLAGS]! & PAGE_FLAG_IN_FULL_MASK) !== 0 ? BIN_FULL : a.u32[pi + PAGE_BIN]!;
}

/**
 * Move a page with no free block to the full queue and ask remote freers to notify (NOTIFY bit).
 * If a remote free arrived first, the page is not full after all: it stays.
 */
function pageToFull(a: Arena, heap: number, page: number): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  if (Atomics.compareExchange(u32, pi + PAGE_XTHREAD_FREE, 0, THREAD_FREE_NOTIFY_MASK) !== 0) return;
  pageQueueRemove(a, heap, u32[pi + PAGE_BIN]!, page);
  u32[pi + PAGE_FLAGS]! |= PAGE_FLAG_IN_FULL_MASK;
  pageQueuePush(a, heap, BIN_FULL, page);
}

/** Move a page back from the full queue to its bin's queue, clearing NOTIFY. */
export function pageUnfull(a: Arena, heap: number, page: number): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  if (__DEBUG__) assert((u32[pi + PAGE_FLAGS]! & PAGE_FLAG_IN_FULL_MASK) !== 0, "unfull a page of the full queue");
  pageQueueRemove(a, heap, BIN_FULL, page);
  u32[pi + PAGE_FLAGS]! &= ~PAGE_FLAG_IN_FULL_MASK;
  Atomics.and(u32, pi + PAGE_XTHREAD_FREE, ~THREAD_FREE_NOTIFY_MASK);
  pageQueuePushBack(a, heap, u32[pi + PAGE_BIN]!, page);
}

/** Remote frees reached full pages: give those pages back to their bins. */
function heapDelayedFree(a: Arena, heap: number): void {
  const u32 = a.u32;
  const h = heap >>> 2;
  if (Atomics.load(u32, h + HEAP_XHAS_DELAYED) === 0) return;
  Atomics.store(u32, h + HEAP_XHAS_DELAYED, 0);
  let page = u32[queueIndex(heap, BIN_FULL) + QUEUE_FIRST]!;
  while (page !== 0) {
    const pi = page >>> 2;
    const next = u32[pi + PAGE_NEXT]!;
    // `localFree` too: block visiting (visit.ts) may have collected the remote frees already.
    if ((Atomics.load(u32, pi + PAGE_XTHREAD_FREE) & THREAD_FREE_PTR_MASK) !== 0 || u32[pi + PAGE_LOCAL_FREE] !== 0) {
      pageUnfull(a, heap, page);
    }
    page = next;
  }
}

// ---------------------------------------------------------------------------- retire and free

/**
 * A page's last block was freed. A page alone in its queue is kept for a few housekeeping rounds
 * (it would likely be needed again at once); any other is freed now.
 */
export function pageRetire(a: Arena, page: number): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  const heap = u32[pi + PAGE_XHEAP]!;
  const bin = pageQueueBin(a, page);
  if (bin === BIN_FULL) pageUnfull(a, heap, page);
  const realBin = u32[pi + PAGE_BIN]!;
  const q = queueIndex(heap, realBin);
  if (realBin < BIN_HUGE && u32[q + QUEUE_FIRST] === page && u32[q + QUEUE_LAST] === page) {
    u32[pi + PAGE_RETIRE_EXPIRE] = u32[pi + PAGE_BLOCK_SIZE]! <= SMALL_OBJ_SIZE_MAX ? RETIRE_CYCLES_SMALL : RETIRE_CYCLES_LARGE;
    const h = heap >>> 2;
    if (realBin < u32[h + HEAP_RETIRED_MIN]! || u32[h + HEAP_RETIRED_MIN] === 0) u32[h + HEAP_RETIRED_MIN] = realBin;
    if (realBin > u32[h + HEAP_RETIRED_MAX]!) u32[h + HEAP_RETIRED_MAX] = realBin;
    return;
  }
  pageFree(a, heap, page);
}

/** Free an empty page: out of its queue, its slices back to the segment. */
export function pageFree(a: Arena, heap: number, page: number): void {
  pageQueueRemove(a, heap, pageQueueBin(a, page), page);
  segmentsPageFree(a, page);
}

/** Free retired pages whose time has come. */
function heapCollectRetired(a: Arena, heap: number, force: boolean): void {
  const u32 = a.u32;
  const h = heap >>> 2;
  const min = u32[h + HEAP_RETIRED_MIN]!;
  const max = u32[h + HEAP_RETIRED_MAX]!;
  if (min === 0) return;
  let newMin = 0;
  let newMax = 0;
  for (let bin = min; bin <= max; bin++) {
    const page = u32[queueIndex(heap, bin) + QUEUE_FIRST]!;
    if (page === 0) continue;
    const pi = page >>> 2;
    const expire = u32[pi + PAGE_RETIRE_EXPIRE]!;
    if (expire === 0) continue;
    if (u32[pi + PAGE_USED] !== 0) {
      u32[pi + PAGE_RETIRE_EXPIRE] = 0;
      continue;
    }
    if (force || expire === 1) {
      u32[pi + PAGE_RETIRE_EXPIRE] = 0;
      pageFree(a, heap, page);
    } else {
      u32[pi + PAGE_RETIRE_EXPIRE] = expire - 1;
      if (newMin === 0) newMin = bin;
      newMax = bin;
    }
  }
  u32[h + HEAP_RETIRED_MIN] = newMin;
  u32[h + HEAP_RETIRED_MAX] = newMax;
}

function heapHousekeeping(a: Arena, heap: number): void {
  heapDelayedFree(a, heap);
  heapCollectRetired(a, heap, false);
}

// ---------------------------------------------------------------------------- whole heaps

/** Call `fn(page, bin)` for every page of the heap (all queues, the full queue included). */
export function heapForEachPage(a: Arena, heap: number, fn: (page: number, bin: number) => void): void {
  const u32 = a.u32;
  for (let bin = 0; bin < BIN_COUNT; bin++) {
    let page = u32[queueIndex(heap, bin) + QUEUE_FIRST]!;
    while (page !== 0) {
      const next = u32[(page >>> 2) + PAGE_NEXT]!;
      fn(page, bin);
      page = next;
    }
  }
}

/**
 * mimalloc's `mi_heap_collect`: take every remote free, free empty pages (retired ones too); with
 * `force`, also pages kept for reuse.
 */
export function heapCollect(a: Arena, heap: number, force: boolean): void {
  const u32 = a.u32;
  heapDelayedFree(a, heap);
  heapForEachPage(a, heap, (page) => {
    const pi = page >>> 2;
    pageFreeCollect(a, page);
    if (u32[pi + PAGE_USED] === 0) {
      u32[pi + PAGE_RETIRE_EXPIRE] = 0;
      pageFree(a, heap, page);
    } else if ((u32[pi + PAGE_FLAGS]! & PAGE_FLAG_IN_FULL_MASK) !== 0 && u32[pi + PAGE_FREE] !== 0) {
      pageUnfull(a, heap, page);
    }
  });
  heapCollectRetired(a, heap, force);
}

/** mimalloc's `mi_heap_destroy`: free every page of the heap, live blocks included, and the heap. */
export function heapDestroyPages(a: Arena, heap: number): void {
  heapForEachPage(a, heap, (page) => {
    pageFree(a, heap, page);
  });
}

/**
 * mimalloc's `mi_heap_absorb`: move every page of `from` to `to` (the tld's backing heap); the
 * pages take `to`'s tag, since a heap's pages copy its tag.
 */
export function heapAbsorb(a: Arena, to: number, from: number): void {
  const u32 = a.u32;
  const tag = u32[(to >>> 2) + HEAP_TAG]!;
  heapForEachPage(a, from, (page, bin) => {
    const pi = page >>> 2;
    pageQueueRemove(a, from, bin, page);
    Atomics.store(u32, pi + PAGE_XHEAP, to);
    u32[pi + PAGE_FLAGS] = (u32[pi + PAGE_FLAGS]! & ~PAGE_FLAG_TAG_MASK) | (tag << PAGE_FLAG_TAG_SHIFT);
    pageQueuePush(a, to, bin, page);
  });
}

/** Unlink a heap record from its tld and mark it destroyed. */
export function heapUnlink(a: Arena, heap: number): void {
  const u32 = a.u32;
  const h = heap >>> 2;
  const t = u32[h + HEAP_TLD]! >>> 2;
  let prev = 0;
  let cur = u32[t + TLD_HEAPS]!;
  while (cur !== 0 && cur !== heap) {
    prev = cur;
    cur = u32[(cur >>> 2) + HEAP_NEXT]!;
  }
  if (cur === heap) {
    if (prev === 0) u32[t + TLD_HEAPS] = u32[h + HEAP_NEXT]!;
    else u32[(prev >>> 2) + HEAP_NEXT] = u32[h + HEAP_NEXT]!;
  }
  const tag = u32[h + HEAP_TAG]!;
  const byTag = t + 16 + tag;
  if (u32[byTag] === heap) {
    // Another heap of the tld with the same tag takes over, if any.
    let other = u32[t + TLD_HEAPS]!;
    while (other !== 0 && u32[(other >>> 2) + HEAP_TAG] !== tag) other = u32[(other >>> 2) + HEAP_NEXT]!;
    u32[byTag] = other;
  }
  if (u32[t + TLD_HEAP_BACKING] === heap) u32[t + TLD_HEAP_BACKING] = u32[t + TLD_HEAPS]!;
  u32[h + HEAP_FLAGS]! |= HEAP_FLAG_DESTROYED_MASK;
  u32.fill(EMPTY_PAGE, h + HEAP_DIRECT, h + HEAP_DIRECT + SMALL_WSIZE_MAX + 1);
}
