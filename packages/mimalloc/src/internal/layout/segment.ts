/**
 * The segment header, at the start of slice 0 of every segment in use, followed by the slice
 * table (one page record per slice, see `page.ts`).
 *
 * ```
 *  byte 0                                  64                       64 + 64·64 = 4160
 *  ┌─────────────────────────────────────┬───────────────────────────┬──────────────────┐
 *  │ header words                        │ slice table: 64 × 64 B    │ (rest of slice 0 │
 *  │                                     │ page records              │  unused)         │
 *  └─────────────────────────────────────┴───────────────────────────┴──────────────────┘
 *  word  field           who writes it
 *   0    xthreadId       ATOMIC: owning thread id; 0 = abandoned or free
 *   1    tld             owner: owning tld record (0 when abandoned)
 *   2    pool            abandoner: pool record while abandoned
 *   3    kind            NORMAL or HUGE
 *   4    segmentCount    segment slots spanned (1, or more for a huge block)
 *   5    usedPages       owner: pages in use
 *   6    next            owner: the tld's segment list (an accelerator only: abandonment scans
 *                        the arena's segment table instead, so a half-done link loses nothing)
 *   7    usedSlicesLo    owner: bit i = slice i belongs to a page or the header (slices 0–31)
 *   8    usedSlicesHi    owner: slices 32–63
 *   9    index           const: segment index in the arena
 * ```
 * A page allocation writes the page's records first and sets its `usedSlices` bits last, so a
 * thread that dies in between leaves free slices, never a half-made page.
 */
import { SLICES_PER_SEGMENT } from "./constants.ts";
import { PAGE_RECORD_SIZE } from "./page.ts";

export const SEG_XTHREAD_ID = 0;
export const SEG_TLD = 1;
export const SEG_POOL = 2;
export const SEG_KIND = 3;
export const SEG_SEGMENT_COUNT = 4;
export const SEG_USED_PAGES = 5;
export const SEG_NEXT = 6;
export const SEG_USED_SLICES_LO = 7;
export const SEG_USED_SLICES_HI = 8;
export const SEG_INDEX = 9;

export const SEGMENT_KIND_NORMAL = 1;
export const SEGMENT_KIND_HUGE = 2;

/** Byte offset of the slice table inside the segment. */
export const SEG_SLICES_OFFSET = 64;
export const SEGMENT_HEADER_SIZE = SEG_SLICES_OFFSET + SLICES_PER_SEGMENT * PAGE_RECORD_SIZE;
