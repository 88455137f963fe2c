import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { blankCommentsAndStrings, checkBoundaries, isExported } from "../../check-boundaries.mjs";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

interface FixturePackage {
  deps?: Record<string, string>;
  devDeps?: Record<string, string>;
  platform?: "neutral" | "node";
  exports?: unknown;
  files?: Record<string, string>;
}

const EXPORTS = { ".": "./src/index.ts", "./internal/*": null, "./package.json": "./package.json" };

/** A workspace in a temp dir: { "packages/a": { … } } → package @ft/a with the given files. */
function workspace(packages: Record<string, FixturePackage>): string {
  const root = mkdtempSync(join(tmpdir(), "ft-boundaries-"));
  roots.push(root);
  for (const [dir, p] of Object.entries(packages)) {
    const name = `@ft/${dir.split("/").pop()}`;
    const pkg = {
      name,
      version: "0.0.0",
      type: "module",
      exports: p.exports ?? EXPORTS,
      ft: { platform: p.platform ?? "neutral" },
      dependencies: p.deps ?? {},
      devDependencies: p.devDeps ?? {},
    };
    const files = { "src/index.ts": "export const x = 1;\n", ...p.files };
    write(join(root, dir, "package.json"), JSON.stringify(pkg, null, 2));
    for (const [path, text] of Object.entries(files)) write(join(root, dir, path), text);
  }
  return root;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

describe("checkBoundaries", () => {
  it("passes a workspace whose packages import each other through their exports", () => {
    const root = workspace({
      "packages/mimalloc": {},
      "packages/pymem": {
        deps: { "@ft/mimalloc": "workspace:*" },
        files: { "src/index.ts": 'import { x } from "@ft/mimalloc";\nexport const y = x;\n' },
      },
    });
    expect(checkBoundaries(root)).toEqual([]);
  });

  it("reports a deep import of @ft/mimalloc/internal/x", () => {
    const root = workspace({
      "packages/mimalloc": {},
      "packages/pymem": {
        deps: { "@ft/mimalloc": "workspace:*" },
        files: { "src/index.ts": '// a comment\nimport { pageFree } from "@ft/mimalloc/internal/x";\n' },
      },
    });
    const problems = checkBoundaries(root);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^packages\/pymem\/src\/index\.ts:2: .*@ft\/mimalloc\/internal\/x.*exports/);
  });

  it("reports a deep import from a test file and one that no exports key matches", () => {
    const root = workspace({
      "packages/mimalloc": {},
      "packages/pymem": {
        devDeps: { "@ft/mimalloc": "workspace:*" },
        files: {
          "test/a.test.ts": 'export type { T } from "@ft/mimalloc/src/layout.ts";\n',
          "test/b.test.ts": 'const m = await import("@ft/mimalloc/internal/page");\n',
        },
      },
    });
    const problems = checkBoundaries(root);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain("packages/pymem/test/a.test.ts:1: imports @ft/mimalloc/src/layout.ts");
    expect(problems[1]).toContain("packages/pymem/test/b.test.ts:1: imports @ft/mimalloc/internal/page");
  });

  it("reports an import of a workspace package that is not declared in the dependencies", () => {
    const root = workspace({
      "packages/mimalloc": {},
      "packages/gc": { files: { "src/index.ts": 'import { x } from "@ft/mimalloc";\nexport { x };\n' } },
    });
    expect(checkBoundaries(root)).toEqual([
      "packages/gc/src/index.ts:1: imports @ft/mimalloc, which @ft/gc does not declare in its dependencies",
    ]);
  });

  it("reports a relative path into another package", () => {
    const root = workspace({
      "packages/mimalloc": {},
      "packages/pymem": {
        deps: { "@ft/mimalloc": "workspace:*" },
        files: {
          "src/index.ts": 'import { x } from "../../mimalloc/src/index.ts";\nexport { x };\n',
          "test/w.test.ts": 'const w = new URL("../../mimalloc/src/a.worker.ts", import.meta.url);\n',
          "src/own.ts": 'export * from "./index.ts";\n',
        },
      },
    });
    const problems = checkBoundaries(root);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^packages\/pymem\/src\/index\.ts:1: .*reaches into @ft\/mimalloc/);
    expect(problems[1]).toMatch(/^packages\/pymem\/test\/w\.test\.ts:1: .*reaches into @ft\/mimalloc/);
  });

  it("reports the dependency cycle a → b → a with its path", () => {
    const root = workspace({
      "packages/a": { deps: { "@ft/b": "workspace:*" } },
      "packages/b": { devDeps: { "@ft/a": "workspace:*" } },
      "packages/c": { deps: { "@ft/a": "workspace:*" } },
    });
    expect(checkBoundaries(root)).toEqual(["dependency cycle: @ft/a → @ft/b → @ft/a"]);
  });

  it("reports node:fs, a bare builtin, process and Buffer in a portable-core package", () => {
    const root = workspace({
      "packages/mimalloc": {
        files: {
          "src/index.ts": [
            'import { readFileSync } from "node:fs";',
            'import { Worker } from "worker_threads";',
            "export const env = process.env.X;",
            "export const b = Buffer.alloc(1);",
            "",
          ].join("\n"),
        },
      },
    });
    expect(checkBoundaries(root)).toEqual([
      'packages/mimalloc/src/index.ts:1: portable-core package @ft/mimalloc imports the Node builtin "node:fs"',
      'packages/mimalloc/src/index.ts:2: portable-core package @ft/mimalloc imports the Node builtin "worker_threads"',
      "packages/mimalloc/src/index.ts:3: portable-core package @ft/mimalloc uses `process`",
      "packages/mimalloc/src/index.ts:4: portable-core package @ft/mimalloc uses `Buffer`",
    ]);
  });

  it("lets node packages, tests and comments, strings and member names mention Node", () => {
    const root = workspace({
      "packages/interp": {
        platform: "node",
        files: {
          "src/index.ts": 'import { Worker } from "node:worker_threads";\nexport const p = process.pid;\n',
        },
      },
      "packages/mimalloc": {
        files: {
          "src/index.ts": [
            "// process the free list; see node:fs",
            '/* import { x } from "node:fs"; Buffer */',
            'export const msg = "cannot process a Buffer from node:fs";',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a fixture
            "export const t = `process ${1 + 1} Buffer`;",
            "export const o = { process: 1 };",
            "export const q = o.process;",
            "export const r = /process/.test(msg);",
            "",
          ].join("\n"),
          "test/a.test.ts": 'import { readFileSync } from "node:fs";\nexport const e = process.env;\n',
        },
      },
    });
    expect(checkBoundaries(root)).toEqual([]);
  });
});

describe("isExported", () => {
  it("follows Node's exports rules: exact keys, the longest pattern, null blocks", () => {
    const exports = {
      ".": "./i.js",
      "./internal/*": null,
      "./x/*.js": "./x/*.js",
      "./package.json": "./p.json",
    };
    expect(isExported(exports, ".")).toBe(true);
    expect(isExported(exports, "./package.json")).toBe(true);
    expect(isExported(exports, "./x/a.js")).toBe(true);
    expect(isExported(exports, "./internal/a")).toBe(false);
    expect(isExported(exports, "./other")).toBe(false);
    expect(isExported({ types: "./i.d.ts", default: "./i.js" }, "./a")).toBe(false);
    expect(isExported(undefined, ".")).toBe(true);
  });
});

describe("blankCommentsAndStrings", () => {
  it("keeps the length and the lines of the text", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a fixture
    const text = 'a = "x // y"; // c\nb = `t ${"u"} v` / 2; /* d\ne */ c = /"/g;\n';
    const code = blankCommentsAndStrings(text);
    expect(code).toHaveLength(text.length);
    expect(code.split("\n")).toHaveLength(text.split("\n").length);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a fixture
    expect(code).toBe('a = "      ";     \nb = `  ${" "}  ` / 2;     \n     c = / /g;\n');
  });
});

describe("the repository", () => {
  it("keeps its package boundaries", () => {
    expect(checkBoundaries(repoRoot)).toEqual([]);
  });
});
