// The public API the gc module is built on: withWorldStopped, getObjects' references, gcControl,
// formatFixed, classes' __mro__ (a class is a cycle, as CPython's) and types' repr behaviours.
import { afterEach, describe, expect, it } from "vitest";
import {
  abandonStandaloneThread,
  attachStandaloneSpace,
  collect,
  createStandaloneSpace,
  DEBUG_COLLECTABLE,
  DEBUG_STATS,
  DEFAULT_THRESHOLD0,
  formatFixed,
  freeze,
  type GcReason,
  gcControl,
  getFreezeCount,
  getObjects,
  ObjectError,
  type ObjectSpace,
  objectSpaceFor,
  pymemAllocator,
  registerTypeBehaviour,
  registerWeakrefCallback,
  tpMro,
  validateObjects,
  visitObjects,
  withWorldStopped,
} from "../src/index.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function space(): ObjectSpace {
  const s = createStandaloneSpace({ maxBytes: 64 << 20 });
  s.onCollectorPhase = (phase) => {
    if (phase === "done") expect(validateObjects(s)).toEqual([]);
  };
  return s;
}

/** Record the host's stop / start calls; `atStart` runs just before the world restarts. */
function watchWorld(s: ObjectSpace, atStart: () => void = () => {}): string[] {
  const host = s.host as { stopTheWorld(): void; startTheWorld(): void };
  const stop = host.stopTheWorld;
  const start = host.startTheWorld;
  const log: string[] = [];
  host.stopTheWorld = () => {
    log.push("stop");
    stop.call(host);
  };
  host.startTheWorld = () => {
    atStart();
    log.push("start");
    start.call(host);
  };
  cleanups.push(() => {
    host.stopTheWorld = stop;
    host.startTheWorld = start;
  });
  return log;
}

describe("withWorldStopped", () => {
  it("runs fn between stopTheWorld and startTheWorld and returns its result", () => {
    const s = space();
    const log = watchWorld(s);
    const result = withWorldStopped(s, () => {
      log.push("fn");
      return 42;
    });
    expect(result).toBe(42);
    expect(log).toEqual(["stop", "fn", "start"]);
  });

  it("restarts the world when fn throws", () => {
    const s = space();
    const log = watchWorld(s);
    expect(() =>
      withWorldStopped(s, () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(log).toEqual(["stop", "start"]);
  });
});

describe("getObjects", () => {
  it("takes its references while the world is still stopped", () => {
    const s = space();
    const l = s.newList();
    let atRestart = -1;
    watchWorld(s, () => (atRestart = s.refcnt(l)));
    const objs = getObjects(s);
    expect(objs).toContain(l);
    expect(atRestart).toBe(2); // ours and getObjects' (new) reference, before any thread runs again
    for (const op of objs) s.decref(op);
    expect(s.refcnt(l)).toBe(1);
    s.decref(l);
  });
});

describe("gcControl", () => {
  it("reads and writes the interpreter's state the collector uses", () => {
    const s = space();
    const c = gcControl(s);
    expect(gcControl(s)).toBe(c);
    expect(c.enabled).toBe(true);
    expect([c.threshold0, c.threshold1, c.debug]).toEqual([DEFAULT_THRESHOLD0, 10, 0]);
    expect(c.garbage).not.toBe(0);
    expect(s.is(c.garbage, "list")).toBe(true);

    // debug: the collector writes its DEBUG_* lines
    const lines: string[] = [];
    s.stderr = (line) => lines.push(line);
    c.debug = DEBUG_STATS | DEBUG_COLLECTABLE;
    const l = s.newList();
    s.listAppend(l, l);
    s.decref(l);
    expect(collect(s, 1)).toBe(1);
    c.debug = 0;
    expect(lines[0]).toBe("gc: collecting generation 1...");
    expect(lines[1]).toBe(`gc: collectable <list 0x${l.toString(16)}>`);
    expect(lines[2]).toMatch(/^gc: done, 1 unreachable, 0 uncollectable, \d+\.\d{4}s elapsed$/);

    // stats and counts
    expect(c.stats(1)).toEqual({ collections: 1, collected: 1, uncollectable: 0 });
    expect(c.stats(2)).toEqual({ collections: 0, collected: 0, uncollectable: 0 });
    expect(() => c.stats(3)).toThrow(new RangeError("invalid generation 3 (stats: expected 0, 1 or 2)"));
    expect([c.youngCount, c.old0Count, c.old1Count]).toEqual([0, 0, 1]); // collecting 1 counts in old[1]
    collect(s, 0);
    expect(c.old0Count).toBe(1);
    expect(c.longLivedTotal).toBeGreaterThan(0); // at least gc.garbage
  });

  it("enabled and threshold0 decide automatic collection", () => {
    const s = space();
    const c = gcControl(s);
    c.threshold0 = 100;
    c.enabled = false;
    const keep: number[] = [];
    for (let i = 0; i < 3000; i++) keep.push(s.newList());
    expect(c.stats(0).collections).toBe(0);
    c.enabled = true;
    for (let i = 0; i < 3000; i++) keep.push(s.newList());
    expect(c.stats(0).collections).toBeGreaterThan(0);
    c.threshold0 = 0; // 0 disables automatic collection
    const before = c.stats(0).collections;
    for (let i = 0; i < 3000; i++) keep.push(s.newList());
    expect(c.stats(0).collections).toBe(before);
    for (const l of keep) s.decref(l);
  });

  it("refuses values that are not C ints", () => {
    const c = gcControl(space());
    expect(() => (c.threshold0 = 1.5)).toThrow(RangeError);
    expect(() => (c.debug = 2 ** 31)).toThrow(RangeError);
    c.threshold2 = 7;
    expect(c.threshold2).toBe(7);
    expect(c.freezeActive).toBe(false);
  });
});

describe("formatFixed", () => {
  it.each([
    // C's printf("%.4f"): exact ties go to even, where toFixed goes up
    [0.03125, 4, "0.0312"],
    [0.09375, 4, "0.0938"],
    [1.03125, 4, "1.0312"],
    [-0.03125, 4, "-0.0312"],
    [0.00015, 4, "0.0001"], // not a tie in binary (0.000149999…)
    [0.5, 4, "0.5000"],
    [123.45678, 4, "123.4568"],
    [2.5, 0, "3"], // no fraction digits: toFixed's
  ])("formatFixed(%s, %s) = %s", (x, digits, text) => {
    expect(formatFixed(x, digits)).toBe(text);
  });

  it("differs from toFixed exactly on ties to an even digit", () => {
    expect((0.03125).toFixed(4)).toBe("0.0313");
    expect(formatFixed(0.03125, 4)).toBe("0.0312");
  });
});

describe("classes: __mro__ makes a class a cycle (as CPython's tp_mro)", () => {
  it("a class's tp_mro is (class, base, …, object); it survives its last outside reference until a collection", () => {
    const s = space();
    const A = s.newClass("A");
    const B = s.newClass("B", { base: A });
    const mroOf = (cls: number) => {
      const t = tpMro(s.arena.i32, cls);
      return Array.from({ length: s.tupleSize(t) }, (_, i) => s.tupleGet(t, i));
    };
    expect(mroOf(A)).toEqual([A, s.types.object]);
    expect(mroOf(B)).toEqual([B, A, s.types.object]);
    expect(tpMro(s.arena.i32, s.types.list)).toBe(0); // built-in types have none
    expect(s.refcnt(A)).toBe(4); // ours, A's __mro__, B's tp_base and B's __mro__
    expect(s.referents(B)).toContain(tpMro(s.arena.i32, B));
    s.decref(B);
    s.decref(A);
    expect(s.isTracked(A)).toBe(true); // not freed by refcounting
    expect(collect(s)).toBe(6); // two classes, their dicts and __mro__ tuples
    expect(collect(s)).toBe(0);
  });

  it("an instance keeps its class alive through collections; the class goes with its last instance", () => {
    const s = space();
    const A = s.newClass("A");
    const a = s.newInstance(A);
    s.decref(A);
    expect(collect(s)).toBe(0);
    expect(s.typeOf(a)).toBe(A);
    expect(s.nameOfType(A)).toBe("A");
    s.decref(a); // the instance is freed by refcounting; the class is left to the collector
    expect(collect(s)).toBe(3);
  });

  it("a weakref to a class is cleared, and its callback called, when the collector frees the class", () => {
    const s = space();
    let called = 0;
    let referentSeen = -1;
    cleanups.push(
      registerWeakrefCallback("cls-gone", (sp, wr) => {
        called++;
        referentSeen = sp.weakrefGet(wr);
      }),
    );
    const A = s.newClass("A");
    const cb = s.newStr("cls-gone");
    const wr = s.newWeakref(A, cb);
    s.decref(cb);
    s.decref(A);
    expect(s.weakrefGet(wr)).toBe(A); // still there: only the cycle holds it
    expect(called).toBe(0);
    expect(collect(s)).toBe(3);
    expect(called).toBe(1);
    expect(referentSeen).toBe(0);
    expect(s.weakrefGet(wr)).toBe(0);
    s.decref(wr);
  });

  it("a class in a cycle with a legacy finalizer stays in gc.garbage's reach, intact", () => {
    const s = space();
    cleanups.push(registerTypeBehaviour("U", { del() {} }));
    const U = s.newClass("U", { legacyDel: true });
    const u = s.newInstance(U);
    s.setAttr(u, "me", u);
    s.decref(u);
    s.decref(U);
    collect(s);
    const garbage = gcControl(s).garbage;
    expect(s.listLen(garbage)).toBe(1);
    expect(s.typeOf(s.listGet(garbage, 0))).toBe(U);
    expect(s.nameOfType(U)).toBe("U");
    expect(tpMro(s.arena.i32, U)).not.toBe(0); // uncollectable: not cleared
    s.setAttr(u, "me", 0);
    s.listClear(garbage);
    expect(collect(s)).toBe(3); // the instance went by refcounting; U, its dict and __mro__ here
  });
});

describe("repr behaviours (__repr__)", () => {
  it("space.repr uses the type's repr, inherited by subclasses; defaults otherwise", () => {
    const s = space();
    cleanups.push(
      registerTypeBehaviour("Named", { repr: (sp, op) => `<Named ${sp.repr(sp.getAttr(op, "n"))}>` }),
    );
    const Named = s.newClass("Named");
    const Sub = s.newClass("Sub", { base: Named });
    const Plain = s.newClass("Plain");
    const x = s.newInstance(Sub);
    const n = s.newInt(7);
    s.setAttr(x, "n", n);
    s.decref(n);
    expect(s.repr(x)).toBe("<Named 7>");
    const p = s.newInstance(Plain);
    expect(s.repr(p)).toBe(`<Plain object at 0x${p.toString(16)}>`);
    expect(s.repr(Named)).toBe("<class 'Named'>"); // the class itself: type's repr
    for (const op of [x, p, Named, Sub, Plain]) s.decref(op);
    collect(s);
  });

  it("a throwing repr propagates from repr, and reports read '<object repr() failed>'", () => {
    const s = space();
    const reports: string[] = [];
    s.onUnraisable = (message) => reports.push(message);
    cleanups.push(
      registerTypeBehaviour("Bad", {
        repr() {
          throw new Error("no repr");
        },
        finalize() {
          throw new Error("no finalizer either");
        },
      }),
    );
    const Bad = s.newClass("Bad", { finalize: true });
    const b = s.newInstance(Bad);
    expect(() => s.repr(b)).toThrow("no repr");
    expect(s.safeRepr(b)).toBe("<object repr() failed>");
    s.decref(b); // the finalizer throws: reported with the object's (failing) repr
    expect(reports).toEqual(["Exception ignored in: <object repr() failed>"]);
    s.decref(Bad);
    collect(s);
  });
});

describe("bad arguments", () => {
  /** The space still works: a cycle is collected and the objects validate. */
  function stillWorks(s: ObjectSpace): void {
    const a = s.newList();
    const b = s.newList([a]);
    s.listAppend(a, b);
    s.decref(a);
    s.decref(b);
    expect(collect(s)).toBeGreaterThanOrEqual(2);
    expect(validateObjects(s)).toEqual([]);
    s.arena.check();
  }

  it("newInstance refuses what is not a class, and the heap stays consistent", () => {
    const s = space();
    const list = s.newList();
    for (const bad of [-1, 1.5, 12345 * 8, 0, list, s.types.list, "8", null]) {
      expect(() => s.newInstance(bad as number)).toThrow(ObjectError);
      expect(() => s.newInstance(bad as number)).toThrow(
        /^TypeError: newInstance: cls must be a class \(newClass\), got /,
      );
    }
    s.decref(list);
    const A = s.newClass("A");
    s.decref(s.newInstance(A));
    stillWorks(s);
  });

  it("newClass checks its name, slots and base; newStr, newTuple and newList their values", () => {
    const s = space();
    expect(() => s.newClass(undefined as never)).toThrow(
      "TypeError: newClass: name must be a non-empty string, got undefined",
    );
    expect(() => s.newClass(5 as never)).toThrow(/name must be a non-empty string, got number 5/);
    expect(() => s.newClass("B", null as never)).toThrow(/options must be an object, got null/);
    expect(() => s.newClass("B", { slots: -1 })).toThrow(
      /options.slots must be a non-negative integer, got number -1/,
    );
    expect(() => s.newClass("B", { base: 12345 * 8 })).toThrow(
      /options.base must be a type object, got number 98760/,
    );
    expect(() => s.newStr(8 as never)).toThrow("TypeError: newStr: value must be a string, got number 8");
    expect(() => s.newTuple("8" as never)).toThrow(
      'TypeError: newTuple: items must be an array of objects, got string "8"',
    );
    expect(() => s.newList(5 as never)).toThrow(
      "TypeError: newList: items must be an array of objects, got number 5",
    );
    expect(() => s.dictSetStr(s.newDict(), 5 as never, 0)).toThrow(
      /dictSetStr: name must be a string, got number 5/,
    );
    expect(() => s.newWeakref(s.newInstance(s.newClass("W")), -1)).toThrow(
      /newWeakref: callback must be 0 or an object, got number -1/,
    );
    stillWorks(s);
  });

  it("list, tuple and slot indices must be integers: a fraction or null is refused, not read as another index", () => {
    const s = space();
    const one = s.newInt(1);
    const two = s.newInt(2);
    const list = s.newList([one, two]);
    const tuple = s.newTuple([one, two]);
    for (const bad of [1.5, null, "1"]) {
      expect(() => s.listGet(list, bad as number)).toThrow(/^TypeError: list indices must be integers, not /);
      expect(() => s.listSet(list, bad as number, one)).toThrow(
        /^TypeError: list indices must be integers, not /,
      );
      expect(() => s.tupleGet(tuple, bad as number)).toThrow(
        /^TypeError: tuple indices must be integers, not /,
      );
    }
    expect(() => s.listGet(list, -1)).toThrow("IndexError: list index out of range");
    expect(s.refcnt(one)).toBe(3); // the int's own reference, the list's and the tuple's: nothing leaked
    const C = s.newClass("C", { slots: 2 });
    const x = s.newInstance(C);
    s.setSlot(x, 1, two);
    expect(() => s.setSlot(x, null as never, one)).toThrow("AttributeError: no slot null");
    expect(() => s.setSlot(x, 0.5, one)).toThrow("AttributeError: no slot 0.5");
    expect(() => s.getSlot(x, -1)).toThrow("AttributeError: no slot -1");
    expect(() => s.getSlot(x, 2)).toThrow("AttributeError: no slot 2");
    expect(s.getSlot(x, 0)).toBe(0);
    expect(s.getSlot(x, 1)).toBe(two);
    expect(s.refcnt(one)).toBe(3);
    stillWorks(s);
  });

  it("the collector's entry points reject what is not a space, a function, a generation or a reason", () => {
    const s = space();
    for (const [fn, call] of [
      ["collect", (x: never) => collect(x)],
      ["freeze", (x: never) => freeze(x)],
      ["getFreezeCount", (x: never) => getFreezeCount(x)],
      ["getObjects", (x: never) => getObjects(x)],
      ["gcControl", (x: never) => gcControl(x)],
      ["validateObjects", (x: never) => validateObjects(x)],
    ] as const) {
      expect(() => call(undefined as never)).toThrow(
        new TypeError(`${fn}: space must be an ObjectSpace, got undefined`),
      );
      expect(() => call({} as never)).toThrow(/space must be an ObjectSpace, got object \[object Object\]/);
    }
    const log = watchWorld(s);
    expect(() => withWorldStopped(s, 5 as never)).toThrow(
      new TypeError("withWorldStopped: fn must be a function, got number 5"),
    );
    expect(() => visitObjects(s, undefined as never)).toThrow(
      "visitObjects: fn must be a function, got undefined",
    );
    expect(log).toEqual([]); // refused before the world was stopped
    expect(() => collect(s, 1.5)).toThrow(
      new RangeError("invalid generation 1.5 (collect: expected 0, 1 or 2)"),
    );
    expect(() => collect(s, 2, 99 as GcReason)).toThrow(
      new RangeError("collect: reason must be a GcReason (0, 1 or 2), got number 99"),
    );
    expect(() => formatFixed(1.5, Number.NaN)).toThrow(
      new RangeError("formatFixed: digits must be an integer 0 … 100, got NaN"),
    );
    expect(() => formatFixed("1" as never, 2)).toThrow(TypeError);
    expect(() => s.freeListLength("set" as never)).toThrow(
      'freeListLength: kind must be "tuple", "list" or "dict", got string "set"',
    );
    expect(() => s.freeListLength("tuple", 1.5)).toThrow(
      "freeListLength: size must be an integer, got number 1.5",
    );
    stillWorks(s);
  });

  it("standalone spaces: a bad arena, gc state, thread id or options is refused before any record is taken", () => {
    const s = space();
    const a = s.arena;
    const records = () => a.recordAlloc(64); // the next record: unchanged when nothing was taken
    const next = records();
    a.recordFree(next, 64);
    expect(() => attachStandaloneSpace(a, 12345 * 64)).toThrow(
      /^attachStandaloneSpace: gcState must be the record of a gc state \(space.gcState\), got number/,
    );
    expect(() => attachStandaloneSpace(a, Number.NaN)).toThrow(RangeError);
    expect(() => attachStandaloneSpace({} as never, s.gcState)).toThrow(
      /^attachStandaloneSpace: arena must be an Arena/,
    );
    expect(() => attachStandaloneSpace(a, s.gcState, null as never)).toThrow(
      /options must be an object, got null/,
    );
    expect(records()).toBe(next);
    a.recordFree(next, 64);
    expect(() => abandonStandaloneThread(a, s.gcState, 0)).toThrow(
      /threadId must be a positive integer, got number 0/,
    );
    expect(() => abandonStandaloneThread(a, 64, 2)).toThrow(/gcState must be the record of a gc state/);
    expect(() => abandonStandaloneThread(a, s.gcState, a.threadId)).toThrow(
      /is the calling thread, which is alive/,
    );
    expect(() => createStandaloneSpace(null as never)).toThrow(
      "createStandaloneSpace: options must be an object, got null",
    );
    expect(() => createStandaloneSpace({ arena: 5 as never })).toThrow(
      /createStandaloneSpace: options: arena must be an Arena, got number 5/,
    );
    expect(() => objectSpaceFor({} as never)).toThrow(/^objectSpaceFor: runtime must be a Runtime/);
    expect(() => pymemAllocator(undefined as never)).toThrow(/^pymemAllocator: pymem must be a PyMem/);
    stillWorks(s);
  });
});
