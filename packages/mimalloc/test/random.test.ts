// Seeded randomized tests against a simple model: no two live blocks overlap, usable size is at
// least what was asked, contents survive other operations, and the checker passes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Arena } from "../src/index.ts";

type Op =
  | { kind: "malloc"; size: number; heap: number }
  | { kind: "aligned"; size: number; align: number; heap: number }
  | { kind: "free"; pick: number }
  | { kind: "realloc"; pick: number; size: number }
  | { kind: "collect"; heap: number };

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 2, arbitrary: fc.integer({ min: 300, max: 40_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 40_000, max: 3_000_000 }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("malloc" as const), size: sizeArb, heap: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("aligned" as const), size: sizeArb, align: fc.integer({ min: 0, max: 16 }).map((k) => 2 ** k), heap: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("realloc" as const), pick: fc.nat(), size: sizeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("collect" as const), heap: fc.integer({ min: 0, max: 2 }) }) },
);

describe("randomized against a model", () => {
  it("keeps live blocks disjoint, sized and intact, and the heap valid (seed 42)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 300 }), (ops) => {
        const a = Arena.create({ maxBytes: 512 << 20, checks: true });
        const heaps = [a.heap, a.heapNew(1), a.heapNew(7)];
        const live: { p: number; size: number; fill: number }[] = [];
        let stamp = 0;
        const add = (p: number, size: number) => {
          if (p === 0) return;
          const fill = ++stamp & 0xff;
          a.u8.fill(fill, p, p + Math.min(size, 64));
          live.push({ p, size, fill });
        };
        for (const op of ops) {
          switch (op.kind) {
            case "malloc":
              add(heaps[op.heap]!.malloc(op.size), op.size);
              break;
            case "aligned": {
              const p = heaps[op.heap]!.mallocAligned(op.size, op.align);
              expect(p % op.align).toBe(0);
              add(p, op.size);
              break;
            }
            case "free":
              if (live.length) {
                const [b] = live.splice(op.pick % live.length, 1);
                a.free(b!.p);
              }
              break;
            case "realloc":
              if (live.length) {
                const i = op.pick % live.length;
                const b = live[i]!;
                const q = a.realloc(b.p, op.size);
                if (q !== 0) {
                  for (let k = 0; k < Math.min(b.size, op.size, 64); k++) expect(a.u8[q + k]).toBe(b.fill);
                  live[i] = { p: q, size: op.size, fill: b.fill };
                  a.u8.fill(b.fill, q, q + Math.min(op.size, 64));
                }
              }
              break;
            case "collect":
              heaps[op.heap]!.collect(op.heap === 0);
              break;
          }
        }
        const spans = live.map((b) => [b.p, b.p + Math.max(1, b.size)] as const).sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
        for (const b of live) {
          expect(a.usableSize(b.p)).toBeGreaterThanOrEqual(b.size);
          for (let k = 0; k < Math.min(b.size, 64); k++) expect(a.u8[b.p + k]).toBe(b.fill);
        }
        a.check();
        for (const b of live) a.free(b.p);
        for (const h of heaps) h.collect(true);
        a.check();
        const s = a.stats();
        expect(s.usedBlocks).toBe(0);
        expect(s.pageBytesInUse).toBe(0);
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});
