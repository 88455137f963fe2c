import { createStandaloneSpace, validateObjects } from "@ft/gc";
import { describe, expect, it } from "vitest";
import {
  checkDebugFlags,
  checkGeneration,
  checkObjectsGeneration,
  checkThreshold,
  DEBUG_LEAK,
  DEBUG_STATS,
  formatObjectsInEachGeneration,
  gcModule,
  gcModuleFor,
} from "../src/index.ts";

describe("gc.collect generation argument", () => {
  it("accepts generations 0, 1 and 2", () => {
    expect([0, 1, 2].map(checkGeneration)).toEqual([0, 1, 2]);
    expect(checkGeneration(2n)).toBe(2);
  });

  it.each([3, -1, 1000, -1000, 3n])("raises 'invalid generation' for %s", (g) => {
    expect(() => checkGeneration(g)).toThrow(new RangeError("invalid generation"));
  });

  it.each([
    ["1", "str"],
    [1.234, "float"],
    [null, "NoneType"],
    [undefined, "NoneType"],
    [true, "bool"],
    [[0], "list"],
    [{}, "dict"],
    [new Map(), "Map"],
  ])("raises CPython's TypeError for %j", (g, type) => {
    expect(() => checkGeneration(g)).toThrow(
      new TypeError(`'${type}' object cannot be interpreted as an integer`),
    );
  });

  it("raises CPython's OverflowError text beyond a C int", () => {
    expect(() => checkGeneration(2 ** 31)).toThrow(
      new RangeError("Python int too large to convert to C int"),
    );
    expect(() => checkGeneration(-(2 ** 31) - 1)).toThrow(RangeError);
    expect(() => checkGeneration(2n ** 40n)).toThrow("Python int too large to convert to C int");
  });
});

describe("gc.get_objects generation argument", () => {
  it("takes None, a missing argument and -1 as every generation", () => {
    expect(checkObjectsGeneration(null)).toBeNull();
    expect(checkObjectsGeneration(undefined)).toBeNull();
    expect(checkObjectsGeneration(-1)).toBeNull();
  });

  it("accepts a single generation", () => {
    expect([0, 1, 2].map(checkObjectsGeneration)).toEqual([0, 1, 2]);
    expect(checkObjectsGeneration(1n)).toBe(1);
  });

  it("words out-of-range generations as test_get_objects_arguments expects", () => {
    const tooBig = "generation parameter must be less than the number of available generations (3)";
    expect(() => checkObjectsGeneration(1000)).toThrow(new RangeError(tooBig));
    expect(() => checkObjectsGeneration(3)).toThrow(new RangeError(tooBig));
    expect(() => checkObjectsGeneration(-1000)).toThrow(
      new RangeError("generation parameter cannot be negative"),
    );
    expect(() => checkObjectsGeneration(-2n)).toThrow(
      new RangeError("generation parameter cannot be negative"),
    );
  });

  it("raises a TypeError for non-integers, as test_get_objects_arguments expects", () => {
    expect(() => checkObjectsGeneration("1")).toThrow(
      new TypeError("argument should be integer or None, not 'str'"),
    );
    expect(() => checkObjectsGeneration(1.234)).toThrow(
      new TypeError("argument should be integer or None, not 'float'"),
    );
  });

  it("raises CPython's OverflowError text beyond a C ssize_t", () => {
    expect(() => checkObjectsGeneration(2n ** 63n)).toThrow(
      new RangeError("Python int too large to convert to C ssize_t"),
    );
    expect(() => checkObjectsGeneration(2 ** 70)).toThrow(RangeError);
  });
});

describe("gc.set_debug flags argument", () => {
  it("keeps any C int, unknown bits included, as CPython stores it", () => {
    expect(checkDebugFlags(DEBUG_LEAK | DEBUG_STATS)).toBe(39);
    expect(checkDebugFlags(1 << 10)).toBe(1024);
    expect(checkDebugFlags(0)).toBe(0);
    expect(checkDebugFlags(-1)).toBe(-1);
  });

  it("refuses what is not a C int", () => {
    expect(() => checkDebugFlags("1")).toThrow(
      new TypeError("'str' object cannot be interpreted as an integer"),
    );
    expect(() => checkDebugFlags(2 ** 32)).toThrow(
      new RangeError("Python int too large to convert to C int"),
    );
  });
});

describe("gc.set_threshold arguments", () => {
  it("takes any C int (0 disables automatic collection) and refuses the rest", () => {
    expect(checkThreshold(0)).toBe(0);
    expect(checkThreshold(700n)).toBe(700);
    expect(() => checkThreshold(1.5)).toThrow(
      new TypeError("'float' object cannot be interpreted as an integer"),
    );
    expect(() => checkThreshold(2 ** 31)).toThrow(new RangeError("Python int too large to convert to C int"));
  });
});

describe("the module's object and option arguments", () => {
  it("is_tracked, is_finalized, get_referrers and get_referents refuse what is not an object pointer, naming it", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const gc = gcModule(s);
    const list = s.newList();
    for (const bad of [undefined, null, -8, 1.5, Number.NaN, 2 ** 32, "8", 12]) {
      expect(() => gc.isTracked(bad as number)).toThrow(TypeError);
      expect(() => gc.isTracked(bad as number)).toThrow(
        /^is_tracked\(\) argument must be an object \(an 8-aligned offset into the arena, or 0 for None\), got /,
      );
      expect(() => gc.isFinalized(bad as number)).toThrow(/^is_finalized\(\) argument must be an object/);
      expect(() => gc.getReferrers(list, bad as number)).toThrow(
        /^get_referrers\(\) argument must be an object/,
      );
      expect(() => gc.getReferents(bad as number)).toThrow(/^get_referents\(\) argument must be an object/);
    }
    expect(() => gc.isTracked("8" as never)).toThrow(
      "is_tracked() argument must be an object (an 8-aligned offset into the arena, or 0 for None), got 'str'",
    );
    expect(gc.isTracked(0)).toBe(false);
    expect(gc.isTracked(list)).toBe(true);
    s.decref(list);
    expect(validateObjects(s)).toEqual([]);
    s.arena.check();
  });

  it("gcModule and gcModuleFor refuse a space or options that are not what they say, before anything is installed", () => {
    const s = createStandaloneSpace({ maxBytes: 64 << 20 });
    const hook = s.onUnraisable;
    expect(() => gcModule(undefined as never)).toThrow(
      new TypeError("gcModule: space must be an ObjectSpace, got NoneType"),
    );
    expect(() => gcModule(s, 5 as never)).toThrow(
      new TypeError("gcModule: options must be an object, got int"),
    );
    expect(() => gcModule(s, { onUnraisable: 5 as never })).toThrow(
      "gcModule: options.onUnraisable must be a function, got int",
    );
    expect(() => gcModule(s, { repr: "repr" as never })).toThrow(
      "gcModule: options.repr must be a function, got str",
    );
    expect(() => gcModule(s, { stderr: {} as never })).toThrow(
      "gcModule: options.stderr must be a function, got dict",
    );
    expect(s.onUnraisable).toBe(hook);
    expect(() => gcModuleFor({} as never, null as never)).toThrow(
      "gcModuleFor: options must be an object, got NoneType",
    );
    const gc = gcModule(s);
    expect(gc.collect()).toBe(0);
  });

  it("formatObjectsInEachGeneration refuses counts that are not an array", () => {
    expect(() => formatObjectsInEachGeneration(undefined as never)).toThrow(
      new TypeError("formatObjectsInEachGeneration: counts must be an array of 3 numbers, got undefined"),
    );
  });
});
