import { describe, expect, it } from "vitest";
import { FLOOR_HEADER_SIZE, FLOOR_MAX_SIZE, FloorAllocator } from "../src/bench/floor.ts";
import { xorshift32 } from "../src/bench/rng.ts";

function expectDisjoint(floor: FloorAllocator, blocks: Iterable<number>): void {
  // Each block with its header: [p - header, p + usable) must not overlap another.
  const spans = [...blocks]
    .map((p) => [p - FLOOR_HEADER_SIZE, p + floor.usableSize(p)] as const)
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  }
}

describe("FloorAllocator", () => {
  it("never hands out overlapping blocks under random churn", () => {
    const floor = new FloorAllocator(8 << 20);
    const r = xorshift32(42);
    const live = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const size = 1 + (r() % 1024);
      const p = floor.malloc(size);
      expect(live.has(p)).toBe(false);
      live.set(p, size);
    }
    expectDisjoint(floor, live.keys());
    for (let round = 0; round < 20; round++) {
      for (const [p] of [...live].filter(() => r() % 2 === 0)) {
        floor.free(p);
        live.delete(p);
      }
      for (let i = 0; i < 1000; i++) {
        const size = 1 + (r() % 1024);
        const p = floor.malloc(size);
        expect(live.has(p)).toBe(false);
        live.set(p, size);
      }
      expectDisjoint(floor, live.keys());
    }
  });

  it("gives every block at least the requested size, 8-aligned, in 16-byte classes", () => {
    const floor = new FloorAllocator(1 << 20);
    for (const size of [0, 1, 15, 16, 17, 100, 256, 4096, FLOOR_MAX_SIZE]) {
      const p = floor.malloc(size);
      expect(p % 8).toBe(0);
      expect(floor.usableSize(p)).toBeGreaterThanOrEqual(Math.max(size, 1));
      expect(floor.usableSize(p) % 16).toBe(0);
      expect(floor.usableSize(p) - Math.max(size, 1)).toBeLessThan(16);
    }
  });

  it("round-trips: a freed block is the next one handed out for its class", () => {
    const floor = new FloorAllocator(1 << 20);
    const a = floor.malloc(40);
    const b = floor.malloc(40);
    const carved = floor.carvedBytes();
    floor.free(a);
    expect(floor.freeCount(40)).toBe(1);
    expect(floor.malloc(33)).toBe(a); // 33..48 share the class
    floor.free(b);
    floor.free(a);
    expect(floor.malloc(48)).toBe(a); // LIFO
    expect(floor.malloc(48)).toBe(b);
    expect(floor.carvedBytes()).toBe(carved); // nothing new was carved
    expect(floor.freeCount(40)).toBe(0);
  });

  it("keeps blocks' contents apart: writing every byte of one block leaves the others intact", () => {
    const floor = new FloorAllocator(1 << 20);
    const u8 = new Uint8Array(floor.buffer);
    const blocks = [24, 100, 7, 256, 64].map((size, i) => ({ p: floor.malloc(size), size, fill: i + 1 }));
    for (const b of blocks) u8.fill(b.fill, b.p, b.p + floor.usableSize(b.p));
    for (const b of blocks) {
      expect(u8.subarray(b.p, b.p + b.size).every((v) => v === b.fill)).toBe(true);
      expect(floor.usableSize(b.p)).toBeGreaterThanOrEqual(b.size);
    }
  });

  it("throws a RangeError when out of memory or asked for too much", () => {
    const floor = new FloorAllocator(FLOOR_MAX_SIZE * 2);
    expect(() => floor.malloc(FLOOR_MAX_SIZE + 1)).toThrow(RangeError);
    expect(() => {
      for (let i = 0; i < 10; i++) floor.malloc(FLOOR_MAX_SIZE);
    }).toThrow(/out of memory/);
  });
});
