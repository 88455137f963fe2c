import { describe, expect, it } from "vitest";
import { gcAbandonedStep } from "../src/demo/gc-abandoned.ts";
import type { DemoContext } from "../src/demo/step.ts";

describe("demo step: the collector and exited workers", () => {
  it("frees the cyclic garbage exited, exiting-without-cleanup and terminated workers left, and keeps their survivors", async () => {
    const lines: string[] = [];
    const ctx = {
      say: (line = "") => lines.push(line),
      options: { workers: 2, blocks: 2000, seed: 42 },
      shared: {},
    } as unknown as DemoContext;
    await gcAbandonedStep.run(ctx);
    const text = lines.join("\n");
    expect(text).toMatch(/startThread reaped 2 thread states/);
    expect(text).toMatch(/gc: done, 36,000 unreachable|gc: done, 36000 unreachable/);
    expect(text).toMatch(/collect\(\) = 36,000 in/);
    expect(text).toMatch(/the 3 kept rings are intact .*validation: no problems/);
  });
});
