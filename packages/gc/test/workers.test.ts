// Real workers on one gc state: refcounts across threads, the merge queue, deallocation from
// another thread, and garbage in the pages of exited and terminated workers.
import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import { startWorker } from "@ft/worker";
import { describe, expect, it } from "vitest";
import {
  abandonStandaloneThread,
  collect,
  createStandaloneSpace,
  type ObjectSpace,
  obTid,
  validateObjects,
  visitObjects,
} from "../src/index.ts";

const WORKER = new URL("./fixtures/space.worker.ts", import.meta.url);

interface Reply {
  tid: number;
  keep?: number;
}

async function start(
  s: ObjectSpace,
): Promise<{ w: Worker; exited: Promise<unknown[]>; tid: number; send: (cmd: object) => Promise<Reply> }> {
  const w = startWorker(WORKER, { workerData: { buffer: s.arena.buffer, gcState: s.gcState } });
  const exited = once(w, "exit");
  const failed = once(w, "error").then(([e]) => Promise.reject(e));
  const [ready] = (await Promise.race([once(w, "message"), failed])) as [Reply];
  const send = async (cmd: object): Promise<Reply> => {
    w.postMessage(cmd);
    const [reply] = (await Promise.race([once(w, "message"), failed])) as [Reply];
    return reply;
  };
  return { w, exited, tid: ready.tid, send };
}

function tracked(s: ObjectSpace): Set<number> {
  const out = new Set<number>();
  visitObjects(s, (op) => out.add(op));
  return out;
}

describe("objects across worker threads", () => {
  it("keeps refcounts exact when workers add and drop shared references at once", async () => {
    const s = createStandaloneSpace({ maxBytes: 128 << 20 });
    const l = s.newList();
    const workers = await Promise.all([0, 1, 2].map(() => start(s)));
    await Promise.all(workers.map((t, i) => t.send({ op: "incdec", target: l, n: 20_000, keep: i + 1 })));
    expect(s.refcnt(l)).toBe(1 + 1 + 2 + 3);
    for (const [i, t] of workers.entries()) await t.send({ op: "decref", target: l, times: i + 1 });
    expect(s.refcnt(l)).toBe(1);
    await Promise.all(workers.map((t) => t.w.terminate()));
    s.decref(l);
    expect(tracked(s).has(l)).toBe(false);
  });

  it("deallocates on zero from the thread that drops the last reference, and merges queued decrefs", async () => {
    const s = createStandaloneSpace({ maxBytes: 128 << 20 });
    const t = await start(s);
    // (1) merged by the owner, freed by the worker
    const a = s.newList();
    await t.send({ op: "incdec", target: a, n: 1, keep: 1 }); // the worker holds one shared reference
    s.decref(a); // local 1 → 0: merged (shared 1), unowned
    expect(obTid(s.arena.i32, a)).toBe(0);
    await t.send({ op: "decref", target: a, times: 1 }); // MERGED 1 → 0: the worker frees it
    expect(tracked(s).has(a)).toBe(false);
    // (2) a worker's decref of an object it does not hold a shared count for is queued to the owner
    const b = s.newList();
    s.incref(b); // local 2
    await t.send({ op: "decref", target: b, times: 1 }); // shared 0 → QUEUED
    expect(s.queuedOwners()).toContain(s.tid);
    expect(s.refcnt(b)).toBe(2); // not merged yet
    expect(s.mergeRefcounts()).toBe(1);
    expect(s.refcnt(b)).toBe(1);
    s.decref(b);
    expect(tracked(s).has(b)).toBe(false);
    await t.w.terminate();
  });

  for (const how of ["exit", "terminate"] as const) {
    it(`finds and collects garbage in the abandoned pages of a worker that ${how === "exit" ? "exited" : "was terminated"}`, async () => {
      const s = createStandaloneSpace({ maxBytes: 128 << 20 });
      const t = await start(s);
      const { keep } = await t.send({ op: "garbage", cycles: 200, size: 10 });
      if (how === "exit") t.w.postMessage({ op: "exit" });
      else await t.w.terminate();
      await t.exited;
      expect(abandonStandaloneThread(s.arena, s.gcState, t.tid)).toBe(true);
      // the kept list lives on (this thread now holds the worker's reference)
      expect(collect(s)).toBe(200 * 10);
      expect(tracked(s).has(keep!)).toBe(true);
      expect(obTid(s.arena.i32, keep!)).toBe(0); // abandoned page: merged, unowned
      expect(s.refcnt(keep!)).toBe(2); // ours (the worker's) + the dict's
      expect(validateObjects(s)).toEqual([]);
      s.decref(keep!);
      expect(collect(s)).toBe(2);
      expect(tracked(s).size).toBe(1); // only gc.garbage
    });
  }
});
