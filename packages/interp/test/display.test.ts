// Port of test_api.TestInterpreterExec.test_display_preserved_exception: an uncaught
// ExecutionFailed shows the outer error, then "Uncaught in the interpreter:", then the display of
// the error inside the interpreter (its own frames only), on standard error.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { resolveWorkerEntry } from "@ft/worker";
import { describe, expect, it } from "vitest";

describe("TestInterpreterExec", () => {
  it("test_display_preserved_exception", () => {
    const script = fileURLToPath(
      resolveWorkerEntry(new URL("./fixtures/display-script.ts", import.meta.url)),
    );
    const { status, stdout, stderr } = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(status).toBe(1);
    expect(stdout).toBe("");
    const start = stderr.indexOf("ExecutionFailed: ");
    expect(start).toBeGreaterThan(0); // after Node's "file:line / source / caret" header
    const shown = stderr.slice(start);
    expect(shown).toMatch(
      new RegExp(
        "^ExecutionFailed: RuntimeError: uh-oh!\\n\\n" +
          "Uncaught in the interpreter:\\n\\n" +
          "RuntimeError: uh-oh!\\n" +
          " {4}at ham \\(<string>:3:9\\)\\n" +
          " {4}at eggs \\(<string>:6:3\\)\\n" +
          " {4}at <string>:8:1\\n" +
          " {4}at Interpreter\\.exec \\(", // then the caller's own frames
      ),
    );
  });
});
