/**
 * `ft heapmap`: where a sample workload's live blocks sit in a fresh arena.
 *
 * The map is built from the pointers themselves, with the arithmetic the allocator uses
 * (segments are SEGMENT_SIZE-aligned relative to the buffer start, a segment is a row of
 * SLICE_SIZE slices): for every slice it sums the live bytes of the blocks it holds and the
 * page kind their size class belongs to. Slices with no live block — free spans, segment
 * metadata, emptied pages — show as `·`.
 */
import type { Arena, Mimalloc } from "../runtime/mimalloc.ts";
import { REFERENCE_SEED, xorshift32 } from "../bench/rng.ts";
import { size } from "../demo/step.ts";

export interface SampleOptions {
  /** Live blocks of reference sizes (16..256 bytes). */
  live: number;
  /** Reference churn ops (free + malloc pairs) after the fill. */
  ops: number;
  /** Extra bigger blocks (4 KiB … 2 MiB, log-uniform) kept live. */
  big: number;
  seed: number;
}

export interface LiveBlock {
  p: number;
  size: number;
}

/** Fill, churn, and add some bigger blocks; returns every live block. */
export function sampleWorkload(arena: Arena, o: SampleOptions): LiveBlock[] {
  const r = xorshift32(o.seed || REFERENCE_SEED);
  const live: LiveBlock[] = [];
  const alloc = (size: number): LiveBlock => {
    const p = arena.malloc(size);
    if (p === 0) throw new Error(`heapmap: out of memory allocating ${size} bytes`);
    return { p, size };
  };
  for (let i = 0; i < o.live; i++) live.push(alloc(16 + (r() % 241)));
  for (let i = 0; i < o.ops && o.live > 0; i++) {
    const k = r() % o.live;
    arena.free(live[k]!.p);
    live[k] = alloc(16 + (r() % 241));
  }
  for (let i = 0; i < o.big; i++) {
    const size = Math.round(4096 * 2 ** (((r() % 1000) / 1000) * 9)); // 4 KiB … 2 MiB
    live.push(alloc(size));
  }
  return live;
}

type Kind = "small" | "medium" | "large";

interface SliceCell {
  bytes: number;
  blocks: number;
  kind: Kind | undefined;
}

const KIND_RANK: Record<Kind, number> = { small: 0, medium: 1, large: 2 };

export function kindOf(m: Mimalloc, size: number): Kind {
  return size <= m.SMALL_OBJ_SIZE_MAX ? "small" : size <= m.MEDIUM_OBJ_SIZE_MAX ? "medium" : "large";
}

/** The glyph of one slice: density for small-object slices, a letter for bigger kinds. */
export function glyph(cell: SliceCell | undefined, sliceSize: number): string {
  if (!cell || cell.blocks === 0) return "·";
  if (cell.kind === "medium") return "m";
  if (cell.kind === "large") return "L";
  const fill = cell.bytes / sliceSize;
  return fill < 0.25 ? "." : fill < 0.5 ? ":" : fill < 0.75 ? "o" : "#";
}

export interface HeapMapOptions {
  /** Slices per printed row. */
  width: number;
}

export function renderHeapmap(
  m: Mimalloc,
  arena: Arena,
  live: readonly LiveBlock[],
  o: HeapMapOptions,
): string {
  const { SEGMENT_SIZE, SLICE_SIZE } = m;
  const slicesPerSegment = SEGMENT_SIZE / SLICE_SIZE;
  const segments = new Map<number, SliceCell[]>();
  const perBin = new Map<number, { blocks: number; bytes: number }>();
  let requested = 0;
  let usable = 0;
  for (const { p, size } of live) {
    const u = arena.usableSize(p);
    requested += size;
    usable += u;
    const bin = m.binOf(size);
    const b = perBin.get(bin) ?? { blocks: 0, bytes: 0 };
    b.blocks++;
    b.bytes += u;
    perBin.set(bin, b);
    const kind = kindOf(m, size);
    // A block may span several slices: give each slice its share of the bytes.
    let at = p;
    const end = p + u;
    while (at < end) {
      const seg = Math.floor(at / SEGMENT_SIZE);
      const slice = Math.floor((at % SEGMENT_SIZE) / SLICE_SIZE);
      const sliceEnd = seg * SEGMENT_SIZE + (slice + 1) * SLICE_SIZE;
      const take = Math.min(end, sliceEnd) - at;
      let cells = segments.get(seg);
      if (!cells) segments.set(seg, (cells = []));
      const cell = (cells[slice] ??= { bytes: 0, blocks: 0, kind: undefined });
      cell.bytes += take;
      cell.blocks++;
      if (!cell.kind || KIND_RANK[kind] > KIND_RANK[cell.kind]) cell.kind = kind;
      at += take;
    }
  }

  const out: string[] = [];
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  out.push(
    `segments of ${size(SEGMENT_SIZE)} = ${slicesPerSegment} slices of ${size(SLICE_SIZE)}; ` +
      `one character per slice, ${o.width} per row`,
    "",
  );
  for (const seg of [...segments.keys()].sort((a, b) => a - b)) {
    const cells = segments.get(seg)!;
    const used = cells.filter((c) => c && c.blocks > 0).length;
    out.push(
      `segment ${seg} @ ${(seg * SEGMENT_SIZE).toString(16).padStart(8, "0")}  (${used} slices hold live blocks)`,
    );
    for (let row = 0; row < slicesPerSegment; row += o.width) {
      let line = "";
      for (let s = row; s < Math.min(row + o.width, slicesPerSegment); s++)
        line += glyph(cells[s], SLICE_SIZE);
      // Leave out rows with nothing live after the last used slice.
      if (/^·+$/.test(line) && !cells.slice(row).some((c) => c && c.blocks > 0)) {
        out.push(`  ${String(row).padStart(4)}  ${"·".repeat(3)} (the rest of the segment is empty)`);
        break;
      }
      out.push(`  ${String(row).padStart(4)}  ${line}`);
    }
    out.push("");
  }
  out.push(
    "legend: · no live block   small-object slice filled . <25%  : <50%  o <75%  # ≥75%   m medium block   L large block",
    "",
  );

  const s = arena.stats();
  out.push(
    `live blocks ${live.length.toLocaleString("en-US")}: requested ${mib(requested)}, usable ${mib(usable)} ` +
      `(×${(usable / requested).toFixed(3)})`,
    `arena: ${s.segmentsInUse} segment(s) in use, ${mib(s.reservedBytes)} reserved, pages in use ${mib(s.pageBytesInUse)} ` +
      `(peak ${mib(s.peakPageBytes)}, ×${(s.pageBytesInUse / requested).toFixed(2)} of requested)`,
    `pages in use: small ${s.pages.small}, medium ${s.pages.medium}, large ${s.pages.large}, huge ${s.pages.huge}; ` +
      `used blocks ${s.usedBlocks.toLocaleString("en-US")} (${mib(s.usedBytes)})`,
    "",
    "live blocks by size class (bin: block size × count):",
  );
  const bins = [...perBin.entries()].sort((a, b) => a[0] - b[0]);
  const entries = bins.map(
    ([bin, b]) =>
      `${String(bin).padStart(3)}: ${String(m.binSize(bin)).padStart(7)} × ${String(b.blocks).padEnd(6)}`,
  );
  for (let i = 0; i < entries.length; i += 4) out.push(`  ${entries.slice(i, i + 4).join("   ")}`);
  return `${out.join("\n")}\n`;
}
