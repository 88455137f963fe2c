/** `ft heapmap`: an ASCII map of a fresh arena's segments after a sample workload. */
import { renderHeapmap, sampleWorkload } from "../heapmap/heapmap.ts";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { type Command, intOption, out } from "./command.ts";

export const heapmapCommand: Command = {
  name: "heapmap",
  summary: "draw where a sample workload's live blocks sit: segments, slices, page kinds",
  details:
    "Creates a fresh arena, fills --live blocks of 16..256 bytes, runs --ops free+malloc pairs " +
    "of the reference workload, adds --big blocks of 4 KiB..2 MiB, and prints every segment in " +
    "use as rows of slices (one character each: how full of live blocks, or the page kind), then " +
    "the arena's statistics and the live blocks per size class.",
  options: {
    live: { type: "string", arg: "<n>", description: "live small blocks (default 10000)" },
    ops: { type: "string", arg: "<n>", description: "free+malloc pairs after the fill (default 100000)" },
    big: { type: "string", arg: "<n>", description: "extra blocks of 4 KiB..2 MiB (default 24)" },
    seed: { type: "string", arg: "<n>", description: "random seed (default 42)" },
    width: { type: "string", arg: "<n>", description: "slices per row (default 64)" },
  },
  examples: ["ft heapmap", "ft heapmap --live 100000 --big 0", "ft heapmap --width 128"],
  async run(values) {
    const o = {
      live: intOption(values, "live", 10_000, 0, 5_000_000),
      ops: intOption(values, "ops", 100_000, 0, 1e9),
      big: intOption(values, "big", 24, 0, 1000),
      seed: intOption(values, "seed", 42, 1, 2 ** 32 - 1),
    };
    const width = intOption(values, "width", 64, 8, 512);
    const m = await loadMimalloc();
    const arena = m.Arena.create({ maxBytes: 1 << 30 });
    const live = sampleWorkload(arena, o);
    out(
      `ft heapmap: ${o.live.toLocaleString("en-US")} live blocks of 16..256 B after ${o.ops.toLocaleString("en-US")} ` +
        `free+malloc pairs, plus ${o.big} blocks of 4 KiB..2 MiB (seed ${o.seed})\n`,
    );
    out(renderHeapmap(m, arena, live, { width }));
    return 0;
  },
};
