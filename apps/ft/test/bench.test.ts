import { describe, expect, it } from "vitest";
import { type BenchResults, parseRef, selectCases } from "../src/bench/harness.ts";
import { compactCount, formatValue, renderMarkdown, renderRatiosSvg } from "../src/bench/report.ts";
import { median, spread } from "../src/bench/stats.ts";
import { allCases, findCase, SUITES } from "../src/bench/suites/index.ts";

describe("suite registry", () => {
  it("gives every case a unique suite/case id and at least one metric", () => {
    const ids = allCases().map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of allCases()) expect(c.case.metrics.length).toBeGreaterThan(0);
    expect(findCase("alloc/floor")?.case.name).toBe("floor");
  });

  it("only names existing cases and metrics in ratios", () => {
    for (const suite of SUITES) {
      for (const r of suite.ratios) {
        for (const ref of [r.num, r.den].filter((x): x is string => x !== undefined)) {
          const [id, key] = parseRef(ref);
          const c = findCase(id);
          expect(c, ref).toBeDefined();
          if (key)
            expect(
              c!.case.metrics.map((m) => m.key),
              ref,
            ).toContain(key);
        }
      }
    }
  });

  it("runs the reference workload with 2M ops, and 200k with --quick (@thi.ng/malloc a tenth)", () => {
    expect(findCase("alloc/ft")!.case.params({ quick: false })).toEqual({ W: 10_000, OPS: 2_000_000 });
    expect(findCase("alloc/ft")!.case.params({ quick: true })).toEqual({ W: 10_000, OPS: 200_000 });
    expect(findCase("alloc/thing")!.case.params({ quick: false }).OPS).toBe(200_000);
    expect(findCase("alloc/floor")!.case.params({ quick: false, ops: 20_000_000 }).OPS).toBe(20_000_000);
  });
});

describe("selectCases", () => {
  it("selects by substring of the case id", () => {
    const s = selectCases("alloc-mem/");
    expect(s.cases.every(({ reg }) => reg.id.startsWith("alloc-mem/"))).toBe(true);
    expect(s.ratios.map((r) => r.ratio.name)).toContain("pages ÷ live (W=1m)");
  });

  it("pulls in the case a selected ratio divides by, and marks it", () => {
    const s = selectCases("alloc-xt");
    const ids = s.cases.map(({ reg, pulledIn }) => `${reg.id}${pulledIn ? "+" : ""}`);
    expect(ids).toEqual(["alloc/ft+", "alloc-xt/ft"]);
  });

  it("keeps registry order and selects everything without a filter", () => {
    expect(selectCases(undefined).cases.map(({ reg }) => reg.id)).toEqual(allCases().map((c) => c.id));
  });
});

describe("statistics", () => {
  it("takes medians of odd and even sample counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spread([5, 1, 9])).toEqual({ median: 5, min: 1, max: 9, n: 3 });
    expect(spread([]).n).toBe(0);
  });

  it("formats counts and values compactly", () => {
    expect(compactCount(2_000_000)).toBe("2M");
    expect(compactCount(10_000)).toBe("10k");
    expect(compactCount(1_500)).toBe("1.5k");
    expect(formatValue(71611.7)).toBe("71,612");
    expect(formatValue(41.034)).toBe("41.03");
  });
});

function sampleResults(): BenchResults {
  const metric = (samples: number[]) => ({
    key: "ns",
    unit: "ns/pair",
    better: "lower" as const,
    samples,
    ...spread(samples),
  });
  return {
    tool: "ft bench",
    startedAt: "2026-11-25T02:00:00.000Z",
    durationMs: 12_345,
    environment: {
      node: "v20.20.2",
      v8: "11.3",
      platform: "linux",
      arch: "x64",
      cpus: 2,
      cpuModel: "Test CPU",
    },
    options: { runs: 3, quick: true, ops: null, filter: null },
    cases: [
      {
        id: "alloc/floor",
        suite: "alloc",
        name: "floor",
        description: "floor",
        params: { W: 10_000, OPS: 200_000 },
        once: false,
        pulledIn: false,
        status: "ok",
        metrics: [metric([40, 38, 45])],
        info: [],
      },
      {
        id: "alloc/ft",
        suite: "alloc",
        name: "ft",
        description: "ft",
        params: { W: 10_000, OPS: 200_000 },
        once: false,
        pulledIn: false,
        status: "ok",
        metrics: [metric([44, 47, 60])],
        info: [],
      },
    ],
    ratios: [
      {
        suite: "alloc",
        name: "ft / floor",
        description: "",
        num: "alloc/ft",
        den: "alloc/floor",
        target: { op: "<=", value: 1.25 },
        samples: [1.1, 1.24, 1.33],
        ...spread([1.1, 1.24, 1.33]),
        status: "PASS",
      },
      {
        suite: "alloc-mt2",
        name: "ft 2 workers / 1 worker",
        description: "",
        num: "a",
        den: "b",
        target: { op: ">=", value: 1.7 },
        samples: [1.5],
        ...spread([1.5]),
        status: "MISS",
      },
      {
        suite: "alloc",
        name: "floor / harness",
        description: "",
        num: "x",
        samples: [],
        ...spread([]),
        status: "n/a",
      },
    ],
  };
}

describe("report", () => {
  it("renders a cases table and a target-ratio table with PASS/MISS", () => {
    const md = renderMarkdown(sampleResults());
    expect(md).toContain("| case | params | median | [min..max] | unit | n |");
    expect(md).toContain("| alloc/floor | W=10k OPS=200k | **40.00** | [38.00..45.00] | ns/pair | 3 |");
    expect(md).toContain("| alloc: ft / floor | **1.24** | [1.10..1.33] | ≤ 1.25 | PASS | 3 |");
    expect(md).toContain(
      "| alloc-mt2: ft 2 workers / 1 worker | **1.50** | [1.50..1.50] | ≥ 1.7 | **MISS** | 1 |",
    );
    expect(md).toMatch(/## Other ratios[\s\S]*floor \/ harness \| n\/a/);
  });

  it("draws one SVG row per target ratio with a target marker", () => {
    const svg = renderRatiosSvg(sampleResults());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("alloc: ft / floor");
    expect(svg).toContain("1.24  (≤ 1.25)  PASS");
    expect(svg).not.toContain("floor / harness");
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    // every opened element is closed (a well-formedness smoke test without an XML parser)
    expect(svg.match(/<text/g)!.length).toBe(svg.match(/<\/text>/g)!.length);
  });
});
