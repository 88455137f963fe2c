/**
 * The `ft` command line: `ft <command> [options]`. Each command is a module under commands/;
 * this file only dispatches, prints help and maps errors to exit codes:
 *   0 success, 1 the command failed, 2 bad usage (unknown command or option, bad value).
 */
import { parseArgs } from "node:util";
import { benchCommand } from "./commands/bench.ts";
import { type Command, type OptionValues, UsageError } from "./commands/command.ts";
import { demoCommand } from "./commands/demo.ts";
import { heapmapCommand } from "./commands/heapmap.ts";
import { stressCommand } from "./commands/stress.ts";
import { commandHelp, mainHelp } from "./help.ts";
import { MimallocUnavailableError } from "./runtime/mimalloc.ts";
import { appVersion } from "./runtime/paths.ts";

export const COMMANDS: readonly Command[] = [demoCommand, benchCommand, stressCommand, heapmapCommand];

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Run the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  const version = appVersion();
  if (first === undefined || first === "-h" || first === "--help") {
    process.stdout.write(mainHelp(COMMANDS, version));
    return 0;
  }
  if (first === "-v" || first === "--version") {
    process.stdout.write(`ft ${version}\n`);
    return 0;
  }
  if (first === "help") {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(mainHelp(COMMANDS, version));
      return 0;
    }
    const cmd = findCommand(topic);
    if (!cmd) return usageError(`unknown command ${JSON.stringify(topic)}`);
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  const cmd = findCommand(first);
  if (!cmd) {
    const hint = first.startsWith("-")
      ? `unknown option ${first}`
      : `unknown command ${JSON.stringify(first)}`;
    return usageError(hint);
  }
  let values: OptionValues;
  let positionals: string[];
  try {
    const options = Object.fromEntries(
      Object.entries(cmd.options).map(([name, o]) => [
        name,
        { type: o.type, ...(o.short ? { short: o.short } : {}) },
      ]),
    );
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    return usageError((e as Error).message, cmd);
  }
  if (values.help) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  if (positionals.length > 0) return usageError(`unexpected argument ${JSON.stringify(positionals[0])}`, cmd);
  try {
    return await cmd.run(values, positionals);
  } catch (e) {
    if (e instanceof UsageError) return usageError(e.message, cmd);
    if (e instanceof MimallocUnavailableError) {
      process.stderr.write(`ft ${cmd.name}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`ft ${cmd.name}: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

function usageError(message: string, cmd?: Command): number {
  process.stderr.write(`ft${cmd ? ` ${cmd.name}` : ""}: ${message}\n\n`);
  process.stderr.write(cmd ? commandHelp(cmd) : mainHelp(COMMANDS, appVersion()));
  return 2;
}

// Run when executed (node dist/cli.js …), not when imported by a test.
const invoked = process.argv[1] ?? "";
if (/(^|[\\/])cli\.(js|ts|mjs)$/.test(invoked) || invoked.endsWith("/ft")) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
