import { afterEach, describe, expect, it } from "vitest";
import {
  collect,
  createStandaloneSpace,
  DEBUG_SAVEALL,
  GC_FINALIZED_MASK,
  GC_TRACKED_MASK,
  GS_DEBUG,
  GS_GARBAGE,
  GS_STATS,
  type ObjectSpace,
  obGcBits,
  obMutex,
  registerTypeBehaviour,
  registerWeakrefCallback,
  validateObjects,
} from "../src/index.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function space(options = {}): ObjectSpace {
  const s = createStandaloneSpace({ maxBytes: 64 << 20, ...options });
  s.onCollectorPhase = (phase) => {
    if (phase === "done") expect(validateObjects(s)).toEqual([]);
  };
  return s;
}

describe("collector: cycles (test_gc ports)", () => {
  it("collects a self-referencing list (test_list): collect() == 1", () => {
    const s = space();
    const l = s.newList();
    s.listAppend(l, l);
    s.decref(l);
    expect(collect(s)).toBe(1);
    expect(collect(s)).toBe(0);
  });

  it("collects a self-referencing dict (test_dict): 1", () => {
    const s = space();
    const d = s.newDict();
    s.dictSetStr(d, "d", d);
    s.decref(d);
    expect(collect(s)).toBe(1);
  });

  it("collects a list ↔ tuple cycle (test_tuple): 2", () => {
    const s = space();
    const l = s.newList();
    const t = s.newTuple([l]);
    s.listAppend(l, t);
    s.decref(l);
    s.decref(t);
    expect(collect(s)).toBe(2);
  });

  it("collects a class whose dict refers to it, and instance cycles (test_class, test_instance)", () => {
    const s = space();
    const A = s.newClass("A");
    s.setAttr(A, "a", A);
    s.decref(A);
    expect(collect(s)).not.toBe(0);
    const B = s.newClass("B");
    const b = s.newInstance(B);
    s.setAttr(b, "b", b);
    s.decref(b);
    s.decref(B);
    expect(collect(s)).not.toBe(0);
    expect(collect(s)).toBe(0);
  });

  it("keeps what is reachable from outside and frees the rest", () => {
    const s = space();
    const keep = s.newList();
    const inner = s.newList();
    s.listAppend(keep, inner);
    s.listAppend(inner, keep); // a cycle, but `keep` is referenced from JavaScript
    s.decref(inner);
    expect(collect(s)).toBe(0);
    expect(s.listLen(keep)).toBe(1);
    expect(s.refcnt(keep)).toBe(2);
    s.decref(keep);
    expect(collect(s)).toBe(2);
  });

  it("frees garbage tuples, lists and dicts, and drops exactly one reference to each outside object", () => {
    const s = space();
    const outside = s.newList();
    const key = s.newStr("k");
    for (let round = 0; round < 3; round++) {
      // A ring list → dict → tuple → list, each also holding `outside` (and the dict a str key).
      const l = s.newList();
      const d = s.newDict();
      s.listAppend(l, d);
      s.listAppend(l, outside);
      const t = s.newTuple([l, outside]);
      s.dictSet(d, key, t);
      s.dictSetStr(d, "o", outside);
      s.decref(l);
      s.decref(d);
      s.decref(t);
      expect(s.refcnt(outside)).toBe(4);
      expect(collect(s)).toBe(3);
      expect(s.refcnt(outside)).toBe(1);
      expect(s.refcnt(key)).toBe(1);
    }
    expect(s.arena.checkProblems()).toEqual([]);
  });

  it("frees a long chain hanging off a cycle without deep recursion", () => {
    const s = space();
    const ring = s.newList();
    s.listAppend(ring, ring);
    let tail = ring;
    for (let i = 0; i < 50_000; i++) {
      const next = i % 2 === 0 ? s.newList() : s.newDict();
      if (i % 2 === 0) s.listAppend(next, tail);
      else s.dictSetStr(next, "x", tail);
      s.decref(tail === ring ? 0 : tail);
      tail = next;
    }
    s.listAppend(ring, tail); // the ring holds the end of a chain that leads back to it
    s.decref(tail);
    s.decref(ring);
    expect(collect(s)).toBe(50_001);
    expect(collect(s)).toBe(0);
    expect(s.arena.checkProblems()).toEqual([]);
  });

  it("a finalizer that allocates, run when garbage drops the last reference to a non-GC object, is safe", () => {
    const s = space();
    const keep = s.newList();
    let calls = 0;
    cleanups.push(
      registerTypeBehaviour("Leaf", {
        finalize(sp) {
          calls++;
          for (let i = 0; i < 200; i++) {
            const l = sp.newList(); // may reuse blocks the collection just freed
            sp.listAppend(keep, l);
            sp.decref(l);
          }
        },
      }),
    );
    const Leaf = s.newClass("Leaf", { finalize: true, noGc: true });
    for (let c = 0; c < 20; c++) {
      const a = s.newList();
      const b = s.newList();
      s.listAppend(a, b);
      s.listAppend(b, a);
      const leaf = s.newInstance(Leaf);
      s.listAppend(b, leaf);
      s.decref(leaf);
      s.decref(a);
      s.decref(b);
    }
    expect(collect(s)).toBe(40);
    expect(calls).toBe(20);
    expect(s.listLen(keep)).toBe(4000);
    for (let i = 0; i < 4000; i++) expect(s.refcnt(s.listGet(keep, i))).toBe(1);
    expect(s.arena.checkProblems()).toEqual([]);
  });

  it("weakrefs a finalizer made to garbage instances are cleared, with their callbacks, when the instances are freed", () => {
    const s = space();
    const keep = s.newList();
    const seen: number[] = [];
    cleanups.push(registerWeakrefCallback("gone", (sp, wr) => seen.push(sp.weakrefGet(wr))));
    cleanups.push(
      registerTypeBehaviour("Maker", {
        finalize(sp, op) {
          // New weakrefs (with a callback) to itself and its partner, kept alive from outside
          // the garbage: whichever of the two is freed last, from its own turn, has one.
          const cb = sp.newStr("gone");
          for (const target of [op, sp.getSlot(op, 0)]) {
            const wr = sp.newWeakref(target, cb);
            sp.listAppend(keep, wr);
            sp.decref(wr);
          }
          sp.decref(cb);
        },
      }),
    );
    const Maker = s.newClass("Maker", { finalize: true, slots: 1 });
    const Partner = s.newClass("Partner", { slots: 1 });
    const m = s.newInstance(Maker);
    const p = s.newInstance(Partner);
    s.setSlot(m, 0, p);
    s.setSlot(p, 0, m);
    s.decref(m);
    s.decref(p);
    expect(collect(s)).toBe(2);
    expect(s.listLen(keep)).toBe(2);
    expect(s.weakrefGet(s.listGet(keep, 0))).toBe(0);
    expect(s.weakrefGet(s.listGet(keep, 1))).toBe(0);
    expect(seen).toEqual([0, 0]);
    expect(s.arena.checkProblems()).toEqual([]);
  });

  it("frees an acyclic structure by refcounting alone", () => {
    const s = space();
    const l = s.newList();
    for (let i = 0; i < 100; i++) {
      const x = s.newInt(i);
      s.listAppend(l, x);
      s.decref(x);
    }
    s.decref(l);
    expect(collect(s)).toBe(0);
  });

  it("counts per-generation stats and returns collected + uncollectable", () => {
    const s = space();
    const l = s.newList();
    s.listAppend(l, l);
    s.decref(l);
    collect(s, 1);
    expect(s.gsGet(GS_STATS + 3)).toBe(1); // generation 1: collections
    expect(s.gsGet(GS_STATS + 4)).toBe(1); // collected
    expect(s.gsGet(GS_STATS)).toBe(0);
    expect(() => collect(s, 3)).toThrow("invalid generation");
  });
});

describe("collector: weakrefs and finalizers", () => {
  it("clears weakrefs to garbage before their callbacks run (test_bug1055820b)", () => {
    const s = space();
    const C = s.newClass("C");
    const seen: number[] = [];
    cleanups.push(registerWeakrefCallback("cb", (sp, wr) => seen.push(sp.weakrefGet(wr))));
    const c = s.newInstance(C);
    s.setAttr(c, "self", c);
    const name = s.newStr("cb");
    const wr = s.newWeakref(c, name);
    s.decref(name);
    expect(s.weakrefGet(wr)).toBe(c);
    s.decref(c);
    expect(collect(s)).toBe(2); // the instance and its __dict__
    expect(seen).toEqual([0]);
    expect(s.weakrefGet(wr)).toBe(0);
    s.decref(wr);
  });

  it("does not call callbacks of weakrefs that are garbage themselves", () => {
    const s = space();
    const C = s.newClass("C");
    let calls = 0;
    cleanups.push(registerWeakrefCallback("cb2", () => calls++));
    const c = s.newInstance(C);
    const name = s.newStr("cb2");
    const wr = s.newWeakref(c, name);
    s.decref(name);
    s.setAttr(c, "wr", wr); // c → dict → wr ⇢ c
    s.setAttr(c, "me", c); // and a cycle, so that only the collector frees them
    s.decref(wr);
    s.decref(c);
    expect(collect(s)).toBe(3);
    expect(calls).toBe(0);
  });

  it("calls a finalizer once even when it resurrects (test_resurrection_only_happens_once_per_object)", () => {
    const s = space();
    const keep = s.newList();
    let calls = 0;
    cleanups.push(
      registerTypeBehaviour("Lazarus", {
        finalize(sp, op) {
          calls++;
          sp.listAppend(keep, op);
        },
      }),
    );
    const L = s.newClass("Lazarus", { finalize: true });
    const x = s.newInstance(L);
    s.setAttr(x, "me", x);
    s.decref(x);
    expect(s.isFinalized(x)).toBe(false);
    expect(collect(s)).toBe(0); // resurrected: neither it nor its dict counts
    expect(calls).toBe(1);
    expect(s.isFinalized(x)).toBe(true);
    expect(s.listGet(keep, 0)).toBe(x);
    s.listClear(keep);
    expect(collect(s)).toBe(2);
    expect(calls).toBe(1);
    s.decref(keep);
    s.decref(L);
  });

  it("resurrection is transitive and does not block cleanup of others", () => {
    const s = space();
    const keep = s.newList();
    cleanups.push(registerTypeBehaviour("Res", { finalize: (sp, op) => sp.listAppend(keep, op) }));
    const R = s.newClass("Res", { finalize: true });
    const Plain = s.newClass("Plain");
    const r = s.newInstance(R);
    const child = s.newList(); // reachable only from r: resurrected with it
    s.setAttr(r, "child", child);
    s.listAppend(child, r);
    s.decref(child);
    s.decref(r);
    const other = s.newInstance(Plain); // unrelated garbage
    s.setAttr(other, "me", other);
    s.decref(other);
    expect(collect(s)).toBe(2); // only `other` and its dict
    const back = s.listGet(keep, 0);
    expect(back).toBe(r);
    const again = s.getAttr(back, "child");
    expect(s.listGet(again, 0)).toBe(r);
    expect(validateObjects(s)).toEqual([]);
    s.decref(keep);
    expect(collect(s)).toBe(3);
    s.decref(R);
    s.decref(Plain);
  });

  it("a resurrected object keeps its gc bits and lock (gh-113750)", () => {
    const s = space();
    const keep = s.newList();
    cleanups.push(registerTypeBehaviour("Keep", { finalize: (sp, op) => sp.listAppend(keep, op) }));
    const K = s.newClass("Keep", { finalize: true });
    const k = s.newInstance(K);
    s.setAttr(k, "me", k);
    s.lockObject(k); // a held lock must survive resurrection
    s.decref(k);
    collect(s);
    const bits = obGcBits(s.arena.u8, k);
    expect(bits & GC_TRACKED_MASK).toBe(GC_TRACKED_MASK);
    expect(bits & GC_FINALIZED_MASK).toBe(GC_FINALIZED_MASK);
    expect(obMutex(s.arena.u8, k)).toBe(1);
    s.unlockObject(k);
    // and through deallocation: a refcount-zero resurrection keeps bits too
    const k2 = s.newInstance(K);
    s.decref(k2);
    expect(s.listLen(keep)).toBe(2);
    expect(obGcBits(s.arena.u8, k2) & (GC_TRACKED_MASK | GC_FINALIZED_MASK)).toBe(
      GC_TRACKED_MASK | GC_FINALIZED_MASK,
    );
    s.decref(keep);
    collect(s);
    s.decref(K);
  });

  it("reports finalizer errors as 'Exception ignored in' and goes on", () => {
    const s = space();
    const messages: string[] = [];
    s.onUnraisable = (m) => messages.push(m);
    cleanups.push(
      registerTypeBehaviour("Boom", {
        finalize() {
          throw new Error("boom");
        },
      }),
    );
    const B = s.newClass("Boom", { finalize: true });
    for (let i = 0; i < 2; i++) {
      const b = s.newInstance(B);
      s.setAttr(b, "me", b);
      s.decref(b);
    }
    expect(collect(s)).toBe(4);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^Exception ignored in: <Boom object at 0x[0-9a-f]+>$/);
    s.decref(B);
  });

  it("puts legacy-finalizer cycles and what they reach in gc.garbage, uncollectable", () => {
    const s = space();
    const U = s.newClass("Uncollectable", { legacyDel: true });
    const u = s.newInstance(U);
    s.setAttr(u, "me", u);
    s.decref(u);
    expect(collect(s)).toBe(2); // u and its dict: uncollectable
    const garbage = s.gsGet(GS_GARBAGE);
    expect(s.listLen(garbage)).toBe(1);
    expect(s.listGet(garbage, 0)).toBe(u);
    expect(s.gsGet(GS_STATS + 2 * 3 + 2)).toBe(2);
    s.listClear(garbage);
    s.decref(U);
  });

  it("DEBUG_SAVEALL puts collectable garbage in gc.garbage (test_saveall)", () => {
    const s = space();
    s.gsSet(GS_DEBUG, DEBUG_SAVEALL);
    const l = s.newList();
    s.listAppend(l, l);
    s.decref(l);
    expect(collect(s)).toBe(1);
    const garbage = s.gsGet(GS_GARBAGE);
    expect(s.listGet(garbage, 0)).toBe(l);
    s.gsSet(GS_DEBUG, 0);
    s.listClear(garbage);
    expect(collect(s)).toBe(1);
  });
});
