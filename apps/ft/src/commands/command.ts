/**
 * What a command module exports: its options (node:util parseArgs configuration plus a
 * description for the help text) and `run`, which returns the process exit code.
 */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in the help, e.g. `<n>`. */
  arg?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** A paragraph for `ft help <command>`. */
  details?: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  run(values: OptionValues, positionals: string[]): Promise<number>;
}

/** Bad command-line input: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A whole-number option within [min, max], or `fallback` when absent. */
export function intOption(
  values: OptionValues,
  name: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const text = String(raw).replace(/_/g, "");
  const n = /^\d+(\.\d+)?[kKmM]?$/.test(text)
    ? Number.parseFloat(text) * (/[kK]$/.test(text) ? 1e3 : /[mM]$/.test(text) ? 1e6 : 1)
    : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`,
    );
  }
  return n;
}

export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
}
