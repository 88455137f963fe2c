import type { BuildOptions } from "esbuild";

/** Whether builds are debug builds by default: `FT_DEBUG=1` keeps every `if (__DEBUG__)` branch. */
export function debugFromEnv(env?: Record<string, string | undefined>): boolean;
/** The esbuild options that build the package in pkgDir (paths relative to pkgDir). */
export function esbuildOptions(pkgDir: string, options?: { debug?: boolean }): BuildOptions;
/** Builds the package in pkgDir: a clean dist/ with the bundles, then the .d.ts files (`tsc -b`). */
export function buildPackage(pkgDir: string, options?: { debug?: boolean; types?: boolean }): Promise<void>;
