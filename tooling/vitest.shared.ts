// Shared vitest configuration for every package: sources are resolved through the
// "@ft/source" export condition (no build needed for a package's own tests), `__DEBUG__` is
// true, and a JSON report is written for .ci/run to sum.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export function ftVitestConfig(options: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { conditions: ["@ft/source"] },
    ssr: { resolve: { conditions: ["@ft/source"] } },
    define: { __DEBUG__: "true" },
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: [fileURLToPath(new URL("./vitest.setup.ts", import.meta.url))],
      testTimeout: options.testTimeout ?? 30_000,
      hookTimeout: 30_000,
      reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    },
  });
}
