// Measures each speedup of the fast page walk (src/internal/visit.ts) against the same walk
// without it, and the block-index methods against each other (VISITING.md, "Speedups, measured").
// Not a test (timings): a release build of the walk, run by hand from packages/mimalloc:
//
//   npx esbuild test/visit-speedups.measure.ts --bundle --platform=node --format=esm \
//     --define:__DEBUG__=false --minify-syntax --outfile=/tmp/visit-speedups.mjs && node /tmp/visit-speedups.mjs
//
// Arguments pick groups: cases (empty, single, full), map (mixed / sparse / dense pages), cache
// (heap sizes), index (block-index methods); none runs all (~3 min).
//
// Every variant walks the same pages (a heap of 128 pages per shape, frees in random order) in
// interleaved rounds; the figure is the median over rounds of live blocks visited per second with
// a trivial block visitor.
import { Arena, type Heap, type HeapArea, type HeapVisitor } from "../src/index.ts";
import { blockIndexInverse, blockIndexShift } from "../src/internal/layout/block-index.ts";
import { HEAP_QUEUES, QUEUE_FIRST, QUEUE_WORDS } from "../src/internal/layout/heap.ts";
import {
  PAGE_BLOCK_SIZE,
  PAGE_CAPACITY,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_NEXT,
  PAGE_START,
  PAGE_USED,
} from "../src/internal/layout/page.ts";
import { BIN_COUNT } from "../src/internal/layout/size-class.ts";
import { pageVisitBlocks, visitHeap } from "../src/internal/visit.ts";

type Walk = (
  u32: Uint32Array,
  pi: number,
  area: HeapArea,
  visitor: HeapVisitor,
  map: Uint32Array,
  bytes: Uint8Array,
) => boolean;

const F_EMPTY = 1;
const F_SINGLE = 2;
const F_FULL = 4;
const F_RUN = 8;
const F_ALL = F_EMPTY | F_SINGLE | F_FULL | F_RUN;

/** The fast walk with some special cases switched off (bit map, imul index, ctz scan as in production). */
function walkFlags(
  u32: Uint32Array,
  pi: number,
  area: HeapArea,
  visitor: HeapVisitor,
  map: Uint32Array,
  flags: number,
): boolean {
  const used = u32[pi + PAGE_USED]!;
  if ((flags & F_EMPTY) !== 0 && used === 0) return true;
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  if ((flags & F_SINGLE) !== 0 && capacity === 1 && used === 1)
    return visitor.block!(start, blockSize, area) !== false;
  if ((flags & F_FULL) !== 0 && used === capacity) {
    for (let i = 0, block = start; i < capacity; i++, block += blockSize)
      if (visitor.block!(block, blockSize, area) === false) return false;
    return true;
  }
  const words = (capacity + 31) >>> 5;
  map.fill(0, 0, words);
  if ((capacity & 31) !== 0) map[words - 1] = -1 << (capacity & 31);
  const shift = blockIndexShift(blockSize);
  const inverse = blockIndexInverse(blockSize);
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.imul((block - start) >>> shift, inverse);
    map[i >>> 5]! |= 1 << i;
  }
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.imul((block - start) >>> shift, inverse);
    map[i >>> 5]! |= 1 << i;
  }
  const run = (flags & F_RUN) !== 0;
  for (let w = 0, block = start; w < words; w++, block += blockSize * 32) {
    const word = map[w]!;
    if (run && word === 0) {
      for (let i = 0, b = block; i < 32; i++, b += blockSize)
        if (visitor.block!(b, blockSize, area) === false) return false;
    } else if (word !== 0xffffffff) {
      let live = ~word;
      do {
        const i = 31 - Math.clz32(live & -live);
        if (visitor.block!(block + i * blockSize, blockSize, area) === false) return false;
        live &= live - 1;
      } while (live !== 0);
    }
  }
  return true;
}

/** Scan tail shared by the index-method variants (production's). */
function scan(
  start: number,
  blockSize: number,
  words: number,
  area: HeapArea,
  visitor: HeapVisitor,
  map: Uint32Array,
): boolean {
  for (let w = 0, block = start; w < words; w++, block += blockSize * 32) {
    const word = map[w]!;
    if (word === 0) {
      for (let i = 0, b = block; i < 32; i++, b += blockSize)
        if (visitor.block!(b, blockSize, area) === false) return false;
    } else if (word !== 0xffffffff) {
      let live = ~word;
      do {
        const i = 31 - Math.clz32(live & -live);
        if (visitor.block!(block + i * blockSize, blockSize, area) === false) return false;
        live &= live - 1;
      } while (live !== 0);
    }
  }
  return true;
}

/** Mixed/sparse pages only (no special case needed): the map built with a given index method. */
function mapPrologue(u32: Uint32Array, pi: number, map: Uint32Array): number {
  const capacity = u32[pi + PAGE_CAPACITY]!;
  const words = (capacity + 31) >>> 5;
  map.fill(0, 0, words);
  if ((capacity & 31) !== 0) map[words - 1] = -1 << (capacity & 31);
  return words;
}

const walkDivFloor: Walk = (u32, pi, area, visitor, map) => {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const words = mapPrologue(u32, pi, map);
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.floor((block - start) / blockSize);
    map[i >>> 5]! |= 1 << i;
  }
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.floor((block - start) / blockSize);
    map[i >>> 5]! |= 1 << i;
  }
  return scan(start, blockSize, words, area, visitor, map);
};

const walkDivTrunc: Walk = (u32, pi, area, visitor, map) => {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const words = mapPrologue(u32, pi, map);
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = ((block - start) / blockSize) | 0;
    map[i >>> 5]! |= 1 << i;
  }
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = ((block - start) / blockSize) | 0;
    map[i >>> 5]! |= 1 << i;
  }
  return scan(start, blockSize, words, area, visitor, map);
};

/** mimalloc's fast divide (`mi_get_fast_divisor` / `mi_fast_divide`), in float64 (exact: n·magic < 2^52). */
const walkDivMagic: Walk = (u32, pi, area, visitor, map) => {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const words = mapPrologue(u32, pi, map);
  const shift = 32 - Math.clz32(blockSize - 1);
  const magic = Math.floor((2 ** 32 * (2 ** shift - blockSize)) / blockSize) + 1;
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const n = block - start;
    const i = (Math.floor((n * magic) / 4294967296) + n) >>> shift;
    map[i >>> 5]! |= 1 << i;
  }
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const n = block - start;
    const i = (Math.floor((n * magic) / 4294967296) + n) >>> shift;
    map[i >>> 5]! |= 1 << i;
  }
  return scan(start, blockSize, words, area, visitor, map);
};

const walkDivImul: Walk = (u32, pi, area, visitor, map) => {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const words = mapPrologue(u32, pi, map);
  const shift = blockIndexShift(blockSize);
  const inverse = blockIndexInverse(blockSize);
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.imul((block - start) >>> shift, inverse);
    map[i >>> 5]! |= 1 << i;
  }
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.imul((block - start) >>> shift, inverse);
    map[i >>> 5]! |= 1 << i;
  }
  return scan(start, blockSize, words, area, visitor, map);
};

/** A byte per block instead of a bit (imul index), every byte tested. */
const walkByteMap: Walk = (u32, pi, area, visitor, _map, bytes) => {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  bytes.fill(0, 0, capacity);
  const shift = blockIndexShift(blockSize);
  const inverse = blockIndexInverse(blockSize);
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!)
    bytes[Math.imul((block - start) >>> shift, inverse)] = 1;
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!)
    bytes[Math.imul((block - start) >>> shift, inverse)] = 1;
  for (let i = 0, block = start; i < capacity; i++, block += blockSize) {
    if (bytes[i] === 0 && visitor.block!(block, blockSize, area) === false) return false;
  }
  return true;
};

/** The bit map, but every bit of a word tested instead of the trailing-zero scan. */
const walkBitTest: Walk = (u32, pi, area, visitor, map) => {
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  const words = mapPrologue(u32, pi, map);
  const shift = blockIndexShift(blockSize);
  const inverse = blockIndexInverse(blockSize);
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.imul((block - start) >>> shift, inverse);
    map[i >>> 5]! |= 1 << i;
  }
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) {
    const i = Math.imul((block - start) >>> shift, inverse);
    map[i >>> 5]! |= 1 << i;
  }
  for (let w = 0, block = start; w < words; w++, block += blockSize * 32) {
    const word = map[w]!;
    for (let i = 0; i < 32; i++) {
      if (((word >>> i) & 1) === 0 && visitor.block!(block + i * blockSize, blockSize, area) === false)
        return false;
    }
  }
  return true;
};

/** Only the free-list chase (the memory-bound part): no map, no visit. */
const walkChaseOnly: Walk = (u32, pi) => {
  let n = 0;
  for (let block = u32[pi + PAGE_FREE]!; block !== 0; block = u32[block >>> 2]!) n++;
  for (let block = u32[pi + PAGE_LOCAL_FREE]!; block !== 0; block = u32[block >>> 2]!) n++;
  return n >= 0;
};

/** The full-page loop as first written (a count, `i < capacity`), against production's `block < end`. */
const walkFullCount: Walk = (u32, pi, area, visitor, map) => {
  const used = u32[pi + PAGE_USED]!;
  const capacity = u32[pi + PAGE_CAPACITY]!;
  if (used !== capacity) return walkFlags(u32, pi, area, visitor, map, F_ALL);
  const start = u32[pi + PAGE_START]!;
  const blockSize = u32[pi + PAGE_BLOCK_SIZE]!;
  for (let i = 0, block = start; i < capacity; i++, block += blockSize)
    if (visitor.block!(block, blockSize, area) === false) return false;
  return true;
};

/** Stand-ins: `passNs` runs the public walk for these (per-page overhead and page pairing included). */
const VISIT_HEAP: Walk = () => true;
const VISIT_HEAP_PLAIN: Walk = () => true;

const VARIANTS: Record<string, Walk> = {
  visitHeap: VISIT_HEAP,
  "visitHeap, plain": VISIT_HEAP_PLAIN,
  "page walk, unpaired": (u32, pi, area, visitor, map) => pageVisitBlocks(u32, pi, area, visitor, map),
  "chase only": walkChaseOnly,
  "full: count loop": walkFullCount,
  "no empty case": (u32, pi, area, visitor, map) => walkFlags(u32, pi, area, visitor, map, F_ALL & ~F_EMPTY),
  "no single case": (u32, pi, area, visitor, map) =>
    walkFlags(u32, pi, area, visitor, map, F_ALL & ~F_SINGLE),
  "no full case": (u32, pi, area, visitor, map) => walkFlags(u32, pi, area, visitor, map, F_ALL & ~F_FULL),
  "no 32-run case": (u32, pi, area, visitor, map) => walkFlags(u32, pi, area, visitor, map, F_ALL & ~F_RUN),
  "byte map": walkByteMap,
  "bit test, no ctz": walkBitTest,
  "index: imul": walkDivImul,
  "index: Math.floor(/)": walkDivFloor,
  "index: (/)|0": walkDivTrunc,
  "index: mimalloc magic": walkDivMagic,
};

// ------------------------------------------------------------------------------- heaps

let seed = 42;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>>= 0);
}
function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

interface Shape {
  name: string;
  a: Arena;
  heap: Heap;
  pages: number[];
  live: number;
}

function heapPages(a: Arena, heap: Heap): number[] {
  const pages: number[] = [];
  for (let bin = 0; bin < BIN_COUNT; bin++) {
    for (
      let p = a.u32[(heap.record >>> 2) + HEAP_QUEUES + bin * QUEUE_WORDS + QUEUE_FIRST]!;
      p !== 0;
      p = a.u32[(p >>> 2) + PAGE_NEXT]!
    )
      pages.push(p);
  }
  return pages;
}

/** 128 pages of `size`-byte blocks with a fraction `liveFraction` of each page's blocks live. */
function build(name: string, size: number, liveFraction: number, pageCount = 128): Shape {
  const a = Arena.create({ maxBytes: 1 << 30 });
  const heap = a.heapNew(0);
  const perPage = Math.floor(65536 / size);
  const byPage = new Map<number, number[]>();
  for (let i = 0; i < perPage * pageCount; i++) {
    const p = heap.malloc(size);
    const key = Math.floor(p / 65536);
    let list = byPage.get(key);
    if (!list) byPage.set(key, (list = []));
    list.push(p);
  }
  const toFree: number[] = [];
  for (const list of byPage.values()) {
    const keep = Math.max(1, Math.round(list.length * liveFraction));
    toFree.push(...shuffle(list).slice(keep));
  }
  for (const p of shuffle(toFree)) a.free(p);
  visitHeap(a, heap, { area() {} }, { blocks: false }); // collect once
  const pages = heapPages(a, heap);
  const live = pages.reduce((n, p) => n + a.u32[(p >>> 2) + PAGE_USED]!, 0);
  return { name, a, heap, pages, live };
}

function buildSingle(): Shape {
  const a = Arena.create({ maxBytes: 1 << 30 });
  const heap = a.heapNew(0);
  for (let i = 0; i < 128; i++) heap.malloc(200_000);
  const pages = heapPages(a, heap);
  return { name: "single-block pages", a, heap, pages, live: pages.length };
}

/** Retired (empty) pages, one per bin, plus one live single block so the rate is finite. */
function buildEmpty(): Shape {
  const a = Arena.create({ maxBytes: 1 << 30 });
  const heap = a.heapNew(0);
  const blocks: number[] = [];
  for (let size = 8; size <= 16384; size = Math.ceil((size * 1.15) / 8) * 8) blocks.push(heap.malloc(size));
  for (const p of blocks) a.free(p);
  heap.malloc(200_000);
  const pages = heapPages(a, heap);
  return { name: `empty pages (${pages.length - 1}) + 1 block`, a, heap, pages, live: 1 };
}

// ------------------------------------------------------------------------------- timing

// A property write, not a module-level `let`: V8 11.3 compiles a visitor that writes a module
// `let` either fast or ~5× slower depending on compile timing (bimodal across runs).
const visitor = {
  sum: 0,
  block(block: number) {
    this.sum = (this.sum + block) | 0;
  },
} satisfies HeapVisitor & { sum: number };
const area: HeapArea = { page: 0, start: 0, blockSize: 0, reserved: 0, capacity: 0, used: 0, tag: 0 };
const map = new Uint32Array(256);
const bytes = new Uint8Array(8192);

function passNs(walk: Walk, shape: Shape): number {
  const u32 = shape.a.u32;
  const pages = shape.pages;
  const t0 = process.hrtime.bigint();
  if (walk === VISIT_HEAP) visitHeap(shape.a, shape.heap, visitor);
  else if (walk === VISIT_HEAP_PLAIN) visitHeap(shape.a, shape.heap, visitor, { plain: true });
  else for (let k = 0; k < pages.length; k++) walk(u32, pages[k]! >>> 2, area, visitor, map, bytes);
  return Number(process.hrtime.bigint() - t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function measure(shape: Shape, names: string[], rounds = 9): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (let i = 0; i < 20; i++) passNs(VARIANTS[n]!, shape); // warm up
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      let ns = 0;
      let passes = 0;
      while (ns < 20e6) {
        ns += passNs(VARIANTS[n]!, shape);
        passes++;
      }
      samples[n]!.push((shape.live * passes) / (ns / 1e9) / 1e6);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}

function report(shape: Shape, names: string[]): void {
  const m = measure(shape, names);
  const base = m[names[0]!]!;
  console.log(`\n${shape.name} (${shape.pages.length} pages, ${shape.live} live blocks)`);
  for (const n of names)
    console.log(
      `  ${n.padEnd(24)} ${m[n]!.toFixed(1).padStart(8)} M live blocks/s   ${(m[n]! / base).toFixed(2)}× of ${names[0]}`,
    );
}

const args = new Set(process.argv.slice(2));
const all = args.size === 0;
const H = "visitHeap";
const P = "visitHeap, plain";
if (all || args.has("cases")) {
  for (const size of [16, 64, 256, 1024])
    report(build(`full ${size} B`, size, 1), [H, "no full case", "full: count loop", P]);
  report(buildSingle(), ["page walk, unpaired", "no single case", H, P]);
  report(buildEmpty(), ["page walk, unpaired", "no empty case", H, P]);
}
if (all || args.has("map")) {
  for (const size of [16, 64, 256, 1024]) {
    for (const [label, fraction] of [
      ["mixed", 0.5],
      ["sparse", 0.05],
      ["dense", 0.95],
    ] as const) {
      report(build(`${label} ${size} B`, size, fraction), [
        H,
        "page walk, unpaired",
        "no 32-run case",
        "bit test, no ctz",
        "byte map",
        "chase only",
        P,
      ]);
    }
  }
}
if (all || args.has("cache")) {
  for (const pages of [16, 128, 512]) {
    for (const size of [16, 64])
      report(build(`mixed ${size} B, ${pages} pages`, size, 0.5, pages), [
        H,
        "page walk, unpaired",
        "chase only",
        P,
      ]);
  }
}
if (all || args.has("index")) {
  for (const size of [16, 48, 64, 1024]) {
    const names = ["index: imul", "index: Math.floor(/)", "index: (/)|0", "index: mimalloc magic"];
    report(build(`index: mixed ${size} B`, size, 0.5, 16), names);
    report(build(`index: sparse ${size} B`, size, 0.05, 16), names);
  }
}
if (visitor.sum === 0.5) console.log(visitor.sum);
