/**
 * `alloc`: the reference workload on one thread (performance-anchors §A.1, §A.3), in ns per
 * malloc+free pair, for ft and its peers.
 */
import { MemPool } from "@thi.ng/malloc";
import { loadMimalloc } from "../../runtime/mimalloc.ts";
import { FloorAllocator } from "../floor.ts";
import { REFERENCE_SEED, xorshift32 } from "../rng.ts";
import type { BenchCase, CaseOptions, CaseParams, CaseResult, MetricDef, Suite } from "../types.ts";
import { opsFor } from "../types.ts";
import {
  type Allocator,
  churn,
  countNull,
  fillLive,
  freeAll,
  NoAllocator,
  V8Allocator,
} from "../workload.ts";

export const REFERENCE_LIVE = 10_000;
export const REFERENCE_OPS = 2_000_000;
export const QUICK_OPS = 200_000;

const NS_PER_PAIR: readonly MetricDef[] = [{ key: "ns", unit: "ns/pair", better: "lower" }];

function referenceParams(options: CaseOptions): CaseParams {
  return { W: REFERENCE_LIVE, OPS: opsFor(REFERENCE_OPS, QUICK_OPS, options) };
}

/** Fill, churn (timed), check, free everything; ns per pair. */
export function runReference<P>(a: Allocator<P>, W: number, OPS: number): CaseResult {
  const live = new Array<P>(W);
  const r = xorshift32(REFERENCE_SEED);
  fillLive(a, live, r);
  const ns = churn(a, live, r, OPS);
  const failed = countNull(live);
  if (failed > 0) throw new Error(`${failed} of the last ${W} allocations failed (out of memory)`);
  freeAll(a, live);
  return { metrics: { ns: ns / OPS } };
}

function referenceCase(
  name: string,
  description: string,
  make: (p: CaseParams) => Promise<Allocator<unknown>> | Allocator<unknown>,
): BenchCase {
  return {
    name,
    description,
    metrics: NS_PER_PAIR,
    params: referenceParams,
    async run(p) {
      return runReference(await make(p), p.W!, p.OPS!);
    },
  };
}

/** The floor's buffer: room for every live block to change class a few times. */
export function floorCapacity(W: number): number {
  return Math.min(0x7fff_0000, Math.max(64 << 20, W * 264 * 2));
}

const thing: BenchCase = {
  name: "thing",
  description: "@thi.ng/malloc 6.1.150 MemPool over an ArrayBuffer (first-fit, O(live) per op)",
  metrics: NS_PER_PAIR,
  note:
    "alloc/thing runs 1/10 of the ops of the other cases: @thi.ng/malloc walks its used and free " +
    "lists on every op (~72 µs/pair at 10,000 live blocks, 2M ops take ~2.5 min).",
  params: (options) => ({
    W: REFERENCE_LIVE,
    OPS: Math.max(1, Math.round(opsFor(REFERENCE_OPS, 20_000, options) / 10)),
  }),
  async run(p) {
    const pool = new MemPool({ size: 32 << 20 });
    return runReference<number>(pool, p.W!, p.OPS!);
  },
};

const ft: BenchCase = {
  name: "ft",
  description: "@ft/mimalloc: Arena.create, malloc/free on the creating thread",
  metrics: NS_PER_PAIR,
  params: referenceParams,
  async run(p) {
    const { Arena } = await loadMimalloc();
    const arena = Arena.create({ maxBytes: 1 << 30 });
    const result = runReference<number>(arena, p.W!, p.OPS!);
    const s = arena.stats();
    result.info = { usedBlocksAfterFreeAll: s.usedBlocks, peakPageBytes: s.peakPageBytes };
    return result;
  },
};

export const allocSuite: Suite = {
  name: "alloc",
  description:
    "reference workload, one thread: W = 10,000 live blocks, OPS free+malloc pairs of 16..256 bytes",
  cases: [
    referenceCase("harness", "no allocator: the same rng and array traffic", () => new NoAllocator()),
    referenceCase(
      "floor",
      "size-class free-list floor over a SharedArrayBuffer (no metadata, one thread)",
      (p) => new FloorAllocator(floorCapacity(p.W!)),
    ),
    thing,
    referenceCase(
      "v8",
      "new Uint8Array(size) kept in the live array, V8's GC frees",
      () => new V8Allocator(),
    ),
    ft,
  ],
  ratios: [
    {
      name: "ft / floor",
      description: "ft's cost per pair against the metadata-free floor, same round",
      num: "alloc/ft",
      den: "alloc/floor",
      target: { op: "<=", value: 1.25 },
    },
    {
      name: "floor / harness",
      description: "what the floor adds to the bare harness",
      num: "alloc/floor",
      den: "alloc/harness",
    },
    { name: "v8 / ft", description: "new Uint8Array against ft", num: "alloc/v8", den: "alloc/ft" },
    {
      name: "thing / ft",
      description: "@thi.ng/malloc against ft (per pair; thing runs fewer ops)",
      num: "alloc/thing",
      den: "alloc/ft",
    },
  ],
};
