/**
 * The size-class free-list "floor": the least work a JavaScript allocator over a
 * SharedArrayBuffer can do for the reference workload (performance-anchors §A.3). It has no
 * pages, no segments and no thread safety — one LIFO free list per 16-byte size class and a
 * bump pointer — so `ft / floor` measures what mimalloc's metadata and sharing cost.
 *
 * Layout, all in one Int32Array over the buffer (byte offsets, 0 = NULL):
 *
 *   word 0                unused (offset 0 is NULL)
 *   word c, 1 ≤ c ≤ C     head of the free list of class c (block size c·16)
 *   word C+1              bump pointer: the first byte never handed out
 *   then blocks:
 *
 *     b            b+4          b+8 = p
 *     ┌────────────┬────────────┬──────────────────────────────┐
 *     │ class c    │ (padding)  │ c·16 usable bytes            │
 *     └────────────┴────────────┴──────────────────────────────┘
 *                               └ while free: word 0 = next free block
 *
 * The class word is written once, when the block is carved from the bump area; `free` reads it,
 * so a pair costs one header read, two list-word writes and a head update.
 */
export const FLOOR_GRANULE_SHIFT = 4;
export const FLOOR_GRANULE = 1 << FLOOR_GRANULE_SHIFT; // 16 bytes
export const FLOOR_HEADER_SIZE = 8;
/** Largest request the floor serves (bigger ones throw: the workload never asks for them). */
export const FLOOR_MAX_SIZE = 64 * 1024;
const CLASS_COUNT = FLOOR_MAX_SIZE >> FLOOR_GRANULE_SHIFT;
const BUMP_WORD = CLASS_COUNT + 1;
const FIRST_BLOCK = ((BUMP_WORD + 1) * 4 + 15) & ~15;

export class FloorAllocator {
  readonly buffer: SharedArrayBuffer;
  private readonly i32: Int32Array;

  constructor(capacityBytes: number) {
    if (capacityBytes < FIRST_BLOCK + FLOOR_MAX_SIZE || capacityBytes > 0x7fff_fff0) {
      throw new RangeError(`FloorAllocator: capacity ${capacityBytes} out of range`);
    }
    this.buffer = new SharedArrayBuffer(capacityBytes & ~15);
    this.i32 = new Int32Array(this.buffer);
    this.i32[BUMP_WORD] = FIRST_BLOCK;
  }

  /** A block of at least `size` bytes (8-aligned byte offset). Throws when out of memory. */
  malloc(size: number): number {
    const c = (size + (FLOOR_GRANULE - 1)) >> FLOOR_GRANULE_SHIFT || 1;
    const p = c <= CLASS_COUNT ? this.i32[c]! : 0; // past the last class lies the bump word
    if (p !== 0) {
      this.i32[c] = this.i32[p >> 2]!;
      return p;
    }
    return this.mallocFromBump(c, size);
  }

  free(p: number): void {
    const i32 = this.i32;
    const c = i32[(p >> 2) - 2]!;
    i32[p >> 2] = i32[c]!;
    i32[c] = p;
  }

  /** Bytes usable at `p` (its class size). */
  usableSize(p: number): number {
    return this.i32[(p >> 2) - 2]! << FLOOR_GRANULE_SHIFT;
  }

  /** Bytes carved from the buffer so far (blocks with their headers, free or not). */
  carvedBytes(): number {
    return this.i32[BUMP_WORD]! - FIRST_BLOCK;
  }

  /** Number of blocks on the free list of the class serving `size`. */
  freeCount(size: number): number {
    let n = 0;
    const c = (size + (FLOOR_GRANULE - 1)) >> FLOOR_GRANULE_SHIFT || 1;
    for (let p = this.i32[c]!; p !== 0; p = this.i32[p >> 2]!) n++;
    return n;
  }

  private mallocFromBump(c: number, size: number): number {
    if (size > FLOOR_MAX_SIZE || !(size >= 0)) {
      throw new RangeError(`FloorAllocator: size ${size} outside 0..${FLOOR_MAX_SIZE}`);
    }
    const b = this.i32[BUMP_WORD]!;
    const end = b + FLOOR_HEADER_SIZE + (c << FLOOR_GRANULE_SHIFT);
    if (end > this.buffer.byteLength) throw new RangeError("FloorAllocator: out of memory");
    this.i32[BUMP_WORD] = end;
    this.i32[b >> 2] = c;
    return b + FLOOR_HEADER_SIZE;
  }
}
