/**
 * `pymem`: the reference workload (W = 10,000 live blocks, free+malloc pairs of 16..256 bytes,
 * xorshift32 seed 42) through @ft/pymem's MEM domain (`PyMem_Malloc` / `PyMem_Free` with a
 * thread state attached), against the same workload straight on @ft/mimalloc, in ns per pair:
 * with the default allocators, with the debug hooks (`preset: "debug"`), and with the tracing hook
 * (`tracemalloc.start(1)` over the default allocators).
 */
import type * as PyMemModule from "@ft/pymem";
import { loadMimalloc } from "../../runtime/mimalloc.ts";
import type { BenchCase, CaseOptions, CaseParams, CaseResult, MetricDef, Suite } from "../types.ts";
import { opsFor } from "../types.ts";
import { QUICK_OPS, REFERENCE_LIVE, REFERENCE_OPS, runReference } from "./alloc.ts";

const NS_PER_PAIR: readonly MetricDef[] = [{ key: "ns", unit: "ns/pair", better: "lower" }];

/** The tracing case runs this fraction of the ops: each traced malloc captures a JavaScript stack. */
const TRACING_OPS_DIVISOR = 4;

function referenceParams(options: CaseOptions): CaseParams {
  return { W: REFERENCE_LIVE, OPS: opsFor(REFERENCE_OPS, QUICK_OPS, options) };
}

async function loadPyMem(): Promise<typeof PyMemModule> {
  return import("@ft/pymem");
}

type Mode = "default" | "debug" | "tracing";

/** The calling thread's PyMem over a fresh arena, with a mimalloc state attached. */
async function pymemFor(mode: Mode) {
  const { Arena } = await loadMimalloc();
  const pm = await loadPyMem();
  const arena = Arena.create({ maxBytes: 1 << 30 });
  const pymem = pm.createPyMem(arena, { preset: mode === "debug" ? "debug" : "default" });
  const record = arena.recordAlloc(pm.MIMALLOC_STATE_SIZE);
  const state = pm.MimallocThreadState.init(arena, record, arena.defaultPool);
  pm.setCurrentThreadState(state);
  if (mode === "tracing") pymem.tracemalloc.start(1);
  return { arena, pymem };
}

function pymemCase(mode: Mode, description: string): BenchCase {
  return {
    name: mode,
    description,
    metrics: NS_PER_PAIR,
    ...(mode === "tracing"
      ? {
          note:
            `pymem/tracing runs 1/${TRACING_OPS_DIVISOR} of the ops: every traced malloc captures a ` +
            "JavaScript stack (Error.captureStackTrace), ~2–2.5 µs on Node 20 when the caller is optimised.",
        }
      : {}),
    params:
      mode === "tracing"
        ? (options) => ({
            W: REFERENCE_LIVE,
            OPS: Math.max(1, Math.round(opsFor(REFERENCE_OPS, QUICK_OPS, options) / TRACING_OPS_DIVISOR)),
          })
        : referenceParams,
    async run(p): Promise<CaseResult> {
      const { arena, pymem } = await pymemFor(mode);
      const result = runReference<number>(pymem, p.W!, p.OPS!);
      const info: Record<string, number | string | boolean> = {
        usedBlocksAfterFreeAll: arena.stats().usedBlocks,
        allocator: pymem.allocatorName() ?? "hooked",
        debugEnabled: pymem.debugEnabled(),
      };
      if (mode === "tracing") {
        const { current, peak } = pymem.tracemalloc.getTracedMemory();
        info.tracedCurrent = current;
        info.tracedPeak = peak;
      }
      result.info = info;
      return result;
    },
  };
}

const mimalloc: BenchCase = {
  name: "mimalloc",
  description: "@ft/mimalloc straight: Arena.create, arena.malloc/free on the creating thread",
  metrics: NS_PER_PAIR,
  params: referenceParams,
  async run(p) {
    const { Arena } = await loadMimalloc();
    const arena = Arena.create({ maxBytes: 1 << 30 });
    return runReference<number>(arena, p.W!, p.OPS!);
  },
};

export const pymemSuite: Suite = {
  name: "pymem",
  description:
    "reference workload through PyMem_Malloc/PyMem_Free (MEM domain, thread state attached) against @ft/mimalloc",
  cases: [
    mimalloc,
    pymemCase("default", "PyMem.malloc/free, default allocators (the thread state's MEM heap)"),
    pymemCase("debug", "PyMem.malloc/free with the debug hooks (preset debug: header, pads, fills, checks)"),
    pymemCase("tracing", "PyMem.malloc/free with tracemalloc.start(1) over the default allocators"),
  ],
  ratios: [
    {
      name: "default / mimalloc",
      description: "the MEM domain's dispatch and thread-state lookup over raw @ft/mimalloc",
      num: "pymem/default",
      den: "pymem/mimalloc",
      target: { op: "<=", value: 1.2 },
    },
    {
      name: "debug / mimalloc",
      description: "the debug hooks (24 extra bytes, fills, pad checks) over raw @ft/mimalloc",
      num: "pymem/debug",
      den: "pymem/mimalloc",
      target: { op: "<=", value: 4 },
    },
    {
      name: "tracing / mimalloc",
      description: "the tracing hook (a stack capture and a trace per block) over raw @ft/mimalloc",
      num: "pymem/tracing",
      den: "pymem/mimalloc",
      target: { op: "<=", value: 20 },
    },
  ],
};
