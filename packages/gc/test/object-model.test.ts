import { HeapTag } from "@ft/pymem";
import { describe, expect, it } from "vitest";
import {
  collect,
  createStandaloneSpace,
  freeze,
  GC_TRACKED_MASK,
  getFreezeCount,
  getObjects,
  GS_ENABLED,
  GS_THRESHOLD0,
  GS_XYOUNG_COUNT,
  IMMORTAL_REFCNT_LOCAL,
  obGcBits,
  obRefLocal,
  obRefShared,
  obTid,
  REF_MERGED,
  refSharedState,
  unfreeze,
  validateObjects,
  visitObjects,
} from "../src/index.ts";

describe("object model", () => {
  for (const preset of ["default", "debug"]) {
    it(`places objects by type: GC_PRE for instances, GC for containers, OBJECT for atoms (${preset})`, () => {
      const s = createStandaloneSpace({ maxBytes: 64 << 20, preset });
      const debug = preset === "debug" ? 16 : 0;
      expect(s.alloc.debugHeaderBytes()).toBe(debug);
      const C = s.newClass("C");
      const objects = {
        list: s.newList(),
        tuple: s.newTuple([]),
        dict: s.newDict(),
        inst: s.newInstance(C),
        cls: C,
      };
      const tags = new Map<number, number>();
      visitObjects(s, (op, area) => tags.set(op, area.tag));
      expect(tags.get(objects.list)).toBe(HeapTag.GC);
      expect(tags.get(objects.tuple)).toBe(HeapTag.GC);
      expect(tags.get(objects.dict)).toBe(HeapTag.GC);
      expect(tags.get(objects.cls)).toBe(HeapTag.GC);
      expect(tags.get(objects.inst)).toBe(HeapTag.GC_PRE);
      const i = s.newInt(7);
      expect(tags.has(i)).toBe(false); // not GC: OBJECT heap, never visited
      expect(s.isTracked(i)).toBe(false);
      expect(s.intValue(i)).toBe(7);
      expect(validateObjects(s)).toEqual([]);
      for (const op of Object.values(objects)) s.decref(op);
      s.decref(i);
      // the class, its __mro__ tuple and its dict: a class is a cycle (through tp_mro), as CPython's
      expect(collect(s)).toBe(3);
      expect(collect(s)).toBe(0);
    });
  }

  it("tracks containers and instances, not atoms (test_is_tracked)", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const str = s.newStr("a");
    expect(s.isTracked(str)).toBe(false);
    const obj = s.allocObject(s.types.object);
    expect(s.isTracked(obj)).toBe(false);
    for (const op of [s.newList(), s.newDict(), s.newTuple([str]), s.newInstance(s.newClass("X"))])
      expect(s.isTracked(op)).toBe(true);
    const l = s.newList();
    expect(() => s.track(l)).toThrow("object already tracked by the garbage collector");
    s.untrack(l);
    expect(s.isTracked(l)).toBe(false);
    s.track(l);
  });

  it("builtin types and their names are immortal", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    expect(obRefLocal(s.arena.i32, s.types.list)).toBe(IMMORTAL_REFCNT_LOCAL);
    s.decref(s.types.list);
    s.incref(s.types.list);
    expect(obRefLocal(s.arena.i32, s.types.list)).toBe(IMMORTAL_REFCNT_LOCAL);
    expect(s.nameOfType(s.types.dict)).toBe("dict");
  });

  it("lists, dicts and attributes behave", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const d = s.newDict();
    for (let i = 0; i < 100; i++) {
      const k = s.newInt(i);
      const v = s.newStr(`v${i}`);
      s.dictSet(d, k, v);
      s.decref(k);
      s.decref(v);
    }
    expect(s.dictLen(d)).toBe(100);
    const k = s.newInt(42);
    expect(s.strValue(s.dictGet(d, k))).toBe("v42");
    expect(s.dictDel(d, k)).toBe(true);
    expect(s.dictGet(d, k)).toBe(0);
    s.decref(k);
    const C = s.newClass("C", { slots: 1 });
    const c = s.newInstance(C);
    s.setAttr(C, "shared", d);
    expect(s.getAttr(c, "shared")).toBe(d);
    s.setSlot(c, 0, d);
    expect(s.getSlot(c, 0)).toBe(d);
    expect(s.referents(c)).toEqual([C, d]);
    s.decref(c);
    s.decref(C);
    s.decref(d);
    expect(collect(s)).toBeGreaterThanOrEqual(0);
    expect(validateObjects(s)).toEqual([]);
  });

  it("freezes, counts and unfreezes tracked objects; frozen cycles are not collected (test_freeze)", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const l = s.newList();
    s.listAppend(l, l);
    freeze(s);
    expect(getFreezeCount(s)).toBeGreaterThan(0);
    s.decref(l);
    expect(collect(s)).toBe(0);
    unfreeze(s);
    expect(getFreezeCount(s)).toBe(0);
    expect(collect(s)).toBe(1);
  });

  it("get_objects returns new references to tracked objects", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const l = s.newList();
    const objects = getObjects(s);
    expect(objects).toContain(l);
    for (const op of objects) s.decref(op);
    expect(s.refcnt(l)).toBe(1);
  });

  it("collects automatically past the threshold, only while enabled (test_indirect_calls_with_gc_disabled)", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    s.gsSet(GS_THRESHOLD0, 600);
    let collections = 0;
    s.gcCallbacks.push((phase) => {
      if (phase === "stop") collections++;
    });
    s.gsSet(GS_ENABLED, 0);
    for (let i = 0; i < 3000; i++) {
      const l = s.newList();
      s.listAppend(l, l);
      s.decref(l);
    }
    expect(collections).toBe(0);
    s.gsSet(GS_ENABLED, 1);
    for (let i = 0; i < 3000; i++) {
      const l = s.newList();
      s.listAppend(l, l);
      s.decref(l);
    }
    expect(collections).toBeGreaterThan(0);
    s.flushAllocCount();
    expect(Atomics.load(s.arena.i32, (s.gcState >> 2) + GS_XYOUNG_COUNT)).toBeLessThan(3000);
  });

  it("works in GIL mode (no stop-the-world)", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20, gil: true });
    expect(s.host.gil).toBe(true);
    const a = s.newList();
    const b = s.newList();
    s.listAppend(a, b);
    s.listAppend(b, a);
    s.decref(a);
    s.decref(b);
    expect(collect(s)).toBe(2);
  });

  it("merges refcounts: another thread's decref below zero is queued, the owner merges and frees", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const l = s.newList();
    // Pretend another thread owns it: its local reference is theirs, ours are shared.
    const i32 = s.arena.i32;
    const other = s.tid + 1000;
    i32[l >> 2] = other;
    s.incref(l); // shared +1 (we do not own it)
    s.decref(l); // shared back to 0
    s.decref(l); // would go negative: queued for the owner
    expect(s.queuedOwners()).toContain(other);
    // The owner thread is gone (not a live thread of the state): the collector merges its queue.
    expect(collect(s)).toBe(1); // local 1 + queued −1 = 0, tracked: collected as trash
    expect(s.queuedOwners()).not.toContain(other);
  });

  it("restores ob_tid of reachable objects to their page owner after a collection", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const l = s.newList();
    collect(s);
    expect(obTid(s.arena.i32, l)).toBe(s.tid);
    expect(obGcBits(s.arena.u8, l)).toBe(GC_TRACKED_MASK);
    // merged objects come back unowned
    s.explicitMerge(l, 0);
    collect(s);
    expect(obTid(s.arena.i32, l)).toBe(0);
    expect(refSharedState(obRefShared(s.arena.i32, l))).toBe(REF_MERGED);
    s.decref(l);
    // With garbage in the same collection: reachable roots, inner objects and leaves all get
    // their owner back (mark restores them), the garbage is freed.
    const root = s.newList();
    const inner = s.newList();
    const leaf = s.newList();
    s.listAppend(inner, leaf);
    s.listAppend(root, inner);
    s.decref(inner);
    s.decref(leaf);
    const ring = s.newList();
    s.listAppend(ring, ring);
    s.decref(ring);
    expect(collect(s)).toBe(1);
    for (const op of [root, inner, leaf]) expect(obTid(s.arena.i32, op)).toBe(s.tid);
    expect(s.refcnt(inner)).toBe(1);
    s.decref(root);
  });
});
