/**
 * Start a `worker_threads` Worker from a TypeScript source file or from built JavaScript.
 *
 * - A `.js`/`.mjs` entry (what `dist/` holds) starts as it is.
 * - A `.ts` entry (tests, running from source) is bundled once per process with esbuild into a
 *   temporary `.mjs` file — resolving workspace packages through their `@ft/source` export
 *   condition and defining `__DEBUG__` as `true` — and the worker starts from that file. This
 *   costs ~15 ms once per entry and ~40 ms per worker start, against ~200 ms for a tsx loader in
 *   every worker (see the toolchain notes); it also works on Node 20, where `--import tsx` does not
 *   reach workers.
 */
import { createHash } from "node:crypto";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

const bundled = new Map<string, URL>();

/** Where a `.ts` worker entry runs from: its bundle, made on first use (cached per process). */
export function resolveWorkerEntry(entry: URL | string): URL {
  const url = typeof entry === "string" ? pathToFileURL(entry) : entry;
  const path = fileURLToPath(url);
  if (!path.endsWith(".ts")) return url;
  const mtime = statSync(path).mtimeMs;
  const key = `${path}@${mtime}`;
  const cached = bundled.get(key);
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let esbuild: typeof import("esbuild");
  try {
    esbuild = require("esbuild") as typeof import("esbuild");
  } catch {
    throw new Error(`startWorker: running the TypeScript entry ${path} needs esbuild installed`);
  }
  const result = esbuild.buildSync({
    entryPoints: [path],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    conditions: ["@ft/source"],
    define: { __DEBUG__: "true" },
    sourcemap: "inline",
    logLevel: "silent",
    // CommonJS dependencies bundled into ESM need a require.
    banner: { js: "import { createRequire as __ftCreateRequire } from 'node:module'; const require = __ftCreateRequire(import.meta.url);" },
  });
  const dir = join(tmpdir(), "ft-workers");
  mkdirSync(dir, { recursive: true });
  const hash = createHash("sha1").update(key).digest("hex").slice(0, 16);
  const out = join(dir, `${hash}.mjs`);
  writeFileSync(out, result.outputFiles[0]!.contents);
  const outUrl = pathToFileURL(out);
  bundled.set(key, outUrl);
  return outUrl;
}

/** Start a worker thread running `entry` (a `.ts` source or a built `.js` file). */
export function startWorker(entry: URL | string, options: WorkerOptions = {}): Worker {
  return new Worker(resolveWorkerEntry(entry), options);
}

/** Wait until `worker` has exited; resolves with its exit code. */
export function workerExit(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once("exit", resolve));
}
