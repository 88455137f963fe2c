export interface WorkspacePackage {
  name: string;
  dir: string;
  pkg: Record<string, unknown> & { name?: string; exports?: unknown };
}

/** Every workspace package under rootDir (packages/*, apps/*, tooling/* with a package.json). */
export function readWorkspace(rootDir: string): WorkspacePackage[];
/** Checks rootDir; returns the list of problems (empty when the boundaries hold). */
export function checkBoundaries(rootDir: string): string[];
/** `@scope/name/a/b` → { name: "@scope/name", subpath: "./a/b" }; no subpath → ".". */
export function splitSpecifier(specifier: string): { name: string; subpath: string };
/** Whether `exports` resolves subpath to something (exact key, else the longest `*` pattern). */
export function isExported(exports: unknown, subpath: string): boolean;
/** The text with comments and the contents of string literals blanked; same length, same lines. */
export function blankCommentsAndStrings(text: string): string;
/** Every cycle in the workspace dependency graph, each as a path that ends where it starts. */
export function findCycles(packages: WorkspacePackage[]): string[][];
