// The `visit` bench suite: its cases and ratios are well formed, and a case run checks that the
// walk visited exactly the live blocks before it times anything.
import { describe, expect, it } from "vitest";
import { selectCases } from "../src/bench/harness.ts";
import { findCase } from "../src/bench/suites/index.ts";
import { VISIT_SIZES } from "../src/bench/suites/visit.ts";

describe("visit suite", () => {
  it("pairs every fast case with a plain one of the same shape, and targets the issue's figures", () => {
    for (const shape of ["full", "mixed", "sparse"]) {
      for (const size of VISIT_SIZES) {
        const fast = findCase(`visit/${shape}-${size}-fast`)!;
        const plain = findCase(`visit/${shape}-${size}-plain`)!;
        expect(fast.case.params({ quick: false })).toEqual(plain.case.params({ quick: false }));
      }
    }
    const s = selectCases("visit/");
    const targets = s.ratios
      .filter((r) => r.ratio.target)
      .map((r) => `${r.ratio.name} ${r.ratio.target!.op} ${r.ratio.target!.value}`);
    expect(targets).toContain("mixed 16 B: fast / plain >= 3");
    expect(targets).toContain("mixed 64 B: fast / plain >= 3");
    expect(targets).toContain("full 16 B: M blocks/s >= 100");
    expect(targets).toContain("mixed 64 B: M live blocks/s >= 50");
  });

  it("runs a fast and a plain case (one batch each) and reports a rate over the live blocks", async () => {
    for (const id of ["visit/mixed-64-fast", "visit/sparse-16-plain", "visit/single-fast"]) {
      const c = findCase(id)!.case;
      const result = await c.run({ ...c.params({ quick: true }), batches: 1 });
      expect(result.metrics.rate, id).toBeGreaterThan(0);
      expect(result.info?.liveBlocks, id).toBeGreaterThan(0);
    }
  });
});
