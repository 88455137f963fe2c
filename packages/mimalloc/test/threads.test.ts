// Real worker threads sharing one arena: mimalloc's test-stress (scaled for CI), workers terminated
// at random instants, and cross-thread frees. Longer runs: `ft stress`.
import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import { startWorker } from "@ft/worker";
import { describe, expect, it } from "vitest";
import { Arena } from "../src/index.ts";

const WORKER = new URL("./workers/stress.worker.ts", import.meta.url);
const COOKIE = 0x1ce4e5b9;

function freeItems(a: Arena, p: number): void {
  if (p === 0) return;
  a.ensureView(p + 4); // a block from another thread may lie past this thread's views
  const items0 = (a.u32[p >>> 2]! ^ COOKIE) >>> 0;
  a.ensureView(p + 4 * items0);
  const w = a.u32;
  const items = (w[p >>> 2]! ^ COOKIE) >>> 0;
  for (let i = 0; i < items; i++) {
    if (((w[(p >>> 2) + i]! ^ COOKIE) >>> 0) !== items - i) throw new Error(`memory corruption at ${p}+${i}`);
  }
  a.free(p);
}

let seed = 42;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>>= 0);
}

function start(a: Arena, transfer: SharedArrayBuffer, mode: "stress" | "loop", workerSeed: number, detach: boolean): Worker {
  return startWorker(WORKER, { workerData: { mode, buffer: a.buffer, transfer, seed: workerSeed, scale: 10, detach } });
}

describe("threads sharing one arena", () => {
  it("test-stress: rounds of workers allocate, swap 25% of blocks through a transfer array, and exit; all is freed and the arena checks clean and empty", async () => {
    const a = Arena.create({ maxBytes: 512 << 20, checks: true });
    const transfer = new SharedArrayBuffer(1000 * 4);
    const slots = new Int32Array(transfer);
    const THREADS = 4;
    const ROUNDS = 5;
    for (let round = 0; round < ROUNDS; round++) {
      const workers = Array.from({ length: THREADS }, (_, i) => start(a, transfer, "stress", round * THREADS + i + 1, i % 2 === 0));
      const results = await Promise.all(
        workers.map(async (w) => {
          // Listen for everything at once: a worker may post and exit within one turn.
          const exited = once(w, "exit");
          const failed = once(w, "error").then(([e]) => Promise.reject(e));
          const [msg] = (await Promise.race([once(w, "message"), failed])) as [{ threadId: number; problems: string[] }];
          await exited;
          return msg;
        }),
      );
      // Workers that did not detach exited without cleanup: abandon their heaps from here.
      for (const [i, r] of results.entries()) {
        expect(r.problems).toEqual([]);
        if (i % 2 !== 0) expect(a.abandonThread(r.threadId)).toBe(1);
        else expect(a.abandonThread(r.threadId)).toBe(0);
      }
      a.check();
      // Half of the transferred blocks outlive their threads; free the other half here.
      for (let s = 0; s < slots.length; s++) if (rnd() % 2 === 0) freeItems(a, Atomics.exchange(slots, s, 0));
      a.check();
    }
    for (let s = 0; s < slots.length; s++) freeItems(a, Atomics.exchange(slots, s, 0));
    a.reclaimAbandoned();
    a.heap.collect(true);
    a.check();
    const stats = a.stats();
    expect(stats.usedBlocks).toBe(0);
    expect(stats.segments.abandoned).toBe(0);
    expect(stats.pageBytesInUse).toBe(0);
  }, 60_000);

  it("workers terminated at random instants: their live blocks stay valid and freeable, their segments are reclaimed, nothing hangs, and the checker passes", async () => {
    const a = Arena.create({ maxBytes: 1 << 30, checks: true });
    const transfer = new SharedArrayBuffer(2000 * 4);
    const slots = new Int32Array(transfer);
    const ROUNDS = 12;
    const THREADS = 3;
    let kills = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const workers = Array.from({ length: THREADS }, (_, i) => start(a, transfer, "loop", 1000 + round * THREADS + i, false));
      const ids = await Promise.all(workers.map(async (w) => ((await once(w, "message")) as [{ threadId: number }])[0].threadId));
      await new Promise((r) => setTimeout(r, 2 + (rnd() % 40)));
      await Promise.all(workers.map((w) => w.terminate()));
      kills += THREADS;
      for (const id of ids) expect(a.abandonThread(id)).toBe(1);
      a.check();
      // Blocks of dead threads are intact (pattern checked) and can be freed from here.
      for (let s = 0; s < slots.length; s++) if (rnd() % 3 === 0) freeItems(a, Atomics.exchange(slots, s, 0));
      a.check();
    }
    for (let s = 0; s < slots.length; s++) freeItems(a, Atomics.exchange(slots, s, 0));
    expect(a.stats().segments.abandoned).toBeGreaterThan(0);
    expect(a.reclaimAbandoned()).toBeGreaterThan(0);
    a.heap.collect(true);
    a.check();
    const stats = a.stats();
    expect(stats.segments.abandoned).toBe(0);
    expect(kills).toBe(ROUNDS * THREADS);
  }, 60_000);
});
