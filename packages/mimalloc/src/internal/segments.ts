/**
 * Segments and the pages carved from them, owner side, plus the arena's segment table and growth.
 *
 * A segment is claimed by one CAS on its segment-table word (FREE → owning tld), so there is no
 * lock to leave behind. Right after that CAS, in straight-line code, the claimer zeroes the
 * header's `tld` word; it writes the real tld last, when the header is ready. A thread terminated in
 * between leaves a table word naming its tld and a header naming none, which `abandonTld`
 * recognises and frees.
 */
import type { Arena } from "./arena.ts";
import {
  AH_XPAGE_BYTES,
  AH_XPEAK_PAGE_BYTES,
  AH_XSEGMENTS_IN_USE,
  SEGMENT_TABLE,
  SEGSTATE_FREE,
  SEGSTATE_HUGE_CONT,
} from "./layout/arena.ts";
import { SEGMENT_MASK, SEGMENT_SIZE, SLICE_SHIFT, SLICE_SIZE, SLICES_PER_SEGMENT } from "./layout/constants.ts";
import { HEAP_TAG, HEAP_TLD } from "./layout/heap.ts";
import {
  PAGE_BIN,
  PAGE_BLOCK_SIZE,
  PAGE_FLAG_CHECKED_MASK,
  PAGE_FLAG_IN_USE_MASK,
  PAGE_FLAG_TAG_SHIFT,
  pageOwnerHint,
  PAGE_FLAGS,
  PAGE_RECORD_SHIFT,
  PAGE_RECORD_SIZE,
  PAGE_RESERVED,
  PAGE_SLICE_COUNT,
  PAGE_SLICE_OFFSET,
  PAGE_START,
  PAGE_WORDS,
  PAGE_XHEAP,
} from "./layout/page.ts";
import {
  SEG_INDEX,
  SEG_KIND,
  SEG_NEXT,
  SEG_SEGMENT_COUNT,
  SEG_SLICES_OFFSET,
  SEG_TLD,
  SEG_USED_PAGES,
  SEG_USED_SLICES_HI,
  SEG_USED_SLICES_LO,
  SEG_XTHREAD_ID,
  SEGMENT_HEADER_SIZE,
  SEGMENT_KIND_HUGE,
  SEGMENT_KIND_NORMAL,
} from "./layout/segment.ts";
import { BIN_HUGE } from "./layout/size-class.ts";
import { TLD_SEGMENTS, TLD_THREAD_ID } from "./layout/tld.ts";
import { assert } from "./errors.ts";

/** The segment (base offset) holding byte `p` (p > 0); `p - 1` so that a huge block aligned at a segment boundary maps to its own segment. */
export function segmentOf(p: number): number {
  return p - 1 - ((p - 1) & SEGMENT_MASK);
}

/** The page record of the slice holding `p` inside `segment` (may be a slice with no page). */
export function sliceRecordOf(segment: number, p: number): number {
  return segment + SEG_SLICES_OFFSET + ((((p - segment) >>> SLICE_SHIFT) & (SLICES_PER_SEGMENT - 1)) << PAGE_RECORD_SHIFT);
}

export function segmentIndex(segment: number): number {
  return Math.floor(segment / SEGMENT_SIZE);
}

export function segmentTableIndex(index: number): number {
  return (SEGMENT_TABLE >>> 2) + index;
}

/** Grow the buffer so it holds at least `end` bytes; false when it cannot. Lock-free: growth is monotone. */
export function ensureBuffer(a: Arena, end: number): boolean {
  const buffer = a.buffer;
  if (buffer.byteLength < end) {
    if (end > buffer.maxByteLength) return false;
    // Grow by a quarter at least, to keep the number of grow calls small.
    const step = Math.ceil(buffer.byteLength / 4 / SEGMENT_SIZE) * SEGMENT_SIZE;
    const target = Math.min(buffer.maxByteLength, Math.max(end, buffer.byteLength + step));
    try {
      buffer.grow(target);
    } catch {
      // Another thread may have grown it past `target` already; otherwise we are out of memory.
      if (buffer.byteLength < end) {
        try {
          buffer.grow(end);
        } catch {
          if (buffer.byteLength < end) return false;
        }
      }
    }
  }
  a.ensureView(end);
  return true;
}

/**
 * Claim `count` consecutive free segment slots for `tld` and set up the segment header; returns
 * the segment's base offset, or 0 when the arena is full.
 */
export function segmentAlloc(a: Arena, tld: number, count: number, kind: number): number {
  const max = a.maxSegments;
  let u32 = a.u32;
  search: for (let index = 1; index + count <= max; index++) {
    for (let i = 0; i < count; i++) {
      if (Atomics.load(u32, segmentTableIndex(index + i)) !== SEGSTATE_FREE) {
        index += i;
        continue search;
      }
    }
    if (!ensureBuffer(a, (index + count) * SEGMENT_SIZE)) return 0;
    u32 = a.u32;
    const segment = index * SEGMENT_SIZE;
    const s = segment >>> 2;
    if (Atomics.compareExchange(u32, segmentTableIndex(index), SEGSTATE_FREE, tld) !== SEGSTATE_FREE) continue;
    u32[s + SEG_TLD] = 0; // straight after the claim: "header not ready" (see the module comment)
    let claimed = 1;
    while (claimed < count) {
      if (Atomics.compareExchange(u32, segmentTableIndex(index + claimed), SEGSTATE_FREE, SEGSTATE_HUGE_CONT) !== SEGSTATE_FREE) break;
      claimed++;
    }
    if (claimed < count) {
      for (let i = claimed - 1; i >= 1; i--) Atomics.store(u32, segmentTableIndex(index + i), SEGSTATE_FREE);
      Atomics.store(u32, segmentTableIndex(index), SEGSTATE_FREE);
      continue;
    }
    u32.fill(0, s, (segment + SEGMENT_HEADER_SIZE) >>> 2);
    u32[s + SEG_KIND] = kind;
    u32[s + SEG_SEGMENT_COUNT] = count;
    u32[s + SEG_INDEX] = index;
    if (kind === SEGMENT_KIND_HUGE) {
      u32[s + SEG_USED_SLICES_LO] = 0xffffffff;
      u32[s + SEG_USED_SLICES_HI] = 0xffffffff;
    } else {
      u32[s + SEG_USED_SLICES_LO] = 1; // slice 0: the header
    }
    const t = tld >>> 2;
    u32[s + SEG_NEXT] = u32[t + TLD_SEGMENTS]!;
    u32[t + TLD_SEGMENTS] = segment;
    Atomics.store(u32, s + SEG_XTHREAD_ID, u32[t + TLD_THREAD_ID]!);
    Atomics.add(u32, AH_XSEGMENTS_IN_USE, count);
    u32[s + SEG_TLD] = tld; // the header is ready
    return segment;
  }
  return 0;
}

/** Give a segment (all its slots) back to the arena; unlinks it from its tld's list. */
export function segmentFree(a: Arena, segment: number): void {
  const u32 = a.u32;
  const s = segment >>> 2;
  const tld = u32[s + SEG_TLD]!;
  if (tld !== 0) {
    const t = tld >>> 2;
    let prev = 0;
    let cur = u32[t + TLD_SEGMENTS]!;
    while (cur !== 0 && cur !== segment) {
      prev = cur;
      cur = u32[(cur >>> 2) + SEG_NEXT]!;
    }
    if (cur === segment) {
      if (prev === 0) u32[t + TLD_SEGMENTS] = u32[s + SEG_NEXT]!;
      else u32[(prev >>> 2) + SEG_NEXT] = u32[s + SEG_NEXT]!;
    }
  }
  const index = u32[s + SEG_INDEX]!;
  const count = u32[s + SEG_SEGMENT_COUNT]!;
  Atomics.store(u32, s + SEG_XTHREAD_ID, 0);
  u32[s + SEG_TLD] = 0;
  u32[s + SEG_USED_PAGES] = 0;
  for (let i = count - 1; i >= 1; i--) Atomics.store(u32, segmentTableIndex(index + i), SEGSTATE_FREE);
  Atomics.store(u32, segmentTableIndex(index), SEGSTATE_FREE);
  Atomics.sub(u32, AH_XSEGMENTS_IN_USE, count);
}

function sliceUsed(lo: number, hi: number, i: number): number {
  return i < 32 ? (lo >>> i) & 1 : (hi >>> (i - 32)) & 1;
}

/** First run of `n` free slices (slice 0 is the header), or -1. */
function findFreeRun(lo: number, hi: number, n: number): number {
  let run = 0;
  for (let i = 1; i < SLICES_PER_SEGMENT; i++) {
    if (sliceUsed(lo, hi, i) !== 0) run = 0;
    else if (++run === n) return i - n + 1;
  }
  return -1;
}

function setSliceBits(a: Arena, segment: number, start: number, n: number, used: boolean): void {
  const u32 = a.u32;
  const s = segment >>> 2;
  let lo = u32[s + SEG_USED_SLICES_LO]!;
  let hi = u32[s + SEG_USED_SLICES_HI]!;
  for (let i = start; i < start + n; i++) {
    if (i < 32) lo = used ? lo | (1 << i) : lo & ~(1 << i);
    else hi = used ? hi | (1 << (i - 32)) : hi & ~(1 << (i - 32));
  }
  u32[s + SEG_USED_SLICES_LO] = lo;
  u32[s + SEG_USED_SLICES_HI] = hi;
}

/** A new page of `slices` slices for `heap`'s bin (block size `blockSize`), from the heap's tld's segments or a new one. */
export function segmentsPageAlloc(a: Arena, heap: number, slices: number, blockSize: number, bin: number): number {
  let u32 = a.u32;
  const tld = u32[(heap >>> 2) + HEAP_TLD]!;
  for (let segment = u32[(tld >>> 2) + TLD_SEGMENTS]!; segment !== 0; segment = u32[(segment >>> 2) + SEG_NEXT]!) {
    const s = segment >>> 2;
    if (u32[s + SEG_KIND] !== SEGMENT_KIND_NORMAL) continue;
    const start = findFreeRun(u32[s + SEG_USED_SLICES_LO]!, u32[s + SEG_USED_SLICES_HI]!, slices);
    if (start >= 0) return pageInit(a, segment, start, slices, heap, blockSize, bin);
  }
  const segment = segmentAlloc(a, tld, 1, SEGMENT_KIND_NORMAL);
  if (segment === 0) return 0;
  u32 = a.u32;
  return pageInit(a, segment, 1, slices, heap, blockSize, bin);
}

function pageInit(a: Arena, segment: number, start: number, slices: number, heap: number, blockSize: number, bin: number): number {
  const u32 = a.u32;
  const page = segment + SEG_SLICES_OFFSET + (start << PAGE_RECORD_SHIFT);
  const pi = page >>> 2;
  for (let i = 1; i < slices; i++) {
    const r = pi + i * PAGE_WORDS;
    u32.fill(0, r, r + PAGE_WORDS);
    u32[r + PAGE_SLICE_OFFSET] = i * PAGE_RECORD_SIZE;
  }
  u32.fill(0, pi, pi + PAGE_WORDS);
  const pageSize = slices * SLICE_SIZE;
  u32[pi + PAGE_BLOCK_SIZE] = blockSize;
  u32[pi + PAGE_RESERVED] = Math.floor(pageSize / blockSize);
  u32[pi + PAGE_START] = segment + start * SLICE_SIZE;
  u32[pi + PAGE_XHEAP] = heap;
  u32[pi + PAGE_SLICE_COUNT] = slices;
  u32[pi + PAGE_BIN] = bin;
  u32[pi + PAGE_FLAGS] = pageFlagsFor(a, heap);
  // Commit point: the slices belong to a page from here on.
  setSliceBits(a, segment, start, slices, true);
  u32[(segment >>> 2) + SEG_USED_PAGES]++;
  publishPageBytes(a, pageSize);
  return page;
}

function pageFlagsFor(a: Arena, heap: number): number {
  const u32 = a.u32;
  const tag = u32[(heap >>> 2) + HEAP_TAG]!;
  const owner = u32[(u32[(heap >>> 2) + HEAP_TLD]! >>> 2) + TLD_THREAD_ID]!; // the segment's owner
  return (
    PAGE_FLAG_IN_USE_MASK |
    (a.checks ? PAGE_FLAG_CHECKED_MASK : 0) |
    (tag << PAGE_FLAG_TAG_SHIFT) |
    pageOwnerHint(owner)
  );
}

/**
 * Account page bytes. The Atomics operation is also the publication point: a page's constant
 * fields are written before it, and no block of the page is handed out before it.
 */
function publishPageBytes(a: Arena, bytes: number): void {
  const now = Atomics.add(a.u32, AH_XPAGE_BYTES, bytes) + bytes;
  let peak = Atomics.load(a.u32, AH_XPEAK_PAGE_BYTES);
  while (now > peak) {
    const seen = Atomics.compareExchange(a.u32, AH_XPEAK_PAGE_BYTES, peak, now);
    if (seen === peak) break;
    peak = seen;
  }
}

/** A huge block of `size` bytes: a segment span of its own, one page whose record is slice record 0. */
export function hugePageAlloc(a: Arena, heap: number, size: number): number {
  const tld = a.u32[(heap >>> 2) + HEAP_TLD]!;
  const count = Math.ceil((SLICE_SIZE + size) / SEGMENT_SIZE);
  const segment = segmentAlloc(a, tld, count, SEGMENT_KIND_HUGE);
  if (segment === 0) return 0;
  const u32 = a.u32;
  const page = segment + SEG_SLICES_OFFSET;
  const pi = page >>> 2;
  for (let i = 1; i < SLICES_PER_SEGMENT; i++) u32[pi + i * PAGE_WORDS + PAGE_SLICE_OFFSET] = i * PAGE_RECORD_SIZE;
  const blockSize = count * SEGMENT_SIZE - SLICE_SIZE;
  u32[pi + PAGE_BLOCK_SIZE] = blockSize;
  u32[pi + PAGE_RESERVED] = 1;
  u32[pi + PAGE_START] = segment + SLICE_SIZE;
  u32[pi + PAGE_XHEAP] = heap;
  u32[pi + PAGE_SLICE_COUNT] = count * SLICES_PER_SEGMENT;
  u32[pi + PAGE_BIN] = BIN_HUGE;
  u32[pi + PAGE_FLAGS] = pageFlagsFor(a, heap);
  u32[(segment >>> 2) + SEG_USED_PAGES] = 1;
  publishPageBytes(a, blockSize);
  return page;
}

/**
 * Give an (empty) page's slices back to its segment; frees the segment when it has no page left,
 * unless `keepSegment` (callers iterating the segment's pages free it after the walk: once freed,
 * another thread may claim the segment and set up pages the walk would then see).
 */
export function segmentsPageFree(a: Arena, page: number, keepSegment = false): void {
  const u32 = a.u32;
  const segment = page - (page & SEGMENT_MASK);
  const s = segment >>> 2;
  const pi = page >>> 2;
  if (u32[s + SEG_KIND] === SEGMENT_KIND_HUGE) {
    Atomics.sub(u32, AH_XPAGE_BYTES, u32[pi + PAGE_BLOCK_SIZE]!);
    u32[pi + PAGE_FLAGS] = 0;
    u32[s + SEG_USED_PAGES] = 0;
    if (!keepSegment) segmentFree(a, segment);
    return;
  }
  const start = (page - segment - SEG_SLICES_OFFSET) >>> PAGE_RECORD_SHIFT;
  const slices = u32[pi + PAGE_SLICE_COUNT]!;
  if (__DEBUG__) assert(start >= 1 && start + slices <= SLICES_PER_SEGMENT, "page slices inside the segment");
  setSliceBits(a, segment, start, slices, false);
  u32.fill(0, pi, pi + slices * PAGE_WORDS);
  Atomics.sub(u32, AH_XPAGE_BYTES, slices * SLICE_SIZE);
  const used = u32[s + SEG_USED_PAGES]! - 1;
  u32[s + SEG_USED_PAGES] = used;
  if (used === 0 && !keepSegment) segmentFree(a, segment);
}

/** Call `fn(page)` for every page in use in `segment`. */
export function segmentForEachPage(a: Arena, segment: number, fn: (page: number) => void): void {
  const u32 = a.u32;
  const s = segment >>> 2;
  if (u32[s + SEG_KIND] === SEGMENT_KIND_HUGE) {
    const page = segment + SEG_SLICES_OFFSET;
    if ((u32[(page >>> 2) + PAGE_FLAGS]! & PAGE_FLAG_IN_USE_MASK) !== 0) fn(page);
    return;
  }
  let i = 1;
  while (i < SLICES_PER_SEGMENT) {
    const page = segment + SEG_SLICES_OFFSET + (i << PAGE_RECORD_SHIFT);
    const pi = page >>> 2;
    if ((u32[pi + PAGE_FLAGS]! & PAGE_FLAG_IN_USE_MASK) !== 0 && sliceUsed(u32[s + SEG_USED_SLICES_LO]!, u32[s + SEG_USED_SLICES_HI]!, i)) {
      const slices = u32[pi + PAGE_SLICE_COUNT]!;
      fn(page);
      i += Math.max(1, slices);
    } else {
      i++;
    }
  }
}

