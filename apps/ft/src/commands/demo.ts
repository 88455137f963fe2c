/**
 * `ft demo`: the numbered tour. Steps live in src/demo/; add a step by appending it to
 * {@link DEMO_STEPS}.
 */
import { gcAbandonedStep } from "../demo/gc-abandoned.ts";
import { gcModuleStep } from "../demo/gc-module.ts";
import { layoutStep } from "../demo/layout.ts";
import { sharedHeapStep } from "../demo/shared-heap.ts";
import type { DemoContext, DemoStep } from "../demo/step.ts";
import { subinterpreterStep } from "../demo/subinterpreter.ts";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { type Command, intOption, out } from "./command.ts";

export const DEMO_STEPS: readonly DemoStep[] = [
  layoutStep,
  sharedHeapStep,
  subinterpreterStep,
  gcAbandonedStep,
  gcModuleStep, // last: the tour ends with gc statistics and a callback trace
];

export const demoCommand: Command = {
  name: "demo",
  summary:
    "a guided tour: the arena's layout, workers sharing one heap, a subinterpreter's uncaught error, the collector freeing what exited workers left, the gc module",
  details:
    "Prints the arena's geometry (segments, slices, pages) and its size-class table, then creates " +
    "an arena, starts worker threads that attach to it, allocate, and free each other's blocks, and " +
    "shows the heap's statistics along the way. Then a subinterpreter raises an uncaught error that " +
    "its caller displays; workers build cyclic garbage and exit (one terminated), and the collector " +
    "finds and frees it in their abandoned pages; the tour ends with the gc module: collect() with " +
    "DEBUG_STATS, gc.garbage, get_stats() and a gc.callbacks trace.",
  options: {
    workers: { type: "string", arg: "<n>", description: "worker threads sharing the heap (default 2)" },
    blocks: { type: "string", arg: "<n>", description: "blocks each worker allocates (default 20000)" },
    seed: { type: "string", arg: "<n>", description: "random seed (default 42)" },
  },
  examples: ["ft demo", "ft demo --workers 4 --blocks 100000"],
  async run(values) {
    const options = {
      workers: intOption(values, "workers", 2, 1, 64),
      blocks: intOption(values, "blocks", 20_000, 2, 10_000_000),
      seed: intOption(values, "seed", 42, 1, 2 ** 31 - 1),
    };
    const mimalloc = await loadMimalloc();
    const ctx: DemoContext = {
      mimalloc,
      options,
      say: (line = "") => out(line ? `   ${line}` : ""),
      shared: {},
    };
    for (const [i, step] of DEMO_STEPS.entries()) {
      out(`${i + 1}. ${step.title}\n`);
      await step.run(ctx);
      out("");
    }
    return 0;
  },
};
