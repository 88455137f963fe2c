// Test helpers: runtimes that finalize after each test, output captured.
import { afterEach } from "vitest";
import { Runtime, type RuntimeOptions } from "../../src/index.ts";

const open: Runtime[] = [];

afterEach(() => {
  while (open.length > 0) {
    const rt = open.pop()!;
    if (rt.finalized) continue;
    // Finalize from the thread's main state in that runtime, if it still has one attached.
    if (rt.currentThreadState()?.interp === rt.mainInterpreterRecord) rt.finalize();
  }
});

/** A runtime for one test (finalized after it), with subinterpreter output collected in `out`. */
export function newRuntime(options: RuntimeOptions = {}): { rt: Runtime; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const rt = Runtime.create({
    maxBytes: 64 << 20,
    checks: true,
    stopTimeoutMs: 2000,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    ...options,
  });
  open.push(rt);
  return { rt, out, err };
}
