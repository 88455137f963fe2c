import { Runtime } from "@ft/interp";
import { describe, expect, it } from "vitest";
import { collect, objectSpaceFor, validateObjects, visitObjects } from "../src/index.ts";

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

  it("refuses GIL-mode runtimes with a clear error", () => {
    const runtime = Runtime.create({ mode: "gil", maxBytes: 64 << 20 });
    try {
      expect(() => objectSpaceFor(runtime)).toThrow(/GIL-mode runtimes/);
    } finally {
      runtime.finalize();
    }
  });
});
