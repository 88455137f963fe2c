/**
 * Size classes ("bins"), as mimalloc's `mi_bin` with two-word alignment (`MI_ALIGN2W`): up to
 * 8 words a bin per even word count (so blocks from 16 bytes are 16-aligned), then four bins per
 * power of two, which bounds internal waste at 12.5% above 8 words.
 *
 * ```
 *  bin:     1   2   3   4   5   6   7   8   9  10  11  12  13  14  15  16  17 …
 *  words:   1   2   4   6   8  10  12  14  16  20  24  28  32  40  48  56  64 …
 *  bytes:   8  16  32  48  64  80  96 112 128 160 192 224 256 320 384 448 512 …
 * ```
 * Bin 0 is unused (mimalloc keeps it for size 0, which we serve from bin 1). `BIN_HUGE` holds
 * huge pages, `BIN_FULL` is the queue of full pages.
 */
import { checkSize } from "../errors.ts";
import { LARGE_OBJ_WSIZE_MAX, SMALL_WSIZE_MAX, WORD_SHIFT, WORD_SIZE } from "./constants.ts";

/** Bin of a request of `wsize` words (wsize ≥ 0). */
export function binOfWords(wsize: number): number {
  if (wsize <= 1) return 1;
  if (wsize <= 8) return (wsize + 1) & ~1;
  if (wsize > LARGE_OBJ_WSIZE_MAX) return BIN_HUGE;
  const w = wsize - 1;
  const b = 31 - Math.clz32(w); // most significant bit
  return ((b << 2) + ((w >>> (b - 2)) & 3)) - 3;
}

function computeBinHuge(): number {
  const w = LARGE_OBJ_WSIZE_MAX - 1;
  const b = 31 - Math.clz32(w);
  return ((b << 2) + ((w >>> (b - 2)) & 3)) - 3 + 1;
}

/** The bin of huge blocks (each on its own segment span). */
export const BIN_HUGE = computeBinHuge();
/** The queue of full pages. */
export const BIN_FULL = BIN_HUGE + 1;
/** Number of page queues in a heap (bins 0 … BIN_FULL). */
export const BIN_COUNT = BIN_FULL + 1;

/** Block size in bytes of each bin (0 for bin 0 and the huge/full queues). */
export const BIN_BLOCK_SIZE: Int32Array = (() => {
  const sizes = new Int32Array(BIN_COUNT);
  for (let w = 1; w <= LARGE_OBJ_WSIZE_MAX; w++) sizes[binOfWords(w)] = w * WORD_SIZE;
  return sizes;
})();

/** For the direct page table: the bin of every word size 0 … SMALL_WSIZE_MAX. */
export const DIRECT_BIN: Uint8Array = (() => {
  const bins = new Uint8Array(SMALL_WSIZE_MAX + 1);
  for (let w = 0; w <= SMALL_WSIZE_MAX; w++) bins[w] = binOfWords(w);
  return bins;
})();

/** Bin of a request of `size` bytes (a validated size: the allocator's slow paths). */
export function binOfValidSize(size: number): number {
  return binOfWords((size + WORD_SIZE - 1) >>> WORD_SHIFT);
}

/**
 * Bin of a request of `size` bytes (`BIN_HUGE` above the large-object limit).
 * @throws TypeError / RangeError naming `size` when it is not a non-negative integer below 2^32.
 */
export function binOf(size: number): number {
  checkSize("binOf", "size", size);
  if (size > 0xffffffff) throw new RangeError(`binOf: size must be below 2^32, got ${size}`);
  return binOfValidSize(size);
}

/**
 * Block size in bytes of the blocks of `bin` (0 for bin 0 and the huge and full queues).
 * @throws RangeError naming `bin` when it is not an integer 0 … BIN_COUNT − 1.
 */
export function binSize(bin: number): number {
  if (typeof bin !== "number" || !Number.isInteger(bin) || bin < 0 || bin >= BIN_COUNT) {
    throw new RangeError(`binSize: bin must be an integer 0 … ${BIN_COUNT - 1}, got ${typeof bin === "string" ? JSON.stringify(bin) : String(bin)}`);
  }
  return BIN_BLOCK_SIZE[bin]!;
}

/** For each bin served by the direct table: the word sizes it covers, `[min, max]`. */
export const DIRECT_WSIZE_MIN: Uint8Array = new Uint8Array(BIN_COUNT);
export const DIRECT_WSIZE_MAX: Uint8Array = new Uint8Array(BIN_COUNT);
for (let w = SMALL_WSIZE_MAX; w >= 0; w--) DIRECT_WSIZE_MIN[DIRECT_BIN[w]!] = w;
for (let w = 0; w <= SMALL_WSIZE_MAX; w++) DIRECT_WSIZE_MAX[DIRECT_BIN[w]!] = w;
