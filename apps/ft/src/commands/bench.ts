/** `ft bench`: run the benchmark suites, each case in its own process, and report. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Progress, runBench } from "../bench/harness.ts";
import { renderMarkdown, renderRatiosSvg } from "../bench/report.ts";
import { formatValue } from "../bench/report.ts";
import { allCases, SUITES } from "../bench/suites/index.ts";
import { type Command, err, intOption, out, UsageError } from "./command.ts";

export const DEFAULT_RUNS = 5;
export const QUICK_RUNS = 3;

function progressPrinter(): (p: Progress) => void {
  const tty = process.stderr.isTTY === true;
  return (p) => {
    const head = `[${p.index}/${p.total}] ${p.id} round ${p.round}/${p.runs}`;
    if (p.phase === "start") {
      if (tty) process.stderr.write(`\r\x1b[K${head} …`);
      return;
    }
    const tail = p.error ? `FAILED: ${p.error}` : `${formatValue(p.value ?? Number.NaN)} ${p.unit ?? ""}`;
    process.stderr.write(`${tty ? "\r\x1b[K" : ""}${head}: ${tail}\n`);
  };
}

export const benchCommand: Command = {
  name: "bench",
  summary: "benchmark ft against its peers (each case in its own process, interleaved rounds)",
  details:
    "Runs the benchmark suites — alloc (the reference workload: 10,000 live blocks, 2M free+malloc " +
    "pairs of 16..256 bytes), alloc-mt1/alloc-mt2 (one and two workers on one arena), alloc-xt " +
    "(cross-thread free through a ring), alloc-mem (memory overhead), visit (block visiting), pymem " +
    "(allocator domains), interp (stop-the-world, attach) and gc (one collection vs python3) — and prints a Markdown " +
    "report: each case as median [min..max] over rounds, then the target ratios with PASS/MISS. " +
    "Every case runs in a fresh process once per round, and rounds interleave the cases, so " +
    "outside load hits all of them alike. Progress goes to stderr.",
  options: {
    runs: {
      type: "string",
      arg: "<n>",
      description: `rounds: runs of every case (default ${DEFAULT_RUNS}, ${QUICK_RUNS} with --quick)`,
    },
    quick: { type: "boolean", description: "a short smoke run: 200k ops instead of 2M (@thi.ng/malloc: 2k)" },
    ops: {
      type: "string",
      arg: "<n>",
      description: "timed ops of every workload case (e.g. 20M; @thi.ng/malloc runs n/10)",
    },
    filter: {
      type: "string",
      arg: "<text>",
      description: "only cases whose id (suite/case) contains <text>",
    },
    json: { type: "boolean", description: "print the results as JSON instead of Markdown" },
    out: {
      type: "string",
      arg: "<dir>",
      description: "also write results.json, results.md and ratios.svg into <dir>",
    },
    list: { type: "boolean", description: "list the suites and cases, run nothing" },
  },
  examples: ["ft bench --quick", "ft bench --filter alloc/ --runs 9", "ft bench --json --out bench-results"],
  async run(values) {
    if (values.list) {
      for (const suite of SUITES) {
        out(`${suite.name}: ${suite.description}`);
        for (const c of allCases([suite])) out(`  ${c.id.padEnd(24)} ${c.case.description}`);
        for (const r of suite.ratios) {
          const t = r.target ? ` (target ${r.target.op === "<=" ? "≤" : "≥"} ${r.target.value})` : "";
          out(`  ratio: ${r.name}${t}`);
        }
      }
      return 0;
    }
    const quick = values.quick === true;
    const runs = intOption(values, "runs", quick ? QUICK_RUNS : DEFAULT_RUNS, 1, 1000);
    const ops = values.ops === undefined ? undefined : intOption(values, "ops", 0, 1, 2 ** 31 - 1);
    const filter = typeof values.filter === "string" ? values.filter : undefined;
    if (filter !== undefined && !allCases().some((c) => c.id.includes(filter))) {
      throw new UsageError(`--filter ${JSON.stringify(filter)} matches no case (see ft bench --list)`);
    }
    const results = await runBench({ runs, quick, ops, filter, onProgress: progressPrinter() });
    const markdown = renderMarkdown(results);
    if (typeof values.out === "string") {
      const dir = resolve(values.out);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
      writeFileSync(join(dir, "results.md"), markdown);
      writeFileSync(join(dir, "ratios.svg"), renderRatiosSvg(results));
      err(`wrote ${join(dir, "results.json")}, results.md and ratios.svg`);
    }
    out(values.json ? JSON.stringify(results, null, 2) : markdown);
    return results.cases.some((c) => c.status === "error") ? 1 : 0;
  },
};
