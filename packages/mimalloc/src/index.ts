/**
 * @ft/mimalloc — a mimalloc-style heap in a SharedArrayBuffer, shared by worker threads.
 *
 * ```ts
 * const arena = Arena.create({ maxBytes: 256 << 20 });
 * const p = arena.malloc(100);      // a byte offset into arena.buffer
 * arena.u8[p] = 42;
 * worker.postMessage(arena.buffer); // the worker calls Arena.attach(buffer) and may free p
 * arena.free(p);
 * ```
 */
export { Arena, Heap, type ArenaOptions } from "./internal/arena.ts";
export type { ArenaStats, PageCounts } from "./internal/check.ts";
export { DoubleFreeError, HeapCorruptionError, InvalidPointerError } from "./internal/errors.ts";
export {
  ARENA_MAX_BYTES,
  LARGE_OBJ_SIZE_MAX,
  MAX_ALIGN_SIZE,
  MAX_ALLOC_SIZE,
  MEDIUM_OBJ_SIZE_MAX,
  MEDIUM_PAGE_SIZE,
  SEGMENT_SIZE,
  SLICE_SIZE,
  SLICES_PER_SEGMENT,
  SMALL_OBJ_SIZE_MAX,
  SMALL_PAGE_SIZE,
  SMALL_SIZE_MAX,
  TAG_COUNT,
  WORD_SIZE,
} from "./internal/layout/constants.ts";
export { BIN_COUNT, BIN_FULL, BIN_HUGE, binOf, binSize } from "./internal/layout/size-class.ts";
export { HEAP_RECORD_SIZE, HEAP_USER, HEAP_USER_WORDS } from "./internal/layout/heap.ts";
export { TLD_RECORD_SIZE } from "./internal/layout/tld.ts";
export { POOL_RECORD_SIZE } from "./internal/layout/arena.ts";
export { RECORD_KIND_HEAP } from "./internal/arena.ts";
export {
  type HeapArea,
  type HeapVisitor,
  type VisitOptions,
  VISIT_ALL_TAGS,
  VISIT_MAX_BLOCKS,
  visitAbandonedPool,
  visitHeap,
  visitTagWorldStopped,
} from "./internal/visit.ts";
