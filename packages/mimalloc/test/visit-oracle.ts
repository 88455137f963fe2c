// The tests' oracle for block visiting: a plain reference visitor (a division per block, a byte
// per block, every block tested) that reads the page lists without changing anything — the
// thread-free list included, uncollected — and finds pages by walking the segment table itself.
import type { Arena, HeapArea, HeapVisitor, VisitOptions } from "../src/index.ts";
import { RECORD_AREA_START, SEGMENT_TABLE, SEGSTATE_ABANDONED } from "../src/internal/layout/arena.ts";
import { SEGMENT_SIZE } from "../src/internal/layout/constants.ts";
import {
  PAGE_BLOCK_SIZE,
  PAGE_CAPACITY,
  PAGE_FLAG_TAG_MASK,
  PAGE_FLAG_TAG_SHIFT,
  PAGE_FLAGS,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_START,
  PAGE_USED,
  PAGE_XHEAP,
  PAGE_XTHREAD_FREE,
  THREAD_FREE_PTR_MASK,
} from "../src/internal/layout/page.ts";
import { SEG_POOL, SEG_TLD } from "../src/internal/layout/segment.ts";
import { segmentForEachPage } from "../src/internal/segments.ts";

/** A visited block: its offset, size, page and the page's tag. */
export interface Seen {
  block: number;
  size: number;
  page: number;
  tag: number;
}

/** Which pages a walk covers, for the oracle. */
export interface PageFilter {
  /** Pages of this heap record (owned segments). */
  heap?: number;
  /** Owned segments of these tlds. */
  tlds?: readonly number[];
  /** Abandoned segments of this pool. */
  pool?: number;
  /** -1 or undefined: every tag. */
  tag?: number;
}

function tagOf(u32: Uint32Array, pi: number): number {
  return (u32[pi + PAGE_FLAGS]! & PAGE_FLAG_TAG_MASK) >>> PAGE_FLAG_TAG_SHIFT;
}

/** The live blocks of one page, the plain way: lists read (not collected), a byte per block, a division per free block. */
export function oraclePageLive(a: Arena, page: number): Seen[] {
  const u32 = a.u32;
  const pi = page >>> 2;
  const start = u32[pi + PAGE_START]!;
  const size = u32[pi + PAGE_BLOCK_SIZE]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  const isFree = new Uint8Array(capacity);
  let freeCount = 0;
  let remote = 0;
  const mark = (head: number, isRemote: boolean) => {
    for (let b = head; b !== 0; b = u32[b >>> 2]!) {
      const index = (b - start) / size;
      if (!Number.isInteger(index) || index < 0 || index >= capacity)
        throw new Error(`oracle: ${b} is not a block of page ${page}`);
      if (isFree[index]) throw new Error(`oracle: block ${b} listed twice`);
      isFree[index] = 1;
      freeCount++;
      if (isRemote) remote++;
    }
  };
  mark(u32[pi + PAGE_FREE]!, false);
  mark(u32[pi + PAGE_LOCAL_FREE]!, false);
  mark((Atomics.load(u32, pi + PAGE_XTHREAD_FREE) & THREAD_FREE_PTR_MASK) >>> 0, true);
  const used = u32[pi + PAGE_USED]!;
  if (used - remote !== capacity - freeCount)
    throw new Error(`oracle: page ${page} breaks used + |free| + |localFree| == capacity`);
  const tag = tagOf(u32, pi);
  const out: Seen[] = [];
  for (let i = 0; i < capacity; i++)
    if (isFree[i] === 0) out.push({ block: start + i * size, size, page, tag });
  return out;
}

/** Every page in use in the arena with its segment's table word, found by walking the segment table. */
export function oraclePages(a: Arena, filter: PageFilter): number[] {
  a.refreshViews();
  const u32 = a.u32;
  const pages: number[] = [];
  for (let index = 1; index < a.maxSegments; index++) {
    const state = Atomics.load(u32, (SEGMENT_TABLE >>> 2) + index);
    const segment = index * SEGMENT_SIZE;
    let take: boolean;
    if (state === SEGSTATE_ABANDONED)
      take = filter.pool !== undefined && u32[(segment >>> 2) + SEG_POOL] === filter.pool;
    else if (state >= RECORD_AREA_START && u32[(segment >>> 2) + SEG_TLD] === state) {
      take = filter.heap !== undefined || (filter.tlds?.includes(state) ?? false);
    } else take = false;
    if (!take) continue;
    segmentForEachPage(a, segment, (page) => {
      const pi = page >>> 2;
      if (filter.heap !== undefined && u32[pi + PAGE_XHEAP] !== filter.heap) return;
      if (filter.tag !== undefined && filter.tag !== -1 && tagOf(u32, pi) !== filter.tag) return;
      pages.push(page);
    });
  }
  return pages;
}

/** The oracle's live blocks for a walk, sorted by offset. */
export function oracleLive(a: Arena, filter: PageFilter): Seen[] {
  return oraclePages(a, filter)
    .flatMap((page) => oraclePageLive(a, page))
    .sort((x, y) => x.block - y.block);
}

/** Runs a walk with a collecting visitor; returns the blocks (sorted) and the areas (copies). Throws if a block is seen twice. */
export function collect(
  walk: (visitor: HeapVisitor, options?: VisitOptions) => boolean,
  options?: VisitOptions,
): { blocks: Seen[]; areas: HeapArea[] } {
  const blocks: Seen[] = [];
  const areas: HeapArea[] = [];
  const done = walk(
    {
      area(area) {
        areas.push({ ...area });
      },
      block(block, size, area) {
        blocks.push({ block, size, page: area.page, tag: area.tag });
      },
    },
    options,
  );
  if (!done) throw new Error("collect: the walk stopped without being asked to");
  blocks.sort((x, y) => x.block - y.block);
  for (let i = 1; i < blocks.length; i++) {
    if (blocks[i]!.block === blocks[i - 1]!.block) throw new Error(`block ${blocks[i]!.block} visited twice`);
  }
  return { blocks, areas };
}
