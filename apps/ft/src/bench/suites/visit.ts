/**
 * `visit`: block visiting (`@ft/mimalloc`'s `visitHeap`), live blocks per second with a trivial
 * visitor, on heaps of one shape each: full pages, mixed (50% of each page's blocks live), sparse
 * (5% live) at 16, 64, 256 and 1024-byte blocks, and single-block pages (large blocks). Every
 * shape runs twice: the fast page walk, and `plain: true` (the pre-patch walk: a byte per block, a
 * division per free block, every block tested), in separate processes of the same round.
 *
 * Heaps are 16 pages (1 MiB of pages: the walk's data stays in L2, so the figures measure the
 * page walk itself); `…-big` cases use 128 pages (8 MiB), where chasing the free lists through
 * memory dominates. Frees happen in random order, so free lists are in random order too.
 */
import { type Arena, loadMimalloc, type Mimalloc } from "../../runtime/mimalloc.ts";
import { REFERENCE_SEED, type Rng, xorshift32 } from "../rng.ts";
import type { BenchCase, CaseOptions, CaseParams, CaseResult, MetricDef, RatioDef, Suite } from "../types.ts";

const RATE: readonly MetricDef[] = [{ key: "rate", unit: "M blocks/s", better: "higher" }];

/** Blocks sizes of the page shapes. */
export const VISIT_SIZES = [16, 64, 256, 1024] as const;
/** Live percentage of each page, per shape. */
const SHAPES = { full: 100, mixed: 50, sparse: 5 } as const;
type Shape = keyof typeof SHAPES;

const PAGES = 16;
const BIG_PAGES = 128;
/** Single-block pages: large blocks (each a page of its own, capacity 1). */
const SINGLE_SIZE = 200_000;
const SINGLE_PAGES = 128;

/** Timed batches per case (median taken), each at least `BATCH_MS`, after `WARMUP_MS` of visits. */
const BATCH_MS = 25;
const WARMUP_MS = 150;

function shuffle<T>(xs: T[], r: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = r() % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

interface Built {
  arena: Arena;
  heap: ReturnType<Arena["heapNew"]>;
  live: number;
  /** Sum of the live blocks' offsets, modulo 2^32 (what the visitor below adds up). */
  checksum: number;
  pages: number;
}

/**
 * `pages` small pages of `size`-byte blocks, `livePercent`% of each page's blocks left live
 * (at least one), the others freed in random order.
 */
function buildPages(m: Mimalloc, size: number, livePercent: number, pages: number): Built {
  const arena = m.Arena.create({ maxBytes: 1 << 30 });
  const heap = arena.heapNew(0);
  const perPage = Math.floor(m.SMALL_PAGE_SIZE / size);
  const byPage = new Map<number, number[]>();
  for (let i = 0; i < perPage * pages; i++) {
    const p = heap.malloc(size);
    if (p === 0) throw new Error("out of memory while building the heap");
    const key = Math.floor(p / m.SMALL_PAGE_SIZE); // small pages are aligned to their size
    let list = byPage.get(key);
    if (list === undefined) byPage.set(key, (list = []));
    list.push(p);
  }
  const r = xorshift32(REFERENCE_SEED);
  const toFree: number[] = [];
  let live = 0;
  let checksum = 0;
  for (const list of byPage.values()) {
    const keep = Math.max(1, Math.round((list.length * livePercent) / 100));
    shuffle(list, r);
    for (let i = 0; i < keep; i++) checksum = (checksum + list[i]!) | 0;
    live += keep;
    toFree.push(...list.slice(keep));
  }
  for (const p of shuffle(toFree, r)) arena.free(p);
  return { arena, heap, live, checksum, pages: byPage.size };
}

function buildSingle(m: Mimalloc, pages: number): Built {
  const arena = m.Arena.create({ maxBytes: 1 << 30 });
  const heap = arena.heapNew(0);
  let checksum = 0;
  for (let i = 0; i < pages; i++) {
    const p = heap.malloc(SINGLE_SIZE);
    if (p === 0) throw new Error("out of memory while building the heap");
    checksum = (checksum + p) | 0;
  }
  return { arena, heap, live: pages, checksum, pages };
}

/**
 * The trivial visitor: adds block offsets into a property. (A visitor writing a module-level
 * `let` compiles either fast or ~5× slower on V8 11.3, depending on compile timing; a property
 * write is stable.) One visitor object per process keeps the walk's call site monomorphic.
 */
const visitor = {
  sum: 0,
  block(block: number): void {
    this.sum = (this.sum + block) | 0;
  },
};

function timeVisits(m: Mimalloc, b: Built, plain: boolean, batches: number): CaseResult {
  const options = plain ? { plain: true } : undefined;
  // One walk to collect (nothing to collect here: all frees were local) and check the blocks.
  const before = visitor.sum;
  m.visitHeap(b.arena, b.heap, visitor, options);
  if (((visitor.sum - before) | 0) !== b.checksum)
    throw new Error("the walk did not visit exactly the live blocks");
  const run = (ms: number): number => {
    let passes = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      m.visitHeap(b.arena, b.heap, visitor, options);
      passes++;
      t = performance.now();
    }
    return (b.live * passes) / ((t - t0) * 1000); // M blocks/s
  };
  run(WARMUP_MS);
  const rates = Array.from({ length: batches }, () => run(BATCH_MS)).sort((x, y) => x - y);
  return {
    metrics: { rate: rates[rates.length >> 1]! },
    info: { pages: b.pages, liveBlocks: b.live, batchMin: rates[0]!, batchMax: rates[rates.length - 1]! },
  };
}

function batchesFor(o: CaseOptions): number {
  return o.quick ? 3 : 9;
}

function shapeCase(shape: Shape, size: number, plain: boolean, pages: number): BenchCase {
  const big = pages > PAGES;
  return {
    name: `${shape}-${size}${big ? "-big" : ""}-${plain ? "plain" : "fast"}`,
    description:
      `${plain ? "plain walk (byte map, a division per free block)" : "fast walk"}: ${pages} pages of ${size}-byte blocks, ` +
      `${SHAPES[shape]}% live`,
    metrics: RATE,
    params: (o): CaseParams => ({ size, live: SHAPES[shape], pages, batches: batchesFor(o) }),
    async run(p) {
      const m = await loadMimalloc();
      return timeVisits(m, buildPages(m, p.size!, p.live!, p.pages!), plain, p.batches!);
    },
  };
}

function singleCase(plain: boolean): BenchCase {
  return {
    name: `single-${plain ? "plain" : "fast"}`,
    description: `${plain ? "plain walk" : "fast walk"}: ${SINGLE_PAGES} single-block pages (${SINGLE_SIZE}-byte blocks)`,
    metrics: RATE,
    params: (o): CaseParams => ({ size: SINGLE_SIZE, pages: SINGLE_PAGES, batches: batchesFor(o) }),
    async run(p) {
      const m = await loadMimalloc();
      return timeVisits(m, buildSingle(m, p.pages!), plain, p.batches!);
    },
  };
}

const cases: BenchCase[] = [];
for (const shape of Object.keys(SHAPES) as Shape[]) {
  for (const size of VISIT_SIZES) {
    cases.push(shapeCase(shape, size, false, PAGES), shapeCase(shape, size, true, PAGES));
  }
}
cases.push(singleCase(false), singleCase(true));
for (const size of [16, 64])
  cases.push(shapeCase("mixed", size, false, BIG_PAGES), shapeCase("mixed", size, true, BIG_PAGES));

const ratios: RatioDef[] = [];
for (const size of [16, 64]) {
  ratios.push({
    name: `mixed ${size} B: fast / plain`,
    description: "the fast page walk against the plain one on mixed pages of small blocks, same round",
    num: `visit/mixed-${size}-fast`,
    den: `visit/mixed-${size}-plain`,
    target: { op: ">=", value: 3 },
  });
}
for (const size of VISIT_SIZES) {
  ratios.push({
    name: `full ${size} B: M blocks/s`,
    description: "live blocks per second on full pages, trivial visitor",
    num: `visit/full-${size}-fast`,
    target: { op: ">=", value: 100 },
  });
}
for (const size of VISIT_SIZES) {
  ratios.push({
    name: `mixed ${size} B: M live blocks/s`,
    description: "live blocks per second on mixed pages (50% live), trivial visitor",
    num: `visit/mixed-${size}-fast`,
    target: { op: ">=", value: 50 },
  });
}
for (const shape of Object.keys(SHAPES) as Shape[]) {
  for (const size of VISIT_SIZES) {
    if (shape === "mixed" && size <= 64) continue; // a target ratio above
    ratios.push({
      name: `${shape} ${size} B: fast / plain`,
      description: "the fast page walk against the plain one, same round",
      num: `visit/${shape}-${size}-fast`,
      den: `visit/${shape}-${size}-plain`,
    });
  }
}
ratios.push({
  name: "single-block pages: fast / plain",
  description: "pages holding one large block",
  num: "visit/single-fast",
  den: "visit/single-plain",
});
for (const size of [16, 64]) {
  ratios.push({
    name: `mixed ${size} B, 8 MiB heap: fast / plain`,
    description: "a heap larger than L2: chasing the free lists through memory dominates both walks",
    num: `visit/mixed-${size}-big-fast`,
    den: `visit/mixed-${size}-big-plain`,
  });
}

export const visitSuite: Suite = {
  name: "visit",
  description:
    "block visiting: live blocks per second with a trivial visitor, fast page walk against the plain one, " +
    "full / mixed (50%) / sparse (5%) / single-block pages",
  cases,
  ratios,
};
