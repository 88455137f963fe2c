// Shared tlds: one tld and its heaps owned by a virtual thread id, used by whichever thread holds
// an external lock (what @ft/interp's GIL mode gives each interpreter: CPython 3.12's
// per-interpreter obmalloc state). Every free is a cross-thread free; the lock holder allocates
// and collects; a dead holder's half-done work is repaired by abandonTld from another thread, and
// the tld is re-initialised with the same owner.
import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import { startWorker } from "@ft/worker";
import { describe, expect, it } from "vitest";
import { SEG_XTHREAD_ID } from "../src/internal/layout/segment.ts";
import { TLD_FLAG_SHARED_MASK, TLD_FLAGS, TLD_THREAD_ID } from "../src/internal/layout/tld.ts";
import { Arena, HEAP_RECORD_SIZE, RECORD_KIND_HEAP, SEGMENT_SIZE, TLD_RECORD_SIZE } from "../src/index.ts";

const WORKER = new URL("./workers/shared.worker.ts", import.meta.url);

interface Shared {
  a: Arena;
  pool: number;
  tld: number;
  heapRecords: number[];
  owner: number;
}

/** A shared tld bound to a new pool, with heaps tagged 0 and 1 (in records of this test). */
function sharedTld(a: Arena): Shared {
  const pool = a.poolNew();
  const tld = a.recordAlloc(TLD_RECORD_SIZE);
  const heapRecords = [a.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP), a.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP)];
  const owner = a.tldInitShared(tld, pool);
  for (const [tag, r] of heapRecords.entries()) a.heapInit(r, tld, tag);
  return { a, pool, tld, heapRecords, owner };
}

function segmentOwner(a: Arena, p: number): number {
  const segment = p - 1 - ((p - 1) & (SEGMENT_SIZE - 1));
  return Atomics.load(a.u32, (segment >>> 2) + SEG_XTHREAD_ID);
}

function checkBlock(a: Arena, p: number): void {
  a.ensureView(p + 4);
  const size = a.u32[p >>> 2]!;
  a.ensureView(p + size);
  const mark = (p >>> 3) & 0xff;
  for (let i = 4; i < size; i += 7) if (a.u8[p + i] !== mark) throw new Error(`block ${p} corrupted at +${i}`);
}

function start(s: Shared, mode: "alternate" | "loop", index: number, words: SharedArrayBuffer, transfer: SharedArrayBuffer, rounds = 0, seed = 77): Worker {
  return startWorker(WORKER, {
    workerData: { mode, buffer: s.a.buffer, words, transfer, heaps: s.heapRecords, index, rounds, seed: seed + index * 1013 },
  });
}

describe("shared tlds", () => {
  it("get a virtual owner id that no thread has, and heaps owned by it", () => {
    const a = Arena.create({ maxBytes: 64 << 20, checks: true });
    const s = sharedTld(a);
    expect(s.owner).toBeGreaterThan(a.threadId);
    expect(a.tldIsShared(s.tld)).toBe(true);
    expect(a.tldIsShared(a.tld)).toBe(false);
    expect(a.u32[(s.tld >>> 2) + TLD_THREAD_ID]).toBe(s.owner);
    expect(a.u32[(s.tld >>> 2) + TLD_FLAGS]! & TLD_FLAG_SHARED_MASK).not.toBe(0);
    // Listed in no thread's heap map; this thread reaches them through heapAttach.
    for (const r of s.heapRecords) expect(a.heaps.has(r)).toBe(false);
    const h = a.heapAttach(s.heapRecords[1]!);
    expect(h.tag).toBe(1);
    const p = h.malloc(100);
    expect(segmentOwner(a, p)).toBe(s.owner);
    expect(a.tagOf(p)).toBe(1);
    a.free(p); // not this thread's page: a cross-thread free, collected by the next holder
    h.collect(true);
    a.check();
    // A second thread attached meanwhile gets the next real id: the virtual one is never reused.
    const other = Arena.attach(a.buffer);
    expect(other.threadId).toBeGreaterThan(s.owner);
    other.detach();
  });

  it("are never touched by abandonThread, and are abandoned and re-initialised with the same owner", () => {
    const a = Arena.create({ maxBytes: 64 << 20, checks: true });
    const s = sharedTld(a);
    const h = a.heapAttach(s.heapRecords[0]!);
    const blocks = Array.from({ length: 3000 }, (_, i) => {
      const p = h.malloc(48);
      a.u8.fill(i & 0xff, p, p + 48);
      return p;
    });
    expect(a.abandonThread(s.owner)).toBe(0); // embedded: the caller's to abandon
    expect(a.tldIsShared(s.tld)).toBe(true);
    a.abandonTld(s.tld);
    a.check();
    expect(a.stats().segments.abandoned).toBeGreaterThan(0);
    expect(() => h.malloc(48)).toThrow(/abandoned/);
    expect(a.tldInitShared(s.tld, s.pool, s.owner)).toBe(s.owner);
    for (const [tag, r] of s.heapRecords.entries()) a.heapInit(r, s.tld, tag);
    expect(a.reclaimAbandoned(s.tld)).toBeGreaterThan(0);
    expect(a.stats().segments.abandoned).toBe(0);
    a.free(h.malloc(48)); // the old handle names the same record, live again
    for (const [i, p] of blocks.entries()) {
      expect(a.u8[p + 47]).toBe(i & 0xff);
      expect(segmentOwner(a, p)).toBe(s.owner);
    }
    a.check();
    for (const p of blocks) a.free(p);
    a.check();
  });

  it("two workers taking turns under a lock allocate through the same heaps and free each other's blocks; abandon, re-init and reclaim check clean", async () => {
    const a = Arena.create({ maxBytes: 256 << 20, checks: true });
    const s = sharedTld(a);
    const words = new SharedArrayBuffer(64);
    const w = new Int32Array(words);
    const transfer = new SharedArrayBuffer(1024 * 4);
    const slots = new Int32Array(transfer);
    const ROUNDS = 24;
    const workers = [0, 1].map((i) => start(s, "alternate", i, words, transfer, ROUNDS));
    const results = await Promise.all(
      workers.map(async (wk) => {
        const exited = once(wk, "exit");
        const failed = once(wk, "error").then(([e]) => Promise.reject(e));
        const [msg] = (await Promise.race([once(wk, "message"), failed])) as [{ threadId: number; frees: number }];
        await exited;
        return msg;
      }),
    );
    expect(Atomics.load(w, 2)).toBe(2 * ROUNDS);
    // Every round but the first freed the 200 blocks the other worker left.
    expect(results[0]!.frees + results[1]!.frees).toBe((2 * ROUNDS - 1) * 200);
    for (const r of results) {
      expect(r.threadId).not.toBe(s.owner);
      expect(a.abandonThread(r.threadId)).toBe(0); // they detached
    }
    a.check();
    // What the last worker left is intact and owned by the virtual id.
    const left = [...slots].filter((p) => p !== 0);
    expect(left.length).toBe(200);
    for (const p of left) {
      checkBlock(a, p);
      expect(segmentOwner(a, p)).toBe(s.owner);
    }
    // Abandon (as after a dead holder), re-initialise with the same owner, reclaim from the pool.
    a.abandonTld(s.tld);
    a.check();
    expect(a.stats().segments.abandoned).toBeGreaterThan(0);
    expect(a.tldInitShared(s.tld, s.pool, s.owner)).toBe(s.owner);
    for (const [tag, r] of s.heapRecords.entries()) a.heapInit(r, s.tld, tag);
    expect(a.reclaimAbandoned(s.tld)).toBeGreaterThan(0);
    a.check();
    for (const p of left) {
      checkBlock(a, p);
      expect(segmentOwner(a, p)).toBe(s.owner);
      a.free(p);
    }
    for (const r of s.heapRecords) a.heapAttach(r).collect(true);
    a.check();
    expect(a.stats().usedBlocks).toBe(0);
  }, 60_000);

  it("survives holders terminated with the lock held: abandonTld repairs from another thread, re-init keeps the owner", async () => {
    const a = Arena.create({ maxBytes: 512 << 20, checks: true });
    const s = sharedTld(a);
    const transfer = new SharedArrayBuffer(512 * 4);
    const slots = new Int32Array(transfer);
    let seed = 5;
    for (let round = 0; round < 6; round++) {
      const words = new SharedArrayBuffer(64);
      const w = new Int32Array(words);
      const workers = [0, 1].map((i) => start(s, "loop", i, words, transfer, 0, 1000 + round));
      await once(workers[0]!, "message"); // one of them holds the lock and runs
      seed = (seed * 1103515245 + 12345) >>> 0;
      await new Promise((r) => setTimeout(r, 5 + (seed % 30)));
      await Promise.all(workers.map((wk) => wk.terminate()));
      const ids = [Atomics.load(w, 8), Atomics.load(w, 9)];
      for (const id of ids) if (id !== 0) expect(a.abandonThread(id)).toBe(1);
      // The lock died with its holder (words[0] still names it): repair, then re-initialise.
      a.abandonTld(s.tld);
      a.check();
      expect(a.tldInitShared(s.tld, s.pool, s.owner)).toBe(s.owner);
      for (const [tag, r] of s.heapRecords.entries()) a.heapInit(r, s.tld, tag);
      a.reclaimAbandoned(s.tld);
      a.check();
      for (let i = 0; i < slots.length; i++) {
        const p = slots[i]!;
        if (p === 0) continue;
        checkBlock(a, p);
        if (i % 2 === round % 2) {
          a.free(p);
          slots[i] = 0;
        }
      }
      a.check();
    }
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) a.free(slots[i]!);
    a.reclaimAbandoned(s.tld);
    for (const r of s.heapRecords) a.heapAttach(r).collect(true);
    a.check();
  }, 60_000);

  describe("bad input", () => {
    it("tldInitShared refuses a live tld, bad records and pools, and owner ids that are not virtual", () => {
      const a = Arena.create({ maxBytes: 64 << 20 });
      const s = sharedTld(a);
      expect(() => a.tldInitShared(s.tld, s.pool)).toThrow(/is live .*abandon it first/);
      const fresh = a.recordAlloc(TLD_RECORD_SIZE);
      expect(() => a.tldInitShared(fresh, s.pool, a.threadId)).toThrow(RangeError);
      expect(() => a.tldInitShared(fresh, s.pool, a.threadId)).toThrow(/live thread/);
      const worker = Arena.attach(a.buffer);
      expect(() => a.tldInitShared(fresh, s.pool, worker.threadId)).toThrow(/live thread/);
      worker.detach();
      expect(() => a.tldInitShared(fresh, s.pool, 1 << 30)).toThrow(/ownerId must be 0 or an id the arena handed out/);
      expect(() => a.tldInitShared(fresh, s.pool, 1.5)).toThrow(RangeError);
      expect(() => a.tldInitShared(fresh, 12345)).toThrow(/is not a pool record/);
      expect(() => a.tldInitShared(3, s.pool)).toThrow(/not a record offset/);
      expect(() => a.tldInitShared(SEGMENT_SIZE + 64, s.pool)).toThrow(/not a record offset/);
      // The id of a detached thread is dead for good: it may own a shared tld.
      expect(a.tldInitShared(fresh, s.pool, worker.threadId)).toBe(worker.threadId);
    });

    it("heapAttach names what is wrong: not a heap, not shared, abandoned", () => {
      const a = Arena.create({ maxBytes: 64 << 20 });
      const s = sharedTld(a);
      expect(() => a.heapAttach(12345)).toThrow(RangeError);
      expect(() => a.heapAttach(-64)).toThrow(/not a record offset/);
      expect(() => a.heapAttach(s.tld)).toThrow(/is not a heap record/);
      expect(() => a.heapAttach(a.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP))).toThrow(/is not a heap record/);
      expect(() => a.heapAttach(a.heap.record)).toThrow(/not shared/);
      const t = a.tldNew(s.pool);
      expect(() => a.heapAttach(a.heapNew(0, t).record)).toThrow(/not shared/);
      a.abandonTld(s.tld);
      expect(() => a.heapAttach(s.heapRecords[0]!)).toThrow(/not live/);
      expect(a.tldIsShared(s.tld)).toBe(false);
    });

    it("heapInit and heapNew accept a live shared tld from any thread, not another thread's own tld", () => {
      const a = Arena.create({ maxBytes: 64 << 20 });
      const s = sharedTld(a);
      const other = Arena.attach(a.buffer);
      const extra = other.heapNew(5, s.tld);
      expect(extra.tag).toBe(5);
      expect(other.heaps.has(extra.record)).toBe(false);
      const p = extra.malloc(64);
      expect(segmentOwner(a, p)).toBe(s.owner);
      a.free(p);
      expect(() => other.heapNew(0, a.tld)).toThrow(/not a live tld of this thread .* nor a live shared tld/);
      other.detach();
      a.check();
    });
  });
});
