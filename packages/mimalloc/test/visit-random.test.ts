// Property test (fast-check, fixed seed): on random heaps built by random malloc/free sequences —
// remote frees not yet collected, abandoned segments in a pool, reclaims — every walk yields
// exactly the oracle's live blocks (test/visit-oracle.ts), each once, with the right size and tag;
// the walks partition the model's live set; the arena stays valid.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Arena,
  type Heap,
  VISIT_ALL_TAGS,
  visitAbandonedPool,
  visitHeap,
  visitTagWorldStopped,
} from "../src/index.ts";
import { freeBlockMt, pageOfBlock } from "../src/internal/free.ts";
import { visitPathCounts } from "../src/internal/visit.ts";
import { collect, oracleLive, type Seen } from "./visit-oracle.ts";

type Op =
  | { kind: "malloc"; heap: number; size: number; count: number }
  | { kind: "free"; pick: number; count: number }
  | { kind: "remoteFree"; pick: number; count: number }
  | { kind: "abandon" }
  | { kind: "reclaim" }
  | { kind: "collect"; heap: number }
  | { kind: "visit" };

const HEAPS = 5; // default tld: tags 0, 2; the pool's tld: tags 0, 2, 5
const TAGS = [0, 2, 0, 2, 5];

const sizeArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 1024 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1025, max: 16_384 }) },
  { weight: 2, arbitrary: fc.integer({ min: 16_385, max: 131_072 }) },
  { weight: 1, arbitrary: fc.integer({ min: 131_073, max: 2_097_152 }) },
  { weight: 1, arbitrary: fc.constant(5_000_000) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("malloc" as const),
      heap: fc.integer({ min: 0, max: HEAPS - 1 }),
      size: sizeArb,
      count: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 100, max: 2500 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("free" as const),
      pick: fc.nat(),
      count: fc.integer({ min: 1, max: 400 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("remoteFree" as const),
      pick: fc.nat(),
      count: fc.integer({ min: 1, max: 400 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "abandon" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reclaim" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("collect" as const),
      heap: fc.integer({ min: 0, max: HEAPS - 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "visit" as const }) },
);

interface Block {
  p: number;
  size: number;
  tag: number;
}

function expectSame(fast: Seen[], oracle: Seen[]): void {
  expect(fast.length).toBe(oracle.length);
  for (let i = 0; i < fast.length; i++) {
    const f = fast[i]!;
    const o = oracle[i]!;
    if (f.block !== o.block || f.size !== o.size || f.page !== o.page || f.tag !== o.tag) {
      expect(f).toEqual(o);
    }
  }
}

describe("visiting random heaps (fast-check, seed 42)", () => {
  it("every walk yields exactly the oracle's live blocks, each once, sized and tagged; the walks partition the live set", () => {
    let visits = 0;
    let remoteSeen = 0;
    const pathsBefore = Array.from(visitPathCounts);
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const a = Arena.create({ maxBytes: 1 << 30, checks: true });
        const pool = a.poolNew();
        let tld = a.tldNew(pool);
        const heaps: Heap[] = [a.heap, a.heapNew(2), a.heapNew(0, tld), a.heapNew(2, tld), a.heapNew(5, tld)];
        const live: Block[] = [];
        let pendingRemote = 0;

        const takeLive = (pick: number, count: number): Block[] => {
          const out: Block[] = [];
          for (let k = 0; k < count && live.length > 0; k++) {
            const i = (pick + k * 7919) % live.length;
            out.push(live[i]!);
            live[i] = live[live.length - 1]!;
            live.pop();
          }
          return out;
        };

        const check = () => {
          visits++;
          if (pendingRemote > 0) remoteSeen++;
          // The oracle reads first, with remote frees still on the thread-free lists.
          const heapOracles = heaps.map((h) => oracleLive(a, { heap: h.record }));
          const poolOracles = [VISIT_ALL_TAGS, 0, 1, 2, 5].map((tag) => oracleLive(a, { pool, tag }));
          const tagOracles = [VISIT_ALL_TAGS, 0, 2].map((tag) =>
            oracleLive(a, { tlds: [a.tld, tld], pool, tag }),
          );
          const defaultPool = oracleLive(a, { pool: a.defaultPool });

          const plain = visits % 3 === 0;
          const heapSeen = heaps.map((h) => collect((v, o) => visitHeap(a, h, v, o), { plain }));
          heapSeen.forEach((seen, i) => {
            expectSame(seen.blocks, heapOracles[i]!);
            for (const area of seen.areas)
              expect(area.used).toBe(seen.blocks.filter((b) => b.page === area.page).length);
          });
          pendingRemote = 0; // visiting the heaps collected every owned page's thread-free list
          [VISIT_ALL_TAGS, 0, 1, 2, 5].forEach((tag, i) => {
            expectSame(
              collect((v, o) => visitAbandonedPool(a, pool, tag, v, o), { plain }).blocks,
              poolOracles[i]!,
            );
          });
          [VISIT_ALL_TAGS, 0, 2].forEach((tag, i) => {
            expectSame(
              collect((v, o) => visitTagWorldStopped(a, tag, [a.tld, tld], pool, v, o)).blocks,
              tagOracles[i]!,
            );
          });
          expect(collect((v) => visitAbandonedPool(a, a.defaultPool, VISIT_ALL_TAGS, v)).blocks).toEqual(
            defaultPool,
          );
          expect(defaultPool).toEqual([]);

          // The heaps and the pool partition the model's live blocks.
          const all = [...heapSeen.flatMap((s) => s.blocks), ...poolOracles[0]!].sort(
            (x, y) => x.block - y.block,
          );
          const model = [...live].sort((x, y) => x.p - y.p);
          expect(all.map((s) => s.block)).toEqual(model.map((b) => b.p));
          for (let i = 0; i < model.length; i++) {
            expect(all[i]!.size).toBeGreaterThanOrEqual(model[i]!.size);
            expect(all[i]!.tag).toBe(model[i]!.tag);
          }
          a.check();
        };

        for (const op of ops) {
          switch (op.kind) {
            case "malloc":
              for (let k = 0; k < op.count; k++) {
                const p = heaps[op.heap]!.malloc(op.size);
                expect(p).not.toBe(0);
                live.push({ p, size: op.size, tag: TAGS[op.heap]! });
                if (op.size > 100_000) break; // large and huge blocks: one per op
              }
              break;
            case "free":
              for (const b of takeLive(op.pick, op.count)) a.free(b.p);
              break;
            case "remoteFree":
              // As another thread would: push onto the page's thread-free list, not collected.
              for (const b of takeLive(op.pick, op.count)) freeBlockMt(a, pageOfBlock(a, b.p), b.p);
              pendingRemote += op.count;
              break;
            case "abandon": {
              // The pool's tld stops: its segments go to the pool with their live blocks; a new tld takes its place.
              a.abandonTld(tld);
              tld = a.tldNew(pool);
              heaps[2] = a.heapNew(0, tld);
              heaps[3] = a.heapNew(2, tld);
              heaps[4] = a.heapNew(5, tld);
              break;
            }
            case "reclaim":
              a.reclaimAbandoned(tld);
              break;
            case "collect":
              heaps[op.heap]!.collect();
              break;
            case "visit":
              check();
              break;
          }
        }
        check();
      }),
      { seed: 42, numRuns: 40 },
    );
    expect(visits).toBeGreaterThan(60);
    expect(remoteSeen).toBeGreaterThan(10); // walks met remote frees that were not collected yet
    // Every path of the page walk ran: empty, single block, full, free map, plain.
    for (const [i, n] of visitPathCounts.entries()) expect(n).toBeGreaterThan(pathsBefore[i]! + 10);
  }, 120_000);
});
