/** The help texts, generated from the command modules so they never drift from the options. */
import type { Command } from "./commands/command.ts";

export const ABOUT =
  "ft is an executable model of the memory machinery of free-threaded CPython (PEP 703), rebuilt in " +
  "TypeScript on Node.js worker threads. Its heap is a mimalloc-style allocator that lives in one " +
  "SharedArrayBuffer: every worker thread that attaches to it allocates and frees in the same heap, " +
  "also blocks that another thread allocated, and what a thread leaves behind when it exits can be " +
  "reclaimed by the others. This command line shows it at work (demo), measures it against its peers " +
  "(bench), hammers it from many threads (stress) and draws it (heapmap).";

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - indent.length) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join("\n");
}

function optionLines(cmd: Command, indent: string): string[] {
  const rows = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.arg ? ` ${o.arg}` : ""}`;
    return [flag, o.description] as const;
  });
  rows.push(["-h, --help", "show this command's help"]);
  const w = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `${indent}${f.padEnd(w)}  ${d}`);
}

export function mainHelp(commands: readonly Command[], version: string): string {
  const out: string[] = [];
  out.push(`ft ${version} — CPython's free-threaded memory runtime, rebuilt in TypeScript`, "");
  out.push(wrap(ABOUT, 96, ""), "");
  out.push("Usage: ft <command> [options]", "", "Commands:");
  for (const cmd of commands) {
    out.push(`  ${cmd.name.padEnd(9)} ${cmd.summary}`);
    out.push(...optionLines(cmd, "      ").filter((l) => !l.includes("--help")));
  }
  out.push(`  ${"help".padEnd(9)} show this help, or one command's: ft help <command>`);
  out.push(
    "",
    "Options:",
    "  -h, --help     show help",
    "  -v, --version  print the version",
    "",
    "Examples:",
  );
  for (const cmd of commands) for (const ex of cmd.examples.slice(0, 2)) out.push(`  ${ex}`);
  out.push("", "From the repository root: pnpm start runs ft demo, pnpm bench runs ft bench.");
  return `${out.join("\n")}\n`;
}

export function commandHelp(cmd: Command): string {
  const out: string[] = [];
  out.push(`ft ${cmd.name} — ${cmd.summary}`, "");
  if (cmd.details) out.push(wrap(cmd.details, 96, ""), "");
  out.push(`Usage: ft ${cmd.name}${Object.keys(cmd.options).length ? " [options]" : ""}`, "", "Options:");
  out.push(...optionLines(cmd, "  "));
  out.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  return `${out.join("\n")}\n`;
}
