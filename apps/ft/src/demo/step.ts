/**
 * The demo is a list of numbered steps. Each step prints under its own heading and may leave
 * values for later steps in `ctx.shared` (later issues add steps: subinterpreters, the
 * collector finding garbage in abandoned pages).
 */
import type { Mimalloc } from "../runtime/mimalloc.ts";

export interface DemoOptions {
  workers: number;
  blocks: number;
  seed: number;
}

export interface DemoContext {
  mimalloc: Mimalloc;
  options: DemoOptions;
  /** Print one line of the step's output (indented under its heading). */
  say(line?: string): void;
  shared: Record<string, unknown>;
}

export interface DemoStep {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

export function mib(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function size(bytes: number): string {
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}
