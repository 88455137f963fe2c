// Real worker threads on one arena: each initialises its own mimalloc state in a record, allocates
// MEM blocks and objects by kind; blocks are freed on the other side (both ways); the main thread
// abandons the exited workers' states and reclaims their pages, and the arena checks clean.
import { once } from "node:events";
import { Arena } from "@ft/mimalloc";
import { startWorker } from "@ft/worker";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPyMem,
  type HeapTag,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  MTS_STATE_ABANDONED,
  mimallocStateOf,
  setCurrentThreadState,
} from "../src/index.ts";

const WORKER = new URL("./workers/pymem.worker.ts", import.meta.url);

afterEach(() => setCurrentThreadState(null));

interface Report {
  threadId: number;
  mem: number[];
  objects: { p: number; kind: HeapTag }[];
  misplaced: string[];
}

describe("worker threads with their own mimalloc states", () => {
  for (const preset of ["default", "debug"]) {
    it(`allocate MEM and OBJ blocks in their own heaps and free across threads (${preset})`, async () => {
      const arena = Arena.create({ maxBytes: 256 << 20, checks: true });
      const pool = arena.poolNew();
      const pymem = createPyMem(arena, { preset });
      const main = MimallocThreadState.init(arena, arena.recordAlloc(MIMALLOC_STATE_SIZE), pool);
      setCurrentThreadState(main);

      const WORKERS = 3;
      const COUNT = 300;
      const records = Array.from({ length: WORKERS }, () => arena.recordAlloc(MIMALLOC_STATE_SIZE));
      const workers = records.map((record, i) => {
        const toFree = Array.from({ length: 50 }, () => {
          const p = pymem.malloc(40);
          arena.u32[p >>> 2] = 0xabcd0000 + (p & 0xffff);
          return p;
        });
        return startWorker(WORKER, {
          workerData: { buffer: arena.buffer, record, pool, preset, seed: i + 1, toFree, count: COUNT },
        });
      });
      const reports = await Promise.all(
        workers.map(async (w) => {
          const exited = once(w, "exit");
          const failed = once(w, "error").then(([e]) => Promise.reject(e));
          const [report] = (await Promise.race([once(w, "message"), failed])) as [Report];
          await exited;
          return report;
        }),
      );

      arena.refreshViews();
      reports.forEach((r, i) => {
        expect(r.misplaced).toEqual([]);
        expect(r.mem).toHaveLength(COUNT);
        const seed = i + 1;
        r.mem.forEach((p, k) => {
          expect(arena.u32[p >>> 2]).toBe(seed * 1_000_000 + k);
        });
        r.objects.forEach(({ p }, k) => {
          expect(arena.u32[p >>> 2]).toBe(seed * 1_000_000 + k);
        });
        // Cross-thread frees of blocks the exited worker allocated.
        for (const p of r.mem) pymem.free(p);
        for (const { p, kind } of r.objects) pymem.objectFreeKind(kind, p);
      });

      // The workers exited without cleanup: abandon their states (and default tlds) from here.
      for (const [i, record] of records.entries()) {
        MimallocThreadState.abandon(arena, record);
        expect(mimallocStateOf(arena, record)).toBe(MTS_STATE_ABANDONED);
        arena.abandonThread(reports[i]!.threadId);
      }
      arena.reclaimAbandoned(main.tld);
      arena.check();
      expect(arena.stats().usedBlocks).toBe(0);
    });
  }
});
