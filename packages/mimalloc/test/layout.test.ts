// The role of mimalloc's `#error` checks: sizes derive from shifts, divide evenly, and records fit.
import { describe, expect, it } from "vitest";
import { DEFAULT_POOL, DETACHED_DIRECT, EMPTY_PAGE, RECORD_AREA_START, RECORD_FREE_LISTS, SEGMENT_TABLE } from "../src/internal/layout/arena.ts";
import * as C from "../src/internal/layout/constants.ts";
import { HEAP_RECORD_SIZE, HEAP_WORDS } from "../src/internal/layout/heap.ts";
import { PAGE_RECORD_SIZE, PAGE_WORDS } from "../src/internal/layout/page.ts";
import { SEGMENT_HEADER_SIZE, SEG_SLICES_OFFSET } from "../src/internal/layout/segment.ts";
import { BIN_BLOCK_SIZE, BIN_FULL, BIN_HUGE, binOf, binOfWords, DIRECT_BIN } from "../src/internal/layout/size-class.ts";
import { TLD_RECORD_SIZE } from "../src/internal/layout/tld.ts";
import { Arena } from "../src/index.ts";

describe("layout constants", () => {
  it("derives every size from its shift and divides evenly", () => {
    expect(C.SLICE_SIZE).toBe(2 ** C.SLICE_SHIFT);
    expect(C.SEGMENT_SIZE).toBe(2 ** C.SEGMENT_SHIFT);
    expect(C.SEGMENT_SIZE % C.SLICE_SIZE).toBe(0);
    expect(C.SLICES_PER_SEGMENT).toBe(64);
    expect(C.MEDIUM_PAGE_SIZE % C.SLICE_SIZE).toBe(0);
    expect(C.ARENA_MAX_BYTES / C.SEGMENT_SIZE).toBe(C.MAX_SEGMENTS);
    expect(C.SMALL_OBJ_SIZE_MAX).toBe(C.SMALL_PAGE_SIZE / 4);
    expect(C.MEDIUM_OBJ_SIZE_MAX).toBe(C.MEDIUM_PAGE_SIZE / 4);
  });

  it("fits the segment header and slice table in slice 0", () => {
    expect(PAGE_RECORD_SIZE).toBe(PAGE_WORDS * 4);
    expect(SEG_SLICES_OFFSET % PAGE_RECORD_SIZE).toBe(0);
    expect(SEGMENT_HEADER_SIZE).toBeLessThanOrEqual(C.SLICE_SIZE);
  });

  it("fits the arena header areas in segment 0 in order", () => {
    expect(SEGMENT_TABLE + C.MAX_SEGMENTS * 4).toBeLessThanOrEqual(EMPTY_PAGE);
    expect(EMPTY_PAGE + PAGE_RECORD_SIZE).toBeLessThanOrEqual(DEFAULT_POOL);
    expect(DEFAULT_POOL + 64).toBeLessThanOrEqual(RECORD_AREA_START);
    expect(RECORD_FREE_LISTS + 9 * 4).toBeLessThanOrEqual(DETACHED_DIRECT);
    expect(DETACHED_DIRECT + (C.SMALL_WSIZE_MAX + 1) * 4).toBeLessThanOrEqual(SEGMENT_TABLE);
    expect(HEAP_RECORD_SIZE).toBeGreaterThanOrEqual(HEAP_WORDS * 4);
    expect(HEAP_RECORD_SIZE % 64).toBe(0);
    expect(TLD_RECORD_SIZE).toBe(128);
  });
});

describe("size classes", () => {
  it("gives mimalloc's bins: one per even word count up to 8 words, then four per power of two", () => {
    const words = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 16, 17, 20, 32, 33];
    expect(words.map(binOfWords)).toEqual([1, 2, 4, 4, 6, 6, 8, 8, 9, 9, 10, 11, 12, 13, 13, 16, 17]);
    expect(BIN_BLOCK_SIZE.slice(1, 18)).toEqual(
      new Int32Array([8, 16, 0, 32, 0, 48, 0, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]),
    );
  });

  it("wastes at most 12.5% on average (25% at worst) above 8 words, and keeps blocks from 16 bytes 16-aligned", () => {
    let wasted = 0;
    let requested = 0;
    for (let size = 65; size <= C.LARGE_OBJ_SIZE_MAX; size += 7) {
      const bs = BIN_BLOCK_SIZE[binOf(size)]!;
      expect(bs).toBeGreaterThanOrEqual(size);
      expect((bs - size) / size).toBeLessThanOrEqual(0.25);
      wasted += (bs - size) / size;
      requested++;
    }
    expect(wasted / requested).toBeLessThanOrEqual(0.125);
    for (let bin = 2; bin < BIN_HUGE; bin++) if (BIN_BLOCK_SIZE[bin]) expect(BIN_BLOCK_SIZE[bin]! % 16).toBe(0);
    expect(BIN_FULL).toBe(BIN_HUGE + 1);
    expect(binOf(C.LARGE_OBJ_SIZE_MAX + 1)).toBe(BIN_HUGE);
  });

  it("serves size 0 from the smallest bin and covers every direct word size", () => {
    expect(binOf(0)).toBe(1);
    for (let w = 0; w <= C.SMALL_WSIZE_MAX; w++) expect(BIN_BLOCK_SIZE[DIRECT_BIN[w]!]!).toBeGreaterThanOrEqual(w * 8);
  });
});

describe("addresses", () => {
  it("hands out the first block at segment 1, slice 1, and neighbours one block size apart", () => {
    const a = Arena.create({ maxBytes: 64 << 20 });
    const p = a.malloc(24);
    const q = a.malloc(24);
    expect(p).toBe(C.SEGMENT_SIZE + C.SLICE_SIZE);
    expect(q - p).toBe(32);
    expect(a.usableSize(p)).toBe(32);
  });
});
