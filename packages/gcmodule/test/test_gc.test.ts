// Ports of CPython's Lib/test/test_gc.py (GCTests, GCCallbackTests, GCTogglingTests), one `it` per
// CPython test, named after it. Python's objects become arena objects of an @ft/gc space:
//   class A: ...            s.newClass("A")            A()             s.newInstance(A)
//   self.x = y              s.setAttr(self, "x", y)    del x           s.decref(x)
//   __del__                 newClass(.., { finalize }) + registerTypeBehaviour(name, { finalize })
//   @with_tp_del            newClass(.., { legacyDel })
// Instances here always have a materialised __dict__ (a dict object), so counts that CPython ≥ 3.11
// gives per instance are doubled, as CPython 3.10's were; each such place says so.
import { gcControl, registerWeakrefCallback } from "@ft/gc";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEBUG_SAVEALL,
  DEBUG_STATS,
  DEBUG_UNCOLLECTABLE,
  type GcCallbackInfo,
  gcModule,
} from "../src/index.ts";
import { behaviour, clearGarbage, type Harness, harness, intList, items, take } from "./support/py.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("GCTests", () => {
  it("test_list: a self-referencing list is collected, collect() == 1", () => {
    const { s, gc } = harness();
    const l = s.newList();
    s.listAppend(l, l);
    gc.collect();
    s.decref(l);
    expect(gc.collect()).toBe(1);
  });

  it("test_dict: a self-referencing dict is collected, collect() == 1", () => {
    const { s, gc } = harness();
    const d = s.newDict();
    s.dictSetStr(d, "1", d);
    gc.collect();
    s.decref(d);
    expect(gc.collect()).toBe(1);
  });

  it("test_tuple: a list ↔ tuple cycle is collected, collect() == 2", () => {
    // since tuples are immutable we close the loop with a list
    const { s, gc } = harness();
    const l = s.newList();
    const t = s.newTuple([l]);
    s.listAppend(l, t);
    gc.collect();
    s.decref(t);
    s.decref(l);
    expect(gc.collect()).toBe(2);
  });

  it("test_class: a class referring to itself through its dict is collected", () => {
    const { s, gc } = harness();
    const A = s.newClass("A");
    s.setAttr(A, "a", A);
    gc.collect();
    s.decref(A);
    expect(gc.collect()).not.toBe(0);
  });

  it("test_newstyleclass: a class is a cycle by itself (its __mro__ holds it); del A leaves it to the collector", () => {
    const { s, gc } = harness();
    const A = s.newClass("A", { base: s.types.object });
    gc.collect();
    s.decref(A);
    expect(gc.collect()).not.toBe(0);
  });

  it("test_instance: an instance referring to itself is collected", () => {
    const { s, gc } = harness();
    const A = s.newClass("A");
    const a = s.newInstance(A);
    s.setAttr(a, "a", a);
    gc.collect();
    s.decref(a);
    expect(gc.collect()).not.toBe(0);
    s.decref(A);
  });

  it("test_newinstance: instances of classes and subclasses, and a class holding its instance", () => {
    const { s, gc } = harness();
    const A = s.newClass("A", { base: s.types.object });
    let a = s.newInstance(A);
    s.setAttr(a, "a", a);
    gc.collect();
    s.decref(a);
    expect(gc.collect()).not.toBe(0);
    // class B(list) / class C(B, A): ft has neither list subclasses nor multiple inheritance;
    // a two-level subclass chain stands in for them.
    const B = s.newClass("B", { base: A });
    const C = s.newClass("C", { base: B });
    a = s.newInstance(C);
    s.setAttr(a, "a", a);
    gc.collect();
    s.decref(a);
    expect(gc.collect()).not.toBe(0);
    s.decref(C); // del B, C
    s.decref(B);
    expect(gc.collect()).not.toBe(0);
    const inst = s.newInstance(A); // A.a = A(): class → dict → instance → class
    s.setAttr(A, "a", inst);
    s.decref(inst);
    s.decref(A);
    expect(gc.collect()).not.toBe(0);
    expect(gc.collect()).toBe(0);
  });

  it("test_method: an instance holding a bound method of itself is collected", () => {
    // Tricky: self.__init__ is a bound method, it references the instance. ft has no method
    // objects; a `method` class with two slots (__func__, __self__) is one.
    const { s, gc } = harness();
    const Method = s.newClass("method", { slots: 2 });
    const A = s.newClass("A");
    const init = s.newStr("__init__");
    const a = s.newInstance(A);
    const bound = s.newInstance(Method);
    s.setSlot(bound, 0, init);
    s.setSlot(bound, 1, a);
    s.setAttr(a, "init", bound);
    s.decref(bound);
    s.decref(init);
    gc.collect();
    s.decref(a);
    expect(gc.collect()).not.toBe(0);
    s.decref(A);
    s.decref(Method);
  });

  for (const [name, newclass] of [
    ["test_legacy_finalizer", false],
    ["test_legacy_finalizer_newclass", true],
  ] as const) {
    it(`${name}: a cycle through an object with tp_del is uncollectable and shows up in gc.garbage`, () => {
      const { s, gc } = harness();
      const base = newclass ? s.newClass("Base") : s.types.object;
      const A = s.newClass("A", { legacyDel: true, base });
      cleanups.push(behaviour("A", { del() {} }));
      const B = s.newClass("B");
      const a = s.newInstance(A);
      s.setAttr(a, "a", a);
      const b = s.newInstance(B);
      s.setAttr(b, "b", b);
      gc.collect();
      s.decref(a);
      s.decref(b);
      expect(gc.collect()).not.toBe(0);
      const obj = items(s, gc.garbage).find((o) => o === a);
      if (obj === undefined) throw new Error("didn't find obj in garbage (finalizer)");
      const key = s.newStr("a");
      s.dictDel(s.attrDict(obj, false), key); // del obj.a
      s.decref(key);
      s.listClear(gc.garbage); // gc.garbage.remove(obj): the last reference goes
      expect(gc.collect()).toBe(0);
      s.decref(A);
      s.decref(B);
      if (newclass) s.decref(base);
    });
  }

  it("test_saveall: with DEBUG_SAVEALL cyclic garbage like lists shows up in gc.garbage", () => {
    const { s, gc } = harness();
    gc.collect();
    expect(items(s, gc.garbage)).toEqual([]); // else someone else created immortal trash
    const L = s.newList();
    s.listAppend(L, L);
    const debug = gc.getDebug();
    gc.setDebug(debug | gc.DEBUG_SAVEALL);
    s.decref(L);
    gc.collect();
    gc.setDebug(debug);
    expect(s.listLen(gc.garbage)).toBe(1);
    const obj = s.listPop(gc.garbage);
    expect(obj).toBe(L);
    s.listClear(obj);
    s.decref(obj);
  });

  it("test_get_referents: lists, tuples and dicts give their contents; atoms give []", () => {
    const { s, gc } = harness();
    const ints = (list: number) =>
      take(s, list)
        .map((x) => s.intValue(x))
        .sort((x, y) => x - y);
    const alist = intList(s, [1, 3, 5]);
    expect(ints(gc.getReferents(alist))).toEqual([1, 3, 5]);
    const atuple = s.newTuple(items(s, alist));
    expect(ints(gc.getReferents(atuple))).toEqual([1, 3, 5]);
    const adict = s.newDict();
    for (const [k, v] of [
      [1, 3],
      [5, 7],
    ]) {
      const [ko, vo] = [s.newInt(k), s.newInt(v)];
      s.dictSet(adict, ko, vo);
      s.decref(ko);
      s.decref(vo);
    }
    expect(ints(gc.getReferents(adict))).toEqual([1, 3, 5, 7]);
    const l12 = intList(s, [1, 2]);
    const d34 = s.newDict();
    const [three, four] = [s.newInt(3), s.newInt(4)];
    s.dictSet(d34, three, four);
    const zeros = intList(s, [0, 0, 0]);
    const t000 = s.newTuple(items(s, zeros));
    expect(ints(gc.getReferents(l12, d34, t000))).toEqual([0, 0, 0, 1, 2, 3, 4]);
    const one = s.newInt(1);
    const str = s.newStr("a");
    expect(take(s, gc.getReferents(one, str))).toEqual([]);
    for (const op of [alist, atuple, adict, l12, d34, three, four, zeros, t000, one, str]) s.decref(op);
    expect(gc.collect()).toBe(0);
  });

  it("test_is_tracked: atoms and plain objects are untracked; containers, classes and instances are tracked", () => {
    const { s, gc } = harness();
    const one = s.newInt(1);
    const a = s.newStr("a");
    const obj = s.allocObject(s.types.object); // object()
    expect(gc.isTracked(0)).toBe(false); // None
    expect(gc.isTracked(one)).toBe(false);
    expect(gc.isTracked(a)).toBe(false);
    expect(gc.isTracked(s.types.type)).toBe(false);
    expect(gc.isTracked(s.types.int)).toBe(false);
    expect(gc.isTracked(s.types.object)).toBe(false);
    expect(gc.isTracked(obj)).toBe(false);
    const UserClass = s.newClass("UserClass");
    const UserClassSlots = s.newClass("UserClassSlots", { slots: 0 });
    const inst = s.newInstance(UserClass);
    const slotted = s.newInstance(UserClassSlots);
    const list = s.newList();
    const dict = s.newDict();
    expect(gc.isTracked(UserClass)).toBe(true);
    expect(gc.isTracked(inst)).toBe(true);
    expect(gc.isTracked(list)).toBe(true);
    expect(gc.isTracked(dict)).toBe(true);
    expect(gc.isTracked(slotted)).toBe(true);
    // UserInt(int), UserFloatSlots(float), UserIntSlots(int), set(), the gc module itself:
    // ft has no subclasses of int/float, no set and no module objects.
    for (const op of [one, a, obj, inst, slotted, list, dict, UserClass, UserClassSlots]) s.decref(op);
  });

  it("test_is_finalized: False for atoms and before, True once __del__ resurrected it", () => {
    const { s, gc } = harness();
    const three = s.newInt(3);
    expect(gc.isFinalized(three)).toBe(false); // objects not tracked by the gc return false
    const storage = s.newList();
    cleanups.push(behaviour("Lazarus", { finalize: (sp, op) => sp.listAppend(storage, op) }));
    const Lazarus = s.newClass("Lazarus", { finalize: true });
    const lazarus = s.newInstance(Lazarus);
    expect(gc.isFinalized(lazarus)).toBe(false);
    s.decref(lazarus);
    gc.collect();
    const back = s.listPop(storage);
    expect(back).toBe(lazarus);
    expect(gc.isFinalized(back)).toBe(true);
    s.decref(back);
    for (const op of [three, storage, Lazarus]) s.decref(op);
  });

  it("test_bug1055820b: weakrefs to trash are cleared before their callbacks run", () => {
    const { s, gc } = harness();
    const C1055820 = s.newClass("C1055820");
    const WRs: number[] = [];
    let ouch: number[] = [];
    cleanups.push(registerWeakrefCallback("ouch", () => (ouch = WRs.map((wr) => s.weakrefGet(wr)))));
    const Cs = [0, 1].map((i) => {
      const c = s.newInstance(C1055820);
      const n = s.newInt(i);
      s.setAttr(c, "i", n);
      s.setAttr(c, "loop", c);
      s.decref(n);
      return c;
    });
    const callback = s.newStr("ouch");
    for (const c of Cs) WRs.push(s.newWeakref(c, callback));
    s.decref(callback);
    gc.collect();
    expect(ouch).toHaveLength(0);
    // Make the two instances trash, and collect again. The bug was that the callback
    // materialized a strong reference to an instance, but gc cleared the instance's dict anyway.
    for (const c of Cs) s.decref(c);
    gc.collect();
    expect(ouch).toHaveLength(2); // else the callbacks didn't run
    for (const x of ouch) expect(x).toBe(0); // None: no callback could resurrect a damaged instance
    for (const wr of WRs) s.decref(wr);
    s.decref(C1055820);
  });

  it("test_garbage_at_shutdown: the ResourceWarning, the listing under DEBUG_UNCOLLECTABLE, nothing under DEBUG_SAVEALL", () => {
    cleanups.push(
      behaviour("X", {
        del() {},
        repr: (sp, self) => `<X ${sp.repr(sp.getAttr(self, "name"))}>`, // "<X %r>" % self.name
      }),
    );
    const run = (debug: number): string => {
      const h = harness();
      const { s, gc: m } = h;
      const X = s.newClass("X", { legacyDel: true });
      const make = (name: string) => {
        const x = s.newInstance(X);
        const n = s.newStr(name);
        s.setAttr(x, "name", n);
        s.decref(n);
        return x;
      };
      const x = make("first");
      s.setAttr(x, "x", x);
      const y = make("second");
      s.setAttr(x, "y", y);
      s.decref(y);
      s.decref(x);
      m.setDebug(debug);
      m.shutdown();
      return h.stderr.join("");
    };
    let stderr = run(0);
    expect(stderr).toContain(
      "ResourceWarning: gc: 2 uncollectable objects at shutdown; use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them",
    );
    expect(stderr).not.toContain("<X 'first'>");
    // With DEBUG_UNCOLLECTABLE, the garbage list gets printed
    stderr = run(DEBUG_UNCOLLECTABLE);
    expect(stderr).toContain("ResourceWarning: gc: 2 uncollectable objects at shutdown\n");
    expect(
      stderr.includes("[<X 'first'>, <X 'second'>]") || stderr.includes("[<X 'second'>, <X 'first'>]"),
    ).toBe(true);
    // With DEBUG_SAVEALL, no additional message should get printed (because gc.garbage also
    // contains normally reclaimable cyclic references, and its elements get printed at runtime anyway).
    stderr = run(DEBUG_SAVEALL);
    expect(stderr).not.toContain("uncollectable objects at shutdown");
  });

  it("test_get_stats: three entries with exactly those keys; collect(N) counts in stats[N] only", () => {
    const { gc } = harness();
    const stats = gc.getStats();
    expect(stats).toHaveLength(3);
    for (const st of stats) {
      expect(Object.keys(st).sort()).toEqual(["collected", "collections", "uncollectable"]);
      expect(st.collected).toBeGreaterThanOrEqual(0);
      expect(st.collections).toBeGreaterThanOrEqual(0);
      expect(st.uncollectable).toBeGreaterThanOrEqual(0);
    }
    // Check that collection counts are incremented correctly
    if (gc.isEnabled()) {
      cleanups.push(() => gc.enable());
      gc.disable();
    }
    const old = gc.getStats();
    gc.collect(0);
    let now = gc.getStats();
    expect(now[0]!.collections).toBe(old[0]!.collections + 1);
    expect(now[1]!.collections).toBe(old[1]!.collections);
    expect(now[2]!.collections).toBe(old[2]!.collections);
    gc.collect(2);
    now = gc.getStats();
    expect(now[0]!.collections).toBe(old[0]!.collections + 1);
    expect(now[1]!.collections).toBe(old[1]!.collections);
    expect(now[2]!.collections).toBe(old[2]!.collections + 1);
  });

  it("test_freeze: the freeze count is > 0 after freeze() and 0 after unfreeze()", () => {
    const { s, gc } = harness();
    const l = s.newList();
    gc.freeze();
    expect(gc.getFreezeCount()).toBeGreaterThan(0);
    gc.unfreeze();
    expect(gc.getFreezeCount()).toBe(0);
    s.decref(l);
  });

  it("test_get_objects: a live cycle is in get_objects(); once collected it is not", () => {
    const { s, gc } = harness();
    gc.collect();
    const l = s.newList();
    s.listAppend(l, l);
    expect(take(s, gc.getObjects()).includes(l)).toBe(true);
    for (const g of [0, 1, 2]) expect(take(s, gc.getObjects(g)).includes(l)).toBe(true); // FT: no generation lists
    s.decref(l);
    gc.collect();
    expect(take(s, gc.getObjects()).includes(l)).toBe(false);
  });

  it("test_get_objects_arguments: None is no argument; ValueError for ±1000; TypeError for '1' and 1.234", () => {
    const { s, gc } = harness();
    gc.collect();
    expect(take(s, gc.getObjects()).length).toBe(take(s, gc.getObjects(null)).length);
    expect(() => gc.getObjects(1000)).toThrow(
      new RangeError("generation parameter must be less than the number of available generations (3)"),
    );
    expect(() => gc.getObjects(-1000)).toThrow(new RangeError("generation parameter cannot be negative"));
    expect(() => gc.getObjects("1")).toThrow(new TypeError("argument should be integer or None, not 'str'"));
    expect(() => gc.getObjects(1.234)).toThrow(
      new TypeError("argument should be integer or None, not 'float'"),
    );
  });

  it("test_resurrection_only_happens_once_per_object", () => {
    const { s, gc } = harness();
    let resurrected = 0;
    const resurrectedInstances = s.newList();
    cleanups.push(
      behaviour("Lazarus", {
        finalize(sp, op) {
          resurrected += 1;
          sp.listAppend(resurrectedInstances, op);
        },
      }),
    );
    const A = s.newClass("A"); // simple self-loop
    const Lazarus = s.newClass("Lazarus", { base: A, finalize: true });
    gc.collect();
    gc.disable();
    // We start with 0 resurrections
    const laz = s.newInstance(Lazarus);
    s.setAttr(laz, "me", laz);
    expect(resurrected).toBe(0);
    // Deleting the instance and triggering a collection resurrects the object
    s.decref(laz);
    gc.collect();
    expect(resurrected).toBe(1);
    expect(s.listLen(resurrectedInstances)).toBe(1);
    // Clearing the references and forcing a collection should not resurrect the object again.
    s.listClear(resurrectedInstances);
    expect(resurrected).toBe(1);
    gc.collect();
    expect(resurrected).toBe(1);
    gc.enable();
    for (const op of [resurrectedInstances, Lazarus, A]) s.decref(op);
  });

  it("test_resurrection_is_transitive", () => {
    const { s, gc } = harness();
    const resurrectedInstances = s.newList();
    cleanups.push(behaviour("Lazarus", { finalize: (sp, op) => sp.listAppend(resurrectedInstances, op) }));
    const Cargo = s.newClass("Cargo");
    const Lazarus = s.newClass("Lazarus", { finalize: true });
    gc.collect();
    gc.disable();
    const laz = s.newInstance(Lazarus);
    const cargo = s.newInstance(Cargo);
    s.setAttr(cargo, "me", cargo);
    const cargoId = cargo;
    // Create a cycle between cargo and laz
    s.setAttr(laz, "cargo", cargo);
    s.setAttr(cargo, "laz", laz);
    // Drop the references, force a collection and check that everything was resurrected.
    s.decref(laz);
    s.decref(cargo);
    gc.collect();
    expect(s.listLen(resurrectedInstances)).toBe(1);
    const instance = s.listPop(resurrectedInstances);
    expect(s.getAttr(instance, "cargo")).not.toBe(0); // hasattr(instance, "cargo")
    expect(s.getAttr(instance, "cargo")).toBe(cargoId);
    expect(s.getAttr(cargoId, "laz")).toBe(instance); // and cargo's __dict__ is intact
    s.decref(instance);
    gc.collect();
    gc.enable();
    for (const op of [resurrectedInstances, Lazarus, Cargo]) s.decref(op);
  });

  it("test_resurrection_does_not_block_cleanup_of_other_objects: return value and stats exclude resurrected objects", () => {
    // When a finalizer resurrects objects, stats were reporting them as having been collected.
    // This affected both collect()'s return value and the dicts returned by get_stats().
    const { s, gc } = harness();
    const N = 100;
    const zs = s.newList();
    cleanups.push(behaviour("Z", { finalize: (sp, op) => sp.listAppend(zs, op) }));
    const A = s.newClass("A"); // simple self-loop
    const Z = s.newClass("Z", { base: A, finalize: true }); // resurrecting __del__
    const newSelfLoop = (cls: number) => {
      const x = s.newInstance(cls);
      s.setAttr(x, "me", x);
      s.decref(x);
    };
    const getstats = (): [number, number] => {
      const d = gc.getStats().at(-1)!;
      return [d.collected, d.uncollectable];
    };
    gc.collect();
    gc.disable();

    // No problems if just collecting A() instances.
    let [oldc, oldnc] = getstats();
    for (let i = 0; i < N; i++) newSelfLoop(A);
    let t = gc.collect();
    let [c, nc] = getstats();
    expect(t).toBe(2 * N); // instance objects and their __dict__s (CPython 3.10: 2*N; ≥ 3.11: N)
    expect(c - oldc).toBe(2 * N);
    expect(nc - oldnc).toBe(0);

    // But Z() is not actually collected.
    [oldc, oldnc] = [c, nc];
    newSelfLoop(Z);
    // Nothing is collected - Z() is merely resurrected.
    t = gc.collect();
    [c, nc] = getstats();
    expect(t).toBe(0);
    expect(c - oldc).toBe(0);
    expect(nc - oldnc).toBe(0);

    // Z() should not prevent anything else from being collected.
    [oldc, oldnc] = [c, nc];
    for (let i = 0; i < N; i++) newSelfLoop(A);
    newSelfLoop(Z);
    t = gc.collect();
    [c, nc] = getstats();
    expect(t).toBe(2 * N);
    expect(c - oldc).toBe(2 * N);
    expect(nc - oldnc).toBe(0);

    // The A() trash should have been reclaimed already but the 2 copies of Z are still in zs
    // (and the associated dicts).
    [oldc, oldnc] = [c, nc];
    s.listClear(zs);
    t = gc.collect();
    [c, nc] = getstats();
    expect(t).toBe(4); // CPython 3.10: 4; ≥ 3.11: 2
    expect(c - oldc).toBe(4);
    expect(nc - oldnc).toBe(0);
    gc.enable();
    for (const op of [zs, Z, A]) s.decref(op);
  });

  it("test_get_objects_during_gc: get_objects and get_referrers from __del__ never return the object being collected (gh-125859)", () => {
    const h = harness();
    const { s, gc } = h;
    let collected = false;
    let sawSelf = true;
    let referrers: number[] | null = null;
    cleanups.push(
      behaviour("GetObjectsOnDel", {
        finalize(sp, self) {
          collected = true;
          sawSelf = take(sp, gc.getObjects()).some((o) => o === self);
          referrers = take(sp, gc.getReferrers(self));
        },
      }),
    );
    const GetObjectsOnDel = s.newClass("GetObjectsOnDel", { finalize: true });
    const obj = s.newInstance(GetObjectsOnDel);
    s.setAttr(obj, "cycle", obj);
    s.decref(obj);
    gc.collect();
    expect(collected).toBe(true);
    expect(sawSelf).toBe(false);
    expect(referrers).toEqual([]);
    expect(h.unraisable).toEqual([]);
    s.decref(GetObjectsOnDel);
  });

  it("test_traverse_frozen_objects: an unfrozen cycle referring to a frozen object collects without negative gc_refs (GH-126312)", () => {
    // Objects that were not frozen could traverse over a frozen object on the free-threaded
    // build, which would cause a negative reference count.
    const { s, gc } = harness();
    const x = intList(s, [1, 2, 3]);
    gc.freeze();
    const y = s.newList([x]);
    s.listAppend(y, y);
    s.decref(y);
    expect(gc.collect()).toBe(1);
    gc.unfreeze();
    expect(s.refcnt(x)).toBe(1);
    s.decref(x);
  });

  it.todo("test_boom / test_boom2: ft's objects have no __getattr__ to probe, so there is nothing to port");
  it("test_trash_weakref_clear: a trash weakref is cleared before the referent it cannot see dies (bpo-38006)", () => {
    // Z <- Y <- A--+--> WZ -> C     WZ: a weakref to Z with callback C; Y does not traverse
    //           ^  |                (ContainerNoGC); A refers to itself, Y and WZ. A, Y, Z, WZ
    //           +--+                are all trash; the GC cannot know Z is. WZ is kept alive
    // longer by a second cycle. If WZ were not cleared before tp_clear, Z's death would call C.
    const { s, gc } = harness();
    let calls = 0;
    cleanups.push(registerWeakrefCallback("callback", () => calls++));
    const A = s.newClass("A", { slots: 3 }); // __slots__ = ['a', 'y', 'wz']
    const Z = s.newClass("Z");
    const ContainerNoGC = s.newClass("ContainerNoGC", { noGc: true, slots: 1 });
    const a = s.newInstance(A);
    s.setSlot(a, 0, a); // a.a = a
    const y = s.newInstance(ContainerNoGC);
    const z = s.newInstance(Z);
    s.setSlot(y, 0, z); // ContainerNoGC(Z())
    s.decref(z);
    s.setSlot(a, 1, y);
    s.decref(y);
    const callback = s.newStr("callback");
    const wz = s.newWeakref(s.getSlot(y, 0), callback); // a.wz = weakref.ref(a.y.value, callback)
    s.decref(callback);
    s.setSlot(a, 2, wz);
    const wrCycle = s.newList([wz]); // a second cycle keeps WZ alive longer
    s.decref(wz);
    s.listAppend(wrCycle, wrCycle);
    gc.collect(); // ensure trash unrelated to this test is gone
    gc.disable();
    s.decref(a); // del a, wr_cycle
    s.decref(wrCycle);
    gc.collect();
    expect(calls).toBe(0); // called means a GC bug: the weakref should be cleared before Z dies
    gc.enable();
    for (const op of [A, Z, ContainerNoGC]) s.decref(op);
  });
});

describe("GCTests: the module's own behaviour", () => {
  it("collect(): 'invalid generation' outside 0–2, TypeError for a non-integer; runs while disabled", () => {
    const { s, gc } = harness();
    expect(() => gc.collect(3)).toThrow(new RangeError("invalid generation"));
    expect(() => gc.collect(-1)).toThrow(new RangeError("invalid generation"));
    expect(() => gc.collect("2")).toThrow(new TypeError("'str' object cannot be interpreted as an integer"));
    gc.disable();
    expect(gc.isEnabled()).toBe(false);
    const l = s.newList();
    s.listAppend(l, l);
    s.decref(l);
    expect(gc.collect()).toBe(1); // enable/disable is about automatic collection only
    gc.enable();
    expect(gc.isEnabled()).toBe(true);
  });

  it("collect() during a collection returns 0 without nesting", () => {
    const { s, gc } = harness();
    const inner: number[] = [];
    cleanups.push(behaviour("Nest", { finalize: () => inner.push(gc.collect()) }));
    const Nest = s.newClass("Nest", { finalize: true });
    const n = s.newInstance(Nest);
    s.setAttr(n, "me", n);
    s.decref(n);
    expect(gc.collect()).toBe(2);
    expect(inner).toEqual([0]);
    expect(gc.getStats()[2]!.collections).toBe(1);
    s.decref(Nest);
  });

  it("get/set_threshold and get_count: (t0, t1, 0); counts grow with allocations and reset on collect", () => {
    const { s, gc } = harness();
    expect(gc.getThreshold()).toEqual([2000, 10, 0]);
    gc.setThreshold(700, 10, 10);
    expect(gc.getThreshold()).toEqual([700, 10, 0]); // the free-threaded build reports 0 last
    gc.setThreshold(0);
    expect(gc.getThreshold()).toEqual([0, 10, 0]);
    expect(() => (gc.setThreshold as (...a: unknown[]) => void)()).toThrow(TypeError);
    expect(() => gc.setThreshold(2 ** 31)).toThrow(
      new RangeError("Python int too large to convert to C int"),
    );
    gc.collect();
    const before = gc.getCount()[0];
    const made = Array.from({ length: 10 }, () => s.newList());
    expect(gc.getCount()[0]).toBe(before + 10);
    for (const l of made) s.decref(l);
    gc.collect(0);
    expect(gc.getCount()).toEqual([0, 1, 0]);
  });

  it("set_debug(DEBUG_STATS | DEBUG_COLLECTABLE): the lines CPython prints, to the chosen sink", () => {
    const h = harness();
    const { s, gc } = h;
    gc.setDebug(DEBUG_STATS | gc.DEBUG_COLLECTABLE);
    expect(gc.getDebug()).toBe(3);
    const l = s.newList();
    s.listAppend(l, l);
    s.decref(l);
    gc.collect(1);
    gc.setDebug(0);
    expect(h.stderr[0]).toBe("gc: collecting generation 1...\n");
    expect(h.stderr[1]).toBe(`gc: collectable <list 0x${l.toString(16)}>\n`);
    expect(h.stderr[2]).toMatch(/^gc: done, 1 unreachable, 0 uncollectable, \d+\.\d{4}s elapsed\n$/);
    expect(h.stderr).toHaveLength(3);
  });

  it("DEBUG_UNCOLLECTABLE prints 'gc: uncollectable <…>' for objects left in gc.garbage", () => {
    const h = harness();
    const { s, gc } = h;
    cleanups.push(behaviour("U", { del() {} }));
    const U = s.newClass("U", { legacyDel: true });
    const u = s.newInstance(U);
    s.setAttr(u, "me", u);
    s.decref(u);
    gc.setDebug(DEBUG_UNCOLLECTABLE);
    expect(gc.collect()).toBe(2);
    expect(h.stderr).toContain(`gc: uncollectable <U 0x${u.toString(16)}>\n`);
    clearGarbage(h);
    s.decref(U);
  });

  it("its state is @ft/gc's gcControl(space): what one sets, the other reads", () => {
    const { s, gc } = harness();
    const c = gcControl(s);
    expect(gc.control).toBe(c);
    gc.disable();
    expect(c.enabled).toBe(false);
    c.enabled = true;
    expect(gc.isEnabled()).toBe(true);
    c.threshold0 = 123;
    expect(gc.getThreshold()).toEqual([123, 10, 0]);
    gc.setDebug(DEBUG_SAVEALL);
    expect(c.debug).toBe(DEBUG_SAVEALL);
    gc.setDebug(0);
    expect(gc.garbage).toBe(c.garbage);
    gc.collect(1);
    expect(gc.getStats()[1]).toEqual(c.stats(1));
  });

  it("getObjects, getReferrers and getReferents take their references before the world restarts", () => {
    const { s, gc } = harness();
    const target = s.newList();
    const holder = s.newList([target]);
    const host = s.host as { stopTheWorld(): void; startTheWorld(): void };
    const start = host.startTheWorld;
    const seen: number[] = [];
    host.startTheWorld = () => {
      seen.push(s.refcnt(target), s.refcnt(holder));
      start.call(host);
    };
    cleanups.push(() => {
      host.startTheWorld = start;
    });
    const objs = gc.getObjects(); // target and holder: +1 each, world stopped
    const referrers = gc.getReferrers(target); // holder: +1
    const referents = gc.getReferents(holder); // target: +1
    expect(seen).toEqual([3, 2, 3, 3, 4, 3]);
    for (const list of [objs, referrers, referents]) s.decref(list);
    expect([s.refcnt(target), s.refcnt(holder)]).toEqual([2, 1]);
    s.decref(holder);
    s.decref(target);
  });

  it("get_referents of a class: its name, base, dict and __mro__ (which holds the class)", () => {
    const { s, gc } = harness();
    const A = s.newClass("A");
    const refs = take(s, gc.getReferents(A));
    const mro = refs.find((r) => s.is(r, "tuple"));
    if (mro === undefined) throw new Error("no __mro__ among the referents");
    expect(s.tupleSize(mro)).toBe(2);
    expect([s.tupleGet(mro, 0), s.tupleGet(mro, 1)]).toEqual([A, s.types.object]);
    expect(refs.some((r) => s.is(r, "dict"))).toBe(true);
    expect(refs).toContain(s.types.object);
    expect(refs.some((r) => s.is(r, "str") && s.strValue(r) === "A")).toBe(true);
    expect(take(s, gc.getReferrers(A))).toEqual([mro]); // the class is in a cycle with its __mro__
    s.decref(A);
    expect(gc.collect()).toBe(3);
  });

  it("the shutdown listing: the repr option overrides the types' repr behaviours", () => {
    const h = harness();
    const { s } = h;
    cleanups.push(behaviour("Y", { del() {}, repr: () => "<Y from behaviour>" }));
    const m = gcModule(s, { repr: (sp, op) => (sp.typeName(op) === "Y" ? "<Y from option>" : sp.repr(op)) });
    const Y = s.newClass("Y", { legacyDel: true });
    const y = s.newInstance(Y);
    s.setAttr(y, "me", y);
    s.decref(y);
    m.setDebug(DEBUG_UNCOLLECTABLE);
    m.shutdown();
    expect(h.stderr.join("")).toContain("      [<Y from option>]\n");
    expect(h.stderr.join("")).not.toContain("from behaviour");
  });

  it("the shutdown listing: a repr that throws is reported and the listing left out, as CPython", () => {
    const h = harness();
    const { s, gc } = h;
    cleanups.push(
      behaviour("W", {
        del() {},
        repr() {
          throw new Error("repr failed");
        },
      }),
    );
    const W = s.newClass("W", { legacyDel: true });
    const w = s.newInstance(W);
    s.setAttr(w, "me", w);
    s.decref(w);
    gc.setDebug(DEBUG_UNCOLLECTABLE);
    gc.shutdown();
    const out = h.stderr.join("");
    expect(out).toContain("ResourceWarning: gc: 1 uncollectable objects at shutdown\n");
    expect(out).not.toContain("      [");
    expect(h.unraisable).toEqual([
      "Exception ignored in runtime shutdown: repr(gc.garbage): Error: repr failed",
    ]);
  });

  it("getReferrers: the containers and instances referring to an object; frozen ones excluded", () => {
    const { s, gc } = harness();
    const target = s.newList();
    const holder = s.newList([target]);
    const d = s.newDict();
    s.dictSetStr(d, "t", target);
    const unrelated = s.newList();
    expect(new Set(take(s, gc.getReferrers(target)))).toEqual(new Set([holder, d]));
    expect(take(s, gc.getReferrers(unrelated))).toEqual([]);
    gc.freeze();
    expect(take(s, gc.getReferrers(target))).toEqual([]);
    gc.unfreeze();
    for (const op of [target, holder, d, unrelated]) s.decref(op);
  });
});

// CPython's GCCallbackTests, with its setUp/tearDown and the Uncollectable helper class.
describe("GCCallbackTests", () => {
  type Visit = [1 | 2, "start" | "stop", GcCallbackInfo];
  function setUp() {
    const h = harness();
    const { s, gc } = h;
    const t = {
      h,
      visit: [] as Visit[],
      cleanup: false,
      Uncollectable: 0,
      C1055820: 0,
    };
    cleanups.push(behaviour("Uncollectable", { del() {} }));
    t.Uncollectable = s.newClass("Uncollectable", { legacyDel: true });
    t.C1055820 = s.newClass("C1055820");
    const cb1 = (phase: "start" | "stop", info: GcCallbackInfo) => t.visit.push([1, phase, { ...info }]);
    const cb2 = (phase: "start" | "stop", info: GcCallbackInfo) => {
      t.visit.push([2, phase, { ...info }]);
      if (phase === "stop" && t.cleanup) {
        // Clean Uncollectable from garbage
        const all = items(s, gc.garbage);
        const uc = all.filter((e) => s.typeOf(e) === t.Uncollectable);
        for (const e of all) s.incref(e);
        s.listClear(gc.garbage);
        for (const e of all) if (!uc.includes(e)) s.listAppend(gc.garbage, e);
        for (const e of uc) s.setAttr(e, "partner", 0);
        for (const e of all) s.decref(e);
      }
    };
    gc.disable();
    gc.setDebug(0);
    gc.callbacks.push(cb1, cb2);
    cleanups.push(() => {
      gc.callbacks.splice(gc.callbacks.indexOf(cb1), 1);
      gc.callbacks.splice(gc.callbacks.indexOf(cb2), 1);
      gc.enable();
    });
    // preclean: remove all fluff from the system
    gc.collect();
    clearGarbage(h);
    t.visit = [];
    return t;
  }

  /** Uncollectable(): a pair of objects with tp_del, each the other's partner. */
  function newUncollectable(s: Harness["s"], cls: number): void {
    const a = s.newInstance(cls);
    const b = s.newInstance(cls);
    s.setAttr(a, "partner", b);
    s.setAttr(b, "partner", a);
    s.decref(a);
    s.decref(b);
  }

  it("test_collect: both callbacks get 'start' and 'stop' once, with generation, collected, uncollectable", () => {
    const t = setUp();
    t.h.gc.collect();
    expect(t.visit.map((v) => v[0]).filter((i) => i === 1)).toEqual([1, 1]);
    expect(t.visit.map((v) => v[0]).filter((i) => i === 2)).toEqual([2, 2]);
    expect(t.visit.map((v) => v[1]).filter((p) => p === "start")).toEqual(["start", "start"]);
    expect(t.visit.map((v) => v[1]).filter((p) => p === "stop")).toEqual(["stop", "stop"]);
    for (const [, , info] of t.visit) {
      expect(info).toHaveProperty("generation");
      expect(info).toHaveProperty("collected");
      expect(info).toHaveProperty("uncollectable");
    }
  });

  it("test_collect_generation: info['generation'] is the generation collected", () => {
    const t = setUp();
    t.h.gc.collect(2);
    expect(t.visit).toHaveLength(4);
    for (const [, , info] of t.visit) expect(info.generation).toBe(2);
  });

  it("test_collect_garbage: counts at 'stop', Uncollectables in gc.garbage, and a 'stop' callback can empty it", () => {
    const t = setUp();
    const { s, gc } = t.h;
    // Each of these cause two objects to be garbage (with their __dict__s, four and two here):
    newUncollectable(s, t.Uncollectable);
    newUncollectable(s, t.Uncollectable);
    const c = s.newInstance(t.C1055820);
    const n = s.newInt(666);
    s.setAttr(c, "i", n);
    s.setAttr(c, "loop", c);
    s.decref(n);
    s.decref(c);
    gc.collect();
    const stops = () => t.visit.filter((v) => v[1] === "stop");
    expect(stops()).toHaveLength(2);
    for (const [, , info] of stops()) {
      expect(info.collected).toBe(2); // CPython 3.10: 2; ≥ 3.11: 1
      expect(info.uncollectable).toBe(8); // CPython 3.10: 8; ≥ 3.11: 4
    }
    // We should now have the Uncollectables in gc.garbage
    expect(s.listLen(gc.garbage)).toBe(4);
    for (const e of items(s, gc.garbage)) expect(s.typeOf(e)).toBe(t.Uncollectable);

    // Now, let our callback handle the Uncollectable instances
    t.cleanup = true;
    t.visit = [];
    clearGarbage(t.h);
    gc.collect();
    expect(stops()).toHaveLength(2);
    for (const [, , info] of stops()) {
      expect(info.collected).toBe(0);
      expect(info.uncollectable).toBe(8); // CPython 3.10: 4 (they were already in garbage: 2 pairs
      // of instances); here the instances and their dicts: 4 + 4
    }
    // Uncollectables should be gone
    expect(s.listLen(gc.garbage)).toBe(0);
    expect(gc.collect()).toBe(0);
  });

  it("errors in callbacks are reported ('Exception ignored in …'), not thrown, and the collection goes on", () => {
    const t = setUp();
    const { s, gc } = t.h;
    const bad = () => {
      throw new Error("callback failed");
    };
    gc.callbacks.unshift(bad);
    cleanups.push(() => gc.callbacks.splice(gc.callbacks.indexOf(bad), 1));
    const l = s.newList();
    s.listAppend(l, l);
    s.decref(l);
    expect(gc.collect()).toBe(1);
    expect(t.h.unraisable).toHaveLength(2);
    expect(t.h.unraisable[0]).toMatch(/^Exception ignored in: gc callback bad: Error: callback failed$/);
    expect(t.visit).toHaveLength(4); // the others still ran
  });
});

describe("GCTogglingTests", () => {
  it("test_indirect_calls_with_gc_disabled: allocating does not trigger a collection while gc is disabled", () => {
    const { s, gc } = harness();
    gc.collect();
    const base = gc.getStats()[0]!.collections;
    gc.setThreshold(100);
    gc.disable();
    const keep: number[] = [];
    for (let i = 0; i < 3000; i++) keep.push(s.newList());
    expect(gc.getStats()[0]!.collections).toBe(base);
    gc.enable();
    for (let i = 0; i < 3000; i++) keep.push(s.newList());
    expect(gc.getStats()[0]!.collections).toBeGreaterThan(base); // automatic collections are back
    for (const l of keep) s.decref(l);
  });
});
