/**
 * `alloc-mt1` and `alloc-mt2`: the reference workload run by one worker, and by two workers at
 * once against the same shared arena (each with its own working set and seed-42 stream,
 * released together by a barrier). Throughput = threads·OPS / the slowest thread's time.
 * The `harness` cases run the same threads without an allocator: they show how far two
 * threads scale on this machine at all.
 */
import { loadMimalloc } from "../../runtime/mimalloc.ts";
import { releaseStart, startJob } from "../../runtime/workers.ts";
import type { MtWorkerData, MtWorkerResult } from "../alloc-mt.worker.ts";
import type { BenchCase, CaseParams, CaseResult, MetricDef, Suite } from "../types.ts";
import { opsFor } from "../types.ts";
import { QUICK_OPS, REFERENCE_LIVE } from "./alloc.ts";

/** Ops per thread in the mt suites (steady state; see the comment in `mtCase`). */
export const MT_OPS = 20_000_000;

const METRICS: readonly MetricDef[] = [
  { key: "mpairs", unit: "M pairs/s", better: "higher" },
  { key: "ns", label: "slowest thread", unit: "ns/pair", better: "lower" },
];

/** Run `threads` workers of the reference workload; total throughput and slowest ns/pair. */
export async function runThreads(
  mode: "ft" | "harness" | "floor",
  threads: number,
  p: CaseParams,
): Promise<CaseResult> {
  let arena: { buffer: SharedArrayBuffer; stats(): { usedBlocks: number } } | undefined;
  if (mode === "ft") {
    const { Arena } = await loadMimalloc();
    arena = Arena.create({ maxBytes: 1 << 30 });
  }
  const sync = new SharedArrayBuffer(4);
  const jobs = Array.from({ length: threads }, () =>
    startJob<MtWorkerResult>("bench/alloc-mt.worker", {
      mode,
      buffer: arena?.buffer,
      sync,
      W: p.W!,
      OPS: p.OPS!,
    } satisfies MtWorkerData),
  );
  try {
    await Promise.all(jobs.map((j) => j.ready));
    releaseStart(new Int32Array(sync));
    const results = await Promise.all(jobs.map((j) => j.done));
    const slowest = Math.max(...results.map((r) => r.ns));
    const info: CaseResult["info"] = {};
    results.forEach((r, i) => {
      info[`thread${i}NsPerPair`] = r.ns / p.OPS!;
    });
    if (arena) info.usedBlocksAfter = arena.stats().usedBlocks;
    return { metrics: { mpairs: (threads * p.OPS! * 1e3) / slowest, ns: slowest / p.OPS! }, info };
  } finally {
    await Promise.all(jobs.map((j) => j.worker.terminate()));
  }
}

function mtCase(mode: "ft" | "harness" | "floor", threads: number): BenchCase {
  return {
    name: mode,
    description:
      mode === "ft"
        ? `${threads} worker${threads > 1 ? "s" : ""} sharing one @ft/mimalloc arena, each the full workload`
        : mode === "floor"
          ? `${threads} worker${threads > 1 ? "s" : ""}, each its own single-threaded floor (the same memory traffic, no sharing)`
          : `${threads} worker${threads > 1 ? "s" : ""}, rng and array traffic only (the machine's scaling ceiling)`,
    metrics: METRICS,
    // 20M ops: at 2M a thread runs ~120 ms and V8's background JIT competes with the other worker
    // for the two cores (scaling reads 1.57 at 2M, 1.89 at 20M; native mimalloc: 1.57 / 1.81).
    params: (o) => ({ W: REFERENCE_LIVE, OPS: opsFor(MT_OPS, QUICK_OPS, o), threads }),
    run: (p) => runThreads(mode, threads, p),
  };
}

export const allocMt1Suite: Suite = {
  name: "alloc-mt1",
  description: "reference workload in one worker thread against a shared arena",
  cases: [mtCase("ft", 1), mtCase("harness", 1), mtCase("floor", 1)],
  ratios: [],
};

export const allocMt2Suite: Suite = {
  name: "alloc-mt2",
  description: "two workers at once, each the full reference workload, one shared arena",
  cases: [mtCase("ft", 2), mtCase("harness", 2), mtCase("floor", 2)],
  ratios: [
    {
      name: "ft 2 workers / 1 worker",
      description: "total throughput of two workers against one (2.0 = perfect scaling)",
      num: "alloc-mt2/ft",
      den: "alloc-mt1/ft",
      target: { op: ">=", value: 1.7 },
    },
    {
      name: "harness 2 workers / 1 worker",
      description: "the same scaling without an allocator: what the machine allows right now",
      num: "alloc-mt2/harness",
      den: "alloc-mt1/harness",
    },
    {
      name: "floor 2 workers / 1 worker",
      description: "two private floors against one: how far this workload's memory traffic scales on the machine",
      num: "alloc-mt2/floor",
      den: "alloc-mt1/floor",
    },
  ],
};
