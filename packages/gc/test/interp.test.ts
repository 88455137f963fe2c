import { once } from "node:events";
import { interpGilMimallocOwner, Runtime, startThread } from "@ft/interp";
import { describe, expect, it } from "vitest";
import {
  collect,
  objectSpaceFor,
  obRefShared,
  obTid,
  registerTypeBehaviour,
  validateObjects,
  visitObjects,
} from "../src/index.ts";
import type { GilWorkerData } from "./fixtures/gil.worker.ts";

const GIL_WORKER = new URL("./fixtures/gil.worker.ts", import.meta.url);

interface GilReport {
  tid: number;
  gil: boolean;
  threadId: number;
  keep: number;
  sharedAfter: number;
  keepShared: number;
}

function cycle(s: ReturnType<typeof objectSpaceFor>, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = s.newList();
    const b = s.newList();
    s.listAppend(a, b);
    s.listAppend(b, a);
    s.decref(a);
    s.decref(b);
  }
}

describe("the collector under @ft/interp", () => {
  it("collects with the interpreter's stop-the-world and never touches another interpreter's objects", () => {
    const runtime = Runtime.create({ maxBytes: 128 << 20 });
    try {
      const main = objectSpaceFor(runtime);
      const mainTs = runtime.currentThreadState()!;
      cycle(main, 10);
      const sub = runtime.create();
      runtime.ensureThreadState(sub);
      const other = objectSpaceFor(runtime);
      expect(other.gcState).not.toBe(main.gcState);
      cycle(other, 7);
      const otherObjects = new Set<number>();
      visitObjects(other, (op) => otherObjects.add(op));
      expect(otherObjects.size).toBe(7 * 2 + 1);
      runtime.ensureThreadState(runtime.getMain());
      expect(runtime.currentThreadState()).toBe(mainTs);
      expect(collect(main)).toBe(20);
      expect(validateObjects(main)).toEqual([]);
      runtime.ensureThreadState(sub);
      const still = new Set<number>();
      visitObjects(other, (op) => still.add(op));
      expect(still).toEqual(otherObjects); // untouched by the main interpreter's collection
      expect(collect(other)).toBe(14);
      runtime.ensureThreadState(runtime.getMain());
    } finally {
      runtime.finalize();
    }
  });

});

describe("the collector under @ft/interp in GIL mode", () => {
  it("gives the GIL holder a space on the interpreter's one shared state, owned by its virtual id, with plain refcounts", () => {
    const runtime = Runtime.create({ mode: "gil", maxBytes: 64 << 20, checks: true });
    try {
      const s = objectSpaceFor(runtime);
      const ts = runtime.currentThreadState()!;
      const owner = interpGilMimallocOwner(runtime.i32, ts.interp);
      expect(s.host.gil).toBe(true);
      expect(s.tid).toBe(owner);
      expect(s.tid).not.toBe(runtime.arena.threadId);
      const list = s.newList();
      expect(obTid(s.arena.i32, list)).toBe(owner);
      for (let i = 0; i < 100; i++) s.incref(list);
      expect(s.refcnt(list)).toBe(101);
      expect(obRefShared(s.arena.i32, list)).toBe(0); // every count a plain ob_ref_local store
      for (let i = 0; i < 100; i++) s.decref(list);
      cycle(s, 25);
      expect(collect(s)).toBe(50); // no stop-the-world: the caller holds the GIL
      expect(validateObjects(s)).toEqual([]);
      s.decref(list);
      runtime.arena.check();
    } finally {
      runtime.finalize();
    }
  });

  it("runs finalizers with the GIL held", () => {
    const runtime = Runtime.create({ mode: "gil", maxBytes: 64 << 20 });
    try {
      const s = objectSpaceFor(runtime);
      const ts = runtime.currentThreadState()!;
      const Fin = s.newClass("GilFin", { finalize: true, slots: 1 });
      const seen: string[] = [];
      const unregister = registerTypeBehaviour("GilFin", {
        finalize(space, op) {
          // Object code during the collection: the GIL is still this thread's.
          seen.push(`${runtime.currentThreadState() === ts}:${ts.mimalloc !== null}`);
          const fresh = space.newList(); // allocates through the interpreter's state
          space.decref(fresh);
          void op;
        },
      });
      for (let i = 0; i < 10; i++) {
        const a = s.newInstance(Fin);
        const b = s.newInstance(Fin);
        s.setSlot(a, 0, b);
        s.setSlot(b, 0, a);
        s.decref(a);
        s.decref(b);
      }
      expect(collect(s)).toBe(20);
      expect(seen).toHaveLength(20);
      expect(new Set(seen)).toEqual(new Set(["true:true"]));
      expect(validateObjects(s)).toEqual([]);
      s.decref(Fin);
      unregister();
    } finally {
      runtime.finalize();
    }
  });

  for (const end of ["detach", "exit", "terminate"] as const) {
    it(`collects the cycles of a worker that took the GIL in turn and then ${end === "detach" ? "detached" : end === "exit" ? "ended attached" : "was terminated attached"}`, async () => {
      const runtime = Runtime.create({ mode: "gil", maxBytes: 128 << 20, checks: true });
      try {
        const s = objectSpaceFor(runtime);
        const main = runtime.currentThreadState()!;
        const root = s.newList();
        const target = s.newList();
        const data: GilWorkerData = { root, target, increfs: 500, keep: 3, cycles: 100, size: 10, end };
        main.detach(); // the worker needs the GIL
        const started = startThread(runtime, GIL_WORKER, { data });
        const failed = once(started.worker, "error").then(([e]) => Promise.reject(e));
        const [report] = (await Promise.race([once(started.worker, "message"), failed])) as [GilReport];
        if (end === "terminate") await started.worker.terminate();
        const { cleanup } = await started.exited;
        expect(cleanup.threadStates).toBe(end === "detach" ? 0 : 1);
        main.attach();
        // The worker's space owned objects by the same virtual id: its counts on ours were plain.
        expect(report.gil).toBe(true);
        expect(report.tid).toBe(s.tid);
        expect(report.threadId).not.toBe(runtime.threadId);
        expect(report.sharedAfter).toBe(0);
        expect(report.keepShared).toBe(0);
        expect(s.refcnt(target)).toBe(1 + 3);
        expect(s.listGet(root, 0)).toBe(report.keep);
        expect(collect(s)).toBe(100 * 10);
        expect(validateObjects(s)).toEqual([]);
        expect(s.refcnt(report.keep)).toBe(2); // the root's + the inner dict's
        s.listClear(root);
        expect(collect(s)).toBe(2); // keep and its inner dict
        for (let i = 0; i < 3; i++) s.decref(target);
        expect(s.refcnt(target)).toBe(1);
        s.decref(target);
        s.decref(root);
        runtime.arena.check();
      } finally {
        runtime.finalize();
      }
    });
  }

  it("lets the main thread and a worker take turns on one space's objects", async () => {
    const runtime = Runtime.create({ mode: "gil", maxBytes: 128 << 20 });
    try {
      const s = objectSpaceFor(runtime);
      const main = runtime.currentThreadState()!;
      const root = s.newList();
      const target = s.newList();
      for (let round = 0; round < 3; round++) {
        cycle(s, 5); // this thread's garbage, between the worker's
        main.detach();
        const started = startThread(runtime, GIL_WORKER, {
          data: { root, target, increfs: 10, keep: 1, cycles: 20, size: 3, end: "detach" } satisfies GilWorkerData,
        });
        await started.exited;
        main.attach();
        expect(s.refcnt(target)).toBe(2 + round);
      }
      expect(collect(s)).toBe(3 * (5 * 2 + 20 * 3));
      expect(validateObjects(s)).toEqual([]);
      expect(obRefShared(s.arena.i32, target)).toBe(0);
    } finally {
      runtime.finalize();
    }
  });
});
