import { describe, expect, it } from "vitest";
import { Arena } from "../src/index.ts";

describe("smoke", () => {
  it("allocates and frees", () => {
    const a = Arena.create({ maxBytes: 64 << 20, checks: true });
    const ps: number[] = [];
    for (let i = 0; i < 10000; i++) ps.push(a.malloc(16 + (i % 300)));
    expect(new Set(ps).size).toBe(10000);
    a.check();
    for (const p of ps) a.free(p);
    a.check();
    const big = a.malloc(5 << 20);
    expect(big).toBeGreaterThan(0);
    a.free(big);
    a.heap.collect(true);
    a.check();
    console.log(a.stats());
  });
});
