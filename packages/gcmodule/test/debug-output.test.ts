import { describe, expect, it } from "vitest";
import {
  DEBUG_LEAK,
  DEBUG_STATS,
  DEBUG_UNCOLLECTABLE,
  formatCollecting,
  formatCollectionDone,
  formatDebugCycle,
  formatObjectsInEachGeneration,
  formatObjectsInPermanentGeneration,
  formatUncollectableAtShutdown,
} from "../src/index.ts";

describe("DEBUG_STATS output", () => {
  it("announces the generation being collected", () => {
    expect(formatCollecting(2)).toBe("gc: collecting generation 2...\n");
    expect(formatCollecting(0)).toBe("gc: collecting generation 0...\n");
  });

  it("lists the objects in each generation and in the permanent one (default build)", () => {
    expect(formatObjectsInEachGeneration([370, 1516, 4873])).toBe(
      "gc: objects in each generation: 370 1516 4873\n",
    );
    expect(formatObjectsInPermanentGeneration(0)).toBe("gc: objects in permanent generation: 0\n");
    expect(() => formatObjectsInEachGeneration([1, 2])).toThrow(
      new RangeError("expected 3 generation counts, got 2"),
    );
  });

  it("ends with unreachable = collected + uncollectable, and the seconds to 4 places", () => {
    expect(formatCollectionDone(4, 0, 0.0017)).toBe(
      "gc: done, 4 unreachable, 0 uncollectable, 0.0017s elapsed\n",
    );
    expect(formatCollectionDone(1, 4, 0.25)).toBe(
      "gc: done, 5 unreachable, 4 uncollectable, 0.2500s elapsed\n",
    );
    expect(formatCollectionDone(0, 0, 0)).toBe("gc: done, 0 unreachable, 0 uncollectable, 0.0000s elapsed\n");
  });

  it.each([
    // expected values from C's printf("%.4f") (and Python's "%.4f" %), which round exact ties to even
    [0.03125, "0.0312"],
    [0.09375, "0.0938"],
    [1.03125, "1.0312"],
    [0.00005, "0.0001"],
    [0.00015, "0.0001"],
    [12.34565, "12.3456"],
    [2.00005, "2.0000"],
    [0.5, "0.5000"],
    [123.45678, "123.4568"],
  ])("rounds %s seconds as printf does: %s", (seconds, text) => {
    expect(formatCollectionDone(0, 0, seconds)).toBe(
      `gc: done, 0 unreachable, 0 uncollectable, ${text}s elapsed\n`,
    );
  });

  it("writes a whole free-threaded DEBUG_STATS transcript", () => {
    const out = formatCollecting(2) + formatCollectionDone(2, 0, 0.0009);
    expect(out).toBe(
      "gc: collecting generation 2...\ngc: done, 2 unreachable, 0 uncollectable, 0.0009s elapsed\n",
    );
  });
});

describe("DEBUG_COLLECTABLE and DEBUG_UNCOLLECTABLE output", () => {
  it("names each object's type and address as debug_cycle does", () => {
    expect(formatDebugCycle("collectable", "list", 0x108e2e8c0)).toBe("gc: collectable <list 0x108e2e8c0>\n");
    expect(formatDebugCycle("uncollectable", "Lazarus", 0x40)).toBe("gc: uncollectable <Lazarus 0x40>\n");
  });
});

describe("shutdown warning", () => {
  it("hints at DEBUG_UNCOLLECTABLE unless it is set", () => {
    expect(formatUncollectableAtShutdown(2, 0)).toBe(
      "gc: 2 uncollectable objects at shutdown; use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them",
    );
    expect(formatUncollectableAtShutdown(2, DEBUG_UNCOLLECTABLE | DEBUG_STATS)).toBe(
      "gc: 2 uncollectable objects at shutdown",
    );
    expect(formatUncollectableAtShutdown(1, DEBUG_LEAK)).toBe("gc: 1 uncollectable objects at shutdown");
  });
});
