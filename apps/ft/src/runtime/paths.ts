/**
 * Where the app's own entry points live, whether this code runs from TypeScript source
 * (`src/…/*.ts`, vitest or tsx) or from an esbuild bundle (`dist/…/*.js`).
 *
 * A bundle's `import.meta.url` is the bundle file, not the source module, so entries are found
 * from the app root (the nearest folder with a package.json) and the output folder this file
 * sits in, never relative to the source layout.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(import.meta.url);

function findAppRoot(start: string): string {
  let dir = dirname(start);
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`ft: no package.json above ${start}`);
    dir = up;
  }
}

let root: string | undefined;
/** The app folder (`apps/ft`), found on first use (a worker bundled to a temp file never asks). */
export function appRoot(): string {
  root ??= findAppRoot(here);
  return root;
}
/** True when running from TypeScript source rather than a built bundle. */
export const FROM_SOURCE = here.endsWith(".ts");
/** The folder the running code came from: `src` from source, `dist` (or another outdir) built. */
export function outDir(): string {
  return join(appRoot(), relative(appRoot(), here).split(sep)[0]!);
}

/**
 * The URL of one of the app's entries, named without extension relative to `src/`
 * (`"bench/case"`, `"bench/alloc-mt.worker"`): the `.ts` source or the built `.js` file.
 */
export function entryUrl(name: string): URL {
  const file = FROM_SOURCE ? join(appRoot(), "src", `${name}.ts`) : join(outDir(), `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`ft: entry ${name} not found at ${file}${FROM_SOURCE ? "" : " (build the app first)"}`);
  }
  return pathToFileURL(file);
}

/** The app's version, from its package.json. */
export function appVersion(): string {
  const pkg = JSON.parse(readFileSync(join(appRoot(), "package.json"), "utf8")) as { version?: string };
  return pkg.version ?? "0.0.0";
}
