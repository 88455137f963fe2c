/**
 * Block visiting: mimalloc's `mi_heap_visit_blocks`, CPython's `_mi_abandoned_pool_visit_blocks`,
 * and the collector's walk over every page of one tag (CPython's `gc_visit_heaps_lock_held`: the
 * heaps of all thread states of an interpreter plus its abandoned pool).
 *
 * Each walk calls `visitor.area(area)` once per page and, when blocks are visited,
 * `visitor.block(block, blockSize, area)` once per live block, right after its page's area. Pages
 * come in no particular order (see "pairs" below). A visitor that returns `false` stops the walk,
 * and the walk returns `false`.
 *
 * **Exact liveness.** Before a page is reported, its thread-free list (blocks other threads freed)
 * is collected onto `localFree`, so `used` counts the live blocks exactly and a block is live iff
 * it is on neither `free` nor `localFree`. Owned pages are collected with the owner's
 * `pageThreadFreeCollect` (a CAS: remote frees may still push); pages of abandoned segments with
 * one `Atomics.exchange` (they have no owner; NOTIFY is never set on them).
 *
 * **Preconditions**, one per walk (the names say which):
 * - `visitHeap`: the caller owns the heap, or the heap's owner is stopped (it runs no allocator
 *   code until the walk ends). The walk touches the owner's plain fields (`free`, `localFree`,
 *   `used`, the queues).
 * - `visitAbandonedPool`: no abandon or reclaim of that pool runs meanwhile (CPython calls it with
 *   the world stopped). Other threads may still free blocks of abandoned pages (they only push);
 *   a block freed during the walk may be reported as live.
 * - `visitTagWorldStopped`: both of the above, for every given tld's owner and the pool.
 * In every walk the visitor must not allocate from, or free into, the pages being visited. Debug
 * builds assert what can be seen: page ownership and tags, the page invariant
 * `used + |free| + |localFree| == capacity` after collection, that `used` did not change while a
 * page was visited, and that no segment was abandoned or reclaimed during the walk.
 *
 * **The page walk** (mimalloc Mc:f7fe5bf2, Sam Gross, upstream of python/cpython#114133):
 * ```
 *   used == 0            nothing to visit (the area was reported)
 *   capacity == 1        the one block
 *   used == capacity     every block in order, no free map
 *   otherwise            free map: one bit per block, Uint32 words, reused across pages
 *                        ┌────────────────────────────┐┌──────────────┬───────────────┐
 *                        │ word 0: blocks 0..31       ││ …            │ last: bits ≥  │
 *                        │ 1 = on free or localFree   ││              │ capacity set  │
 *                        └────────────────────────────┘└──────────────┴───────────────┘
 *                        bit index = imul(offset >>> shift, inverse) (layout/block-index.ts);
 *                        per word: 0 → 32 live blocks in order; else ~word, trailing-zero scan
 * ```
 * **Pairs.** Building a free map is a chase down a linked list through the page: one dependent
 * cache miss per free block, which is what a visit of a mixed page waits for. So a page that
 * needs a map waits for the next one, and both maps are built in one loop that follows one list
 * of each page (`pagesFreeMaps2`): two misses in flight instead of one, 1.4–1.8× on mixed pages
 * of a heap larger than L2 (the README's "Visiting blocks" section has the measurements of every case above). The free maps
 * are per thread and per nesting depth (a visitor may start another walk).
 *
 * `plain: true` walks every page the pre-patch way instead (a byte per block, a division per free
 * block, every block tested, no special case): the baseline `ft bench`'s `visit` suite measures
 * the fast walk against. It reports the same blocks.
 */
import type { Arena, Heap } from "./arena.ts";
import {
  DEFAULT_POOL,
  POOL_ID,
  RECORD_AREA_START,
  SEGMENT_TABLE,
  SEGSTATE_ABANDONED,
} from "./layout/arena.ts";
import { blockIndexInverse, blockIndexShift } from "./layout/block-index.ts";
import { SEGMENT_SIZE, SMALL_PAGE_SIZE, TAG_COUNT, WORD_SIZE } from "./layout/constants.ts";
import {
  HEAP_FLAG_DESTROYED_MASK,
  HEAP_FLAGS,
  HEAP_QUEUES,
  HEAP_RECORD_SIZE,
  HEAP_TAG,
  HEAP_TLD,
  QUEUE_FIRST,
  QUEUE_WORDS,
} from "./layout/heap.ts";
import {
  PAGE_BLOCK_SIZE,
  PAGE_CAPACITY,
  PAGE_FLAG_TAG_MASK,
  PAGE_FLAG_TAG_SHIFT,
  PAGE_FLAGS,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_NEXT,
  PAGE_RESERVED,
  PAGE_START,
  PAGE_USED,
  PAGE_XHEAP,
  PAGE_XTHREAD_FREE,
  THREAD_FREE_PTR_MASK,
} from "./layout/page.ts";
import { SEG_POOL, SEG_TLD } from "./layout/segment.ts";
import { BIN_COUNT } from "./layout/size-class.ts";
import { TLD_STATE_ABANDONED, TLD_STATE_FREE, TLD_STATE_LIVE, TLD_XSTATE } from "./layout/tld.ts";
import { assert, HeapCorruptionError, hex } from "./errors.ts";
import { pageThreadFreeCollect } from "./page-queue.ts";
import { segmentForEachPage } from "./segments.ts";

/**
 * One page ("area") as a visitor sees it. The walk reuses one object for all its pages: read the
 * fields during the call, copy them to keep them.
 */
export interface HeapArea {
  /** The page record (an offset in the arena header of the page's segment). */
  page: number;
  /** Offset of block 0; block `i` starts at `start + i · blockSize`. */
  start: number;
  /** Bytes per block. */
  blockSize: number;
  /** Blocks that fit in the page. */
  reserved: number;
  /** Blocks handed out at least once so far (≤ reserved); the rest were never used. */
  capacity: number;
  /** Live blocks, exact (frees by other threads collected). */
  used: number;
  /** The page's heap tag (0–15). */
  tag: number;
}

/**
 * What a walk calls. Both are called as methods of the visitor object. Returning `false` stops
 * the walk; any other value (or none) continues it.
 */
export interface HeapVisitor {
  /** Once per page, right before its blocks (also for pages with no live block). */
  area?(area: HeapArea): unknown;
  /** Once per live block: its offset and size, and its page. */
  block?(block: number, blockSize: number, area: HeapArea): unknown;
}

/** Options of the visiting functions. */
export interface VisitOptions {
  /**
   * Visit live blocks too, not only areas.
   * @defaultValue whether the visitor has a `block` method
   */
  blocks?: boolean;
  /**
   * Walk pages the plain pre-patch way (a byte per block, a division per free block, no special
   * cases): the benchmarks' baseline. Reports the same blocks, slower.
   * @defaultValue false
   */
  plain?: boolean;
}

/** Tag argument meaning "every tag" (CPython passes -1). */
export const VISIT_ALL_TAGS = -1;

/** Most blocks a page with more than one block can hold: a small page of 8-byte blocks. */
export const VISIT_MAX_BLOCKS = SMALL_PAGE_SIZE / WORD_SIZE; // 8192
const FREE_MAP_WORDS = VISIT_MAX_BLOCKS / 32; // 256

/**
 * Which page-walk path ran, counted in debug builds only (tests check that each special case is
 * hit on purpose). Indexes: the `PATH_*` constants.
 */
export const visitPathCounts = new Float64Array(6);
export const PATH_EMPTY = 0;
export const PATH_SINGLE = 1;
export const PATH_FULL = 2;
export const PATH_FREE_MAP = 3;
export const PATH_FREE_MAP_PAIR = 4;
export const PATH_PLAIN = 5;

// ---------------------------------------------------------------------------- walks

/**
 * Visit every page of `heap` (all queues, the full queue included), and its live blocks.
 * Precondition: the caller owns the heap, or the heap's owner is stopped. Returns `false` if a
 * visitor stopped the walk.
 */
export function visitHeap(
  a: Arena,
  heap: Heap | number,
  visitor: HeapVisitor,
  options?: VisitOptions,
): boolean {
  const record = heapArg(a, heap);
  const blocks = blocksArg("visitHeap", visitor, options);
  const plain = options?.plain === true;
  a.refreshViews(); // the heap's owner may be another thread that grew the buffer
  const u32 = a.u32;
  const h = record >>> 2;
  if ((u32[h + HEAP_FLAGS]! & HEAP_FLAG_DESTROYED_MASK) !== 0) {
    throw new Error(`visitHeap: heap ${hex(record)} was destroyed or deleted`);
  }
  const tag = u32[h + HEAP_TAG]!;
  const walk = walkBegin(visitor, blocks, plain);
  try {
    for (let bin = 0; bin < BIN_COUNT; bin++) {
      let page = u32[h + HEAP_QUEUES + bin * QUEUE_WORDS + QUEUE_FIRST]!;
      while (page !== 0) {
        const pi = page >>> 2;
        const next = u32[pi + PAGE_NEXT]!;
        if (__DEBUG__)
          assert(u32[pi + PAGE_XHEAP] === record, "a page in a heap's queue belongs to that heap");
        if (__DEBUG__) assert(pageTag(u32, pi) === tag, "a heap's pages carry its tag");
        if (!visitPage(a, u32, page, false, walk)) return false;
        page = next;
      }
    }
    return walkFlush(a, walk);
  } finally {
    walkEnd(walk);
  }
}

/**
 * CPython's `_mi_abandoned_pool_visit_blocks`: visit every page with `tag` (`-1`: every tag) in
 * the abandoned segments of `pool`, and its live blocks. Precondition: no abandon or reclaim of
 * the pool runs meanwhile (the world is stopped). Returns `false` if a visitor stopped the walk.
 */
export function visitAbandonedPool(
  a: Arena,
  pool: number,
  tag: number,
  visitor: HeapVisitor,
  options?: VisitOptions,
): boolean {
  arenaArg("visitAbandonedPool", a);
  poolArg("visitAbandonedPool", a, pool, false);
  tagArg("visitAbandonedPool", tag);
  const blocks = blocksArg("visitAbandonedPool", visitor, options);
  return visitSegments(a, null, pool, tag, visitor, blocks, options?.plain === true);
}

/**
 * The collector's walk: every page with `tag` (`-1`: every tag) of the segments owned by the
 * given tlds (all their heaps), plus the abandoned segments of `pool` (0: none), and their live
 * blocks. Precondition: the world is stopped — every tld's owner runs no allocator code and no
 * abandon or reclaim of the pool runs. Returns `false` if a visitor stopped the walk.
 */
export function visitTagWorldStopped(
  a: Arena,
  tag: number,
  tlds: readonly number[],
  pool: number,
  visitor: HeapVisitor,
  options?: VisitOptions,
): boolean {
  arenaArg("visitTagWorldStopped", a);
  tagArg("visitTagWorldStopped", tag);
  if (!Array.isArray(tlds)) throw new TypeError("visitTagWorldStopped: tlds must be an array of tld records");
  for (const tld of tlds) {
    if (!isTld(a, tld)) throw new RangeError(`visitTagWorldStopped: ${String(tld)} is not a tld record`);
  }
  poolArg("visitTagWorldStopped", a, pool, true);
  const blocks = blocksArg("visitTagWorldStopped", visitor, options);
  return visitSegments(a, tlds, pool, tag, visitor, blocks, options?.plain === true);
}

/** Walk the segment table: segments owned by one of `tlds` (if given) and abandoned ones of `pool` (if nonzero). */
function visitSegments(
  a: Arena,
  tlds: readonly number[] | null,
  pool: number,
  tag: number,
  visitor: HeapVisitor,
  blocks: boolean,
  plain: boolean,
): boolean {
  a.refreshViews(); // segments other threads claimed may lie past this thread's views
  const max = a.maxSegments;
  const walk = walkBegin(visitor, blocks, plain);
  try {
    for (let index = 1; index < max; index++) {
      const state = Atomics.load(a.u32, (SEGMENT_TABLE >>> 2) + index);
      const abandoned = state === SEGSTATE_ABANDONED;
      if (!abandoned && (tlds === null || state < RECORD_AREA_START || !tlds.includes(state))) continue;
      const segment = index * SEGMENT_SIZE;
      a.ensureView(segment + SEGMENT_SIZE);
      const u32 = a.u32;
      const s = segment >>> 2;
      if (abandoned ? pool === 0 || u32[s + SEG_POOL] !== pool : u32[s + SEG_TLD] !== state) continue; // another pool's, or a segment being set up
      let completed = true;
      segmentForEachPage(a, segment, (page) => {
        if (!completed) return;
        const pi = page >>> 2;
        if (__DEBUG__)
          assert(
            abandoned === (Atomics.load(u32, pi + PAGE_XHEAP) === 0),
            "pages of abandoned segments, and only those, have no heap",
          );
        if (tag !== VISIT_ALL_TAGS && pageTag(u32, pi) !== tag) return;
        completed = visitPage(a, u32, page, abandoned, walk);
      });
      if (__DEBUG__) {
        const now = Atomics.load(u32, (SEGMENT_TABLE >>> 2) + index);
        assert(now === state, "no abandon or reclaim ran on a segment while it was visited");
        if (abandoned)
          assert(u32[s + SEG_POOL] === pool, "an abandoned segment stays in its pool while it is visited");
      }
      if (!completed) return false;
    }
    return walkFlush(a, walk);
  } finally {
    walkEnd(walk);
  }
}

// ---------------------------------------------------------------------------- one page

/**
 * Per-walk state: the visitor and options, the area object handed to visitors, this nesting
 * depth's two free maps, and the page (if any) whose blocks wait for a partner (see `visitPage`).
 */
interface Walk {
  visitor: HeapVisitor;
  blocks: boolean;
  plain: boolean;
  area: HeapArea;
  map0: Uint32Array;
  map1: Uint32Array;
  bytes: Uint8Array | null;
  pending: number;
}

const walks: Walk[] = [];
let depth = 0;

function walkBegin(visitor: HeapVisitor, blocks: boolean, plain: boolean): Walk {
  let walk = walks[depth];
  if (walk === undefined) {
    walk = {
      visitor,
      blocks,
      plain,
      area: { page: 0, start: 0, blockSize: 0, reserved: 0, capacity: 0, used: 0, tag: 0 },
      map0: new Uint32Array(FREE_MAP_WORDS),
      map1: new Uint32Array(FREE_MAP_WORDS),
      bytes: null,
      pending: 0,
    };
    walks[depth] = walk;
  }
  walk.visitor = visitor;
  walk.blocks = blocks;
  walk.plain = plain;
  walk.pending = 0;
  depth++;
  return walk;
}

function walkEnd(walk: Walk): void {
  walk.visitor = NO_VISITOR; // do not keep the caller's visitor alive
  depth--;
}

const NO_VISITOR: HeapVisitor = {};

function pageTag(u32: Uint32Array, pi: number): number {
  return (u32[pi + PAGE_FLAGS]! & PAGE_FLAG_TAG_MASK) >>> PAGE_FLAG_TAG_SHIFT;
}

/**
 * Visit one page of a walk: collect its remote frees, then report the area and its live blocks.
 * A page that needs a free map waits for the next such page, and the two maps are built together
 * (`pagesFreeMaps2`): chasing two pages' free lists in one loop keeps two cache misses in flight
 * instead of one. So pages are not reported in walk order; each page's area still comes right
 * before its blocks.
 */
function visitPage(a: Arena, u32: Uint32Array, page: number, abandoned: boolean, walk: Walk): boolean {
  const pi = page >>> 2;
  if ((Atomics.load(u32, pi + PAGE_XTHREAD_FREE) & THREAD_FREE_PTR_MASK) !== 0) {
    if (abandoned) abandonedPageThreadFreeCollect(u32, page);
    else pageThreadFreeCollect(a, page);
  }
  if (!walk.blocks) return reportArea(u32, page, walk);
  if (walk.plain) {
    return (
      reportArea(u32, page, walk) &&
      pageVisitBlocksPlain(
        u32,
        pi,
        walk.area,
        walk.visitor,
        (walk.bytes ??= new Uint8Array(VISIT_MAX_BLOCKS)),
      ) &&
      pageUnchanged(u32, pi, walk.area)
    );
  }
  const used = u32[pi + PAGE_USED]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  if (used === 0 || capacity === 1 || used === capacity) {
    return (
      reportArea(u32, page, walk) &&
      pageVisitBlocks(u32, pi, walk.area, walk.visitor, walk.map0) &&
      pageUnchanged(u32, pi, walk.area)
    );
  }
  const pending = walk.pending;
  if (pending === 0) {
    walk.pending = page;
    return true;
  }
  walk.pending = 0;
  const pj = pending >>> 2;
  pagesFreeMaps2(u32, pj, walk.map0, pi, walk.map1);
  if (__DEBUG__) visitPathCounts[PATH_FREE_MAP_PAIR]! += 2;
  return (
    reportArea(u32, pending, walk) &&
    freeMapScan(u32, pj, walk.area, walk.visitor, walk.map0) &&
    pageUnchanged(u32, pj, walk.area) &&
    reportArea(u32, page, walk) &&
    freeMapScan(u32, pi, walk.area, walk.visitor, walk.map1) &&
    pageUnchanged(u32, pi, walk.area)
  );
}

/** End of a walk: the page still waiting for a partner is visited alone. */
function walkFlush(a: Arena, walk: Walk): boolean {
  const page = walk.pending;
  if (page === 0) return true;
  walk.pending = 0;
  const u32 = a.u32;
  const pi = page >>> 2;
  return (
    reportArea(u32, page, walk) &&
    pageVisitBlocks(u32, pi, walk.area, walk.visitor, walk.map0) &&
    pageUnchanged(u32, pi, walk.area)
  );
}

/** Fill the walk's area from the page record and call the area visitor; false if it stops the walk. */
function reportArea(u32: Uint32Array, page: number, walk: Walk): boolean {
  const pi = page >>> 2;
  const area = walk.area;
  area.page = page;
  area.start = u32[pi + PAGE_START]!;
  area.blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  area.reserved = u32[pi + PAGE_RESERVED]!;
  area.capacity = u32[pi + PAGE_CAPACITY]!;
  area.used = u32[pi + PAGE_USED]!;
  area.tag = pageTag(u32, pi);
  return walk.visitor.area === undefined || walk.visitor.area(area) !== false;
}

/** Debug builds: nobody allocated from or freed locally into the page while its blocks were visited. */
function pageUnchanged(u32: Uint32Array, pi: number, area: HeapArea): boolean {
  if (__DEBUG__) {
    assert(
      u32[pi + PAGE_USED] === area.used && u32[pi + PAGE_CAPACITY] === area.capacity,
      "no thread allocated from or freed locally into a page while it was visited (its owner is stopped or is the caller)",
    );
  }
  return true;
}

/**
 * Take an abandoned page's thread-free list with one exchange (other threads may still push onto
 * it) and put it in front of `localFree`. The page has no owner; the precondition of the walk
 * (no reclaim meanwhile) makes the caller its only writer.
 */
function abandonedPageThreadFreeCollect(u32: Uint32Array, page: number): void {
  const pi = page >>> 2;
  const list = (Atomics.exchange(u32, pi + PAGE_XTHREAD_FREE, 0) & THREAD_FREE_PTR_MASK) >>> 0;
  if (list === 0) return;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  let tail = list;
  let count = 1;
  for (let next = u32[tail >>> 2]!; next !== 0; next = u32[tail >>> 2]!) {
    tail = next;
    if (++count > capacity)
      throw new HeapCorruptionError([`page ${hex(page)}: its thread-free list is longer than its capacity`]);
  }
  u32[tail >>> 2] = u32[pi + PAGE_LOCAL_FREE]!;
  u32[pi + PAGE_LOCAL_FREE] = list;
  u32[pi + PAGE_USED] -= count;
}

/**
 * The fast walk of one page (see the module comment): the special cases, else a free map.
 * Returns `false` if the block visitor stopped it.
 */
export function pageVisitBlocks(
  u32: Uint32Array,
  pi: number,
  area: HeapArea,
  visitor: HeapVisitor,
  map: Uint32Array,
): boolean {
  const used = u32[pi + PAGE_USED]!;
  if (used === 0) {
    if (__DEBUG__) visitPathCounts[PATH_EMPTY]!++;
    return true;
  }
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  if (capacity === 1) {
    if (__DEBUG__) visitPathCounts[PATH_SINGLE]!++;
    return visitor.block!(start, blockSize, area) !== false;
  }
  if (used === capacity) {
    if (__DEBUG__) visitPathCounts[PATH_FULL]!++;
    if (__DEBUG__)
      assert(
        u32[pi + PAGE_FREE] === 0 && u32[pi + PAGE_LOCAL_FREE] === 0,
        "a full page has empty free lists",
      );
    // `block < end` (not a count): V8 compiles this form ~1.2× faster.
    for (let block = start, end = start + capacity * blockSize; block < end; block += blockSize) {
      if (visitor.block!(block, blockSize, area) === false) return false;
    }
    return true;
  }
  if (__DEBUG__) visitPathCounts[PATH_FREE_MAP]!++;
  pageFreeMap(u32, pi, map);
  return freeMapScan(u32, pi, area, visitor, map);
}

/** Clear the first `ceil(capacity / 32)` words of `map` and set the bits at and above `capacity` in the last. */
function freeMapClear(capacity: number, map: Uint32Array): void {
  if (__DEBUG__)
    assert(capacity <= VISIT_MAX_BLOCKS, "a page with more than one block has at most VISIT_MAX_BLOCKS");
  const words = (capacity + 31) >>> 5;
  map.fill(0, 0, words);
  if ((capacity & 31) !== 0) map[words - 1] = -1 << (capacity & 31);
}

/** Set the bit of every block of the list at `block` in `map`; returns `count` plus the blocks marked. */
function freeMapMark(u32: Uint32Array, pi: number, block: number, map: Uint32Array, count: number): number {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  const shift = blockIndexShift(blockSize);
  const inverse = blockIndexInverse(blockSize);
  for (; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.imul((block - start) >>> shift, inverse);
    if (__DEBUG__)
      assert(
        i >= 0 && i < capacity && start + i * blockSize === block,
        "free-list blocks are block starts below capacity",
      );
    map[i >>> 5]! |= 1 << i;
    if (++count > capacity) throw freeListTooLong(pi);
  }
  return count;
}

/** The free map of one page: bit i set = block i is on `free` or `localFree`, or i ≥ capacity. */
function pageFreeMap(u32: Uint32Array, pi: number, map: Uint32Array): void {
  freeMapClear(u32[pi + PAGE_CAPACITY]!, map);
  const free = freeMapMark(
    u32,
    pi,
    u32[pi + PAGE_LOCAL_FREE]!,
    map,
    freeMapMark(u32, pi, u32[pi + PAGE_FREE]!, map, 0),
  );
  if (__DEBUG__)
    assert(
      u32[pi + PAGE_USED]! + free === u32[pi + PAGE_CAPACITY],
      "used + |free| + |localFree| == capacity once remote frees are collected",
    );
}

/**
 * The free maps of two pages at once: one loop chases a list of each page, so two independent
 * cache misses are in flight (the chase is what a visit of a mixed page waits for); when one
 * page's lists are done the other's rest is marked alone.
 */
function pagesFreeMaps2(
  u32: Uint32Array,
  piA: number,
  mapA: Uint32Array,
  piB: number,
  mapB: Uint32Array,
): void {
  const startA = u32[piA + PAGE_START]!;
  const sizeA = u32[piA + PAGE_BLOCK_SIZE]!;
  const capacityA = u32[piA + PAGE_CAPACITY]!;
  const shiftA = blockIndexShift(sizeA);
  const inverseA = blockIndexInverse(sizeA);
  const startB = u32[piB + PAGE_START]!;
  const sizeB = u32[piB + PAGE_BLOCK_SIZE]!;
  const capacityB = u32[piB + PAGE_CAPACITY]!;
  const shiftB = blockIndexShift(sizeB);
  const inverseB = blockIndexInverse(sizeB);
  freeMapClear(capacityA, mapA);
  freeMapClear(capacityB, mapB);
  let a = u32[piA + PAGE_FREE]!;
  let restA = u32[piA + PAGE_LOCAL_FREE]!;
  let b = u32[piB + PAGE_FREE]!;
  let restB = u32[piB + PAGE_LOCAL_FREE]!;
  // Both lanes move together, so one count bounds them (a cycle in a list would never end).
  const bound = Math.min(capacityA, capacityB);
  let pairs = 0;
  for (;;) {
    while (a !== 0 && b !== 0) {
      const i = Math.imul((a - startA) >>> shiftA, inverseA);
      const j = Math.imul((b - startB) >>> shiftB, inverseB);
      if (__DEBUG__)
        assert(
          i >= 0 && i < capacityA && startA + i * sizeA === a,
          "free-list blocks are block starts below capacity",
        );
      if (__DEBUG__)
        assert(
          j >= 0 && j < capacityB && startB + j * sizeB === b,
          "free-list blocks are block starts below capacity",
        );
      mapA[i >>> 5]! |= 1 << i;
      mapB[j >>> 5]! |= 1 << j;
      a = u32[a >>> 2]!;
      b = u32[b >>> 2]!;
      if (++pairs > bound) throw freeListTooLong(capacityA < capacityB ? piA : piB);
    }
    if (a === 0) {
      if (restA === 0) break;
      a = restA;
      restA = 0;
    }
    if (b === 0) {
      if (restB === 0) break;
      b = restB;
      restB = 0;
    }
  }
  const countA = freeMapMark(u32, piA, restA, mapA, freeMapMark(u32, piA, a, mapA, pairs));
  const countB = freeMapMark(u32, piB, restB, mapB, freeMapMark(u32, piB, b, mapB, pairs));
  if (__DEBUG__)
    assert(
      u32[piA + PAGE_USED]! + countA === capacityA,
      "used + |free| + |localFree| == capacity once remote frees are collected",
    );
  if (__DEBUG__)
    assert(
      u32[piB + PAGE_USED]! + countB === capacityB,
      "used + |free| + |localFree| == capacity once remote frees are collected",
    );
}

/**
 * Visit the blocks whose bit is clear in the page's free map. A clear word is 32 live blocks in a
 * row; otherwise the live bits of the word are found by trailing-zero count.
 */
function freeMapScan(
  u32: Uint32Array,
  pi: number,
  area: HeapArea,
  visitor: HeapVisitor,
  map: Uint32Array,
): boolean {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const words = (u32[pi + PAGE_CAPACITY]! + 31) >>> 5;
  for (let w = 0, block = start; w < words; w++, block += blockSize * 32) {
    const word = map[w]!;
    if (word === 0) {
      for (let i = 0, b = block; i < 32; i++, b += blockSize) {
        if (visitor.block!(b, blockSize, area) === false) return false;
      }
    } else if (word !== 0xffffffff) {
      let live = ~word;
      do {
        const i = 31 - Math.clz32(live & -live);
        if (visitor.block!(block + i * blockSize, blockSize, area) === false) return false;
        live &= live - 1;
      } while (live !== 0);
    }
  }
  return true;
}

/**
 * The plain page walk (mimalloc before Mc:f7fe5bf2, simplified): a byte per block, a division per
 * free block, every block tested, no special case. The benchmarks' baseline; reports the same blocks.
 */
export function pageVisitBlocksPlain(
  u32: Uint32Array,
  pi: number,
  area: HeapArea,
  visitor: HeapVisitor,
  bytes: Uint8Array,
): boolean {
  if (__DEBUG__) visitPathCounts[PATH_PLAIN]!++;
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  bytes.fill(0, 0, capacity);
  let free = 0;
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    bytes[Math.floor((block - start) / blockSize)] = 1;
    if (++free > capacity) throw freeListTooLong(pi);
  }
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    bytes[Math.floor((block - start) / blockSize)] = 1;
    if (++free > capacity) throw freeListTooLong(pi);
  }
  for (let i = 0; i < capacity; i++) {
    if (bytes[i] === 0 && visitor.block!(start + i * blockSize, blockSize, area) === false) return false;
  }
  return true;
}

function freeListTooLong(pi: number): HeapCorruptionError {
  return new HeapCorruptionError([`page ${hex(pi << 2)}: its free lists hold more blocks than its capacity`]);
}

// ---------------------------------------------------------------------------- arguments

function isRecordOffset(x: unknown): x is number {
  return (
    typeof x === "number" && Number.isInteger(x) && x >= RECORD_AREA_START && x < SEGMENT_SIZE && x % 4 === 0
  );
}

/** Throws unless `a` is an arena handle (the walks read its views). */
function arenaArg(fn: string, a: unknown): asserts a is Arena {
  if (typeof a !== "object" || a === null || !((a as Partial<Arena>).u32 instanceof Uint32Array)) {
    throw new TypeError(`${fn}: arena must be an Arena, got ${a === null ? "null" : typeof a}`);
  }
}

function heapArg(a: Arena, heap: Heap | number): number {
  arenaArg("visitHeap", a);
  const record =
    typeof heap === "object" && heap !== null && typeof (heap as Heap).record === "number" ? (heap as Heap).record : heap;
  if (!isRecordOffset(record) || record + HEAP_RECORD_SIZE > SEGMENT_SIZE) {
    throw new RangeError(
      `visitHeap: heap ${typeof record === "string" ? JSON.stringify(record) : String(record)} is not a heap record`,
    );
  }
  const u32 = a.u32;
  const h = record >>> 2;
  if (u32[h + HEAP_TAG]! >= TAG_COUNT || !isTld(a, u32[h + HEAP_TLD]!)) {
    throw new RangeError(`visitHeap: heap ${hex(record)} is not a heap record`);
  }
  return record;
}

function isTld(a: Arena, tld: unknown): tld is number {
  if (!isRecordOffset(tld)) return false;
  const state = Atomics.load(a.u32, (tld >>> 2) + TLD_XSTATE);
  return state === TLD_STATE_LIVE || state === TLD_STATE_ABANDONED || state === TLD_STATE_FREE;
}

function tagArg(fn: string, tag: unknown): void {
  if (typeof tag !== "number" || !Number.isInteger(tag) || tag < VISIT_ALL_TAGS || tag >= TAG_COUNT) {
    throw new RangeError(`${fn}: tag must be an integer 0–15, or -1 for every tag, got ${String(tag)}`);
  }
}

function poolArg(fn: string, a: Arena, pool: unknown, zeroAllowed: boolean): void {
  if ((zeroAllowed && pool === 0) || pool === DEFAULT_POOL) return;
  if (!isRecordOffset(pool) || pool % 64 !== 0 || a.u32[(pool >>> 2) + POOL_ID] === 0) {
    throw new RangeError(
      `${fn}: ${String(pool)} is not a pool record (arena.defaultPool or one from arena.poolNew())`,
    );
  }
}

function blocksArg(fn: string, visitor: HeapVisitor, options: VisitOptions | undefined): boolean {
  if (typeof visitor !== "object" || visitor === null)
    throw new TypeError(`${fn}: visitor must be an object with area and/or block methods`);
  if (visitor.area !== undefined && typeof visitor.area !== "function")
    throw new TypeError(`${fn}: visitor.area must be a function`);
  if (visitor.block !== undefined && typeof visitor.block !== "function")
    throw new TypeError(`${fn}: visitor.block must be a function`);
  const blocks = options?.blocks ?? visitor.block !== undefined;
  if (blocks && visitor.block === undefined)
    throw new TypeError(`${fn}: options.blocks is true but the visitor has no block method`);
  return blocks;
}
