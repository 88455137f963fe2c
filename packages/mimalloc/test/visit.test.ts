// Block visiting: every special case of the fast page walk hit on purpose and compared with the
// plain oracle (test/visit-oracle.ts); stopping; nesting; remote frees collected; bad input.
import { beforeEach, describe, expect, it } from "vitest";
import {
  Arena,
  type Heap,
  type HeapArea,
  visitAbandonedPool,
  visitHeap,
  visitTagWorldStopped,
} from "../src/index.ts";
import { freeBlockMt, pageOfBlock } from "../src/internal/free.ts";
import { PAGE_FLAG_IN_FULL_MASK, PAGE_FLAGS } from "../src/internal/layout/page.ts";
import {
  PATH_EMPTY,
  PATH_FREE_MAP,
  PATH_FREE_MAP_PAIR,
  PATH_FULL,
  PATH_PLAIN,
  PATH_SINGLE,
  visitPathCounts,
} from "../src/internal/visit.ts";
import { collect, oracleLive } from "./visit-oracle.ts";

let seed = 7;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>>= 0);
}

/** Allocate `n` blocks of `size` from `heap`. */
function fill(heap: Heap, n: number, size: number): number[] {
  return Array.from({ length: n }, () => heap.malloc(size));
}

function paths(): number[] {
  return Array.from(visitPathCounts);
}

/** Path counters gained while `fn` runs. */
function pathsDuring(fn: () => void): {
  empty: number;
  single: number;
  full: number;
  freeMap: number;
  pair: number;
  plain: number;
} {
  const before = paths();
  fn();
  const d = paths().map((v, i) => v - before[i]!);
  return {
    empty: d[PATH_EMPTY]!,
    single: d[PATH_SINGLE]!,
    full: d[PATH_FULL]!,
    freeMap: d[PATH_FREE_MAP]!,
    pair: d[PATH_FREE_MAP_PAIR]!,
    plain: d[PATH_PLAIN]!,
  };
}

/** Visit `heap` fast and plain, check both against the oracle (read before anything is collected). */
function expectHeapMatchesOracle(a: Arena, heap: Heap): ReturnType<typeof collect> {
  const oracle = oracleLive(a, { heap: heap.record });
  const fast = collect((v, o) => visitHeap(a, heap, v, o));
  expect(fast.blocks).toEqual(oracle);
  expect(collect((v, o) => visitHeap(a, heap, v, o), { plain: true }).blocks).toEqual(oracle);
  for (const area of fast.areas) {
    expect(area.used).toBe(fast.blocks.filter((b) => b.page === area.page).length);
  }
  a.check();
  return fast;
}

describe("visitHeap: the page walk's special cases, each hit on purpose", () => {
  let a: Arena;
  beforeEach(() => {
    a = Arena.create({ maxBytes: 256 << 20, checks: true });
  });

  it("reports an empty (retired) page as an area with used 0 and visits no block", () => {
    const h = a.heapNew(0);
    const p = h.malloc(40);
    a.free(p); // the page is alone in its queue: retired, kept
    let blocks = 0;
    const areas: HeapArea[] = [];
    const d = pathsDuring(() => {
      expect(
        visitHeap(a, h, { area: (area) => void areas.push({ ...area }), block: () => void blocks++ }),
      ).toBe(true);
    });
    expect(areas).toHaveLength(1);
    expect(areas[0]).toMatchObject({ used: 0, blockSize: 48, capacity: expect.any(Number), tag: 0 });
    expect(blocks).toBe(0);
    expect(d.empty).toBe(1);
  });

  it("walks a full page in order without a free map", () => {
    const h = a.heapNew(3);
    const blocks = fill(h, 1024, 64); // 64 KiB / 64 B: exactly one page, every block handed out
    const d = pathsDuring(() => {
      const { blocks: seen, areas } = expectHeapMatchesOracle(a, h);
      expect(seen.map((s) => s.block)).toEqual([...blocks].sort((x, y) => x - y));
      expect(seen.every((s) => s.size === 64 && s.tag === 3)).toBe(true);
      expect(areas).toEqual([
        expect.objectContaining({ capacity: 1024, reserved: 1024, used: 1024, blockSize: 64 }),
      ]);
    });
    expect(d.full).toBe(1);
    expect(d.freeMap).toBe(0);
  });

  it("visits the one block of single-block pages (a large block, and a small page of 16 KiB blocks)", () => {
    const h = a.heapNew(0);
    const large = h.malloc(300_000);
    const small = h.malloc(16 * 1024); // threaded one block at a time: capacity 1 of 4
    const d = pathsDuring(() => {
      const { blocks, areas } = expectHeapMatchesOracle(a, h);
      expect(blocks.map((b) => b.block).sort((x, y) => x - y)).toEqual([large, small].sort((x, y) => x - y));
      expect(areas.map((x) => x.capacity)).toEqual([1, 1]);
      expect(areas.find((x) => x.blockSize === 16384)?.reserved).toBe(4);
    });
    expect(d.single).toBe(2);
  });

  it("ignores the unused high bits of a partly used last free-map word (48-byte blocks: capacity 1365 = 42·32 + 21)", () => {
    const h = a.heapNew(0);
    const blocks = fill(h, 1365, 48);
    // Free some blocks in the last word (indices 1344…1364) and elsewhere, keep the very last one live.
    const sorted = [...blocks].sort((x, y) => x - y);
    const freed = new Set([0, 1, 31, 32, 1343, 1344, 1350, 1363].map((i) => sorted[i]!));
    for (const p of freed) a.free(p);
    const d = pathsDuring(() => {
      const { blocks: seen, areas } = expectHeapMatchesOracle(a, h);
      expect(areas[0]).toMatchObject({ capacity: 1365, reserved: 1365, used: 1365 - 8 });
      expect(seen.map((s) => s.block)).toEqual(sorted.filter((p) => !freed.has(p)));
      expect(seen.at(-1)!.block).toBe(sorted[1364]);
    });
    expect(d.freeMap).toBe(1);
  });

  it("handles a partly extended page whose capacity is not a multiple of 32 (48-byte blocks: 341 threaded)", () => {
    const h = a.heapNew(0);
    const blocks = fill(h, 100, 48);
    for (let i = 0; i < 100; i += 3) a.free(blocks[i]!);
    const d = pathsDuring(() => {
      const { areas, blocks: seen } = expectHeapMatchesOracle(a, h);
      expect(areas[0]!.capacity).toBe(341);
      expect(seen).toHaveLength(66);
    });
    expect(d.freeMap).toBe(1);
  });

  it("handles the largest block count per page: 8192 blocks of 8 bytes, first and last blocks free, remote frees pending", () => {
    const h = a.heapNew(0);
    const blocks = fill(h, 8192, 8).sort((x, y) => x - y);
    expect(blocks[8191]! - blocks[0]!).toBe(65536 - 8); // one page
    const local = [0, 31, 32, 4095, 8160, 8191];
    for (const i of local) a.free(blocks[i]!);
    const remote = [1, 33, 5000, 8190];
    for (const i of remote) freeBlockMt(a, pageOfBlock(a, blocks[i]!), blocks[i]!);
    for (let i = 100; i < 8000; i += 1 + (rnd() % 7))
      if (!remote.includes(i) && !local.includes(i)) a.free(blocks[i]!);
    const live = oracleLive(a, { heap: h.record });
    const d = pathsDuring(() => {
      const { areas, blocks: seen } = expectHeapMatchesOracle(a, h);
      expect(areas[0]!.capacity).toBe(8192);
      expect(areas[0]!.used).toBe(live.length); // remote frees collected first: used is exact
      expect(seen.some((s) => s.block === blocks[8189])).toBe(true);
      for (const i of [...local, ...remote]) expect(seen.some((s) => s.block === blocks[i])).toBe(false);
    });
    expect(d.freeMap).toBe(1);
  });

  it("gives the same blocks with plain: true (the benchmarks' baseline) on every kind of page", () => {
    const h = a.heapNew(1);
    fill(h, 1024, 64);
    const mixed = fill(h, 3000, 16);
    for (let i = 0; i < mixed.length; i += 2) a.free(mixed[i]!);
    h.malloc(200_000);
    const d = pathsDuring(() => void expectHeapMatchesOracle(a, h));
    expect(d.plain).toBeGreaterThanOrEqual(3);
  });
});

describe("visitHeap: pages whose free maps are built in pairs", () => {
  /** Pages of different block sizes whose lists differ: both lists non-empty, long and short, remote frees pending. */
  function mixedPages(a: Arena, h: Heap, sizes: readonly number[]): void {
    for (const [k, size] of sizes.entries()) {
      const blocks = fill(h, Math.floor(65536 / size) - 1 - k * 7, size);
      const step = 2 + (k % 3) * 5;
      for (let i = k; i < blocks.length; i += step) a.free(blocks[i]!);
      for (let i = k + 1; i < blocks.length; i += 11 * step)
        freeBlockMt(a, pageOfBlock(a, blocks[i]!), blocks[i]!);
    }
  }

  it("pairs pages of different sizes and list shapes, and visits an odd one out alone", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const even = a.heapNew(0);
    mixedPages(a, even, [16, 48, 256, 1024]);
    const odd = a.heapNew(0);
    mixedPages(a, odd, [8, 112, 640]); // partly extended pages: both `free` (never used) and `localFree`
    const d = pathsDuring(() => {
      expectHeapMatchesOracle(a, even);
      expectHeapMatchesOracle(a, odd);
    });
    expect(d.pair).toBeGreaterThanOrEqual(2 * 2 + 2); // fast walks of both heaps (the plain ones do not pair)
    expect(d.freeMap).toBe(1); // the third page of `odd`
  });

  it("stops inside the second page of a pair and visits nothing after", () => {
    const a = Arena.create({ maxBytes: 256 << 20 });
    const h = a.heapNew(0);
    mixedPages(a, h, [16, 32]);
    const all = oracleLive(a, { heap: h.record });
    const pageOf = new Map(all.map((s) => [s.block, s.page]));
    const seen: number[] = [];
    let areas = 0;
    const stopAt = all.length - 5;
    const done = visitHeap(a, h, {
      area: () => void areas++,
      block: (b) => {
        seen.push(b);
        return seen.length < stopAt;
      },
    });
    expect(done).toBe(false);
    expect(seen).toHaveLength(stopAt);
    expect(areas).toBe(2);
    expect(new Set(seen.map((b) => pageOf.get(b))).size).toBe(2);
  });
});

describe("visitHeap: collecting first, stopping, nesting", () => {
  it("collects remote frees first, so used is exact and they are not visited; the heap stays valid and reusable", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const h = a.heapNew(0);
    const blocks = fill(h, 2000, 32);
    const remote = blocks.filter((_, i) => i % 5 === 0);
    for (const p of remote) freeBlockMt(a, pageOfBlock(a, p), p);
    const { blocks: seen, areas } = expectHeapMatchesOracle(a, h);
    expect(seen).toHaveLength(2000 - remote.length);
    expect(areas.reduce((n, x) => n + x.used, 0)).toBe(2000 - remote.length);
    expect(a.stats().usedBlocks).toBe(2000 - remote.length + 0); // collected: the counts are exact now
    // The collected blocks are handed out again (after the 48 never-used ones of the page).
    expect(areas[0]!.capacity - areas[0]!.used).toBe(48 + remote.length);
    const again = new Set(fill(h, 48 + remote.length, 32));
    for (const p of remote) expect(again.has(p)).toBe(true);
    a.check();
  });

  it("a full page that got remote frees and was visited goes back to its bin at the owner's next housekeeping", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const h = a.heapNew(0);
    const first = fill(h, 2048, 32); // exactly one page of 32-byte blocks
    h.malloc(32); // finds the page full: it moves to the full queue, a new page serves
    const page = pageOfBlock(a, first[0]!);
    expect(a.u32[(page >>> 2) + PAGE_FLAGS]! & PAGE_FLAG_IN_FULL_MASK).not.toBe(0);
    const remote = first.slice(0, 100);
    for (const p of remote) freeBlockMt(a, page, p);
    collect((v) => visitHeap(a, h, v)); // collects those frees onto the full page's localFree
    for (let i = 0; i < 64; i++) h.malloc(2000); // slow-path calls: housekeeping looks at full pages
    const fresh = new Set(fill(h, 3000, 32));
    expect(remote.filter((p) => fresh.has(p))).toHaveLength(remote.length);
    a.check();
  });

  it("stops when the area visitor returns false, and when the block visitor does, and reports it", () => {
    const a = Arena.create({ maxBytes: 256 << 20 });
    const h = a.heapNew(0);
    fill(h, 100, 16);
    fill(h, 100, 200);
    let areas = 0;
    let blocks = 0;
    const stopAtArea = () => {
      areas++;
      return false;
    };
    expect(visitHeap(a, h, { area: stopAtArea, block: () => void blocks++ })).toBe(false);
    expect([areas, blocks]).toEqual([1, 0]);
    areas = 0;
    expect(visitHeap(a, h, { area: () => void areas++, block: () => ++blocks < 42 })).toBe(false);
    expect([areas, blocks]).toEqual([1, 42]);
    blocks = 0;
    expect(visitHeap(a, h, { block: () => void blocks++ })).toBe(true);
    expect(blocks).toBe(200);
    areas = 0;
    expect(visitHeap(a, h, { area: () => void areas++, block: () => void blocks++ }, { blocks: false })).toBe(
      true,
    );
    expect(areas).toBe(2);
  });

  it("allows a walk inside a visitor (each nesting depth has its own free map)", () => {
    const a = Arena.create({ maxBytes: 256 << 20 });
    const h1 = a.heapNew(0);
    const h2 = a.heapNew(2);
    const b1 = fill(h1, 500, 16);
    const b2 = fill(h2, 500, 24);
    for (let i = 0; i < 500; i += 2) {
      a.free(b1[i]!);
      a.free(b2[i + 1]!);
    }
    const expected2 = oracleLive(a, { heap: h2.record });
    let outer = 0;
    visitHeap(a, h1, {
      block() {
        outer++;
        if (outer % 50 === 0) expect(collect((v) => visitHeap(a, h2, v)).blocks).toEqual(expected2);
      },
    });
    expect(outer).toBe(250);
  });
});

describe("visiting: bad input gets a clear error", () => {
  const a = Arena.create({ maxBytes: 64 << 20 });
  const v = { block() {} };

  it("names a bad heap, tag, pool, tld list or visitor", () => {
    expect(() => visitHeap(a, 12345, v)).toThrow(/visitHeap: heap 12345 is not a heap record/);
    expect(() => visitAbandonedPool(a, a.defaultPool, 16, v)).toThrow(/tag must be an integer 0–15, or -1/);
    expect(() => visitAbandonedPool(a, a.defaultPool, -2, v)).toThrow(RangeError);
    expect(() => visitAbandonedPool(a, 3, 0, v)).toThrow(/3 is not a pool record/);
    expect(() => visitTagWorldStopped(a, 0, [7], 0, v)).toThrow(/7 is not a tld record/);
    expect(() => visitHeap(a, a.heap, { block: 5 } as never)).toThrow(/visitor.block must be a function/);
    expect(() => visitHeap(a, a.heap, {}, { blocks: true })).toThrow(/no block method/);
    expect(() => visitHeap(a, a.heap, null as never)).toThrow(TypeError);
  });

  it("refuses a destroyed heap", () => {
    const h = a.heapNew(4);
    h.destroy();
    expect(() => visitHeap(a, h, v)).toThrow(/destroyed or deleted/);
  });
});

describe("visitAbandonedPool and visitTagWorldStopped on one thread", () => {
  it("find the abandoned blocks of a pool by tag, the owned ones of the given tlds, and nothing else", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const pool = a.poolNew();
    const other = a.poolNew();
    const tld = a.tldNew(pool);
    const byTag = [0, 2].map((tag) => fill(a.heapNew(tag, tld), 300, 16 + tag * 40));
    const tldOther = a.tldNew(other);
    fill(a.heapNew(0, tldOther), 50, 16);
    a.abandonTld(tld);
    a.abandonTld(tldOther);
    const live = a.heapNew(2); // owned, default tld
    const owned2 = fill(live, 70, 100);
    // Remote frees into abandoned pages, not collected yet.
    for (let i = 0; i < 300; i += 4) a.free(byTag[0]![i]!);
    for (const [i, tag] of [0, 2].entries()) {
      const expected = oracleLive(a, { pool, tag });
      const seen = collect((v) => visitAbandonedPool(a, pool, tag, v)).blocks;
      expect(seen).toEqual(expected);
      expect(seen.map((s) => s.block)).toEqual(
        byTag[i]!.filter((_, k) => tag !== 0 || k % 4 !== 0).sort((x, y) => x - y),
      );
    }
    expect(collect((v) => visitAbandonedPool(a, pool, -1, v)).blocks).toHaveLength(225 + 300);
    expect(collect((v) => visitAbandonedPool(a, pool, 1, v)).blocks).toHaveLength(0);
    expect(collect((v) => visitAbandonedPool(a, other, -1, v)).blocks).toHaveLength(50);
    const tagged = collect((v) => visitTagWorldStopped(a, 2, [a.tld], pool, v)).blocks;
    expect(tagged).toEqual(oracleLive(a, { tlds: [a.tld], pool, tag: 2 }));
    expect(tagged.map((s) => s.block)).toEqual([...byTag[1]!, ...owned2].sort((x, y) => x - y));
    expect(collect((v) => visitTagWorldStopped(a, 2, [a.tld], 0, v)).blocks).toHaveLength(70);
    a.check();
    // After visiting, the pool is reclaimed normally and every block is still freeable.
    const claimant = a.tldNew(pool);
    a.heapNew(0, claimant);
    a.heapNew(2, claimant);
    expect(a.reclaimAbandoned(claimant)).toBe(1);
    for (const p of byTag[0]!.filter((_, k) => k % 4 !== 0)) a.free(p);
    for (const p of byTag[1]!) a.free(p);
    a.check();
  });
});
