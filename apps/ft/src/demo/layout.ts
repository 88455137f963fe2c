/** Demo step: the arena's geometry and size classes, from @ft/mimalloc's exported constants. */
import type { Mimalloc } from "../runtime/mimalloc.ts";
import { type DemoStep, size } from "./step.ts";

/** Bin → block size for every bin with a finite positive size, in bin order. */
export function sizeClasses(m: Mimalloc): { bin: number; size: number }[] {
  const out: { bin: number; size: number }[] = [];
  for (let bin = 0; bin < m.BIN_COUNT; bin++) {
    let s: number;
    try {
      s = m.binSize(bin);
    } catch {
      continue;
    }
    if (Number.isFinite(s) && s > 0) out.push({ bin, size: s });
  }
  return out;
}

/** The size-class table in columns: `bin  size` pairs, `columns` per row. */
export function sizeClassTable(m: Mimalloc, columns = 6): string[] {
  const cells = sizeClasses(m).map(
    ({ bin, size: s }) => `${String(bin).padStart(3)} ${String(s).padStart(7)}`,
  );
  const lines: string[] = [`${" bin    size  ".repeat(Math.min(columns, cells.length)).trimEnd()}`];
  for (let i = 0; i < cells.length; i += columns) lines.push(cells.slice(i, i + columns).join("   "));
  return lines;
}

export const layoutStep: DemoStep = {
  title: "The arena: one SharedArrayBuffer, cut into segments, slices and pages",
  async run({ mimalloc: m, say }) {
    const slices = m.SEGMENT_SIZE / m.SLICE_SIZE;
    say(
      `segment      ${size(m.SEGMENT_SIZE).padEnd(8)} aligned to its size: a pointer finds its segment by masking`,
    );
    say(
      `slice        ${size(m.SLICE_SIZE).padEnd(8)} ${slices} per segment: the slice table leads from a pointer to its page`,
    );
    say(`small page   ${size(m.SMALL_PAGE_SIZE).padEnd(8)} blocks up to ${size(m.SMALL_OBJ_SIZE_MAX)}`);
    say(`medium page  ${size(m.MEDIUM_PAGE_SIZE).padEnd(8)} blocks up to ${size(m.MEDIUM_OBJ_SIZE_MAX)}`);
    say(`large/huge   one block per page (huge: a segment of its own)`);
    const classes = sizeClasses(m);
    say();
    say(
      `${classes.length} size classes (bins) from ${size(classes[0]?.size ?? 0)} to ${size(classes.at(-1)?.size ?? 0)}; ` +
        `a request of n bytes gets the block size of binOf(n):`,
    );
    for (const line of sizeClassTable(m)) say(`  ${line}`);
    const examples = [1, 16, 17, 100, 256, 1000, 4096];
    say();
    say(`e.g. ${examples.map((n) => `${n} → ${m.binSize(m.binOf(n))}`).join(", ")}`);
  },
};
