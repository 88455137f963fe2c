// Shared mimalloc states: one tld and four tagged heaps owned by a virtual thread id, used by
// whichever thread holds an external lock (@ft/interp's GIL mode: CPython 3.12's per-interpreter
// obmalloc state). Each thread makes its handle with attachShared; a re-initialisation in the
// same record makes older handles stale.
import { once } from "node:events";
import { Arena, SEGMENT_SIZE } from "@ft/mimalloc";
import { startWorker } from "@ft/worker";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPyMem,
  currentThreadState,
  HeapTag,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  MTS_FLAG_SHARED_MASK,
  MTS_FLAGS,
  MTS_GENERATION,
  MTS_STATE_ABANDONED,
  MTS_THREAD_ID,
  mimallocStateOf,
  mimallocStateTld,
  setCurrentThreadState,
} from "../src/index.ts";

const WORKER = new URL("./workers/shared.worker.ts", import.meta.url);

afterEach(() => setCurrentThreadState(null));

/** The owner id of the segment holding block `p` (@ft/mimalloc's segment word 0). */
function segmentOwner(arena: Arena, p: number): number {
  const segment = p - 1 - ((p - 1) % SEGMENT_SIZE);
  return Atomics.load(arena.u32, segment >>> 2);
}

function sharedFixture() {
  const arena = Arena.create({ maxBytes: 128 << 20, checks: true });
  const pool = arena.poolNew();
  const record = arena.recordAlloc(MIMALLOC_STATE_SIZE);
  const state = MimallocThreadState.initShared(arena, record, pool);
  return { arena, pool, record, state, owner: arena.u32[(record >>> 2) + MTS_THREAD_ID]! };
}

describe("shared MimallocThreadState", () => {
  it("is owned by a virtual id: its blocks' segments name that id, not the allocating thread", () => {
    const { arena, record, state, owner } = sharedFixture();
    expect(state.shared).toBe(true);
    expect(owner).not.toBe(arena.threadId);
    expect(arena.u32[(record >>> 2) + MTS_FLAGS]! & MTS_FLAG_SHARED_MASK).not.toBe(0);
    expect(arena.tldIsShared(mimallocStateTld(record))).toBe(true);
    const pymem = createPyMem(arena);
    setCurrentThreadState(state);
    const p = pymem.malloc(40);
    const op = pymem.objectMallocKind(HeapTag.GC, 32);
    expect(arena.tagOf(p)).toBe(HeapTag.MEM);
    expect(arena.tagOf(op)).toBe(HeapTag.GC);
    expect(segmentOwner(arena, p)).toBe(owner);
    pymem.free(p);
    pymem.objectFreeKind(HeapTag.GC, op);
    arena.check();
  });

  it("gives another thread a handle with attachShared; re-initialising with the same owner makes older handles stale", () => {
    const { arena, pool, record, state, owner } = sharedFixture();
    const other = Arena.attach(arena.buffer); // stands for another thread here
    const handle = MimallocThreadState.attachShared(other, record);
    expect(handle.shared).toBe(true);
    expect(handle.arena).toBe(other);
    expect(handle.heaps.map((h) => h.record)).toEqual(state.heaps.map((h) => h.record));
    const blocks = Array.from({ length: 500 }, (_, i) => {
      const p = handle.heap(HeapTag.OBJECT).malloc(64);
      other.u32[p >>> 2] = i;
      return p;
    });
    expect(handle.stale).toBe(false);
    const generation = arena.u32[(record >>> 2) + MTS_GENERATION]!;
    MimallocThreadState.abandon(arena, record);
    expect(handle.stale).toBe(true);
    expect(() => setCurrentThreadState(handle)).toThrow(/was abandoned/);
    expect(() => MimallocThreadState.attachShared(other, record)).toThrow(/was abandoned/);
    const again = MimallocThreadState.initShared(arena, record, pool, owner);
    expect(arena.u32[(record >>> 2) + MTS_THREAD_ID]).toBe(owner);
    expect(arena.u32[(record >>> 2) + MTS_GENERATION]).not.toBe(generation);
    expect(handle.stale).toBe(true);
    expect(() => setCurrentThreadState(handle)).toThrow(/re-initialised since this handle was made/);
    const fresh = MimallocThreadState.attachShared(other, record);
    expect(fresh.stale).toBe(false);
    setCurrentThreadState(fresh);
    expect(currentThreadState()).toBe(fresh);
    // The pages went to the pool; the re-initialised state reclaims them, owner unchanged.
    expect(arena.reclaimAbandoned(again.tld)).toBeGreaterThan(0);
    blocks.forEach((p, i) => {
      expect(arena.u32[p >>> 2]).toBe(i);
      expect(segmentOwner(arena, p)).toBe(owner);
      arena.free(p);
    });
    other.detach();
    arena.check();
  });

  it("makes a handle stale when its record was freed, reused and initialised again (the generation is an arena stamp)", () => {
    const { arena, record } = sharedFixture();
    const other = Arena.attach(arena.buffer); // stands for another thread here
    const handle = MimallocThreadState.attachShared(other, record);
    MimallocThreadState.abandon(arena, record);
    arena.recordFree(record, MIMALLOC_STATE_SIZE);
    // The record allocator hands the same record out again, zeroed, to a new state.
    const reused = arena.recordAlloc(MIMALLOC_STATE_SIZE);
    expect(reused).toBe(record);
    arena.u32.fill(0, reused >>> 2, (reused + MIMALLOC_STATE_SIZE) >>> 2);
    const pool = arena.poolNew();
    MimallocThreadState.initShared(arena, reused, pool);
    expect(handle.stale).toBe(true);
    expect(() => setCurrentThreadState(handle)).toThrow(/re-initialised since this handle was made/);
    expect(MimallocThreadState.attachShared(other, reused).stale).toBe(false);
    other.detach();
    arena.check();
  });

  for (const preset of ["default", "debug"]) {
    it(`is used by a worker holding the lock: MEM and OBJ blocks in the shared heaps, freed across threads (${preset})`, async () => {
      const { arena, record, owner } = sharedFixture();
      const pymem = createPyMem(arena, { preset });
      const words = new SharedArrayBuffer(16);
      const lock = new Int32Array(words);
      // This thread holds the lock first.
      expect(Atomics.compareExchange(lock, 0, 0, arena.threadId)).toBe(0);
      setCurrentThreadState(MimallocThreadState.attachShared(arena, record));
      const toFree = Array.from({ length: 50 }, () => {
        const p = pymem.malloc(40);
        arena.u32[p >>> 2] = 0xabcd0000 + (p & 0xffff);
        return p;
      });
      setCurrentThreadState(null);
      const worker = startWorker(WORKER, { workerData: { buffer: arena.buffer, words, record, preset, toFree, count: 300 } });
      Atomics.store(lock, 0, 0);
      Atomics.notify(lock, 0);
      const failed = once(worker, "error").then(([e]) => Promise.reject(e));
      const [report] = (await Promise.race([once(worker, "message"), failed])) as [
        { threadId: number; mem: number[]; objects: { p: number; kind: HeapTag }[]; misplaced: string[] },
      ];
      await once(worker, "exit");
      expect(report.misplaced).toEqual([]);
      expect(arena.abandonThread(report.threadId)).toBe(1); // its default tld; the shared state is untouched
      expect(mimallocStateOf(arena, record)).not.toBe(MTS_STATE_ABANDONED);
      arena.refreshViews();
      expect(Atomics.compareExchange(lock, 0, 0, arena.threadId)).toBe(0);
      const state = MimallocThreadState.attachShared(arena, record);
      setCurrentThreadState(state);
      report.mem.forEach((p, i) => {
        expect(arena.u32[p >>> 2]).toBe(7_000_000 + i);
        expect(segmentOwner(arena, p)).toBe(owner);
        pymem.free(p);
      });
      report.objects.forEach(({ p, kind }, i) => {
        expect(arena.u32[p >>> 2]).toBe(8_000_000 + i);
        pymem.objectFreeKind(kind, p);
      });
      for (const h of state.heaps) h.collect(true);
      arena.check();
      expect(arena.stats().usedBlocks).toBe(0);
    });
  }

  it("rejects bad input with errors naming it", () => {
    const { arena, pool, record } = sharedFixture();
    expect(() => MimallocThreadState.initShared(arena, record, pool)).toThrow(/holds a live state/);
    const own = arena.recordAlloc(MIMALLOC_STATE_SIZE);
    MimallocThreadState.init(arena, own, pool);
    expect(() => MimallocThreadState.attachShared(arena, own)).toThrow(/not shared/);
    const empty = arena.recordAlloc(MIMALLOC_STATE_SIZE);
    expect(() => MimallocThreadState.attachShared(arena, empty)).toThrow(RangeError);
    expect(() => MimallocThreadState.attachShared(arena, empty)).toThrow(/holds no mimalloc thread state/);
    expect(() => MimallocThreadState.attachShared(arena, 100)).toThrow(/64-aligned/);
    expect(() => MimallocThreadState.initShared(arena, empty, pool, -1)).toThrow(RangeError);
    expect(() => MimallocThreadState.initShared(arena, empty, pool, arena.threadId)).toThrow(/live thread/);
    expect(() => MimallocThreadState.initShared(arena, empty, 12345)).toThrow(/12345/);
  });
});
