/** The built CLI, run as a user runs it: `node dist/cli.js …` in a child process. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "./built.ts";

const outDir = mkdtempSync(join(tmpdir(), "ft-bench-test-"));

beforeAll(() => {
  ensureBuilt();
}, 120_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe("built ft", () => {
  it("exits 2 with the help on an unknown command", async () => {
    const r = await runCli(["nonsense"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "nonsense"/);
    expect(r.stderr).toContain("Commands:");
  });

  it("`bench --quick --filter floor --json` prints valid JSON with the cases, ratios and files", async () => {
    const r = await runCli([
      "bench",
      "--quick",
      "--filter",
      "floor",
      "--json",
      "--runs",
      "2",
      "--out",
      outDir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.tool).toBe("ft bench");
    expect(res.options).toEqual({ runs: 2, quick: true, ops: null, filter: "floor" });
    expect(res.environment.node).toBe(process.version);
    const ids = res.cases.map((c: { id: string }) => c.id);
    expect(ids).toEqual([
      "alloc/harness",
      "alloc/floor",
      "alloc-mt1/floor",
      "alloc-mt2/floor",
      "alloc-mem/floor-10k",
      "alloc-mem/floor-1m",
    ]);
    const floor = res.cases.find((c: { id: string }) => c.id === "alloc/floor");
    expect(floor).toMatchObject({ status: "ok", pulledIn: false, params: { W: 10_000, OPS: 200_000 } });
    expect(floor.metrics[0]).toMatchObject({ key: "ns", unit: "ns/pair", n: 2 });
    expect(floor.metrics[0].median).toBeGreaterThan(0);
    expect(floor.metrics[0].min).toBeLessThanOrEqual(floor.metrics[0].max);
    expect(res.cases[0]).toMatchObject({ id: "alloc/harness", pulledIn: true });
    const mem = res.cases.find((c: { id: string }) => c.id === "alloc-mem/floor-10k");
    expect(mem.metrics.map((m: { key: string; n: number }) => [m.key, m.n])).toEqual([
      ["usable", 1],
      ["pages", 1],
    ]);
    expect(mem.metrics[0].median).toBeGreaterThanOrEqual(1);
    const ratio = res.ratios.find((x: { name: string }) => x.name === "floor / harness");
    expect(ratio).toMatchObject({ num: "alloc/floor", den: "alloc/harness", status: "info", n: 2 });
    // progress went to stderr, one line per run
    expect(r.stderr).toMatch(/\[2\/10\] alloc\/floor round 1\/2: [\d.,]+ ns\/pair/);
    // --out wrote the three files
    expect(JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")).tool).toBe("ft bench");
    expect(readFileSync(join(outDir, "results.md"), "utf8")).toContain("| alloc/floor | W=10k OPS=200k |");
    expect(readFileSync(join(outDir, "ratios.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });

  it("runs the demo: the layout and workers sharing one heap", async () => {
    const r = await runCli(["demo", "--blocks", "2000"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1\. The arena/m);
    expect(r.stdout).toMatch(/size classes/);
    expect(r.stdout).toMatch(/^2\. Worker threads share one heap/m);
    expect(r.stdout).toMatch(/2,000 blocks were freed by a thread other than their allocator/);
  });

  it("draws a heap map", async () => {
    const r = await runCli(["heapmap", "--live", "3000", "--ops", "3000", "--big", "3"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/segment \d+ @ [0-9a-f]{8}/);
    expect(r.stdout).toMatch(/live blocks 3,003/);
    expect(r.stdout).toContain("legend:");
  });

  it("runs a short stress test that ends with every block freed and the checker passing", async () => {
    const r = await runCli(["stress", "--threads", "2", "--rounds", "2", "--scale", "4"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no corruption/);
    expect(r.stderr).toMatch(/round 2\/2: .* checker ok/);
  });
});
