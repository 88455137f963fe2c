/**
 * The arena checker (mimalloc's `mi_page_is_valid_init` and `mi_heap_is_valid`, arena-wide) and
 * statistics. The checker walks the segment table, every segment in use and every page, and
 * reports each inconsistency it finds. It reads other threads' pages, so run it when no thread is
 * allocating (tests run it after their operations; a stopped world is enough).
 */
import type { Arena } from "./arena.ts";
import {
  AH_MAX_SEGMENTS,
  AH_XPAGE_BYTES,
  AH_XPEAK_PAGE_BYTES,
  AH_XSEGMENTS_IN_USE,
  SEGSTATE_ABANDONED,
  SEGSTATE_CLAIMING,
  SEGSTATE_FREE,
  SEGSTATE_HEADER,
  SEGSTATE_HUGE_CONT,
} from "./layout/arena.ts";
import { MEDIUM_OBJ_SIZE_MAX, SEGMENT_SIZE, SLICE_SIZE, SMALL_OBJ_SIZE_MAX, SMALL_WSIZE_MAX } from "./layout/constants.ts";
import { HEAP_DIRECT, HEAP_QUEUES, HEAP_TAG, QUEUE_FIRST, QUEUE_LAST, QUEUE_WORDS } from "./layout/heap.ts";
import {
  PAGE_BIN,
  PAGE_BLOCK_SIZE,
  PAGE_CAPACITY,
  PAGE_FLAG_IN_FULL_MASK,
  PAGE_FLAG_TAG_MASK,
  PAGE_FLAG_TAG_SHIFT,
  PAGE_FLAGS,
  PAGE_FLAG_OWNER_MASK,
  PAGE_FLAG_OWNER_SHIFT,
  pageOwnerHint,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_NEXT,
  PAGE_PREV,
  PAGE_RESERVED,
  PAGE_SLICE_COUNT,
  PAGE_START,
  PAGE_USED,
  PAGE_XHEAP,
  PAGE_XTHREAD_FREE,
  THREAD_FREE_PTR_MASK,
} from "./layout/page.ts";
import { SEG_KIND, SEG_POOL, SEG_SEGMENT_COUNT, SEG_TLD, SEG_XTHREAD_ID, SEGMENT_KIND_HUGE, SEGMENT_KIND_NORMAL } from "./layout/segment.ts";
import { BIN_COUNT, BIN_FULL, BIN_HUGE, DIRECT_BIN } from "./layout/size-class.ts";
import { TLD_THREAD_ID } from "./layout/tld.ts";
import { hex } from "./errors.ts";
import { segmentForEachPage, segmentTableIndex } from "./segments.ts";

/** Counts per page kind. */
export interface PageCounts {
  small: number;
  medium: number;
  large: number;
  huge: number;
}

/** What `Arena.stats()` reports. */
export interface ArenaStats {
  /** Bytes of the buffer (what the arena has reserved from the system). */
  reservedBytes: number;
  /** The most the buffer may grow to. */
  maxBytes: number;
  /** Segment slots in use (a huge block's span counts each slot). */
  segmentsInUse: number;
  /** Segments by state. */
  segments: { owned: number; abandoned: number; huge: number };
  /** Bytes of pages in use, and their peak since the arena was created. */
  pageBytesInUse: number;
  peakPageBytes: number;
  /** Pages in use, by kind. */
  pages: PageCounts;
  /** Blocks in use and their bytes (block sizes; frees by other threads not yet collected still count). */
  usedBlocks: number;
  usedBytes: number;
  /** Pages in abandoned segments and the blocks in use there. */
  abandonedPages: number;
  abandonedBlocks: number;
}

function pageKind(blockSize: number, bin: number): keyof PageCounts {
  if (bin === BIN_HUGE) return "huge";
  if (blockSize <= SMALL_OBJ_SIZE_MAX) return "small";
  if (blockSize <= MEDIUM_OBJ_SIZE_MAX) return "medium";
  return "large";
}

export function arenaStats(a: Arena): ArenaStats {
  a.refreshViews();
  const u32 = a.u32;
  const stats: ArenaStats = {
    reservedBytes: a.buffer.byteLength,
    maxBytes: a.buffer.maxByteLength,
    segmentsInUse: Atomics.load(u32, AH_XSEGMENTS_IN_USE),
    segments: { owned: 0, abandoned: 0, huge: 0 },
    pageBytesInUse: Atomics.load(u32, AH_XPAGE_BYTES),
    peakPageBytes: Atomics.load(u32, AH_XPEAK_PAGE_BYTES),
    pages: { small: 0, medium: 0, large: 0, huge: 0 },
    usedBlocks: 0,
    usedBytes: 0,
    abandonedPages: 0,
    abandonedBlocks: 0,
  };
  const max = u32[AH_MAX_SEGMENTS]!;
  for (let index = 1; index < max; index++) {
    const state = Atomics.load(u32, segmentTableIndex(index));
    if (state === SEGSTATE_FREE || state === SEGSTATE_HUGE_CONT || state === SEGSTATE_CLAIMING) continue;
    const segment = index * SEGMENT_SIZE;
    if (segment >= a.limit) break;
    const abandoned = state === SEGSTATE_ABANDONED;
    if (abandoned) stats.segments.abandoned++;
    else stats.segments.owned++;
    if (u32[(segment >>> 2) + SEG_KIND] === SEGMENT_KIND_HUGE) stats.segments.huge++;
    segmentForEachPage(a, segment, (page) => {
      const pi = page >>> 2;
      const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
      const used = u32[pi + PAGE_USED]!;
      stats.pages[pageKind(blockSize, u32[pi + PAGE_BIN]!)]++;
      stats.usedBlocks += used;
      stats.usedBytes += used * blockSize;
      if (abandoned) {
        stats.abandonedPages++;
        stats.abandonedBlocks += used;
      }
    });
  }
  return stats;
}

/**
 * Check the whole arena; returns the problems found (empty when all is well). Checks per page: the
 * accounting invariant `used + |free| + |localFree| == capacity` with `|threadFree| <= used`, list integrity
 * (no cycle, no block twice, every block inside the page at a block boundary and below capacity),
 * tag and owner consistency; per segment: owner or pool; per heap of this thread: queues and the
 * direct table. Heap handles whose tld another thread abandoned are forgotten first, not checked.
 */
export function checkArena(a: Arena): string[] {
  a.refreshViews();
  a.forgetStaleHeaps();
  const u32 = a.u32;
  const problems: string[] = [];
  const max = u32[AH_MAX_SEGMENTS]!;
  if (Atomics.load(u32, segmentTableIndex(0)) !== SEGSTATE_HEADER) problems.push("segment 0 is not the arena header");
  for (let index = 1; index < max; index++) {
    const state = Atomics.load(u32, segmentTableIndex(index));
    if (state === SEGSTATE_FREE || state === SEGSTATE_HUGE_CONT) continue;
    const segment = index * SEGMENT_SIZE;
    if (segment >= a.limit) {
      problems.push(`segment ${index} is in use (state ${state}) beyond the buffer`);
      continue;
    }
    if (state === SEGSTATE_CLAIMING || state === SEGSTATE_HEADER) {
      problems.push(`segment ${index} has state ${state}`);
      continue;
    }
    const s = segment >>> 2;
    const kind = u32[s + SEG_KIND]!;
    if (kind !== SEGMENT_KIND_NORMAL && kind !== SEGMENT_KIND_HUGE) problems.push(`segment ${index}: bad kind ${kind}`);
    const count = u32[s + SEG_SEGMENT_COUNT]!;
    for (let i = 1; i < count; i++) {
      if (Atomics.load(u32, segmentTableIndex(index + i)) !== SEGSTATE_HUGE_CONT) {
        problems.push(`segment ${index}: slot ${index + i} of its span is not marked as a continuation`);
      }
    }
    const abandoned = state === SEGSTATE_ABANDONED;
    if (abandoned) {
      if (Atomics.load(u32, s + SEG_XTHREAD_ID) !== 0) problems.push(`segment ${index}: abandoned but has thread id ${u32[s + SEG_XTHREAD_ID]}`);
      if (u32[s + SEG_POOL] === 0) problems.push(`segment ${index}: abandoned without a pool`);
    } else {
      if (u32[s + SEG_TLD] !== state) problems.push(`segment ${index}: table says tld ${state}, header says ${u32[s + SEG_TLD]}`);
      const tid = u32[(state >>> 2) + TLD_THREAD_ID]!;
      if (Atomics.load(u32, s + SEG_XTHREAD_ID) !== tid) {
        problems.push(`segment ${index}: thread id ${u32[s + SEG_XTHREAD_ID]} differs from its tld's ${tid}`);
      }
    }
    const hint = abandoned ? 0 : pageOwnerHint(u32[s + SEG_XTHREAD_ID]!);
    segmentForEachPage(a, segment, (page) => {
      checkPage(a, page, abandoned, problems);
      const owner = u32[(page >>> 2) + PAGE_FLAGS]! & PAGE_FLAG_OWNER_MASK;
      if (owner !== hint) {
        problems.push(
          `page ${hex(page)}: owner hint ${owner >>> PAGE_FLAG_OWNER_SHIFT} differs from its segment's ${hint >>> PAGE_FLAG_OWNER_SHIFT}`,
        );
      }
    });
  }
  for (const heap of a.heaps.values()) {
    if (!heap.destroyed) checkHeap(a, heap.record, problems);
  }
  return problems;
}

function checkPage(a: Arena, page: number, abandoned: boolean, problems: string[]): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  const where = `page ${hex(page)}`;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const start = u32[pi + PAGE_START]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  const reserved = u32[pi + PAGE_RESERVED]!;
  if (blockSize === 0) {
    problems.push(`${where}: in use with block size 0`);
    return;
  }
  if (capacity > reserved) problems.push(`${where}: capacity ${capacity} > reserved ${reserved}`);
  const bin = u32[pi + PAGE_BIN]!;
  if (bin !== BIN_HUGE && reserved * blockSize > u32[pi + PAGE_SLICE_COUNT]! * SLICE_SIZE) {
    problems.push(`${where}: ${reserved} blocks of ${blockSize} do not fit its slices`);
  }
  const seen = new Uint8Array(capacity);
  const walk = (head: number, name: string): number => {
    let n = 0;
    for (let b = head; b !== 0; b = u32[b >>> 2]!) {
      const off = b - start;
      const index = off / blockSize;
      if (off < 0 || !Number.isInteger(index) || index >= capacity) {
        problems.push(`${where}: ${name} list holds ${hex(b)}, not a block below capacity`);
        return n;
      }
      if (seen[index]) {
        problems.push(`${where}: block ${hex(b)} is listed twice (${name} list)`);
        return n;
      }
      seen[index] = 1;
      n++;
    }
    return n;
  };
  const free = walk(u32[pi + PAGE_FREE]!, "free");
  const local = walk(u32[pi + PAGE_LOCAL_FREE]!, "localFree");
  const thread = walk((Atomics.load(u32, pi + PAGE_XTHREAD_FREE) & THREAD_FREE_PTR_MASK) >>> 0, "threadFree");
  const used = u32[pi + PAGE_USED]!;
  if (used + free + local !== capacity) {
    problems.push(`${where}: used ${used} + free ${free} + localFree ${local} != capacity ${capacity}`);
  }
  if (thread > used) problems.push(`${where}: ${thread} blocks on the thread-free list but only ${used} in use`);
  const heap = Atomics.load(u32, pi + PAGE_XHEAP);
  if (abandoned) {
    if (heap !== 0) problems.push(`${where}: in an abandoned segment but has heap ${heap}`);
  } else {
    if (heap === 0) problems.push(`${where}: in an owned segment but has no heap`);
    else {
      const tag = (u32[pi + PAGE_FLAGS]! & PAGE_FLAG_TAG_MASK) >>> PAGE_FLAG_TAG_SHIFT;
      if (u32[(heap >>> 2) + HEAP_TAG] !== tag) problems.push(`${where}: tag ${tag} differs from its heap's ${u32[(heap >>> 2) + HEAP_TAG]}`);
    }
  }
}

function checkHeap(a: Arena, heap: number, problems: string[]): void {
  const u32 = a.u32;
  const where = `heap ${hex(heap)}`;
  for (let bin = 0; bin < BIN_COUNT; bin++) {
    const q = (heap >>> 2) + HEAP_QUEUES + bin * QUEUE_WORDS;
    let prev = 0;
    let steps = 0;
    for (let page = u32[q + QUEUE_FIRST]!; page !== 0; page = u32[(page >>> 2) + PAGE_NEXT]!) {
      const pi = page >>> 2;
      if (u32[pi + PAGE_PREV] !== prev) problems.push(`${where}: bin ${bin}: page ${hex(page)} has a wrong prev link`);
      if (u32[pi + PAGE_XHEAP] !== heap) problems.push(`${where}: bin ${bin}: page ${hex(page)} belongs to heap ${u32[pi + PAGE_XHEAP]}`);
      const inFull = (u32[pi + PAGE_FLAGS]! & PAGE_FLAG_IN_FULL_MASK) !== 0;
      if ((bin === BIN_FULL) !== inFull) problems.push(`${where}: page ${hex(page)} in queue ${bin} has IN_FULL = ${inFull}`);
      if (bin !== BIN_FULL && u32[pi + PAGE_BIN] !== bin) problems.push(`${where}: page ${hex(page)} of bin ${u32[pi + PAGE_BIN]} in queue ${bin}`);
      prev = page;
      if (++steps > 1 << 20) {
        problems.push(`${where}: bin ${bin}: queue does not end`);
        break;
      }
    }
    if (u32[q + QUEUE_LAST] !== prev) problems.push(`${where}: bin ${bin}: last is ${u32[q + QUEUE_LAST]}, the walk ended at ${prev}`);
  }
  for (let w = 0; w <= SMALL_WSIZE_MAX; w++) {
    const bin = DIRECT_BIN[w]!;
    const first = u32[(heap >>> 2) + HEAP_QUEUES + bin * QUEUE_WORDS + QUEUE_FIRST]!;
    const direct = u32[(heap >>> 2) + HEAP_DIRECT + w]!;
    if (first !== 0 ? direct !== first : u32[(direct >>> 2) + PAGE_BLOCK_SIZE] !== 0) {
      problems.push(`${where}: direct[${w}] is ${hex(direct)}, the first page of bin ${bin} is ${hex(first)}`);
    }
  }
}
