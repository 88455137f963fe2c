import { describe, expect, it } from "vitest";
import {
  DEBUG_COLLECTABLE,
  DEBUG_LEAK,
  DEBUG_SAVEALL,
  DEBUG_STATS,
  DEBUG_UNCOLLECTABLE,
  NUM_GENERATIONS,
} from "../src/index.ts";

describe("gc module constants", () => {
  it("has CPython's debug flag values", () => {
    expect(DEBUG_STATS).toBe(1);
    expect(DEBUG_COLLECTABLE).toBe(2);
    expect(DEBUG_UNCOLLECTABLE).toBe(4);
    expect(DEBUG_SAVEALL).toBe(32);
  });

  it("makes DEBUG_LEAK everything but DEBUG_STATS", () => {
    expect(DEBUG_LEAK).toBe(DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL);
    expect(DEBUG_LEAK).toBe(38);
    expect(DEBUG_LEAK & DEBUG_STATS).toBe(0);
  });

  it("gives each flag its own bit", () => {
    const flags = [DEBUG_STATS, DEBUG_COLLECTABLE, DEBUG_UNCOLLECTABLE, DEBUG_SAVEALL];
    for (const f of flags) expect(f & (f - 1)).toBe(0);
    expect(flags.reduce((a, f) => a | f, 0)).toBe(flags.reduce((a, f) => a + f, 0));
  });

  it("has three generations", () => {
    expect(NUM_GENERATIONS).toBe(3);
  });
});
