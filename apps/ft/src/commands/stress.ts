/** `ft stress`: mimalloc's stress test with longer parameters, over one shared arena. */
import { mib } from "../demo/step.ts";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { runStress } from "../stress/stress.ts";
import { type Command, err, intOption, out } from "./command.ts";

export const stressCommand: Command = {
  name: "stress",
  summary: "hammer one shared heap from many short-lived workers (mimalloc's test-stress)",
  details:
    "Each round starts --threads new workers on one arena. Every worker allocates " +
    "100·scale·(id%8+1) blocks, half as many retained, frees a random earlier block 66% of the " +
    "time and swaps a pointer with one of 1,000 shared slots 25% of the time, so blocks are freed " +
    "by threads that did not allocate them and outlive the thread that did. Every block carries a " +
    "pattern that is checked when it is freed, and the arena checks every free (double frees and interior pointers throw). After each round the main thread frees half of the " +
    "swapped blocks (all after the last round). Exit code 1 on corruption or any worker failure.",
  options: {
    threads: { type: "string", arg: "<n>", description: "workers per round (default 8)" },
    rounds: { type: "string", arg: "<n>", description: "rounds, each with fresh workers (default 20)" },
    scale: {
      type: "string",
      arg: "<n>",
      description: "work per worker; above 100 adds huge blocks (default 50)",
    },
    seed: { type: "string", arg: "<n>", description: "random seed (default 42)" },
  },
  examples: ["ft stress", "ft stress --threads 4 --rounds 5 --scale 10", "ft stress --scale 200"],
  async run(values) {
    const options = {
      threads: intOption(values, "threads", 8, 1, 256),
      rounds: intOption(values, "rounds", 20, 1, 100_000),
      scale: intOption(values, "scale", 50, 1, 10_000),
      seed: intOption(values, "seed", 42, 0, 2 ** 32 - 1),
    };
    await loadMimalloc();
    out(
      `ft stress: ${options.rounds} rounds × ${options.threads} workers, scale ${options.scale}, seed ${options.seed} ` +
        `(per worker 100·scale·(id%8+1) allocations)`,
    );
    const summary = await runStress({
      ...options,
      onRound: (r) =>
        err(
          `round ${String(r.round).padStart(String(r.rounds).length)}/${r.rounds}: ` +
            `${r.allocs.toLocaleString("en-US")} allocs, ${r.crossThreadSwaps.toLocaleString("en-US")} swaps, ` +
            `${(r.ms / 1000).toFixed(2)} s; live ${r.stats.usedBlocks.toLocaleString("en-US")} blocks, ` +
            `pages ${mib(r.stats.pageBytesInUse)}, checker ${r.problems.length === 0 ? "ok" : "FAILED"}`,
        ),
    });
    const f = summary.final;
    const rate = summary.allocs / (summary.ms / 1000);
    out(
      [
        `done in ${(summary.ms / 1000).toFixed(2)} s: ${summary.allocs.toLocaleString("en-US")} blocks allocated ` +
          `(${Math.round(rate).toLocaleString("en-US")}/s), ${summary.frees.toLocaleString("en-US")} freed, ` +
          `${summary.crossThreadSwaps.toLocaleString("en-US")} pointer swaps between threads`,
        "every block's pattern checked when freed, the arena checker passed after every round: no corruption",
        `after freeing everything: ${f.usedBlocks.toLocaleString("en-US")} blocks still counted in use ` +
          `(${f.abandonedBlocks.toLocaleString("en-US")} in abandoned pages; frees by other threads are counted once ` +
          `the page's owner collects them), pages ${mib(f.pageBytesInUse)}, ${f.segmentsInUse} segment(s), ` +
          `peak pages ${mib(summary.peakPageBytes)}`,
      ].join("\n"),
    );
    if (summary.frees !== summary.allocs) {
      err(`ft stress: ${summary.allocs} blocks allocated but ${summary.frees} freed`);
      return 1;
    }
    return 0;
  },
};
