/** Demo step: worker threads attach to one arena, allocate, and free each other's blocks. */
import type { ArenaStats } from "../runtime/mimalloc.ts";
import { releaseStart, startJob } from "../runtime/workers.ts";
import type { SharedHeapWorkerData, SharedHeapWorkerResult } from "./shared-heap.worker.ts";
import { count, type DemoStep, mib } from "./step.ts";

export function statsLine(s: ArenaStats): string {
  const abandoned =
    s.segments.abandoned > 0
      ? `, ${s.segments.abandoned} abandoned (${count(s.abandonedBlocks)} blocks in ${s.abandonedPages} pages)`
      : "";
  return (
    `${count(s.usedBlocks)} blocks in use (${mib(s.usedBytes)}); pages ${mib(s.pageBytesInUse)} ` +
    `[small ${s.pages.small}, medium ${s.pages.medium}, large ${s.pages.large}, huge ${s.pages.huge}]; ` +
    `segments ${s.segments.owned} owned${abandoned}`
  );
}

export const sharedHeapStep: DemoStep = {
  title: "Worker threads share one heap",
  async run({ mimalloc: m, options: o, say, shared }) {
    const arena = m.Arena.create({ maxBytes: 1 << 30 });
    shared.arena = arena;
    say(`main: created an arena (${mib(arena.buffer.byteLength)} buffer), ${statsLine(arena.stats())}`);
    const half = o.blocks >> 1;
    const exchange = new SharedArrayBuffer(Math.max(4, o.workers * half * 4));
    const sync = new SharedArrayBuffer(4);
    const jobs = Array.from({ length: o.workers }, (_, index) =>
      startJob<SharedHeapWorkerResult>(
        "demo/shared-heap.worker",
        {
          buffer: arena.buffer,
          exchange,
          sync,
          index,
          workers: o.workers,
          blocks: o.blocks,
          seed: o.seed,
        } satisfies SharedHeapWorkerData,
        (text) => say(text),
      ),
    );
    try {
      await Promise.all(jobs.map((j) => j.ready));
      say(`main: every worker is waiting; the handed-over blocks are live: ${statsLine(arena.stats())}`);
      releaseStart(new Int32Array(sync));
      const results = await Promise.all(jobs.map((j) => j.done));
      const foreign = results.reduce((n, r) => n + r.freedForeign, 0);
      say(`main: workers done, ${count(foreign)} blocks were freed by a thread other than their allocator`);
      say(`main: ${statsLine(arena.stats())}`);
      say(
        "(a block freed by another thread waits on its page's thread-free list and still counts as used " +
          "until the page's owner, or the thread that reclaims an abandoned page, collects it)",
      );
    } finally {
      await Promise.all(jobs.map((j) => j.worker.terminate()));
    }
  },
};
