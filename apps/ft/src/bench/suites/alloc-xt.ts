/**
 * `alloc-xt`: cross-thread free. Worker A mallocs (seed-42 sizes) into a 10,000-slot SPSC ring,
 * worker B pops and frees; wall ns per pair = the slower side's loop time / OPS (the ring
 * couples them, so both are about the wall time). Compared with single-thread ft in the same
 * round (`alloc/ft`).
 */
import { loadMimalloc } from "../../runtime/mimalloc.ts";
import { releaseStart, startJob } from "../../runtime/workers.ts";
import type { XtWorkerData, XtWorkerResult } from "../alloc-xt.worker.ts";
import { ringBytes } from "../ring.ts";
import type { BenchCase, Suite } from "../types.ts";
import { opsFor } from "../types.ts";
import { QUICK_OPS, REFERENCE_OPS } from "./alloc.ts";

export const RING_CAPACITY = 10_000;

const ft: BenchCase = {
  name: "ft",
  description: "producer worker mallocs into an SPSC ring, consumer worker frees (cross-thread)",
  metrics: [{ key: "ns", unit: "ns/pair", better: "lower" }],
  params: (o) => ({ OPS: opsFor(REFERENCE_OPS, QUICK_OPS, o), ring: RING_CAPACITY }),
  async run(p) {
    const { Arena } = await loadMimalloc();
    const arena = Arena.create({ maxBytes: 1 << 30 });
    const ring = new SharedArrayBuffer(ringBytes(p.ring!));
    const sync = new SharedArrayBuffer(4);
    const start = (role: XtWorkerData["role"]) =>
      startJob<XtWorkerResult>("bench/alloc-xt.worker", {
        role,
        buffer: arena.buffer,
        ring,
        capacity: p.ring!,
        sync,
        OPS: p.OPS!,
      } satisfies XtWorkerData);
    const jobs = [start("producer"), start("consumer")];
    try {
      await Promise.all(jobs.map((j) => j.ready));
      releaseStart(new Int32Array(sync));
      const [prod, cons] = await Promise.all(jobs.map((j) => j.done));
      if (prod!.failed > 0) throw new Error(`${prod!.failed} allocations failed (out of memory)`);
      const wall = Math.max(prod!.ns, cons!.ns);
      return {
        metrics: { ns: wall / p.OPS! },
        info: {
          producerNsPerMalloc: prod!.ns / p.OPS!,
          consumerNsPerFree: cons!.ns / p.OPS!,
          producerSleepsFull: prod!.sleeps,
          consumerSleepsEmpty: cons!.sleeps,
          usedBlocksAfter: arena.stats().usedBlocks,
        },
      };
    } finally {
      await Promise.all(jobs.map((j) => j.worker.terminate()));
    }
  },
};

export const allocXtSuite: Suite = {
  name: "alloc-xt",
  description: "cross-thread free through a 10,000-slot SPSC ring (producer mallocs, consumer frees)",
  cases: [ft],
  ratios: [
    {
      name: "xt / single-thread ft",
      description: "wall ns per cross-thread pair against alloc/ft's ns per pair, same round",
      num: "alloc-xt/ft",
      den: "alloc/ft",
      target: { op: "<=", value: 3 },
    },
  ],
};
