/**
 * `alloc-mem`: memory overhead. Fill W live blocks with reference sizes (16..256 bytes from the
 * seed-42 stream) and report
 *   - usable ÷ requested: bytes the allocator hands out (usable size) per byte asked for,
 *   - pages ÷ live: bytes of pages in use at the peak per live requested byte.
 * The floor's rows are the same numbers for the metadata-free floor (its "pages" are the bytes
 * carved from its bump area, headers included). Deterministic: one run each.
 */
import { loadMimalloc } from "../../runtime/mimalloc.ts";
import { FloorAllocator } from "../floor.ts";
import { REFERENCE_SEED, xorshift32 } from "../rng.ts";
import type { BenchCase, CaseResult, MetricDef, Suite } from "../types.ts";
import { floorCapacity } from "./alloc.ts";

const METRICS: readonly MetricDef[] = [
  { key: "usable", label: "usable÷requested", unit: "×", better: "lower" },
  { key: "pages", label: "pages÷live", unit: "×", better: "lower" },
];

interface Filler {
  malloc(size: number): number;
  usableSize(p: number): number;
}

/** Fill W blocks; returns requested and usable byte totals. */
function fill(a: Filler, W: number): { requested: number; usable: number } {
  const r = xorshift32(REFERENCE_SEED);
  let requested = 0;
  let usable = 0;
  for (let i = 0; i < W; i++) {
    const size = 16 + (r() % 241);
    const p = a.malloc(size);
    if (p === 0) throw new Error(`out of memory after ${i} of ${W} blocks`);
    requested += size;
    usable += a.usableSize(p);
  }
  return { requested, usable };
}

function label(W: number): string {
  return W >= 1_000_000 ? `${W / 1_000_000}m` : `${W / 1000}k`;
}

function ftCase(W: number): BenchCase {
  return {
    name: `ft-${label(W)}`,
    description: `@ft/mimalloc, ${W.toLocaleString("en-US")} live blocks`,
    metrics: METRICS,
    once: true,
    params: () => ({ W }),
    async run(p): Promise<CaseResult> {
      const { Arena } = await loadMimalloc();
      const arena = Arena.create({ maxBytes: 1 << 30 });
      const { requested, usable } = fill(arena, p.W!);
      const s = arena.stats();
      return {
        metrics: { usable: usable / requested, pages: s.peakPageBytes / requested },
        info: {
          requestedBytes: requested,
          usableBytes: usable,
          peakPageBytes: s.peakPageBytes,
          pageBytesInUse: s.pageBytesInUse,
          reservedBytes: s.reservedBytes,
          segmentsInUse: s.segmentsInUse,
          smallPages: s.pages.small,
          mediumPages: s.pages.medium,
        },
      };
    },
  };
}

function floorCase(W: number): BenchCase {
  return {
    name: `floor-${label(W)}`,
    description: `size-class floor, ${W.toLocaleString("en-US")} live blocks (8-byte header, 16-byte classes)`,
    metrics: METRICS,
    once: true,
    params: () => ({ W }),
    async run(p): Promise<CaseResult> {
      const floor = new FloorAllocator(floorCapacity(p.W!));
      const { requested, usable } = fill(floor, p.W!);
      return {
        metrics: { usable: usable / requested, pages: floor.carvedBytes() / requested },
        info: { requestedBytes: requested, usableBytes: usable, carvedBytes: floor.carvedBytes() },
      };
    },
  };
}

export const allocMemSuite: Suite = {
  name: "alloc-mem",
  description: "memory overhead after filling W live blocks of 16..256 bytes",
  cases: [ftCase(10_000), ftCase(1_000_000), floorCase(10_000), floorCase(1_000_000)],
  ratios: [
    {
      name: "usable ÷ requested (W=10k)",
      description: "bytes handed out per byte asked for (size-class rounding)",
      num: "alloc-mem/ft-10k:usable",
      target: { op: "<=", value: 1.15 },
    },
    {
      name: "pages ÷ live (W=10k)",
      description: "bytes of pages in use at the peak per live requested byte",
      num: "alloc-mem/ft-10k:pages",
      target: { op: "<=", value: 2.0 },
    },
    {
      name: "pages ÷ live (W=1m)",
      description: "bytes of pages in use at the peak per live requested byte",
      num: "alloc-mem/ft-1m:pages",
      target: { op: "<=", value: 1.3 },
    },
  ],
};
