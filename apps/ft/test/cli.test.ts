import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { COMMANDS, main } from "../src/cli.ts";

let stdout = "";
let stderr = "";

beforeEach(() => {
  stdout = "";
  stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("ft command line", () => {
  it("prints a help text that explains ft, every command with its options, and examples", async () => {
    expect(await main(["--help"])).toBe(0);
    expect(stdout).toMatch(/free-threaded CPython/);
    expect(stdout).toMatch(/Usage: ft <command> \[options\]/);
    for (const cmd of COMMANDS) {
      expect(stdout).toContain(`  ${cmd.name} `);
      for (const option of Object.keys(cmd.options)) expect(stdout).toContain(`--${option}`);
    }
    expect(stdout).toMatch(/Examples:\n {2}ft demo/);
  });

  it("shows the help for `ft`, `ft help` and `-h` alike", async () => {
    await main(["-h"]);
    const viaFlag = stdout;
    stdout = "";
    expect(await main([])).toBe(0);
    expect(stdout).toBe(viaFlag);
    stdout = "";
    expect(await main(["help"])).toBe(0);
    expect(stdout).toBe(viaFlag);
  });

  it("prints one command's help with `ft help <command>` and `ft <command> --help`", async () => {
    expect(await main(["help", "bench"])).toBe(0);
    const viaHelp = stdout;
    expect(viaHelp).toMatch(/^ft bench — /);
    expect(viaHelp).toContain("--filter <text>");
    stdout = "";
    expect(await main(["bench", "--help"])).toBe(0);
    expect(stdout).toBe(viaHelp);
  });

  it("prints the version", async () => {
    expect(await main(["--version"])).toBe(0);
    expect(stdout).toMatch(/^ft \d+\.\d+\.\d+\n$/);
  });

  it("rejects an unknown command with a clear error, the help, and exit code 2", async () => {
    expect(await main(["frobnicate"])).toBe(2);
    expect(stderr).toMatch(/^ft: unknown command "frobnicate"/);
    expect(stderr).toContain("Usage: ft <command>");
    expect(stdout).toBe("");
  });

  it("rejects an unknown option of a command with exit code 2 and that command's help", async () => {
    expect(await main(["bench", "--frob"])).toBe(2);
    expect(stderr).toMatch(/^ft bench: .*--frob/);
    expect(stderr).toContain("Usage: ft bench");
  });

  it("rejects bad option values and stray arguments with exit code 2", async () => {
    expect(await main(["bench", "--runs", "zero"])).toBe(2);
    expect(stderr).toMatch(/--runs must be a whole number/);
    stderr = "";
    expect(await main(["stress", "--threads", "0"])).toBe(2);
    expect(stderr).toMatch(/--threads must be a whole number from 1/);
    stderr = "";
    expect(await main(["demo", "extra"])).toBe(2);
    expect(stderr).toMatch(/unexpected argument "extra"/);
    stderr = "";
    expect(await main(["bench", "--filter", "no-such-case"])).toBe(2);
    expect(stderr).toMatch(/matches no case/);
  });

  it("lists the benchmark suites, cases and target ratios without running anything", async () => {
    expect(await main(["bench", "--list"])).toBe(0);
    for (const id of ["alloc/floor", "alloc/ft", "alloc-mt2/ft", "alloc-xt/ft", "alloc-mem/ft-1m"]) {
      expect(stdout).toContain(id);
    }
    expect(stdout).toContain("ft / floor (target ≤ 1.25)");
  });
});
