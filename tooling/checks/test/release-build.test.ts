import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { esbuildOptions } from "../../build.mjs";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/debug-asserts/", import.meta.url));
const buildScript = join(repoRoot, "tooling/build.mjs");
const MESSAGES = ["the page must hold a free block", "used must not be negative"];
/** A call of `assert` (esbuild may rename it `assert2`), not its declaration. */
const ASSERT_CALL = /(?<!function\s+)\bassert\d*\s*\(/;

/** dist/index.js of the fixture, built in memory with the exact options of tooling/build.mjs. */
async function bundle(debug: boolean): Promise<string> {
  const result = await build({ ...esbuildOptions(fixture, { debug }), write: false });
  const index = result.outputFiles.find((f) => f.path.endsWith("index.js"));
  return index!.text;
}

describe("release bundles", () => {
  it("carry no assertion call and no assertion message", async () => {
    const js = await bundle(false);
    expect(js).not.toMatch(ASSERT_CALL);
    for (const message of MESSAGES) expect(js).not.toContain(message);
    expect(js).toContain("free - 1");
  });

  it("keep the assertions in an FT_DEBUG=1 build", async () => {
    const js = await bundle(true);
    expect(js).toMatch(ASSERT_CALL);
    for (const message of MESSAGES) expect(js).toContain(message);
  });

  it("are what `node tooling/build.mjs` writes, release by default and debug with FT_DEBUG=1", () => {
    const dir = mkdtempSync(join(tmpdir(), "ft-build-"));
    try {
      cpSync(fixture, dir, { recursive: true });
      const run = (env: NodeJS.ProcessEnv) => {
        execFileSync(process.execPath, [buildScript, "--no-types"], { cwd: dir, env, stdio: "pipe" });
        return readFileSync(join(dir, "dist/index.js"), "utf8");
      };
      const release = run({ ...process.env, FT_DEBUG: "" });
      expect(release).not.toMatch(ASSERT_CALL);
      expect(release).not.toContain(MESSAGES[0]);
      const debug = run({ ...process.env, FT_DEBUG: "1" });
      expect(debug).toMatch(ASSERT_CALL);
      expect(debug).toContain(MESSAGES[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("of @ft/mimalloc carry no assertion call", (ctx) => {
    const built = join(repoRoot, "packages/mimalloc/dist/index.js");
    if (!existsSync(built)) {
      ctx.skip("packages/mimalloc/dist/index.js is absent: run `pnpm turbo run build --filter=@ft/mimalloc`");
    }
    if (process.env.FT_DEBUG === "1") ctx.skip("FT_DEBUG=1: @ft/mimalloc was built with its assertions");
    expect(readFileSync(built, "utf8")).not.toMatch(ASSERT_CALL);
  });
});
