/**
 * The reference allocator workload (performance-anchors §A.1):
 *
 *   fill (untimed):  live[i] = alloc(16 + r() % 241)            for i < W
 *   churn (timed):   k = r() % W; free(live[k]); live[k] = alloc(16 + r() % 241)   OPS times
 *
 * with r = xorshift32 seeded 42, one stream for indices and sizes in that call order.
 *
 * Every benchmark process runs these loops with exactly one allocator class, so the `malloc` and
 * `free` call sites stay monomorphic (a second class through the same loop makes V8 deoptimise
 * them and the numbers drift by ~2×, see §A.3). Keep it that way: one case per process.
 */
import type { Rng } from "./rng.ts";

/** What the workload needs from an allocator; `P` is its pointer (a byte offset, or an object). */
export interface Allocator<P> {
  malloc(size: number): P;
  free(p: P): void;
}

/** Fill `live` (its length is W) with fresh blocks of reference sizes. */
export function fillLive<P>(a: Allocator<P>, live: P[], r: Rng): void {
  const W = live.length;
  for (let i = 0; i < W; i++) live[i] = a.malloc(16 + (r() % 241));
}

/** Run `ops` timed free+malloc pairs over `live`; returns the elapsed nanoseconds. */
export function churn<P>(a: Allocator<P>, live: P[], r: Rng, ops: number): number {
  const W = live.length;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const k = r() % W;
    a.free(live[k]!);
    live[k] = a.malloc(16 + (r() % 241));
  }
  return (performance.now() - t0) * 1e6;
}

/** Free every block in `live` (untimed clean-up). */
export function freeAll<P>(a: Allocator<P>, live: P[]): void {
  for (let i = 0; i < live.length; i++) a.free(live[i]!);
}

/** How many entries of `live` are 0, i.e. allocations that failed (checked after the timed loop). */
export function countNull(live: readonly unknown[]): number {
  let n = 0;
  for (let i = 0; i < live.length; i++) if (live[i] === 0) n++;
  return n;
}

/** The "harness" case: the same rng and array traffic, no allocator work. */
export class NoAllocator implements Allocator<number> {
  malloc(size: number): number {
    return size;
  }
  free(_p: number): void {}
}

/** The "v8" case: a fresh `Uint8Array` per block, dropped on free (V8's GC reclaims it). */
export class V8Allocator implements Allocator<Uint8Array> {
  malloc(size: number): Uint8Array {
    return new Uint8Array(size);
  }
  free(_p: Uint8Array): void {}
}
