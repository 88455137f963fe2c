import { describe, expect, it } from "vitest";
import { AH_XALL_TLDS } from "../src/internal/layout/arena.ts";
import { TLD_ALL_NEXT } from "../src/internal/layout/tld.ts";
import {
  Arena,
  binOf,
  binSize,
  DoubleFreeError,
  HEAP_RECORD_SIZE,
  InvalidPointerError,
  RECORD_KIND_HEAP,
  SEGMENT_SIZE,
  SLICE_SIZE,
  TLD_RECORD_SIZE,
  visitAbandonedPool,
  visitHeap,
  visitTagWorldStopped,
} from "../src/index.ts";

function arena() {
  return Arena.create({ maxBytes: 128 << 20, checks: true });
}

describe("bad sizes", () => {
  it.each([
    [-1, RangeError, /size must be a non-negative integer, got -1/],
    [1.5, RangeError, /got 1.5/],
    [Number.NaN, RangeError, /got NaN/],
    [2 ** 32, RangeError, /below 2\^32/],
    ["8", TypeError, /size must be a number, got string/],
  ])("malloc(%s) throws %s naming the size", (size, type, message) => {
    const a = arena();
    expect(() => a.malloc(size as number)).toThrow(type);
    expect(() => a.malloc(size as number)).toThrow(message);
    expect(() => a.heapNew(2).malloc(size as number)).toThrow(message);
    a.check();
  });

  it("calloc, zalloc, realloc and aligned variants check their sizes too", () => {
    const a = arena();
    expect(() => a.calloc(-1, 8)).toThrow(/calloc: count must be a non-negative integer/);
    expect(() => a.calloc(8, 0.5)).toThrow(/calloc: size/);
    expect(() => a.zalloc(-3)).toThrow(RangeError);
    const p = a.malloc(10);
    expect(() => a.realloc(p, -1)).toThrow(/realloc: size/);
    expect(() => a.mallocAligned(-1, 16)).toThrow(/mallocAligned: size/);
    expect(() => a.mallocAlignedAt(8, 16, -2)).toThrow(/mallocAlignedAt: offset/);
    expect(a.usableSize(p)).toBeGreaterThanOrEqual(10); // still intact
    a.free(p);
    a.check();
  });
});

describe("bad pointers", () => {
  it("rejects pointers outside the arena, in its header, or not integers", () => {
    const a = arena();
    expect(() => a.free(a.buffer.byteLength + 64)).toThrow(/outside the arena/);
    expect(() => a.free(-8)).toThrow(InvalidPointerError);
    expect(() => a.free(64)).toThrow(/arena header/);
    expect(() => a.free(1.5)).toThrow(TypeError);
    expect(() => a.free("x" as unknown as number)).toThrow(/pointer must be an integer byte offset/);
    a.check();
  });

  it("rejects a pointer into a segment that is not in use", () => {
    const a = Arena.create({ maxBytes: 128 << 20, initialBytes: 32 << 20, checks: true });
    a.malloc(16);
    expect(() => a.free(5 * SEGMENT_SIZE + SLICE_SIZE)).toThrow(/segment 5, which is not in use/);
    a.check();
  });

  it("rejects a pointer into a slice that holds no page", () => {
    const a = arena();
    a.malloc(16); // segment 1, slice 1
    expect(() => a.free(SEGMENT_SIZE + 40 * SLICE_SIZE)).toThrow(/slice 40 of segment 1, which holds no page/);
    expect(() => a.free(SEGMENT_SIZE + 128)).toThrow(/slice 0 of segment 1, which holds no page/);
    a.check();
  });

  it("detects a double free and corrupts nothing", () => {
    const a = arena();
    const p = a.malloc(40);
    const q = a.malloc(40);
    a.free(p);
    expect(() => a.free(p)).toThrow(DoubleFreeError);
    expect(() => a.free(p)).toThrow(/already free: a double free/);
    a.check();
    const r = a.malloc(40);
    const s = a.malloc(40);
    expect(new Set([q, r, s]).size).toBe(3);
    a.free(q);
    a.free(r);
    a.free(s);
    a.check();
  });

  it("detects an interior pointer and corrupts nothing", () => {
    const a = arena();
    const p = a.malloc(64);
    expect(() => a.free(p + 8)).toThrow(/8 bytes into a block of 64 bytes.*interior pointer/);
    expect(() => a.usableSize(p + 8)).not.toThrow(); // usable size of an interior pointer is defined
    a.check();
    a.free(p);
    a.check();
  });

  it("detects a free of a block that was never handed out", () => {
    const a = arena();
    const p = a.malloc(64);
    expect(() => a.free(p + 64 * 500)).toThrow(/never handed out/);
    a.free(p);
    a.check();
  });

  it("rejects a pointer inside a huge block", () => {
    const a = arena();
    const p = a.malloc(6 * SEGMENT_SIZE);
    expect(() => a.free(p + 2 * SEGMENT_SIZE)).toThrow(/inside a huge block/);
    expect(() => a.free(p + 100)).toThrow(/interior pointer/);
    a.free(p);
    a.check();
  });
});

describe("bad arena arguments", () => {
  it("rejects a maximum above 4 GiB and non-arena buffers", () => {
    expect(() => Arena.create({ maxBytes: 2 ** 33 })).toThrow(/at most 4 GiB/);
    expect(() => Arena.attach(new SharedArrayBuffer(1 << 16))).toThrow(/does not hold an ft arena/);
    expect(() => Arena.attach(new ArrayBuffer(8) as unknown as SharedArrayBuffer)).toThrow(TypeError);
  });

  it("out of memory returns NULL and the arena stays usable", () => {
    const a = Arena.create({ maxBytes: 32 << 20, checks: true });
    const ps: number[] = [];
    for (;;) {
      const p = a.malloc(100_000);
      if (p === 0) break;
      ps.push(p);
    }
    expect(ps.length).toBeGreaterThan(100);
    a.check();
    for (const p of ps) a.free(p);
    const q = a.malloc(100_000);
    expect(q).not.toBe(0);
    a.free(q);
    a.check();
  });
});

describe("bad records, tlds and pools", () => {
  it("rejects record, tld and pool arguments that are not records", () => {
    const a = arena();
    expect(() => a.heapInit(12, a.tld, 0)).toThrow(/heapInit: record 12 is not a record offset/);
    expect(() => a.heapNew(0, 999_999)).toThrow(/heapNew: 999999 is not a tld record/);
    expect(() => a.tldNew(77)).toThrow(/tldNew: pool 77 is not a pool record/);
    expect(() => a.tldInit(a.recordAlloc(128), 123_456)).toThrow(/tldInit: pool 123456 is not a pool record/);
    expect(() => a.abandonTld(5)).toThrow(/abandonTld: tld 5 is not a record offset/);
    expect(() => a.abandonTld(a.tld)).toThrow(/call detach/);
    expect(() => a.heapByTag(a.tld, 99)).toThrow(RangeError);
    expect(() => a.recordAlloc(-4)).toThrow(/recordAlloc: size/);
    expect(() => a.recordAlloc(10_000)).toThrow(/at most 8 KiB/);
    expect(() => a.recordFree(100, 64)).toThrow(/not a record of this arena/);
    expect(() => a.reclaimAbandoned(3)).toThrow(RangeError);
    expect(() => a.abandonThread(0)).toThrow(/positive integer/);
    expect(() => a.abandonThread(a.threadId)).toThrow(/cannot abandon itself/);
    a.check();
  });

  it("a detached handle throws on use and never touches the records it gave up", () => {
    const a = arena();
    const other = a.heapNew(3);
    const p = a.malloc(32);
    a.detach();
    expect(() => a.malloc(32)).toThrow(/detached/);
    expect(() => other.malloc(32)).toThrow(/detached/);
    expect(() => a.free(p)).toThrow(/detached/);
    expect(() => a.heapNew(0)).toThrow(/detached/);
    a.detach(); // idempotent
    const b = Arena.attach(a.buffer);
    const q = b.malloc(32); // may reuse the released records
    expect(q).not.toBe(0);
    expect(() => a.malloc(32)).toThrow(/detached/);
    b.free(p); // the detached thread's block, from its pool
    b.free(q);
    b.check();
  });

  it("allocation from a heap of an abandoned tld throws and changes nothing", () => {
    const a = arena();
    const tld = a.tldNew(a.defaultPool);
    const h = a.heapNew(0, tld);
    h.malloc(10);
    a.abandonTld(tld);
    expect(() => h.malloc(10)).toThrow(/tld was abandoned|detached|the handle is stale/);
    a.check();
    // A tld made by tldNew is released by its abandonment: the next tldNew reuses the record.
    expect(a.tldNew(a.defaultPool)).toBe(tld);
    a.check();
  });
});

/** The arena's list of tlds made by tldNew (AH_XALL_TLDS, linked through TLD_ALL_NEXT). */
function arenaTlds(a: Arena): number[] {
  const tlds: number[] = [];
  let t = Atomics.load(a.u32, AH_XALL_TLDS);
  while (t !== 0 && tlds.length < 1000) {
    tlds.push(t);
    t = a.u32[(t >>> 2) + TLD_ALL_NEXT]!;
  }
  return tlds;
}

/** The words of a record, to show that a refused call wrote nothing. */
function words(a: Arena, record: number, size: number): number[] {
  return Array.from(a.u32.subarray(record >>> 2, (record + size) >>> 2));
}

describe("initialising a tld over one in use", () => {
  it("refuses a record of the arena's own tld list (made by tldNew), writing nothing; tldNew still reuses it", () => {
    const a = arena();
    const b = Arena.attach(a.buffer);
    const listed = b.tld;
    b.detach(); // its default tld stays in the arena's list, FREE for tldNew to reuse in place
    const list = arenaTlds(a);
    expect(list).toContain(listed);
    expect(list).toContain(a.tld);
    const before = words(a, listed, TLD_RECORD_SIZE);
    const pool = a.poolNew();
    const why = `record ${listed} is a tld of the arena's own list (made by tldNew, reused in place by tldNew); initialising it as a caller's tld would cut that list`;
    expect(() => a.tldInit(listed, pool)).toThrow(`tldInit: ${why}`);
    expect(() => a.tldInitShared(listed, pool)).toThrow(`tldInitShared: ${why}`);
    expect(words(a, listed, TLD_RECORD_SIZE)).toEqual(before);
    expect(arenaTlds(a)).toEqual(list);
    a.check();
    // The record is still the arena's: the next tldNew takes it back, and the list stays whole.
    const tld = a.tldNew(pool);
    expect(tld).toBe(listed);
    expect(arenaTlds(a)).toEqual(list);
    const h = a.heapNew(2, tld);
    const p = h.malloc(48);
    a.free(p);
    a.check();
  });

  it("refuses a live tld of any thread, embedded or not, shared or not, and the tld keeps working", () => {
    const a = arena();
    const b = Arena.attach(a.buffer);
    const pool = a.poolNew();
    const embedded = a.recordAlloc(TLD_RECORD_SIZE);
    a.tldInit(embedded, pool);
    const heap = a.heapInit(a.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP), embedded, 1);
    const p = heap.malloc(100);
    const shared = a.recordAlloc(TLD_RECORD_SIZE);
    const owner = a.tldInitShared(shared, pool);
    const made = a.tldNew(pool);
    const list = arenaTlds(a);
    const cases: [Arena, number, string][] = [
      [a, embedded, `thread ${a.threadId}'s, embedded`],
      [b, embedded, `thread ${a.threadId}'s, embedded`],
      [a, a.tld, `thread ${a.threadId}'s, made by tldNew`],
      [a, b.tld, `thread ${b.threadId}'s, made by tldNew`],
      [b, made, `thread ${a.threadId}'s, made by tldNew`],
      [b, shared, `owner ${owner}'s, shared`],
    ];
    for (const [x, tld, whose] of cases) {
      const before = words(a, tld, TLD_RECORD_SIZE);
      const message = `tld ${tld} is live (${whose}); abandon it first`;
      expect(() => x.tldInit(tld, pool)).toThrow(`tldInit: ${message}`);
      expect(() => x.tldInitShared(tld, pool)).toThrow(`tldInitShared: ${message}`);
      expect(words(a, tld, TLD_RECORD_SIZE)).toEqual(before);
    }
    expect(arenaTlds(a)).toEqual(list);
    a.check();
    const q = heap.malloc(100); // the embedded tld and its heap were left as they were
    a.free(p);
    a.free(q);
    a.check();
    // Once abandoned, a caller's record may be initialised again.
    a.abandonTld(embedded);
    a.tldInit(embedded, pool);
    a.check();
    b.detach();
    a.check();
  });
});

describe("heap handles of a tld another thread abandoned", () => {
  /**
   * Thread `a` has a heap in a tld of a record of its own (as a thread state of @ft/interp); thread
   * `b` abandons that tld while `a` is away from it (clearing a detached thread state) and the
   * records are freed. Two handles in one JavaScript thread are two arena threads.
   */
  function abandonedByOther() {
    const a = arena();
    const b = Arena.attach(a.buffer);
    const tld = a.recordAlloc(TLD_RECORD_SIZE);
    a.tldInit(tld, a.defaultPool);
    const record = a.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP);
    const heap = a.heapInit(record, tld, 1);
    const p = heap.malloc(100);
    b.abandonTld(tld);
    a.recordFreeKind(record, RECORD_KIND_HEAP);
    a.recordFree(tld, TLD_RECORD_SIZE);
    return { a, b, tld, record, heap, p };
  }

  it("are forgotten, not checked, once the records hold another thread's heap; heapOf and the handle refuse", () => {
    const { a, b, tld, record, heap, p } = abandonedByOther();
    // Thread b reuses both records for a tld and heap of its own.
    expect(b.recordAlloc(TLD_RECORD_SIZE)).toBe(tld);
    b.tldInit(tld, b.defaultPool);
    expect(b.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP)).toBe(record);
    const theirs = b.heapInit(record, tld, 1);
    const q = theirs.malloc(100);
    const why = `heap ${record}: its tld ${tld} belongs to thread ${b.threadId}, not to this thread (${a.threadId}); the handle is stale (the tld was abandoned by another thread and its records reused)`;
    expect(() => a.heapOf(record)).toThrow(`heapOf: ${why}`);
    expect(a.heaps.has(record)).toBe(false);
    expect(() => a.heapOf(record)).toThrow(`heapOf: ${record} is not a heap of this thread`);
    expect(() => heap.malloc(100)).toThrow(`malloc: ${why}`);
    expect(() => heap.collect()).toThrow(`collect: ${why}`);
    a.check();
    b.check();
    b.free(q);
    b.free(p);
    a.check();
  });

  it("are skipped and forgotten by the checker when the records were reused for other data", () => {
    const { a, b, record, heap, p } = abandonedByOther();
    expect(b.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP)).toBe(record);
    a.u32.fill(0xa5a5a5a5, record >>> 2, (record + HEAP_RECORD_SIZE) >>> 2);
    expect(a.checkProblems()).toEqual([]);
    expect(a.heaps.has(record)).toBe(false);
    expect(() => heap.malloc(100)).toThrow(
      `malloc: heap ${record}: its tld word holds ${0xa5a5a5a5}, not a tld record; the handle is stale (its record was freed and reused)`,
    );
    a.check();
    b.free(p);
    b.check();
  });

  it("refuse to allocate while the records are only abandoned, and are forgotten by the next check", () => {
    const a = arena();
    const b = Arena.attach(a.buffer);
    const tld = a.recordAlloc(TLD_RECORD_SIZE);
    a.tldInit(tld, a.defaultPool);
    const heap = a.heapInit(a.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP), tld, 0);
    const p = heap.malloc(100);
    b.abandonTld(tld);
    expect(() => heap.malloc(100)).toThrow(
      `malloc: heap ${heap.record}: its tld was abandoned (tld ${tld}); the handle is stale`,
    );
    expect(a.heaps.has(heap.record)).toBe(true);
    a.check();
    expect(a.heaps.has(heap.record)).toBe(false);
    b.free(p);
    a.check();
  });
});

describe("realloc of a pointer free would refuse", () => {
  it("refuses a block already freed before allocating anything, naming realloc", () => {
    const a = arena();
    const p = a.malloc(64);
    const q = a.malloc(64);
    a.free(p);
    const before = a.stats().usedBlocks;
    expect(() => a.realloc(p, 4000)).toThrow(DoubleFreeError);
    expect(() => a.realloc(p, 4000)).toThrow(/^realloc: block 0x[0-9a-f]+ \(64 bytes\) is already free/);
    expect(() => a.reallocAligned(p, 4000, 64)).toThrow(/^reallocAligned: block .* already free/);
    expect(a.stats().usedBlocks).toBe(before); // nothing was allocated and leaked
    a.free(q);
    a.check();
    expect(a.stats().usedBlocks).toBe(0);
  });

  it("refuses an interior pointer, also when the size would fit in place", () => {
    const a = arena();
    const p = a.malloc(64);
    expect(() => a.realloc(p + 8, 40)).toThrow(/^realloc: pointer 0x[0-9a-f]+ is 8 bytes into a block of 64 bytes.*interior pointer/);
    expect(() => a.realloc(p + 8, 4000)).toThrow(InvalidPointerError);
    expect(a.stats().usedBlocks).toBe(1);
    a.free(p);
    a.check();
  });

  it("rejects reallocAligned with alignment 0 with a RangeError naming alignment", () => {
    const a = arena();
    const p = a.malloc(16);
    expect(() => a.reallocAligned(p, 32, 0)).toThrow(new RangeError("reallocAligned: alignment must be a power of two (1 … 2^31), got 0"));
    expect(a.usableSize(p)).toBe(16);
    a.free(p);
    a.check();
  });

  it("shows a pointer at or past 2^32 as it was given, not wrapped to 0x0", () => {
    const a = arena();
    expect(() => a.free(2 ** 32)).toThrow(/^free: pointer 4294967296 is outside the arena/);
    expect(() => a.realloc(2 ** 32 + 64, 8)).toThrow(/^realloc: pointer 4294967360 is outside the arena/);
    a.check();
  });
});

describe("bad record arguments", () => {
  it.each([Number.POSITIVE_INFINITY, 2 ** 40])("recordAlloc(%s) throws a RangeError naming size instead of looping forever", (size) => {
    const a = arena();
    expect(() => a.recordAlloc(size)).toThrow(RangeError);
    expect(() => a.recordAlloc(size)).toThrow(/^recordAlloc: size must be/);
    a.check();
  });

  it.each([-1, 1.5, 9, 99, "8", null])("rejects a record kind of %s with a RangeError naming kind, writing nothing", (kind) => {
    const a = arena();
    const r = a.recordAlloc(64);
    expect(() => a.recordAlloc(64, kind as number)).toThrow(/^recordAlloc: kind must be an integer 0 … 8, got/);
    expect(() => a.recordFreeKind(r, kind as number)).toThrow(/^recordFreeKind: kind must be an integer 0 … 8, got/);
    a.recordFreeKind(r, 0);
    expect(a.recordAlloc(64)).toBe(r); // the free list was left whole
    a.check();
  });

  it("rejects a bad size or record in recordFree and recordFreeKind, and a record never handed out", () => {
    const a = arena();
    const r = a.recordAlloc(64);
    expect(() => a.recordFree(r, -1)).toThrow(new RangeError("recordFree: size must be a non-negative integer, got -1"));
    expect(() => a.recordFree(r, Number.NaN)).toThrow(/recordFree: size must be a non-negative integer, got NaN/);
    expect(() => a.recordFree(r, "64" as unknown as number)).toThrow(new TypeError("recordFree: size must be a number, got string"));
    expect(() => a.recordFreeKind(-64, 0)).toThrow(/^recordFreeKind: record -64 is not a record of this arena/);
    expect(() => a.recordFreeKind("x" as unknown as number, 0)).toThrow(/^recordFreeKind: record "x" is not a record/);
    expect(() => a.recordFree(SEGMENT_SIZE - 64, 64)).toThrow(/^recordFree: record \d+ is not a record of this arena/);
    a.recordFree(r, 64);
    expect(a.recordAlloc(64)).toBe(r);
    expect(a.recordAlloc(64)).not.toBe(r);
    a.check();
  });

  it("detects a record freed twice (with checks) and hands it out once", () => {
    const a = arena();
    const r = a.recordAlloc(64);
    a.recordFree(r, 64);
    expect(() => a.recordFree(r, 64)).toThrow(DoubleFreeError);
    expect(() => a.recordFreeKind(r, 0)).toThrow(`recordFreeKind: record ${r} (kind 0) is already free: a double free`);
    expect(a.recordAlloc(64)).toBe(r);
    expect(a.recordAlloc(64)).not.toBe(r);
    a.check();
  });
});

describe("heapInit over a record in use", () => {
  it("refuses a record holding a live heap, and the heap keeps working", () => {
    const a = arena();
    const h = a.heapNew(2);
    const p = h.malloc(32);
    expect(() => a.heapInit(h.record, a.tld, 1)).toThrow(
      `heapInit: record ${h.record} holds a live heap of tld ${a.tld}; delete or destroy it first`,
    );
    expect(() => a.heapInit(a.heap.record, a.tld, 0)).toThrow(/holds a live heap/);
    a.check();
    const q = h.malloc(32);
    a.free(p);
    a.free(q);
    a.check();
    // Once deleted, the record may hold a heap again.
    const record = h.record;
    h.delete();
    a.free(a.heapInit(record, a.tld, 2).malloc(16));
    a.check();
  });

  it("refuses the tld's own record and a record of the arena's tld list", () => {
    const a = arena();
    const other = a.tldNew(a.defaultPool);
    expect(() => a.heapInit(a.tld, a.tld, 1)).toThrow(`heapInit: record ${a.tld} overlaps tld ${a.tld}`);
    expect(() => a.heapInit(other, a.tld, 1)).toThrow(`heapInit: record ${other} is a tld of the arena's own list (made by tldNew)`);
    a.check();
    a.free(a.heapNew(1, other).malloc(16));
    a.check();
  });
});

describe("bad thread ids, options and detached handles", () => {
  it("rejects abandonThread of an id the arena never handed out", () => {
    const a = arena();
    expect(() => a.abandonThread(999)).toThrow(
      new RangeError(`abandonThread: threadId 999 was never handed out by this arena (ids so far: 1 … ${a.threadId})`),
    );
    expect(() => a.abandonThread(2 ** 32)).toThrow(/threadId 4294967296 was never handed out/);
    a.check();
  });

  it("rejects Arena.create options that are not an object with a TypeError naming options", () => {
    expect(() => Arena.create(null as never)).toThrow(new TypeError("Arena.create: options must be an object, got null"));
    expect(() => Arena.create(5 as never)).toThrow(/options must be an object, got number/);
  });

  it("a detached handle refuses to make pools and records or to abandon, and the arena stays whole", () => {
    const a = arena();
    const b = Arena.attach(a.buffer);
    b.detach();
    expect(() => b.poolNew()).toThrow("poolNew: this thread has detached from the arena");
    expect(() => b.recordAlloc(64)).toThrow("recordAlloc: this thread has detached from the arena");
    expect(() => b.abandonThread(a.threadId)).toThrow("abandonThread: this thread has detached from the arena");
    expect(() => b.abandonTld(a.tld)).toThrow("abandonTld: this thread has detached from the arena");
    expect(() => b.realloc(a.malloc(8), 64)).toThrow("realloc: this thread has detached from the arena");
    a.free(a.malloc(16));
    a.check();
  });
});

describe("bad arguments of the size-class functions and the walks", () => {
  it("binOf and binSize reject what is not a size or a bin, naming it", () => {
    expect(binOf(8)).toBe(1);
    expect(() => binOf(-1)).toThrow(new RangeError("binOf: size must be a non-negative integer, got -1"));
    expect(() => binOf("8" as unknown as number)).toThrow(new TypeError("binOf: size must be a number, got string"));
    expect(() => binOf(2 ** 32)).toThrow(/binOf: size must be below 2\^32/);
    expect(binSize(1)).toBe(8);
    expect(() => binSize(999)).toThrow(/^binSize: bin must be an integer 0 … \d+, got 999$/);
    expect(() => binSize(1.5)).toThrow(RangeError);
    expect(() => binSize("8" as unknown as number)).toThrow(/got "8"/);
  });

  it("the walks reject an arena that is not one with a TypeError naming arena", () => {
    const v = { block() {} };
    for (const bad of [null, undefined, 5, {}]) {
      expect(() => visitHeap(bad as unknown as Arena, 16384, v)).toThrow(/^visitHeap: arena must be an Arena/);
      expect(() => visitAbandonedPool(bad as unknown as Arena, 0, 0, v)).toThrow(/^visitAbandonedPool: arena must be an Arena/);
      expect(() => visitTagWorldStopped(bad as unknown as Arena, 0, [], 0, v)).toThrow(/^visitTagWorldStopped: arena must be an Arena/);
    }
  });

  it("visitHeap names the heap argument as it was given", () => {
    const a = arena();
    expect(() => visitHeap(a, "8" as unknown as number, { block() {} })).toThrow('visitHeap: heap "8" is not a heap record');
    expect(() => visitHeap(a, null as unknown as number, { block() {} })).toThrow("visitHeap: heap null is not a heap record");
  });
});
