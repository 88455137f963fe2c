// Per-thread free lists of small tuples, lists and dicts (CPython's `struct _Py_freelists`):
// reuse on the same thread, capacities, invisible to heap walks, emptied by every collection and
// when the owning thread state is cleared (the clear hook, from the thread that reaps a dead worker).
import { once } from "node:events";
import { Runtime, startThread } from "@ft/interp";
import { HeapTag } from "@ft/pymem";
import { visitAbandonedPool } from "@ft/mimalloc";
import { describe, expect, it } from "vitest";
import {
  collect,
  createStandaloneSpace,
  GS_ENABLED,
  GS_XYOUNG_COUNT,
  objectSpaceFor,
  validateObjects,
  visitObjects,
} from "../src/index.ts";

const WORKER = new URL("./fixtures/freelists.worker.ts", import.meta.url);

function trackedCount(s: ReturnType<typeof createStandaloneSpace>): number {
  let n = 0;
  visitObjects(s, () => n++);
  return n;
}

describe("per-thread free lists", () => {
  it("reuse a deallocated list, dict or tuple of the same size on the same thread", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const one = s.newInt(1);
    const l = s.newList([one]);
    const d = s.newDict();
    const t3 = s.newTuple([one, one, one]);
    const t21 = s.newTuple(new Array(21).fill(one));
    for (const op of [l, d, t3, t21]) s.decref(op);
    expect([s.freeListLength("list"), s.freeListLength("dict"), s.freeListLength("tuple", 3)]).toEqual([
      1, 1, 1,
    ]);
    expect(s.freeListLength("tuple", 1)).toBe(0);
    expect(() => s.freeListLength("tuple", 21)).toThrow(RangeError); // size 21 is not kept
    const l2 = s.newList();
    expect(l2).toBe(l);
    expect(s.listLen(l2)).toBe(0);
    expect(s.refcnt(l2)).toBe(1);
    expect(s.isTracked(l2)).toBe(true);
    expect(s.newTuple([one, 0, one])).toBe(t3);
    expect(s.tupleGet(t3, 0)).toBe(one);
    expect(s.newDict()).toBe(d);
    expect(s.dictLen(d)).toBe(0);
    expect(s.freeListLength("list") + s.freeListLength("dict") + s.freeListLength("tuple", 3)).toBe(0);
    expect(validateObjects(s)).toEqual([]);
  });

  it("count as deallocations when kept and allocations when reused, so gc.get_count does not see them", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    s.gsSet(GS_ENABLED, 0);
    const young = (): number => {
      s.flushAllocCount();
      return s.gsGet(GS_XYOUNG_COUNT);
    };
    const start = young();
    const made = Array.from({ length: 10 }, () => s.newList());
    expect(young()).toBe(start + 10);
    for (const l of made) s.decref(l);
    expect(young()).toBe(start);
    const again = Array.from({ length: 10 }, () => s.newList()); // from the free list
    expect(young()).toBe(start + 10);
    for (const l of again) s.decref(l);
    collect(s); // empties the free lists: no further change
    expect(young()).toBe(0);
  });

  it("keep at most 80 lists and dicts and 2000 tuples of each size", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const made: number[] = [];
    for (let i = 0; i < 100; i++) made.push(s.newList(), s.newDict());
    for (let i = 0; i < 2100; i++) made.push(s.newTuple([0]));
    for (const op of made) s.decref(op);
    expect(s.freeListLength("list")).toBe(80);
    expect(s.freeListLength("dict")).toBe(80);
    expect(s.freeListLength("tuple", 1)).toBe(2000);
  });

  it("are invisible to heap walks and emptied, blocks freed, by every collection", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    s.gsSet(GS_ENABLED, 0);
    const before = trackedCount(s);
    const made: number[] = [];
    for (let i = 0; i < 30; i++) made.push(s.newList(), s.newTuple([0, 0]));
    for (const op of made) s.decref(op);
    expect(trackedCount(s)).toBe(before);
    expect(validateObjects(s)).toEqual([]);
    const used = s.arena.stats().usedBlocks;
    expect(collect(s)).toBe(0);
    expect([s.freeListLength("list"), s.freeListLength("tuple", 2)]).toEqual([0, 0]);
    expect(s.arena.stats().usedBlocks).toBe(used - 60);
  });

  it("of a dead worker are emptied when the thread that reaps it clears its thread state", async () => {
    const runtime = Runtime.create({ maxBytes: 128 << 20 });
    try {
      const s = objectSpaceFor(runtime);
      s.gsSet(GS_ENABLED, 0);
      const root = s.newList();
      const t = startThread(runtime, WORKER, { data: { lists: 50, dicts: 30, keep: 3, root } });
      const [report] = (await once(t.worker, "message")) as [{ lists: number; dicts: number }];
      expect(report).toEqual({ lists: 47, dicts: 30 });
      const { cleanup } = await t.exited; // reapThread → clear → the free lists' blocks are freed
      expect(cleanup.threadStates).toBe(1);
      // What the worker left in the interpreter's pool, GC tag: only the 3 kept lists.
      let blocks = 0;
      visitAbandonedPool(s.arena, s.host.pool, HeapTag.GC, { block: () => void blocks++ });
      expect(blocks).toBe(3);
      expect(s.listLen(root)).toBe(3);
      expect(validateObjects(s)).toEqual([]);
    } finally {
      runtime.finalize();
    }
  });
});
