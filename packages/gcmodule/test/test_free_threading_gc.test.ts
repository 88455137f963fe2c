// Ports of CPython's Lib/test/test_free_threading/test_gc.py: get_objects and get_referrers from
// some threads while others allocate and drop objects, all on one interpreter of an @ft/interp
// runtime (real workers, stop-the-world). Plus the module under @ft/interp: one state per
// interpreter, and the shutdown warning when the runtime finalizes. And the module in a GIL-mode
// runtime, where the threads take turns with the interpreter's GIL and its one mimalloc state.
import { Runtime, startThread } from "@ft/interp";
import { describe, expect, it } from "vitest";
import { gcModuleFor } from "../src/index.ts";
import type { FtGcOp } from "./fixtures/ft-gc.worker.ts";

const ENTRY = new URL("./fixtures/ft-gc.worker.ts", import.meta.url);
const PROBLEMS = 2;
const CALLS = 3;
const ROUNDS = 4;

/** Run `ops` as threads of the main interpreter (the calling thread detached meanwhile). */
async function runThreads(runtime: Runtime, ops: FtGcOp[]): Promise<Int32Array> {
  const sab = new SharedArrayBuffer(64);
  const me = runtime.currentThreadState()!;
  const started = ops.map((op) => startThread(runtime, ENTRY, { data: { ...op, sab, parties: ops.length } }));
  const errors: unknown[] = [];
  for (const t of started) t.worker.on("error", (e) => errors.push(e));
  // A thread blocked here must not hold up the others' stop-the-world: detach, as CPython's
  // threads do around a blocking call.
  me.detach();
  try {
    const exits = await Promise.all(started.map((t) => t.exited));
    expect(errors).toEqual([]);
    for (const e of exits) expect(e.code).toBe(0);
  } finally {
    me.attach();
  }
  return new Int32Array(sab);
}

describe("test_free_threading.test_gc.TestGC", () => {
  it("test_get_objects: get_objects() while four threads allocate and drop objects", async () => {
    const runtime = Runtime.create({ maxBytes: 256 << 20 });
    try {
      const gc = gcModuleFor(runtime);
      const s = gc.space;
      const MyObj = s.newClass("MyObj");
      const words = await runThreads(runtime, [
        { op: "get-objects", rounds: 100 },
        ...[0, 1, 2, 3].map(() => ({ op: "mutate-objects" as const, cls: MyObj })),
      ]);
      expect(Atomics.load(words, CALLS)).toBe(100);
      expect(Atomics.load(words, ROUNDS)).toBeGreaterThan(0); // the mutators ran meanwhile
      expect(Atomics.load(words, PROBLEMS)).toBe(0);
      gc.collect();
      s.decref(MyObj);
    } finally {
      runtime.finalize();
    }
  });

  it("test_get_referrers: two threads call get_referrers(obj) while four build dicts {'key': obj}", async () => {
    const runtime = Runtime.create({ maxBytes: 256 << 20 });
    try {
      const gc = gcModuleFor(runtime);
      const s = gc.space;
      const MyObj = s.newClass("MyObj");
      const obj = s.newInstance(MyObj);
      const words = await runThreads(runtime, [
        { op: "get-referrers", target: obj, rounds: 100 },
        { op: "get-referrers", target: obj, rounds: 100 },
        ...[0, 1, 2, 3].map(() => ({ op: "mutate-dicts" as const, target: obj })),
      ]);
      expect(Atomics.load(words, CALLS)).toBe(200);
      expect(Atomics.load(words, ROUNDS)).toBeGreaterThan(0);
      expect(Atomics.load(words, PROBLEMS)).toBe(0);
      gc.collect();
      expect(s.refcnt(obj)).toBe(1); // every dict that held it is gone
      s.decref(obj);
      s.decref(MyObj);
    } finally {
      runtime.finalize();
    }
  });
});

describe("the gc module under @ft/interp", () => {
  it("keeps one state per interpreter: flags and garbage of a subinterpreter are its own", () => {
    const runtime = Runtime.create({ maxBytes: 128 << 20 });
    try {
      const main = gcModuleFor(runtime);
      main.setDebug(main.DEBUG_SAVEALL);
      main.setThreshold(500);
      const sub = runtime.create();
      runtime.ensureThreadState(sub);
      const other = gcModuleFor(runtime);
      expect(other).not.toBe(main);
      expect(other.getDebug()).toBe(0);
      expect(other.getThreshold()[0]).toBe(2000);
      const l = other.space.newList();
      other.space.listAppend(l, l);
      other.space.decref(l);
      expect(other.collect()).toBe(1);
      expect(other.space.listLen(other.garbage)).toBe(0); // not SAVEALL here
      runtime.ensureThreadState(runtime.getMain());
      expect(gcModuleFor(runtime)).toBe(main);
      main.setDebug(0);
    } finally {
      runtime.finalize();
    }
  });

  it("test_garbage_at_shutdown under a runtime: finalize() collects and warns on the runtime's stderr", () => {
    const stderr: string[] = [];
    const runtime = Runtime.create({ maxBytes: 128 << 20, stderr: (t) => stderr.push(t) });
    let finalized = false;
    try {
      const gc = gcModuleFor(runtime);
      const s = gc.space;
      const X = s.newClass("X", { legacyDel: true });
      const x = s.newInstance(X);
      s.setAttr(x, "x", x);
      s.decref(x);
      s.decref(X);
      const calls: string[] = [];
      gc.callbacks.push((phase) => calls.push(phase));
      runtime.finalize();
      finalized = true;
      expect(calls).toEqual([]); // no callbacks at shutdown
      expect(stderr.join("")).toContain(
        "ResourceWarning: gc: 1 uncollectable objects at shutdown; use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them\n",
      );
    } finally {
      if (!finalized) runtime.finalize();
    }
  });
});

describe("the gc module in GIL mode (one mimalloc state per interpreter, used by the GIL holder)", () => {
  it("collects, and answers get_referrers while threads take turns with the GIL building dicts", async () => {
    const runtime = Runtime.create({ mode: "gil", maxBytes: 256 << 20 });
    try {
      const gc = gcModuleFor(runtime);
      const s = gc.space;
      expect(s.host.gil).toBe(true);
      const a = s.newList();
      const b = s.newList();
      s.listAppend(a, b);
      s.listAppend(b, a);
      s.decref(a);
      s.decref(b);
      expect(gc.collect()).toBe(2);
      const MyObj = s.newClass("MyObj");
      const obj = s.newInstance(MyObj);
      const words = await runThreads(runtime, [
        { op: "get-referrers", target: obj, rounds: 20 },
        ...[0, 1].map(() => ({ op: "mutate-dicts" as const, target: obj })),
      ]);
      expect(Atomics.load(words, CALLS)).toBe(20);
      expect(Atomics.load(words, ROUNDS)).toBeGreaterThan(0);
      expect(Atomics.load(words, PROBLEMS)).toBe(0);
      gc.collect();
      expect(s.refcnt(obj)).toBe(1);
      s.decref(obj);
      s.decref(MyObj);
    } finally {
      runtime.finalize();
    }
  });
});
