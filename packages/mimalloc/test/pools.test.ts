// Tags and abandoned pools (CPython's patches): pages are only reclaimed into a heap with the same
// tag, and a segment abandoned into pool A is never reclaimed through pool B.
import { describe, expect, it } from "vitest";
import { Arena } from "../src/index.ts";

function fill(a: Arena, heap: { malloc(n: number): number }, n: number, size: number, mark: number): number[] {
  return Array.from({ length: n }, () => {
    const p = heap.malloc(size);
    a.u8.fill(mark, p, p + size);
    return p;
  });
}

describe("abandoned pools and tags", () => {
  it("never reclaims a segment of pool A through a tld of pool B", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const poolA = a.poolNew();
    const poolB = a.poolNew();
    const tldA = a.tldNew(poolA);
    const hA = a.heapNew(0, tldA);
    const blocks = fill(a, hA, 2000, 64, 0xa1);
    a.abandonTld(tldA);
    a.check();
    expect(a.stats().segments.abandoned).toBe(1);

    const tldB = a.tldNew(poolB);
    const hB = a.heapNew(0, tldB);
    fill(a, hB, 20_000, 64, 0xb2); // needs many pages: pool B is empty, so fresh segments
    expect(a.reclaimAbandoned(tldB)).toBe(0);
    expect(a.stats().segments.abandoned).toBe(1);
    for (const p of blocks) expect(a.u8[p]).toBe(0xa1);

    const tldA2 = a.tldNew(poolA);
    a.heapNew(0, tldA2);
    expect(a.reclaimAbandoned(tldA2)).toBe(1);
    expect(a.stats().segments.abandoned).toBe(0);
    a.check();
    for (const p of blocks) a.free(p);
    a.check();
  });

  it("reclaims pages only into a heap with their tag, and leaves a segment abandoned when a tag has no heap", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const pool = a.poolNew();
    const tld = a.tldNew(pool);
    const h0 = a.heapNew(0, tld);
    const h2 = a.heapNew(2, tld);
    const b0 = fill(a, h0, 100, 48, 1);
    const b2 = fill(a, h2, 100, 48, 2);
    a.abandonTld(tld);

    // A claimant with only a tag-0 heap cannot take the segment (its tag-2 page would have no heap).
    const only0 = a.tldNew(pool);
    a.heapNew(0, only0);
    expect(a.reclaimAbandoned(only0)).toBe(0);
    expect(a.stats().segments.abandoned).toBe(1);
    a.check();

    // A claimant with heaps for both tags takes it; each page lands in the heap with its tag.
    const both = a.tldNew(pool);
    const c0 = a.heapNew(0, both);
    const c2 = a.heapNew(2, both);
    expect(a.reclaimAbandoned(both)).toBe(1);
    a.check(); // the checker verifies page tag == heap tag for every owned page
    for (const p of b0) expect(a.u8[p]).toBe(1);
    for (const p of b2) expect(a.u8[p]).toBe(2);
    // Blocks freed now go back to the pages in the right heaps, which serve new requests.
    for (const p of b2) a.free(p);
    const again = c2.malloc(48);
    expect(Math.floor(again / 65536)).toBe(Math.floor(b2[0]! / 65536)); // the reclaimed tag-2 page
    expect(c0.tag).toBe(0);
    for (const p of b0) a.free(p);
    a.free(again);
    a.check();
  });

  it("frees empty pages and segments at abandonment and keeps those with live blocks", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const tld = a.tldNew(a.defaultPool);
    const h = a.heapNew(0, tld);
    const keep = h.malloc(100);
    const big = fill(a, h, 5000, 1000, 3);
    for (const p of big) a.free(p);
    const before = a.stats();
    expect(before.pageBytesInUse).toBeGreaterThan(64 * 1024);
    a.abandonTld(tld);
    const after = a.stats();
    expect(after.segments.abandoned).toBe(1);
    expect(after.abandonedBlocks).toBe(1);
    expect(after.pageBytesInUse).toBe(64 * 1024);
    a.free(keep); // a free into an abandoned page: onto its thread-free list
    expect(a.reclaimAbandoned()).toBe(1);
    expect(a.stats().pageBytesInUse).toBe(0);
    a.check();
  });
});

describe("pool destroy and tags of blocks", () => {
  it("tagOf names the tag of the heap a block came from", () => {
    const a = Arena.create({ maxBytes: 128 << 20, checks: true });
    const h = a.heapNew(9);
    const p = h.malloc(40);
    expect(a.tagOf(p)).toBe(9);
    expect(a.tagOf(a.malloc(40))).toBe(0);
    expect(() => a.tagOf(12)).toThrow(/tagOf: pointer 0xc points into the arena header/);
  });

  it("poolDestroy frees every segment abandoned into the pool, and only those", () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const doomed = a.poolNew();
    const kept = a.poolNew();
    const t1 = a.tldNew(doomed);
    fill(a, a.heapNew(0, t1), 3000, 200, 1);
    const t2 = a.tldNew(kept);
    const survivors = fill(a, a.heapNew(0, t2), 100, 200, 2);
    a.abandonTld(t1);
    a.abandonTld(t2);
    expect(a.stats().segments.abandoned).toBe(2);
    expect(a.poolDestroy(doomed)).toBe(1);
    expect(a.stats().segments.abandoned).toBe(1);
    for (const p of survivors) expect(a.u8[p]).toBe(2);
    expect(() => a.poolDestroy(a.defaultPool)).toThrow(/default pool cannot be destroyed/);
    expect(() => a.poolDestroy(doomed)).toThrow(/is not a pool record/);
    a.check();
  });
});
