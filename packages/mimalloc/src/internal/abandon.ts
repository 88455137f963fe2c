/**
 * Abandonment and reclaim (mimalloc v2 with CPython's patches: per-interpreter pools, heap tags,
 * abandon from another thread).
 *
 * **Abandon** (`abandonTld`): the tld's owner has stopped running — it called `detach`, or it
 * exited or was terminated and another thread cleans up after it. Precondition: the owner runs no
 * allocator code now or later. For every segment the segment table says the tld owns, the abandoner
 * finishes what the owner may have left half done (a half-made segment is freed; a thread-free list
 * the owner had taken but not linked is linked; `used` is recounted from the lists, so a block the
 * owner was handing out when it died is at worst leaked, never handed out twice), frees empty pages,
 * and puts segments that still have live blocks into the tld's pool (table word ABANDONED,
 * header `pool`), or frees them when nothing is left.
 *
 * **Reclaim** (`tryReclaim`, on a page allocation that found no page): take an ABANDONED segment
 * of the claimant's own pool with one CAS on its table word (ABANDONED → claimant tld; no lock, no
 * reader count, no ABA), then give each page to the claimant's heap with the same tag. If any page
 * has a tag for which the claimant has no heap, the whole segment is put back: a page is never
 * left without a heap.
 *
 * **Stale heap handles**: when another thread abandons a tld, the owner's `Heap` handles (and its
 * `Arena.heaps` entries) are not told; the records may later be freed and reused for anything,
 * another thread's heaps included. `heapStaleReason` is how a handle finds out before it touches
 * the record.
 */
import type { Arena } from "./arena.ts";
import { RECORD_KIND_HEAP } from "./arena.ts";
import { AH_XALL_TLDS, AH_XRECORD_LOCK, POOL_XCOUNT, RECORD_AREA_START, SEGSTATE_ABANDONED, SEGSTATE_CLAIMING, SEGSTATE_FREE, SEGSTATE_HUGE_CONT } from "./layout/arena.ts";
import { EMPTY_PAGE } from "./layout/arena.ts";
import { SEGMENT_SIZE, SMALL_WSIZE_MAX, } from "./layout/constants.ts";
import {
  HEAP_DIRECT,
  HEAP_NEXT,
  HEAP_PAGE_COUNT,
  HEAP_QUEUES,
  HEAP_RETIRED_MAX,
  HEAP_RETIRED_MIN,
  HEAP_THREAD_ID,
  HEAP_TLD,
  QUEUE_WORDS,
} from "./layout/heap.ts";
import {
  PAGE_BIN,
  PAGE_CAPACITY,
  PAGE_FLAG_IN_FULL_MASK,
  PAGE_FLAG_OWNER_MASK,
  PAGE_FLAG_TAG_MASK,
  PAGE_FLAG_TAG_SHIFT,
  pageOwnerHint,
  PAGE_FLAGS,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_NEXT,
  PAGE_PREV,
  PAGE_RETIRE_EXPIRE,
  PAGE_USED,
  PAGE_XHEAP,
  PAGE_XTHREAD_FREE,
  THREAD_FREE_PTR_MASK,
} from "./layout/page.ts";
import { SEG_NEXT, SEG_POOL, SEG_SEGMENT_COUNT, SEG_TLD, SEG_USED_PAGES, SEG_XTHREAD_ID } from "./layout/segment.ts";
import { BIN_COUNT, } from "./layout/size-class.ts";
import {
  TLD_FLAG_EMBEDDED_MASK,
  TLD_FLAG_SHARED_MASK,
  TLD_FLAGS,
  TLD_HEAP_BY_TAG,
  TLD_HEAPS,
  TLD_INTENT_HEAD,
  TLD_INTENT_PAGE,
  TLD_POOL,
  TLD_SEGMENTS,
  TLD_STATE_ABANDONED,
  TLD_STATE_FREE,
  TLD_STATE_LIVE,
  TLD_THREAD_ID,
  TLD_ALL_NEXT,
  TLD_RECORD_SIZE,
  TLD_XSTATE,
} from "./layout/tld.ts";
import { pageFreeCollect, pageQueuePush } from "./page-queue.ts";
import { segmentForEachPage, segmentFree, segmentTableIndex, segmentsPageFree, ensureBuffer } from "./segments.ts";

/** Length of a block list, at most `limit` steps (a longer list is corrupt). */
function listLength(u32: Uint32Array, head: number, limit: number): number {
  let n = 0;
  for (let b = head; b !== 0; b = u32[b >>> 2]!) if (++n > limit) throw new Error(`heap corruption: a free list is longer than its page`);
  return n;
}

/**
 * Finish a thread-free collection that the owner of `tld` started and did not finish (see
 * `pageThreadFreeCollect`): if the taken list is not linked into `localFree` yet, link it.
 */
function recoverIntent(a: Arena, tld: number): void {
  const u32 = a.u32;
  const t = tld >>> 2;
  const page = u32[t + TLD_INTENT_PAGE]!;
  if (page === 0) return;
  const head = u32[t + TLD_INTENT_HEAD]!;
  const pi = page >>> 2;
  const local = u32[pi + PAGE_LOCAL_FREE]!;
  if (local !== head) {
    // Walk the taken list; if its tail was already linked to `local`, we pass through it.
    let tail = head;
    let passed = local === 0;
    let steps = 0;
    const capacity = u32[pi + PAGE_CAPACITY]!;
    for (let next = u32[tail >>> 2]!; next !== 0; next = u32[tail >>> 2]!) {
      if (next === local) passed = true;
      tail = next;
      if (++steps > 2 * capacity) throw new Error("heap corruption: a taken thread-free list does not end");
    }
    if (!passed) u32[tail >>> 2] = local;
    u32[pi + PAGE_LOCAL_FREE] = head;
  }
  u32[t + TLD_INTENT_PAGE] = 0;
}

/**
 * Abandon every heap of `tld` (see the module comment for the precondition): segments with live
 * blocks go to the tld's pool, the rest is freed. The tld and its heap records stay initialised
 * but empty; arena-made tlds become reusable.
 */
export function abandonTld(a: Arena, tld: number): void {
  const t = tld >>> 2;
  let u32 = a.u32;
  if (Atomics.load(u32, t + TLD_XSTATE) !== TLD_STATE_LIVE) return;
  recoverIntent(a, tld);
  const pool = u32[t + TLD_POOL]!;
  const max = a.maxSegments;
  for (let index = 1; index < max; index++) {
    if (Atomics.load(u32, segmentTableIndex(index)) !== tld) continue;
    let count = 1;
    while (index + count < max && Atomics.load(u32, segmentTableIndex(index + count)) === SEGSTATE_HUGE_CONT) count++;
    ensureBuffer(a, (index + count) * SEGMENT_SIZE);
    u32 = a.u32;
    const segment = index * SEGMENT_SIZE;
    const s = segment >>> 2;
    if (u32[s + SEG_TLD] !== tld) {
      // Claimed but never set up: the owner died inside segmentAlloc.
      for (let i = count - 1; i >= 1; i--) Atomics.store(u32, segmentTableIndex(index + i), SEGSTATE_FREE);
      Atomics.store(u32, segmentTableIndex(index), SEGSTATE_FREE);
      continue;
    }
    segmentForEachPage(a, segment, (page) => {
      const pi = page >>> 2;
      // Take the remote frees and recount `used` from the lists (the owner may have died between two stores).
      const tfHead = Atomics.exchange(u32, pi + PAGE_XTHREAD_FREE, 0) & THREAD_FREE_PTR_MASK;
      if (tfHead !== 0) {
        let tail = tfHead >>> 0;
        for (let next = u32[tail >>> 2]!; next !== 0; next = u32[tail >>> 2]!) tail = next;
        u32[tail >>> 2] = u32[pi + PAGE_LOCAL_FREE]!;
        u32[pi + PAGE_LOCAL_FREE] = tfHead >>> 0;
      }
      const capacity = u32[pi + PAGE_CAPACITY]!;
      const free = listLength(u32, u32[pi + PAGE_FREE]!, capacity) + listLength(u32, u32[pi + PAGE_LOCAL_FREE]!, capacity);
      const used = capacity - free;
      u32[pi + PAGE_USED] = used;
      u32[pi + PAGE_NEXT] = 0;
      u32[pi + PAGE_PREV] = 0;
      u32[pi + PAGE_RETIRE_EXPIRE] = 0;
      u32[pi + PAGE_FLAGS]! &= ~(PAGE_FLAG_IN_FULL_MASK | PAGE_FLAG_OWNER_MASK); // no owner hint
      Atomics.store(u32, pi + PAGE_XHEAP, 0);
      if (used === 0) segmentsPageFree(a, page, true);
    });
    if (u32[s + SEG_USED_PAGES] === 0) {
      segmentFree(a, segment);
      continue;
    }
    u32[s + SEG_TLD] = 0;
    u32[s + SEG_NEXT] = 0;
    u32[s + SEG_POOL] = pool;
    Atomics.store(u32, s + SEG_XTHREAD_ID, 0);
    Atomics.add(u32, (pool >>> 2) + POOL_XCOUNT, 1);
    Atomics.store(u32, segmentTableIndex(index), SEGSTATE_ABANDONED);
  }
  u32[t + TLD_SEGMENTS] = 0;
  for (let heap = u32[t + TLD_HEAPS]!; heap !== 0; heap = u32[(heap >>> 2) + HEAP_NEXT]!) heapReset(a, heap);
  Atomics.store(u32, t + TLD_XSTATE, TLD_STATE_ABANDONED);
}

/** Empty a heap record's queues and direct table (its pages have gone to the pool). */
function heapReset(a: Arena, heap: number): void {
  const u32 = a.u32;
  const h = heap >>> 2;
  u32.fill(EMPTY_PAGE, h + HEAP_DIRECT, h + HEAP_DIRECT + SMALL_WSIZE_MAX + 1);
  u32.fill(0, h + HEAP_QUEUES, h + HEAP_QUEUES + BIN_COUNT * QUEUE_WORDS);
  u32[h + HEAP_PAGE_COUNT] = 0;
  u32[h + HEAP_RETIRED_MIN] = 0;
  u32[h + HEAP_RETIRED_MAX] = 0;
}

/**
 * Abandon every arena-made tld of thread `threadId` (a worker that exited or was terminated), and
 * release the record lock if that thread held it. Their heap records are freed and the tld records
 * become reusable. Tlds embedded in caller records (thread states) are the caller's to abandon.
 */
export function abandonThread(a: Arena, threadId: number): number {
  const u32 = a.u32;
  let abandoned = 0;
  Atomics.compareExchange(a.i32, AH_XRECORD_LOCK, threadId, 0);
  for (let tld = Atomics.load(u32, AH_XALL_TLDS); tld !== 0; tld = u32[(tld >>> 2) + TLD_ALL_NEXT]!) {
    const t = tld >>> 2;
    if (u32[t + TLD_THREAD_ID] !== threadId || (u32[t + TLD_FLAGS]! & TLD_FLAG_EMBEDDED_MASK) !== 0) continue;
    if (Atomics.load(u32, t + TLD_XSTATE) !== TLD_STATE_LIVE) continue;
    abandonTld(a, tld);
    releaseTldRecords(a, tld);
    abandoned++;
  }
  return abandoned;
}

/** Free the heap records of an abandoned arena-made tld and make the tld record reusable. */
export function releaseTldRecords(a: Arena, tld: number): void {
  const u32 = a.u32;
  const t = tld >>> 2;
  let heap = u32[t + TLD_HEAPS]!;
  while (heap !== 0) {
    const next = u32[(heap >>> 2) + HEAP_NEXT]!;
    a.recordFreeKind(heap, RECORD_KIND_HEAP);
    heap = next;
  }
  u32[t + TLD_HEAPS] = 0;
  u32[t + TLD_THREAD_ID] = 0;
  Atomics.store(u32, t + TLD_XSTATE, TLD_STATE_FREE);
}

/**
 * Why the calling thread of `a` must not use the heap record `heap` (which it once initialised or
 * attached), or "" when it may: its tld is live and this thread's, or, with `allowShared`, a live
 * shared tld. Every word is checked before it is used as an offset (the record may hold anything
 * now). Not the fast path: `mallocGeneric`, the heap-wide operations and the checker call it.
 */
export function heapStaleReason(a: Arena, heap: number, allowShared: boolean): string {
  const u32 = a.u32;
  const h = heap >>> 2;
  const tld = u32[h + HEAP_TLD]!;
  if (tld % 4 !== 0 || tld < RECORD_AREA_START || tld + TLD_RECORD_SIZE > SEGMENT_SIZE) {
    return `heap ${heap}: its tld word holds ${tld}, not a tld record; the handle is stale (its record was freed and reused)`;
  }
  const t = tld >>> 2;
  if (Atomics.load(u32, t + TLD_XSTATE) !== TLD_STATE_LIVE) {
    return `heap ${heap}: its tld was abandoned (tld ${tld}); the handle is stale`;
  }
  const owner = u32[t + TLD_THREAD_ID]!;
  const shared = (u32[t + TLD_FLAGS]! & TLD_FLAG_SHARED_MASK) !== 0;
  if (owner !== a.threadId && !(shared && allowShared)) {
    return (
      `heap ${heap}: its tld ${tld} belongs to ${shared ? "shared owner" : "thread"} ${owner}, not to this thread ` +
      `(${a.threadId}); the handle is stale (the tld was abandoned by another thread and its records reused)`
    );
  }
  if (u32[h + HEAP_THREAD_ID] !== owner) {
    return `heap ${heap}: its record no longer holds a heap of tld ${tld}; the handle is stale (its record was freed and reused)`;
  }
  return "";
}

/** Whether `heap` is on `tld`'s heap list (bounded: a list longer than the record area is corrupt). */
export function tldListsHeap(a: Arena, tld: number, heap: number): boolean {
  const u32 = a.u32;
  let steps = 0;
  for (let x = u32[(tld >>> 2) + TLD_HEAPS]!; x !== 0 && steps < SEGMENT_SIZE >>> 6; x = u32[(x >>> 2) + HEAP_NEXT]!, steps++) {
    if (x === heap) return true;
  }
  return false;
}

/** Segments examined per reclaim attempt. */
const RECLAIM_TRIES = 8;

/**
 * Reclaim abandoned segments of `tld`'s pool into `tld`'s heaps (by tag). Returns the number of
 * segments reclaimed.
 */
export function tryReclaim(a: Arena, tld: number, all = false): number {
  let u32 = a.u32;
  const t = tld >>> 2;
  const pool = u32[t + TLD_POOL]!;
  const threadId = u32[t + TLD_THREAD_ID]!;
  const max = a.maxSegments;
  let reclaimed = 0;
  let tries = 0;
  for (let index = 1; index < max && (all || tries < RECLAIM_TRIES); index++) {
    if (Atomics.load(u32, segmentTableIndex(index)) !== SEGSTATE_ABANDONED) continue;
    ensureBuffer(a, (index + 1) * SEGMENT_SIZE);
    u32 = a.u32;
    const segment = index * SEGMENT_SIZE;
    const s = segment >>> 2;
    if (u32[s + SEG_POOL] !== pool) continue; // another pool's: never reclaimed through this one
    if (Atomics.compareExchange(u32, segmentTableIndex(index), SEGSTATE_ABANDONED, tld) !== SEGSTATE_ABANDONED) continue;
    u32[s + SEG_TLD] = tld; // straight after the claim: an abandoner of `tld` sees a set-up segment
    tries++;
    if (u32[s + SEG_POOL] !== pool || !hasHeapsForTags(a, tld, segment)) {
      u32[s + SEG_TLD] = 0;
      Atomics.store(u32, segmentTableIndex(index), SEGSTATE_ABANDONED);
      continue;
    }
    Atomics.sub(u32, (pool >>> 2) + POOL_XCOUNT, 1);
    u32[s + SEG_POOL] = 0;
    u32[s + SEG_NEXT] = u32[t + TLD_SEGMENTS]!;
    u32[t + TLD_SEGMENTS] = segment;
    Atomics.store(u32, s + SEG_XTHREAD_ID, threadId);
    const count = u32[s + SEG_SEGMENT_COUNT]!;
    segmentForEachPage(a, segment, (page) => {
      const pi = page >>> 2;
      const flags = u32[pi + PAGE_FLAGS]!;
      const tag = (flags & PAGE_FLAG_TAG_MASK) >>> PAGE_FLAG_TAG_SHIFT;
      const heap = u32[t + TLD_HEAP_BY_TAG + tag]!;
      u32[pi + PAGE_FLAGS] = (flags & ~PAGE_FLAG_OWNER_MASK) | pageOwnerHint(threadId);
      Atomics.store(u32, pi + PAGE_XHEAP, heap);
      pageFreeCollect(a, page);
      if (u32[pi + PAGE_USED] === 0) {
        segmentsPageFree(a, page, true);
        return;
      }
      pageQueuePush(a, heap, u32[pi + PAGE_BIN]!, page);
    });
    if (u32[s + SEG_USED_PAGES] === 0) segmentFree(a, segment);
    void count;
    reclaimed++;
  }
  return reclaimed;
}

function hasHeapsForTags(a: Arena, tld: number, segment: number): boolean {
  const u32 = a.u32;
  let ok = true;
  segmentForEachPage(a, segment, (page) => {
    const tag = (u32[(page >>> 2) + PAGE_FLAGS]! & PAGE_FLAG_TAG_MASK) >>> PAGE_FLAG_TAG_SHIFT;
    if (u32[(tld >>> 2) + TLD_HEAP_BY_TAG + tag] === 0) ok = false;
  });
  return ok;
}

/**
 * Free every segment abandoned into `pool`, live blocks and all (for `poolDestroy`). Each segment
 * is claimed with a CAS first, so a concurrent reclaim (which the precondition rules out) could not
 * take it at the same time.
 */
export function poolFreeSegments(a: Arena, pool: number): number {
  let u32 = a.u32;
  const max = a.maxSegments;
  let freed = 0;
  for (let index = 1; index < max; index++) {
    if (Atomics.load(u32, segmentTableIndex(index)) !== SEGSTATE_ABANDONED) continue;
    ensureBuffer(a, (index + 1) * SEGMENT_SIZE);
    u32 = a.u32;
    const segment = index * SEGMENT_SIZE;
    const s = segment >>> 2;
    if (u32[s + SEG_POOL] !== pool) continue;
    if (Atomics.compareExchange(u32, segmentTableIndex(index), SEGSTATE_ABANDONED, SEGSTATE_CLAIMING) !== SEGSTATE_ABANDONED) continue;
    segmentForEachPage(a, segment, (page) => {
      const pi = page >>> 2;
      Atomics.store(u32, pi + PAGE_XTHREAD_FREE, 0);
      segmentsPageFree(a, page, true);
    });
    Atomics.sub(u32, (pool >>> 2) + POOL_XCOUNT, 1);
    u32[s + SEG_TLD] = 0;
    segmentFree(a, segment);
    freed++;
  }
  return freed;
}
