// Visiting what exited workers left behind: their abandoned pages hold live blocks, and a pool
// visit finds every one of them, per tag, and nothing of another pool or another tag. Also:
// visiting a pool while another thread frees into its pages (the exchange-based collection).
import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import { startWorker } from "@ft/worker";
import { describe, expect, it } from "vitest";
import { Arena, VISIT_ALL_TAGS, visitAbandonedPool, visitTagWorldStopped } from "../src/index.ts";
import { collect, oracleLive } from "./visit-oracle.ts";

const WORKER = new URL("./workers/visit.worker.ts", import.meta.url);

interface AllocResult {
  threadId: number;
  tag0: number[];
  tag2: number[];
  defaultPool: number[];
}

/** Start a worker and wait for its message and its exit (both listened for at once). */
async function run<T>(a: Arena, data: Record<string, unknown>): Promise<T> {
  const w: Worker = startWorker(WORKER, { workerData: { buffer: a.buffer, ...data } });
  const exited = once(w, "exit");
  const failed = once(w, "error").then(([e]) => Promise.reject(e));
  const [msg] = (await Promise.race([once(w, "message"), failed])) as [T];
  await Promise.race([exited, failed]);
  return msg;
}

const sorted = (xs: Iterable<number>) => [...xs].sort((x, y) => x - y);
const blocksOf = (walk: Parameters<typeof collect>[0]) => collect(walk).blocks.map((s) => s.block);

describe("visiting abandoned pools after workers exited", () => {
  it("finds every block the workers left live, per tag, and nothing of another pool or tag", async () => {
    const a = Arena.create({ maxBytes: 512 << 20, checks: true }); // starts at 2 segments: workers grow it
    const pool = a.poolNew();
    const other = a.poolNew();
    // Another pool's abandoned blocks (tag 0), and owned tag-2 blocks of the main thread.
    const tldOther = a.tldNew(other);
    const hOther = a.heapNew(0, tldOther);
    const otherBlocks = Array.from({ length: 400 }, (_, i) => hOther.malloc(16 + (i % 300)));
    a.abandonTld(tldOther);
    const main2 = a.heapNew(2);
    const mainTag2 = Array.from({ length: 300 }, (_, i) => main2.malloc(8 + i));

    const results = await Promise.all(
      [1, 2, 3].map((seed) => run<AllocResult>(a, { mode: "alloc", pool, seed })),
    );
    expect(a.buffer.byteLength).toBeGreaterThan(a.limit); // the workers grew the buffer past this thread's views
    for (const r of results) expect(a.abandonThread(r.threadId)).toBe(2); // default tld + the pool's tld

    // Some blocks are freed from here before the visit: remote pushes, not collected yet.
    const freed = new Set<number>();
    for (const r of results) for (let i = 0; i < r.tag0.length; i += 10) freed.add(r.tag0[i]!);
    for (const r of results) for (let i = 5; i < r.tag2.length; i += 10) freed.add(r.tag2[i]!);
    for (const p of freed) a.free(p);

    const live0 = sorted(results.flatMap((r) => r.tag0).filter((p) => !freed.has(p)));
    const live2 = sorted(results.flatMap((r) => r.tag2).filter((p) => !freed.has(p)));
    const oracle0 = oracleLive(a, { pool, tag: 0 });
    const oracle2 = oracleLive(a, { pool, tag: 2 });

    const seen0 = collect((v) => visitAbandonedPool(a, pool, 0, v)).blocks;
    expect(seen0).toEqual(oracle0);
    expect(seen0.map((s) => s.block)).toEqual(live0);
    expect(seen0.every((s) => s.tag === 0)).toBe(true);
    const seen2 = collect((v) => visitAbandonedPool(a, pool, 2, v)).blocks;
    expect(seen2).toEqual(oracle2);
    expect(seen2.map((s) => s.block)).toEqual(live2);
    expect(seen2.every((s) => s.tag === 2)).toBe(true);
    expect(blocksOf((v) => visitAbandonedPool(a, pool, VISIT_ALL_TAGS, v))).toEqual(
      sorted([...live0, ...live2]),
    );
    expect(blocksOf((v) => visitAbandonedPool(a, pool, 1, v))).toEqual([]);

    // The other pools: only their own blocks.
    expect(blocksOf((v) => visitAbandonedPool(a, other, VISIT_ALL_TAGS, v))).toEqual(sorted(otherBlocks));
    expect(blocksOf((v) => visitAbandonedPool(a, a.defaultPool, 0, v))).toEqual(
      sorted(results.flatMap((r) => r.defaultPool)),
    );
    expect(blocksOf((v) => visitAbandonedPool(a, a.defaultPool, 2, v))).toEqual([]);

    // The collector's walk: this thread's tag-2 heap plus the pool's tag-2 pages.
    expect(blocksOf((v) => visitTagWorldStopped(a, 2, [a.tld], pool, v))).toEqual(
      sorted([...mainTag2, ...live2]),
    );

    // Blocks are intact, the arena is valid, and the pool reclaims normally afterwards.
    for (const [i, r] of results.entries()) {
      for (const p of [...r.tag0, ...r.tag2])
        if (!freed.has(p) && a.u8[p] !== i + 1) throw new Error(`block ${p} was overwritten`);
    }
    a.check();
    const claimant = a.tldNew(pool);
    a.heapNew(0, claimant);
    a.heapNew(2, claimant);
    expect(a.reclaimAbandoned(claimant)).toBeGreaterThan(0);
    expect(blocksOf((v) => visitAbandonedPool(a, pool, VISIT_ALL_TAGS, v))).toEqual([]);
    expect(blocksOf((v) => visitTagWorldStopped(a, VISIT_ALL_TAGS, [claimant], 0, v))).toEqual(
      sorted([...live0, ...live2]),
    );
    a.check();
  }, 60_000);

  it("visits a pool correctly while another thread frees into its pages (remote pushes race the exchange)", async () => {
    const a = Arena.create({ maxBytes: 512 << 20 });
    const pool = a.poolNew();
    const [r] = await Promise.all([run<AllocResult>(a, { mode: "alloc", pool, seed: 9 })]);
    a.abandonThread(r!.threadId);
    const before = sorted([...r!.tag0, ...r!.tag2]);
    expect(blocksOf((v) => visitAbandonedPool(a, pool, VISIT_ALL_TAGS, v))).toEqual(before);
    // Every other block is freed by a worker while this thread keeps visiting.
    const toFree = before.filter((_, i) => i % 2 === 0);
    const after = before.filter((_, i) => i % 2 === 1);
    const list = new Uint32Array(new SharedArrayBuffer(toFree.length * 4));
    list.set(toFree);
    const control = new Int32Array(new SharedArrayBuffer(4));
    const finished = run<{ threadId: number; freed: number }>(a, {
      mode: "free",
      pool,
      seed: 10,
      blocks: list.buffer,
      control: control.buffer,
    });
    // Visit in a synchronous loop while the worker frees (it runs on its own thread meanwhile).
    const beforeSet = new Set(before);
    const deadline = Date.now() + 30_000;
    let visits = 0;
    let racing = 0;
    while (Atomics.load(control, 0) < toFree.length && Date.now() < deadline) {
      const progress = Atomics.load(control, 0);
      const seen = blocksOf((v) => visitAbandonedPool(a, pool, VISIT_ALL_TAGS, v));
      visits++;
      if (progress > 0 && Atomics.load(control, 0) !== progress) racing++;
      // Between the two states: never a block that was not live, never missing one that stays live.
      if (!seen.every((p) => beforeSet.has(p))) throw new Error("visited a block that was not live");
      const seenSet = new Set(seen);
      if (!after.every((p) => seenSet.has(p))) throw new Error("missed a block that stays live");
      a.check();
    }
    const m = await finished;
    expect(m.freed).toBe(toFree.length);
    a.abandonThread(m.threadId);
    expect(blocksOf((v) => visitAbandonedPool(a, pool, VISIT_ALL_TAGS, v))).toEqual(after);
    // Visits during which frees landed (how many depends on how busy the machine is).
    expect(racing).toBeGreaterThan(0);
    expect(visits).toBeGreaterThanOrEqual(racing);
    a.check();
  }, 60_000);
});
