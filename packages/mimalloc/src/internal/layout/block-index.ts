/**
 * Block index from a byte offset in a page, without a division: the visitor's free map needs
 * `index = offset / blockSize` for every block on a page's free lists.
 *
 * Every offset that occurs is a block start, so an exact multiple of the block size, and an exact
 * division by a constant suffices (Granlund & Montgomery 1994, §9: "exact division"). Split the
 * block size into a power of two and an odd part, `blockSize = 2^shift · odd`; an odd number has
 * an inverse modulo 2^32, and for `offset = index · blockSize`
 *
 * ```
 *   (offset >>> shift) · inverse(odd)  ≡  index · odd · inverse(odd)  ≡  index   (mod 2^32)
 *   index = Math.imul(offset >>> shift, inverse)          one shift, one 32-bit multiply
 * ```
 * is exact (no rounding: `Math.imul` is the 32-bit product), where mimalloc's fast divide
 * (`shift = ceil(log2 d)`, `magic = floor(2^32·(2^shift − d)/d) + 1`,
 * `q = ((n·magic >> 32) + n) >> shift`) needs a 52-bit product, which in JavaScript means float
 * multiplies, a floor and a conversion. Measured on the visitor's free-map build (see "Visiting blocks" in the README):
 * this form is the fastest of the exact ones.
 *
 * An offset that is not a block start gives a wrong index; the visitor checks
 * `start + index · blockSize === block` in debug builds. `test/visit-divide.test.ts` checks
 * exactness for every block size a page with more than one block can have and every block offset
 * in such a page.
 *
 * ```
 *  blockSize  48 = 2^4 · 3      shift 4   inverse(3) = 0xaaaaaaab
 *  offset   1440 = 30 · 48      1440 >>> 4 = 90      90 · 0xaaaaaaab mod 2^32 = 30
 * ```
 */

/** `shift`: trailing zero bits of the block size (the power of two in it). */
export function blockIndexShift(blockSize: number): number {
  return 31 - Math.clz32(blockSize & -blockSize);
}

/**
 * `inverse`: the inverse modulo 2^32 of the block size's odd part, by Newton's iteration
 * `x ← x·(2 − odd·x)`, which doubles the number of correct low bits: `x = odd` is right in 3 bits
 * (odd² ≡ 1 mod 8), four steps give 48 ≥ 32.
 */
export function blockIndexInverse(blockSize: number): number {
  const odd = blockSize >>> blockIndexShift(blockSize);
  let x = odd;
  x = Math.imul(x, 2 - Math.imul(odd, x));
  x = Math.imul(x, 2 - Math.imul(odd, x));
  x = Math.imul(x, 2 - Math.imul(odd, x));
  x = Math.imul(x, 2 - Math.imul(odd, x));
  return x;
}

/** The index of the block at byte `offset` of its page (`offset` a multiple of the block size). */
export function blockIndexOf(offset: number, shift: number, inverse: number): number {
  return Math.imul(offset >>> shift, inverse);
}
