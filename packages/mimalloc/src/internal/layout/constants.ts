/**
 * Sizes of the arena's building blocks, each derived from a shift (`*_SHIFT → *_SIZE → *_MASK`).
 *
 * Glossary (after mimalloc's `types.h`):
 * - **arena**: one `SharedArrayBuffer`; every pointer is a byte offset into it (0 = NULL).
 * - **segment**: a `SEGMENT_SIZE` piece of the arena, aligned to its size relative to the buffer
 *   start, owned by one tld (thread-local data) at a time. Segment 0 holds the arena header.
 * - **slice**: a `SLICE_SIZE` piece of a segment. Slice 0 holds the segment header and the slice
 *   table; pages are runs of slices.
 * - **page**: a run of slices holding blocks of one size. Small pages are one slice, medium pages
 *   eight; a large page holds one block; a huge block gets a segment span of its own.
 * - **block**: what `malloc` hands out; at least 8 bytes, 8-aligned, 16-aligned from 16 bytes.
 *
 * ```
 *  arena (SharedArrayBuffer, grows by whole segments, at most 4 GiB)
 *  ┌──────────────┬──────────────┬──────────────┬─────
 *  │ segment 0    │ segment 1    │ segment 2    │ …        each SEGMENT_SIZE = 4 MiB, aligned
 *  │ arena header │┌─┬─┬───────┬─┤              │
 *  │ + records    ││H│p│ page  │…│  slice = 64 KiB; H = segment header + slice table
 *  └──────────────┴┴─┴─┴───────┴─┴──────────────┴─────
 * ```
 */

/** Bytes in a block's smallest unit; size classes count in these. */
export const WORD_SHIFT = 3;
export const WORD_SIZE = 1 << WORD_SHIFT; // 8
export const MAX_ALIGN_SIZE = 16;

export const SLICE_SHIFT = 16;
export const SLICE_SIZE = 1 << SLICE_SHIFT; // 64 KiB
export const SLICE_MASK = SLICE_SIZE - 1;

export const SEGMENT_SHIFT = 22;
export const SEGMENT_SIZE = 1 << SEGMENT_SHIFT; // 4 MiB
export const SEGMENT_MASK = SEGMENT_SIZE - 1;
export const SLICES_PER_SEGMENT = SEGMENT_SIZE / SLICE_SIZE; // 64

export const SMALL_PAGE_SHIFT = SLICE_SHIFT;
export const SMALL_PAGE_SIZE = 1 << SMALL_PAGE_SHIFT; // 64 KiB
export const MEDIUM_PAGE_SHIFT = SMALL_PAGE_SHIFT + 3;
export const MEDIUM_PAGE_SIZE = 1 << MEDIUM_PAGE_SHIFT; // 512 KiB
export const MEDIUM_PAGE_SLICES = MEDIUM_PAGE_SIZE / SLICE_SIZE; // 8

/** Largest block on a small page (CPython divides the page size by 4, upstream by 8). */
export const SMALL_OBJ_SIZE_MAX = SMALL_PAGE_SIZE / 4; // 16 KiB
export const MEDIUM_OBJ_SIZE_MAX = MEDIUM_PAGE_SIZE / 4; // 128 KiB
/** Largest block on a large page inside an ordinary segment; beyond it a block is huge. */
export const LARGE_OBJ_SIZE_MAX = SEGMENT_SIZE / 2; // 2 MiB
export const LARGE_OBJ_WSIZE_MAX = LARGE_OBJ_SIZE_MAX / WORD_SIZE;

/** Sizes served by the heap's direct page table (the malloc fast path). */
export const SMALL_WSIZE_MAX = 128;
export const SMALL_SIZE_MAX = SMALL_WSIZE_MAX * WORD_SIZE; // 1 KiB

/** The arena's `maxByteLength` limit on Node 20: exactly 4 GiB. */
export const ARENA_MAX_BYTES = 2 ** 32;
export const MAX_SEGMENTS = ARENA_MAX_BYTES / SEGMENT_SIZE; // 1024

/** The largest request `malloc` accepts (a huge block spans whole segments after one header slice). */
export const MAX_ALLOC_SIZE = ARENA_MAX_BYTES - 2 * SEGMENT_SIZE;

/** Heap tags: a heap has one, its pages copy it (CPython uses 0–3). */
export const TAG_COUNT = 16;
