/**
 * The lines the collector writes to stderr under `gc.set_debug(...)`, worded as CPython's
 * (`Python/gc_free_threading.c`, `Python/gc.c`). Each function returns the exact text CPython
 * writes, trailing newline included, so a caller only concatenates.
 *
 *   DEBUG_STATS          gc: collecting generation 2...
 *                        gc: objects in each generation: 12 0 4810       (default build only)
 *                        gc: objects in permanent generation: 0          (default build only)
 *                        gc: done, 4 unreachable, 0 uncollectable, 0.0017s elapsed
 *   DEBUG_COLLECTABLE    gc: collectable <list 0x7f3a20>
 *   DEBUG_UNCOLLECTABLE  gc: uncollectable <Lazarus 0x7f3a40>
 *
 * The free-threaded build prints no per-generation counts (its `show_stats_each_generations` is
 * a TODO, since it keeps no generation lists); the two count lines are here for the GIL mode.
 */
import { formatFixed } from "@ft/gc";
import { DEBUG_UNCOLLECTABLE, type Generation, NUM_GENERATIONS } from "./constants.ts";

/** `"gc: collecting generation %d...\n"`, the first DEBUG_STATS line. */
export function formatCollecting(generation: Generation): string {
  return `gc: collecting generation ${generation}...\n`;
}

/** `"gc: objects in each generation: %zd %zd %zd\n"` (default build's `show_stats_each_generations`). */
export function formatObjectsInEachGeneration(counts: readonly number[]): string {
  if (!Array.isArray(counts)) {
    throw new TypeError(`formatObjectsInEachGeneration: counts must be an array of ${NUM_GENERATIONS} numbers, got ${typeof counts}`);
  }
  if (counts.length !== NUM_GENERATIONS) {
    throw new RangeError(`expected ${NUM_GENERATIONS} generation counts, got ${counts.length}`);
  }
  return `gc: objects in each generation: ${counts.join(" ")}\n`;
}

/** `"gc: objects in permanent generation: %zd\n"` (default build; frozen objects). */
export function formatObjectsInPermanentGeneration(count: number): string {
  return `gc: objects in permanent generation: ${count}\n`;
}

/**
 * `"gc: done, %zd unreachable, %zd uncollectable, %.4fs elapsed\n"`, the last DEBUG_STATS line.
 * "unreachable" counts both the collected and the uncollectable objects (CPython prints `n+m`).
 * The seconds are rounded as C's `printf("%.4f")` does: ties (e.g. 0.03125) go to even (@ft/gc's
 * `formatFixed`, which the collector's own DEBUG_STATS line uses too).
 */
export function formatCollectionDone(
  collected: number,
  uncollectable: number,
  elapsedSeconds: number,
): string {
  return `gc: done, ${collected + uncollectable} unreachable, ${uncollectable} uncollectable, ${formatFixed(elapsedSeconds, 4)}s elapsed\n`;
}

/** `"gc: %s <%s %p>\n"` (`debug_cycle`): one object found collectable or uncollectable. */
export function formatDebugCycle(
  kind: "collectable" | "uncollectable",
  typeName: string,
  address: number,
): string {
  return `gc: ${kind} <${typeName} ${address === 0 ? "(nil)" : `0x${address.toString(16)}`}>\n`;
}

/**
 * The ResourceWarning `_PyGC_DumpShutdownStats` issues when `gc.garbage` is not empty at
 * shutdown (and DEBUG_SAVEALL is off): with DEBUG_UNCOLLECTABLE set the garbage is listed next,
 * so the hint to set it is left out.
 */
export function formatUncollectableAtShutdown(count: number, debugFlags: number): string {
  return debugFlags & DEBUG_UNCOLLECTABLE
    ? `gc: ${count} uncollectable objects at shutdown`
    : `gc: ${count} uncollectable objects at shutdown; use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them`;
}
