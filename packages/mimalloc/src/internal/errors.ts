/** Errors of the allocator. Each message names the function, the argument and what was wrong. */

/** A pointer passed to `free`, `realloc` or `usableSize` is not a live block of this arena. */
export class InvalidPointerError extends Error {
  override name = "InvalidPointerError";
}

/** A block was freed twice (detected when the arena runs with checks). */
export class DoubleFreeError extends InvalidPointerError {
  override name = "DoubleFreeError";
}

/** The arena's structures are inconsistent (reported by `checkArena`). */
export class HeapCorruptionError extends Error {
  override name = "HeapCorruptionError";
  constructor(readonly problems: string[]) {
    super(`heap check failed with ${problems.length} problem(s):\n  ${problems.slice(0, 20).join("\n  ")}`);
  }
}

/** A debug-build invariant failed. Calls sit behind `if (__DEBUG__)` and vanish from release bundles. */
export function assert(condition: boolean, invariant: string): asserts condition {
  if (!condition) throw new Error(`@ft/mimalloc assertion failed: ${invariant}`);
}

export function hex(p: number): string {
  return `0x${(p >>> 0).toString(16)}`;
}

/** Validates a size argument: a non-negative integer (throws TypeError/RangeError naming it). */
export function checkSize(fn: string, name: string, size: unknown): asserts size is number {
  if (typeof size !== "number") throw new TypeError(`${fn}: ${name} must be a number, got ${typeof size}`);
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`${fn}: ${name} must be a non-negative integer, got ${size}`);
  }
}

export function checkTag(fn: string, tag: unknown): asserts tag is number {
  if (typeof tag !== "number" || !Number.isInteger(tag)) {
    throw new TypeError(`${fn}: tag must be an integer 0–15, got ${String(tag)}`);
  }
  if (tag < 0 || tag > 15) throw new RangeError(`${fn}: tag must be an integer 0–15, got ${tag}`);
}

export function checkAlignment(fn: string, alignment: unknown): asserts alignment is number {
  if (typeof alignment !== "number") {
    throw new TypeError(`${fn}: alignment must be a number, got ${typeof alignment}`);
  }
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment > 2 ** 31 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`${fn}: alignment must be a power of two (1 … 2^31), got ${alignment}`);
  }
}
