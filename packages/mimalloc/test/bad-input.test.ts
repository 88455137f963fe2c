import { describe, expect, it } from "vitest";
import { Arena, DoubleFreeError, InvalidPointerError, SEGMENT_SIZE, SLICE_SIZE } from "../src/index.ts";

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
    expect(() => a.heapInit(12, a.tld, 0)).toThrow(/heapInit: 12 is not a record offset/);
    expect(() => a.heapNew(0, 999_999)).toThrow(/heapNew: 999999 is not a tld record/);
    expect(() => a.tldNew(77)).toThrow(/tldNew: pool 77 is not a pool record/);
    expect(() => a.tldInit(a.recordAlloc(128), 123_456)).toThrow(/tldInit: pool 123456 is not a pool record/);
    expect(() => a.abandonTld(5)).toThrow(/abandonTld: 5 is not a record offset/);
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
    expect(() => h.malloc(10)).toThrow(/tld was abandoned|detached/);
    a.check();
  });
});
