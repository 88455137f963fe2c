// The visitor's block index (layout/block-index.ts): exact, by exhaustion, for every block size a
// page with more than one block can have and every block offset in such a page.
import { describe, expect, it } from "vitest";
import { blockIndexInverse, blockIndexOf, blockIndexShift } from "../src/internal/layout/block-index.ts";
import {
  LARGE_OBJ_SIZE_MAX,
  MEDIUM_OBJ_SIZE_MAX,
  MEDIUM_PAGE_SIZE,
  SLICE_SIZE,
  SMALL_OBJ_SIZE_MAX,
  SMALL_PAGE_SIZE,
  WORD_SIZE,
} from "../src/internal/layout/constants.ts";
import { BIN_BLOCK_SIZE, BIN_HUGE } from "../src/internal/layout/size-class.ts";
import { VISIT_MAX_BLOCKS } from "../src/internal/visit.ts";

/** The page size a bin's pages get (as `pageFresh` chooses it). */
function pageSizeOf(blockSize: number): number {
  if (blockSize <= SMALL_OBJ_SIZE_MAX) return SMALL_PAGE_SIZE;
  if (blockSize <= MEDIUM_OBJ_SIZE_MAX) return MEDIUM_PAGE_SIZE;
  return Math.ceil(blockSize / SLICE_SIZE) * SLICE_SIZE;
}

const binSizes = Array.from(BIN_BLOCK_SIZE.subarray(1, BIN_HUGE)).filter((size) => size > 0);

describe("block index by exact division", () => {
  it("computes shift and inverse: blockSize = 2^shift · odd and odd · inverse ≡ 1 (mod 2^32)", () => {
    for (let size = WORD_SIZE; size <= LARGE_OBJ_SIZE_MAX; size += WORD_SIZE) {
      const shift = blockIndexShift(size);
      const odd = size / 2 ** shift;
      if (!Number.isInteger(odd) || odd % 2 !== 1 || Math.imul(odd, blockIndexInverse(size)) !== 1) {
        throw new Error(`size ${size}: shift ${shift}, inverse ${blockIndexInverse(size)}`);
      }
    }
    expect([blockIndexShift(48), blockIndexInverse(48) >>> 0]).toEqual([4, 0xaaaaaaab]);
  });

  it("is exact for every bin's block size and every block offset in its page, with at most 8192 blocks per page", () => {
    let checked = 0;
    let multiBlockSizes = 0;
    for (const size of binSizes) {
      const reserved = Math.floor(pageSizeOf(size) / size);
      if (reserved > 1) multiBlockSizes++;
      expect(reserved).toBeLessThanOrEqual(VISIT_MAX_BLOCKS);
      const shift = blockIndexShift(size);
      const inverse = blockIndexInverse(size);
      for (let i = 0; i < reserved; i++) {
        if (blockIndexOf(i * size, shift, inverse) !== i)
          throw new Error(`block ${i} of size ${size} gives a wrong index`);
        checked++;
      }
    }
    expect(multiBlockSizes).toBeGreaterThan(40);
    expect(checked).toBeGreaterThan(20_000);
    expect(Math.floor(SMALL_PAGE_SIZE / BIN_BLOCK_SIZE[1]!)).toBe(VISIT_MAX_BLOCKS);
  });

  it("never maps an offset that is not a block start to a block start (what the debug check relies on), for every byte offset of every page", () => {
    for (const size of binSizes) {
      const pageSize = Math.floor(pageSizeOf(size) / size) * size;
      const shift = blockIndexShift(size);
      const inverse = blockIndexInverse(size);
      for (let offset = 0; offset < pageSize; offset++) {
        const i = blockIndexOf(offset, shift, inverse);
        const isStart = i >= 0 && i * size === offset;
        if (isStart !== (offset % size === 0))
          throw new Error(`offset ${offset} of size ${size}: index ${i}`);
      }
    }
  });

  it("is exact for every multiple-of-8 block size up to 2 MiB over a 512 KiB page (any size a page could be given)", () => {
    for (let size = WORD_SIZE; size <= LARGE_OBJ_SIZE_MAX; size += WORD_SIZE) {
      const shift = blockIndexShift(size);
      const inverse = blockIndexInverse(size);
      const n = Math.max(1, Math.floor(MEDIUM_PAGE_SIZE / size));
      for (let i = 0; i < n; i++) {
        if (blockIndexOf(i * size, shift, inverse) !== i)
          throw new Error(`block ${i} of size ${size} gives a wrong index`);
      }
    }
  });
});
