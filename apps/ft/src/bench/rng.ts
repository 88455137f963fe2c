/**
 * xorshift32 (shifts 13, 17, 5), the random stream of the reference allocator workload
 * (performance-anchors §A.1). Seeded with 42, one stream feeds indices and sizes in call order;
 * the C port of the workload draws the same numbers.
 *
 * The generator is a closure on purpose: the anchor's JavaScript numbers were measured through
 * a closure call `r()`, and the benchmark keeps that harness cost identical.
 */
export type Rng = () => number;

/** A xorshift32 stream: each call returns the next uint32 (never 0 for a nonzero seed). */
export function xorshift32(seed: number): Rng {
  let x = seed >>> 0;
  if (x === 0) throw new RangeError("xorshift32: the seed must be nonzero");
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** The seed of every reference workload stream. */
export const REFERENCE_SEED = 42;

/** A request size of the reference workload: 16..256 bytes from the stream. */
export function referenceSize(r: Rng): number {
  return 16 + (r() % 241);
}
