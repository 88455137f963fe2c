// Ports of mimalloc's test/test-api.c and test-api-fill.c cases that apply to an arena.
import { describe, expect, it } from "vitest";
import { Arena, LARGE_OBJ_SIZE_MAX, MAX_ALLOC_SIZE, SEGMENT_SIZE } from "../src/index.ts";

function arena(maxBytes = 256 << 20) {
  return Arena.create({ maxBytes, checks: true });
}

function allZero(a: Arena, p: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a.u8[p + i] !== 0) return false;
  return true;
}

describe("malloc (test-api)", () => {
  it("malloc-zero: size 0 gives a usable, freeable block", () => {
    const a = arena();
    const p = a.malloc(0);
    expect(p).not.toBe(0);
    expect(a.usableSize(p)).toBeGreaterThanOrEqual(0);
    a.free(p);
    a.check();
  });

  it("malloc-nomem1: a request no arena can hold returns NULL and the arena stays usable", () => {
    const a = arena(16 << 20);
    expect(a.malloc(MAX_ALLOC_SIZE + 1)).toBe(0);
    expect(a.malloc(64 << 20)).toBe(0); // more than this arena's maximum
    const p = a.malloc(100);
    expect(p).not.toBe(0);
    a.free(p);
    a.check();
  });

  it("malloc-null: free(0) does nothing", () => {
    const a = arena();
    a.free(0);
    a.check();
  });

  it("calloc-overflow: a product that overflows returns NULL", () => {
    const a = arena();
    expect(a.calloc(2 ** 31, 1000)).toBe(0);
  });

  it("calloc0: zero count gives a freeable block", () => {
    const a = arena();
    const p = a.calloc(0, 1000);
    expect(p).not.toBe(0);
    a.free(p);
  });

  it("malloc-large: a block larger than a large page is huge, usable, and freed whole", () => {
    const a = arena();
    const before = a.stats().segmentsInUse;
    const p = a.malloc(5 * SEGMENT_SIZE);
    expect(p).not.toBe(0);
    expect(a.usableSize(p)).toBeGreaterThanOrEqual(5 * SEGMENT_SIZE);
    a.u8[p + 5 * SEGMENT_SIZE - 1] = 7;
    expect(a.stats().pages.huge).toBe(1);
    a.free(p);
    expect(a.stats().segmentsInUse).toBe(before);
    a.check();
  });

  it("serves every size class and large pages, with usable size at least the request", () => {
    const a = arena();
    const ps: number[] = [];
    for (let size = 1; size <= LARGE_OBJ_SIZE_MAX; size = Math.ceil(size * 1.3)) {
      const p = a.malloc(size);
      expect(p % (size >= 16 ? 16 : 8)).toBe(0);
      expect(a.usableSize(p)).toBeGreaterThanOrEqual(size);
      ps.push(p);
    }
    a.check();
    for (const p of ps) a.free(p);
    a.check();
  });
});

describe("aligned allocation (test-api)", () => {
  it("posix_memalign1 / malloc-aligned1–3: aligned blocks of many sizes", () => {
    const a = arena();
    for (const align of [1, 2, 4, 8, 16, 32, 64, 128, 256, 4096, 65536, 1 << 20]) {
      for (const size of [0, 1, 17, 100, 1000, 5000, 100_000]) {
        const p = a.mallocAligned(size, align);
        expect(p).not.toBe(0);
        expect(p % align).toBe(0);
        expect(a.usableSize(p)).toBeGreaterThanOrEqual(size);
        a.u8.fill(0xab, p, p + size);
        a.free(p);
      }
    }
    a.check();
  });

  it("malloc-aligned9: many aligned blocks stay apart and free cleanly", () => {
    const a = arena();
    const ps: number[] = [];
    for (let i = 0; i < 200; i++) {
      const align = 2 ** (i % 14);
      const p = a.mallocAligned(8 + (i % 50) * 8, align);
      expect(p % align).toBe(0);
      ps.push(p);
    }
    const sorted = [...ps].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThan(0);
    for (const p of ps) a.free(p);
    a.check();
  });

  it("malloc-aligned-at1/2: p + offset is aligned", () => {
    const a = arena();
    for (const align of [16, 32, 64, 1024, 4096]) {
      for (const offset of [0, 3, 8, 16, 100]) {
        const p = a.mallocAlignedAt(48, align, offset);
        expect((p + offset) % align).toBe(0);
        expect(a.usableSize(p)).toBeGreaterThanOrEqual(48);
        a.free(p);
      }
    }
    a.check();
  });

  it("posix_memalign_nopow2: an alignment that is not a power of two is a RangeError", () => {
    const a = arena();
    expect(() => a.mallocAligned(10, 3)).toThrow(/alignment must be a power of two.*got 3/);
    expect(() => a.mallocAligned(10, 0)).toThrow(RangeError);
    a.check();
  });

  it("zalloc-aligned-small1: zeroed aligned memory is zero", () => {
    const a = arena();
    const p = a.malloc(200);
    a.u8.fill(0xff, p, p + 200);
    a.free(p);
    const q = a.zallocAligned(200, 64);
    expect(q % 64).toBe(0);
    expect(allZero(a, q, 200)).toBe(true);
  });

  it("rezalloc-aligned: reallocAligned keeps the alignment and the contents", () => {
    const a = arena();
    const p = a.mallocAligned(40, 128);
    for (let i = 0; i < 40; i++) a.u8[p + i] = i;
    const q = a.reallocAligned(p, 4000, 128);
    expect(q % 128).toBe(0);
    for (let i = 0; i < 40; i++) expect(a.u8[q + i]).toBe(i);
    a.free(q);
    a.check();
  });
});

describe("realloc (test-api)", () => {
  it("realloc-null: realloc(0, n) allocates", () => {
    const a = arena();
    const p = a.realloc(0, 4);
    expect(p).not.toBe(0);
    a.free(p);
  });

  it("realloc-null-sizezero / realloc-sizezero: size 0 gives a valid block", () => {
    const a = arena();
    const p = a.realloc(0, 0);
    expect(p).not.toBe(0);
    const q = a.malloc(1);
    const r = a.realloc(q, 0);
    expect(r).not.toBe(0);
    a.free(p);
    a.free(r);
    a.check();
  });

  it("keeps the block when it still fits and moves it (with its contents) when it grows", () => {
    const a = arena();
    const p = a.malloc(100);
    for (let i = 0; i < 100; i++) a.u8[p + i] = i;
    expect(a.realloc(p, 90)).toBe(p);
    const q = a.realloc(p, 10_000);
    expect(q).not.toBe(p);
    for (let i = 0; i < 90; i++) expect(a.u8[q + i]).toBe(i);
    const r = a.realloc(q, 10);
    for (let i = 0; i < 10; i++) expect(a.u8[r + i]).toBe(i);
    a.free(r);
    a.check();
  });

  it("returns NULL and leaves the block intact when the new size cannot be had", () => {
    const a = arena(16 << 20);
    const p = a.malloc(64);
    a.u8[p] = 9;
    expect(a.realloc(p, 100 << 20)).toBe(0);
    expect(a.u8[p]).toBe(9);
    expect(a.usableSize(p)).toBe(64);
    a.free(p);
    a.check();
  });
});

describe("heaps (test-api heap_destroy / heap_delete)", () => {
  it("heap_destroy: frees every block of the heap at once", () => {
    const a = arena();
    const before = a.stats();
    const h = a.heapNew(5);
    for (let i = 0; i < 5000; i++) h.malloc(16 + (i % 500));
    h.malloc(3 << 20);
    expect(a.stats().usedBlocks).toBe(before.usedBlocks + 5001);
    h.destroy();
    expect(a.stats().usedBlocks).toBe(before.usedBlocks);
    expect(() => h.malloc(8)).toThrow(/destroyed/);
    a.check();
  });

  it("heap_delete: live blocks survive and move to the backing heap with its tag", () => {
    const a = arena();
    const h = a.heapNew(3);
    const ps: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const p = h.malloc(40);
      a.u8[p] = i & 0xff;
      ps.push(p);
    }
    h.delete();
    a.check();
    for (const [i, p] of ps.entries()) expect(a.u8[p]).toBe(i & 0xff);
    for (const p of ps) a.free(p);
    a.check();
  });

  it("heap collect frees empty pages and forced collect frees retired ones", () => {
    const a = arena();
    const h = a.heapNew(0);
    const ps = Array.from({ length: 3000 }, () => h.malloc(100));
    for (const p of ps) a.free(p);
    h.collect(true);
    expect(a.stats().pageBytesInUse).toBe(0);
    a.check();
  });

  it("heapNew rejects a tag outside 0–15", () => {
    const a = arena();
    expect(() => a.heapNew(16)).toThrow(/tag must be an integer 0–15, got 16/);
    expect(() => a.heapNew(-1)).toThrow(RangeError);
    expect(() => a.heapNew(1.5)).toThrow(TypeError);
    a.check();
  });
});

describe("zero fill (test-api-fill)", () => {
  it("zeroinit-zalloc / calloc: small, medium, large and huge blocks are zero even when reused", () => {
    const a = arena();
    for (const size of [1, 100, 1000, 20_000, 300_000, 5 << 20]) {
      const dirty = a.malloc(size);
      a.u8.fill(0xee, dirty, dirty + size);
      a.free(dirty);
      const p = a.zalloc(size);
      expect(allZero(a, p, size)).toBe(true);
      const q = a.calloc(size, 1);
      expect(allZero(a, q, size)).toBe(true);
      a.free(p);
      a.free(q);
    }
    a.check();
  });
});

describe("stamps", () => {
  it("nextStamp hands out distinct nonzero stamps to every thread attached to the arena", () => {
    const a = Arena.create();
    const b = Arena.attach(a.buffer); // another thread's handle
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      for (const s of [a.nextStamp(), b.nextStamp()]) {
        expect(s).toBeGreaterThan(0);
        expect(seen.has(s)).toBe(false);
        seen.add(s);
      }
    }
    b.detach();
    a.check();
  });
});
