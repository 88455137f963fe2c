/**
 * Test support: the built CLI (apps/ft/dist). Built once with the project's build script
 * (esbuild only, no .d.ts) when dist is missing or older than any source file, so the tests
 * run the same bundles that users run.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const APP = fileURLToPath(new URL("..", import.meta.url));
export const CLI = join(APP, "dist", "cli.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const sources = Math.max(newestMtime(join(APP, "src")), statSync(join(APP, "package.json")).mtimeMs);
  if (existsSync(CLI) && existsSync(join(APP, "dist/bench/case.js")) && statSync(CLI).mtimeMs >= sources)
    return;
  execFileSync(process.execPath, [join(APP, "../../tooling/build.mjs"), "--no-types"], {
    cwd: APP,
    stdio: "pipe",
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI with `args`; resolves when it exits. */
export function runCli(args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: APP, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
