#!/usr/bin/env node
// Builds the package in the current directory:
//   1. esbuild bundles src/index.ts and every worker entry (src/**/*.worker.ts, plus the
//      package.json "ft.entries" list) to dist/ as ESM, one output per entry, with the package's
//      dependencies left external. `__DEBUG__` is defined (false unless FT_DEBUG=1) and
//      --minify-syntax removes every `if (__DEBUG__) …` branch from release bundles.
//   2. `tsc -b` writes the .d.ts files (project references build the dependencies' first).
// Usage: node ../../tooling/build.mjs [--no-types]
// The esbuild settings are exported (`esbuildOptions`) so that tests check the very build that ships.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

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

/** Whether builds are debug builds by default: `FT_DEBUG=1` keeps every `if (__DEBUG__)` branch. */
export function debugFromEnv(env = process.env) {
  return env.FT_DEBUG === "1";
}

/** The esbuild options that build the package in pkgDir (paths relative to pkgDir). */
export function esbuildOptions(pkgDir, { debug = debugFromEnv() } = {}) {
  const dir = resolve(pkgDir);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const ft = pkg.ft ?? {};
  const entryPoints = [
    ...(existsSync(join(dir, "src/index.ts")) ? ["src/index.ts"] : []),
    ...workerEntries(join(dir, "src")).map((p) => relative(dir, p)),
    ...(ft.entries ?? []),
  ];
  const external = [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
    ...builtinModules,
    ...builtinModules.map((m) => `node:${m}`),
  ];
  return {
    absWorkingDir: dir,
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
  };
}

/** Builds the package in pkgDir: a clean dist/ with the bundles, then the .d.ts files (`tsc -b`). */
export async function buildPackage(pkgDir, { debug = debugFromEnv(), types = true } = {}) {
  const dir = resolve(pkgDir);
  rmSync(join(dir, "dist"), { recursive: true, force: true });
  await build(esbuildOptions(dir, { debug }));
  if (types && existsSync(join(dir, "tsconfig.json"))) {
    const require = createRequire(import.meta.url);
    const tsc = require.resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-b", "tsconfig.json"], { cwd: dir, stdio: "inherit" });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildPackage(process.cwd(), { types: !process.argv.includes("--no-types") });
}
