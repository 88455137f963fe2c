/**
 * Slow paths of `free`: pointer validation with clear errors, checked frees (double free, interior
 * pointer), frees into full or aligned pages, and frees from other threads (`freeBlockMt`).
 */
import type { Arena } from "./arena.ts";
import { SEGSTATE_ABANDONED, SEGSTATE_FREE, SEGSTATE_HEADER, SEGSTATE_HUGE_CONT } from "./layout/arena.ts";
import { SEGMENT_SIZE } from "./layout/constants.ts";
import { HEAP_XHAS_DELAYED } from "./layout/heap.ts";
import {
  PAGE_BLOCK_SIZE,
  PAGE_CAPACITY,
  PAGE_FLAG_HAS_ALIGNED_MASK,
  PAGE_FLAG_IN_FULL_MASK,
  PAGE_FLAG_IN_USE_MASK,
  PAGE_FLAGS,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_RESERVED,
  PAGE_SLICE_OFFSET,
  PAGE_START,
  PAGE_USED,
  PAGE_XHEAP,
  PAGE_XTHREAD_FREE,
  THREAD_FREE_NOTIFY_MASK,
  THREAD_FREE_PTR_MASK,
} from "./layout/page.ts";
import { SEG_XTHREAD_ID } from "./layout/segment.ts";
import { DoubleFreeError, InvalidPointerError, hex } from "./errors.ts";
import { pageRetire, pageUnfull } from "./page-queue.ts";
import { segmentIndex, segmentOf, segmentTableIndex, sliceRecordOf } from "./segments.ts";

/**
 * The page holding pointer `p`, validated: an integer inside the arena, in a segment in use, in a
 * slice that belongs to a page, inside the page's blocks. Throws `InvalidPointerError` otherwise.
 */
export function pageOfPointer(a: Arena, p: number, fn: string): number {
  if (typeof p !== "number" || !Number.isInteger(p)) {
    throw new TypeError(`${fn}: pointer must be an integer byte offset, got ${typeof p === "number" ? p : typeof p}`);
  }
  if (p >= a.limit) a.refreshViews();
  if (p < 0 || p >= a.limit) {
    throw new InvalidPointerError(`${fn}: pointer ${p < 0 || p > 0xffffffff ? p : hex(p)} is outside the arena (${a.limit} bytes)`);
  }
  if (p < SEGMENT_SIZE) throw new InvalidPointerError(`${fn}: pointer ${hex(p)} points into the arena header, not a block`);
  const u32 = a.u32;
  const segment = segmentOf(p);
  const index = segmentIndex(segment);
  const state = Atomics.load(u32, segmentTableIndex(index));
  if (state === SEGSTATE_FREE || state === SEGSTATE_HEADER) {
    throw new InvalidPointerError(`${fn}: pointer ${hex(p)} is in segment ${index}, which is not in use`);
  }
  if (state === SEGSTATE_HUGE_CONT) {
    throw new InvalidPointerError(`${fn}: pointer ${hex(p)} points inside a huge block (segment ${index}), not at its start`);
  }
  const slice = sliceRecordOf(segment, p);
  const page = slice - u32[(slice >>> 2) + PAGE_SLICE_OFFSET]!;
  const pi = page >>> 2;
  if ((u32[pi + PAGE_FLAGS]! & PAGE_FLAG_IN_USE_MASK) === 0) {
    const sliceIndex = Math.floor((p - segment) / 65536);
    throw new InvalidPointerError(`${fn}: pointer ${hex(p)} is in slice ${sliceIndex} of segment ${index}, which holds no page`);
  }
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  if (p < start || p >= start + u32[pi + PAGE_RESERVED]! * blockSize) {
    throw new InvalidPointerError(`${fn}: pointer ${hex(p)} is not inside a block of its page (page area ${hex(start)}…)`);
  }
  return page;
}

/** Start of the block of `page` that holds `p`. */
export function blockStartOf(a: Arena, page: number, p: number): number {
  const pi = page >>> 2;
  const start = a.u32[pi + PAGE_START]!;
  const blockSize = a.u32[pi + PAGE_BLOCK_SIZE]!;
  return start + Math.floor((p - start) / blockSize) * blockSize;
}

/** Page of a block just allocated (no validation). */
export function pageOfBlock(a: Arena, p: number): number {
  const slice = sliceRecordOf(segmentOf(p), p);
  return slice - a.u32[(slice >>> 2) + PAGE_SLICE_OFFSET]!;
}

export function usableSizeOf(a: Arena, p: number, fn = "usableSize"): number {
  const page = pageOfPointer(a, p, fn);
  const block = blockStartOf(a, page, p);
  return block + a.u32[(page >>> 2) + PAGE_BLOCK_SIZE]! - p;
}

/**
 * The block that `free(p)` would free, validated as `free` validates it: `p` is a block start (or
 * points into a block of a page with aligned allocations), the block was handed out, and, when
 * the arena runs with checks, it is not already free. Throws `InvalidPointerError` /
 * `DoubleFreeError` naming `fn` otherwise. `realloc` calls it before it allocates anything.
 */
export function checkFreeable(a: Arena, p: number, fn: string): number {
  const page = pageOfPointer(a, p, fn);
  const block = freeableBlock(a, page, p, fn);
  if (a.checks) checkNotFree(a, page, block, isLocalBlock(a, p), fn);
  return block;
}

/** The block of `page` that `p` frees: its start, or the block `p` points into on an aligned page. */
function freeableBlock(a: Arena, page: number, p: number, fn: string): number {
  const u32 = a.u32;
  const pi = page >>> 2;
  let block = p;
  const start = blockStartOf(a, page, p);
  if (start !== p) {
    if ((u32[pi + PAGE_FLAGS]! & PAGE_FLAG_HAS_ALIGNED_MASK) === 0) {
      throw new InvalidPointerError(
        `${fn}: pointer ${hex(p)} is ${p - start} bytes into a block of ${u32[pi + PAGE_BLOCK_SIZE]} bytes (block ${hex(start)}): an interior pointer`,
      );
    }
    block = start;
  }
  const index = (block - u32[pi + PAGE_START]!) / u32[pi + PAGE_BLOCK_SIZE]!;
  if (index >= u32[pi + PAGE_CAPACITY]!) {
    throw new InvalidPointerError(`${fn}: pointer ${hex(p)} was never handed out (block ${index} of a page with ${u32[pi + PAGE_CAPACITY]} initialised)`);
  }
  return block;
}

/** Whether the calling thread owns the segment of `p` (a free of it is local). */
function isLocalBlock(a: Arena, p: number): boolean {
  return a.u32[(segmentOf(p) >>> 2) + SEG_XTHREAD_ID] === a.threadId && a.threadId !== 0;
}

/** Everything `Arena.free` does not do on its fast path. */
export function freeGeneric(a: Arena, p: number): void {
  if (p === 0) return;
  a.checkAttached("free");
  const page = pageOfPointer(a, p, "free");
  const block = freeableBlock(a, page, p, "free");
  const u32 = a.u32;
  const pi = page >>> 2;
  const local = isLocalBlock(a, p);
  if (a.checks) checkNotFree(a, page, block, local, "free");
  if (local) {
    u32[block >>> 2] = u32[pi + PAGE_LOCAL_FREE]!;
    u32[pi + PAGE_LOCAL_FREE] = block;
    const used = u32[pi + PAGE_USED]! - 1;
    u32[pi + PAGE_USED] = used;
    if ((u32[pi + PAGE_FLAGS]! & PAGE_FLAG_IN_FULL_MASK) !== 0) {
      pageUnfull(a, u32[pi + PAGE_XHEAP]!, page);
    }
    if (used === 0) pageRetire(a, page);
    return;
  }
  freeBlockMt(a, page, block);
}

/**
 * A free from a thread that does not own the page (or of a page in an abandoned segment): push the
 * block onto the page's thread-free list with one CAS. The first push onto a page in the full
 * queue (NOTIFY set) clears NOTIFY in the same CAS and raises its heap's `xhasDelayed` flag, so the
 * owner looks at its full pages. A thread terminated inside this loop either pushed the block or
 * did not: the list is never half-linked.
 */
export function freeBlockMt(a: Arena, page: number, block: number): void {
  const u32 = a.u32;
  const tf = (page >>> 2) + PAGE_XTHREAD_FREE;
  let head = Atomics.load(u32, tf);
  for (;;) {
    u32[block >>> 2] = (head & THREAD_FREE_PTR_MASK) >>> 0;
    const seen = Atomics.compareExchange(u32, tf, head, block);
    if (seen === head) break;
    head = seen;
  }
  if ((head & THREAD_FREE_NOTIFY_MASK) !== 0) {
    const heap = Atomics.load(u32, (page >>> 2) + PAGE_XHEAP);
    if (heap !== 0) Atomics.store(u32, (heap >>> 2) + HEAP_XHAS_DELAYED, 1);
  }
}

/**
 * With checks: throw `DoubleFreeError` if `block` is already free. The owner searches all three
 * lists; another thread only the thread-free list (the other two are the owner's to change).
 */
function checkNotFree(a: Arena, page: number, block: number, local: boolean, fn: string): void {
  const u32 = a.u32;
  const pi = page >>> 2;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  const inList = (head: number): boolean => {
    let steps = 0;
    for (let b = head; b !== 0 && steps <= capacity; b = u32[b >>> 2]!, steps++) if (b === block) return true;
    return false;
  };
  const abandoned = Atomics.load(u32, segmentTableIndex(segmentIndex(segmentOf(block)))) === SEGSTATE_ABANDONED;
  if (
    inList((Atomics.load(u32, pi + PAGE_XTHREAD_FREE) & THREAD_FREE_PTR_MASK) >>> 0) ||
    ((local || abandoned) && (inList(u32[pi + PAGE_FREE]!) || inList(u32[pi + PAGE_LOCAL_FREE]!)))
  ) {
    throw new DoubleFreeError(`${fn}: block ${hex(block)} (${u32[pi + PAGE_BLOCK_SIZE]} bytes) is already free: a double free`);
  }
}
