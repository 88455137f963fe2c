#!/usr/bin/env node
// Builds the package in the current directory:
//   1. esbuild bundles src/index.ts and every worker entry (src/**/*.worker.ts, plus the
//      package.json "ft.entries" list) to dist/ as ESM, one output per entry, with the package's
//      dependencies left external. `__DEBUG__` is defined (false unless FT_DEBUG=1) and
//      --minify-syntax removes every `if (__DEBUG__) …` branch from release bundles.
//   2. `tsc -b` writes the .d.ts files (project references build the dependencies' first).
// Usage: node ../../tooling/build.mjs [--no-types]
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { join, relative } from "node:path";
import { build } from "esbuild";

const cwd = process.cwd();
const pkg = JSON.parse(readFileSync(join(cwd, "package.json"), "utf8"));
const ft = pkg.ft ?? {};
const debug = process.env.FT_DEBUG === "1";

function workerEntries(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...workerEntries(p));
    else if (/\.worker\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

const entryPoints = [
  ...(existsSync(join(cwd, "src/index.ts")) ? ["src/index.ts"] : []),
  ...workerEntries(join(cwd, "src")).map((p) => relative(cwd, p)),
  ...(ft.entries ?? []),
];
const external = [
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
  ...Object.keys(pkg.optionalDependencies ?? {}),
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
];

rmSync(join(cwd, "dist"), { recursive: true, force: true });
await build({
  entryPoints,
  outdir: "dist",
  outbase: "src",
  bundle: true,
  format: "esm",
  platform: ft.platform ?? "neutral",
  target: "node20",
  sourcemap: true,
  external,
  minifySyntax: true,
  define: { __DEBUG__: debug ? "true" : "false" },
  banner: ft.banner ? { js: ft.banner } : undefined,
  logLevel: "warning",
});

if (!process.argv.includes("--no-types") && existsSync(join(cwd, "tsconfig.json"))) {
  const require = createRequire(import.meta.url);
  const tsc = require.resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-b", "tsconfig.json"], { stdio: "inherit" });
}
