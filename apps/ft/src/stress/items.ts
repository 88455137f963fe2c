/**
 * Blocks of the stress test, as in mimalloc's `test/test-stress.c`: a block of `items` 8-byte
 * words whose word i holds `(items - i) ^ cookie` (stored in the low 32 bits of each word), so
 * the first word tells the size and every word is checked when the block is freed — by whichever
 * thread frees it.
 */
export interface StressArena {
  readonly buffer: SharedArrayBuffer;
  malloc(size: number): number;
  free(p: number): void;
}

/** The stress test's random source, mimalloc's `pick` (Chris Wellons' 32-bit hash, iterated). */
export class Pick {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1; // 0 is the hash's fixed point
  }
  next(): number {
    let x = this.x;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    this.x = x >>> 0;
    return this.x;
  }
  /** True with probability about `perc` percent (mimalloc's `chance`). */
  chance(perc: number): boolean {
    return this.next() % 100 <= perc;
  }
}

export class StressCorruptionError extends Error {
  override name = "StressCorruptionError";
}

export class StressHeap {
  private u32: Uint32Array;
  constructor(
    readonly arena: StressArena,
    readonly cookie: number,
    readonly allowLarge: boolean,
  ) {
    this.u32 = StressHeap.fixedView(arena.buffer);
  }

  /**
   * A fixed-length view: on Node 20 a length-tracking view of a growable buffer
   * (`new Uint32Array(buffer)`) takes V8's slow element path.
   */
  static fixedView(buffer: SharedArrayBuffer): Uint32Array {
    return new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }

  /** mimalloc's `alloc_items`: 1% large (×100; with large objects also ×1000, ×10000). */
  alloc(items: number, r: Pick): number {
    if (r.chance(1)) {
      if (r.chance(1) && this.allowLarge) items *= 10_000;
      else if (r.chance(10) && this.allowLarge) items *= 1000;
      else items *= 100;
    }
    if (items === 40) items++; // pthreads uses that size for stack increases (kept from the C test)
    if (items === 0) items = 1;
    const p = this.arena.malloc(items * 8);
    if (p === 0) throw new Error(`stress: out of memory allocating ${items * 8} bytes`);
    if (p & 7) throw new StressCorruptionError(`stress: malloc returned a misaligned pointer ${p}`);
    const u32 = this.view();
    const w = p >>> 2;
    for (let i = 0; i < items; i++) u32[w + 2 * i] = (items - i) ^ this.cookie;
    return p;
  }

  /** mimalloc's `free_items`: check every word, then free. 0 is ignored. */
  free(p: number): void {
    if (p === 0) return;
    const u32 = this.view();
    const w = p >>> 2;
    const items = (u32[w]! ^ this.cookie) >>> 0;
    if (items === 0 || items * 8 > this.arena.buffer.byteLength - p) {
      throw new StressCorruptionError(`stress: memory corruption at ${p}: bad size word ${u32[w]}`);
    }
    for (let i = 0; i < items; i++) {
      if (u32[w + 2 * i] !== ((items - i) ^ this.cookie) >>> 0) {
        throw new StressCorruptionError(`stress: memory corruption at ${p} word ${i} of ${items}`);
      }
    }
    this.arena.free(p);
  }

  /** A growable buffer may have grown: re-take the view when it did. */
  private view(): Uint32Array {
    if (this.u32.byteLength !== this.arena.buffer.byteLength)
      this.u32 = StressHeap.fixedView(this.arena.buffer);
    return this.u32;
  }
}
