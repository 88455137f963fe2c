/**
 * The collector's settings and counters of one interpreter, by name: what the Python `gc` module
 * reads and writes (`gc.enable()`, thresholds, `gc.set_debug`, `gc.get_count()`, `gc.get_stats()`,
 * `gc.garbage`). The values live in the interpreter's gc state in the arena (gc-state-layout.ts),
 * so every thread of the interpreter sees the same ones; a {@link GcControl} is only a view.
 *
 *   Python                          GcControl                         state word
 *   ------------------------------  --------------------------------  ----------------------
 *   gc.enable() / disable()         enabled = true / false            GS_ENABLED
 *   gc.get/set_threshold            threshold0, threshold1, threshold2 GS_THRESHOLD0..2
 *   gc.get/set_debug                debug                             GS_DEBUG
 *   gc.get_count()                  youngCount, old0Count, old1Count  GS_XYOUNG_COUNT, GS_OLD*_COUNT
 *   gc.get_stats()                  stats(generation)                 GS_STATS + 3·generation
 *   gc.garbage                      garbage                           GS_GARBAGE
 */
import {
  GS_DEBUG,
  GS_ENABLED,
  GS_FREEZE_ACTIVE,
  GS_GARBAGE,
  GS_LONG_LIVED_TOTAL,
  GS_OLD0_COUNT,
  GS_OLD1_COUNT,
  GS_STATS,
  GS_STATS_WORDS,
  GS_THRESHOLD0,
  GS_THRESHOLD1,
  GS_THRESHOLD2,
  GS_XYOUNG_COUNT,
  gsField,
} from "./gc-state-layout.ts";
import { checkSpace, describeArg, type ObjectSpace } from "./space.ts";

/** One generation's statistics (an entry of Python's `gc.get_stats()`). */
export interface GenerationStats {
  /** Collections of this generation. */
  collections: number;
  /** Objects they freed. */
  collected: number;
  /** Objects they found unreachable but could not free (legacy finalizers and what they reach). */
  uncollectable: number;
}

const NUM_GENERATIONS = 3;

/**
 * Named access to the collector's state of the interpreter of a space: make it with
 * {@link gcControl}. Reads and writes are atomic word accesses, so any thread may use its own
 * control at any time; a value read may be stale by the time it is used, as in CPython.
 */
export class GcControl {
  /** The space whose interpreter's state this is. */
  readonly space: ObjectSpace;

  /** @internal Use {@link gcControl}. */
  constructor(space: ObjectSpace) {
    this.space = space;
  }

  private load(word: number): number {
    return Atomics.load(this.space.arena.i32, gsField(this.space.gcState, word));
  }

  private store(word: number, value: number): void {
    Atomics.store(this.space.arena.i32, gsField(this.space.gcState, word), value);
  }

  /** Automatic collection on (`gc.isenabled()`); `collect()` runs either way. */
  get enabled(): boolean {
    return this.load(GS_ENABLED) !== 0;
  }
  set enabled(on: boolean) {
    this.store(GS_ENABLED, on ? 1 : 0);
  }

  /** The young threshold (`young.threshold`, 2000): 0 disables automatic collection. */
  get threshold0(): number {
    return this.load(GS_THRESHOLD0);
  }
  set threshold0(value: number) {
    this.store(GS_THRESHOLD0, checkInt32("threshold0", value));
  }

  /** `old[0].threshold` (10); 0 makes every due collection run regardless of the long-lived count. */
  get threshold1(): number {
    return this.load(GS_THRESHOLD1);
  }
  set threshold1(value: number) {
    this.store(GS_THRESHOLD1, checkInt32("threshold1", value));
  }

  /** `old[1].threshold`: kept for `gc.set_threshold`, not used by the free-threaded collector. */
  get threshold2(): number {
    return this.load(GS_THRESHOLD2);
  }
  set threshold2(value: number) {
    this.store(GS_THRESHOLD2, checkInt32("threshold2", value));
  }

  /** The debug flags (`gc.set_debug`): DEBUG_STATS, DEBUG_COLLECTABLE, … (any int32 is kept). */
  get debug(): number {
    return this.load(GS_DEBUG);
  }
  set debug(flags: number) {
    this.store(GS_DEBUG, checkInt32("debug", flags));
  }

  /**
   * Allocations minus deallocations of GC objects since the last collection, as added so far:
   * each thread buffers up to ±512 of its own (`space.flushAllocCount()` adds the calling
   * thread's, as `gc.get_count()` does).
   */
  get youngCount(): number {
    return this.load(GS_XYOUNG_COUNT);
  }

  /** Collections of generation 0 since the last collection of generation 1 or 2 (`old[0].count`). */
  get old0Count(): number {
    return this.load(GS_OLD0_COUNT);
  }

  /** Collections of generation 1 since the last collection of generation 2 (`old[1].count`). */
  get old1Count(): number {
    return this.load(GS_OLD1_COUNT);
  }

  /** Reachable objects the last collection found (`long_lived_total`). */
  get longLivedTotal(): number {
    return this.load(GS_LONG_LIVED_TOTAL);
  }

  /** Whether `gc.freeze()` was called (and `gc.unfreeze()` not since). */
  get freezeActive(): boolean {
    return this.load(GS_FREEZE_ACTIVE) !== 0;
  }

  /** The `gc.garbage` list (a borrowed reference; it belongs to the state). */
  get garbage(): number {
    return this.load(GS_GARBAGE) >>> 0;
  }

  /**
   * A snapshot of one generation's statistics (`gc.get_stats()[generation]`).
   *
   * @throws RangeError "invalid generation" outside 0–2.
   */
  stats(generation: number): GenerationStats {
    if (!(Number.isInteger(generation) && generation >= 0 && generation < NUM_GENERATIONS))
      throw new RangeError(`invalid generation ${typeof generation === "number" ? generation : describeArg(generation)} (stats: expected 0, 1 or 2)`);
    const w = GS_STATS + generation * GS_STATS_WORDS;
    return { collections: this.load(w), collected: this.load(w + 1), uncollectable: this.load(w + 2) };
  }
}

function checkInt32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff)
    throw new RangeError(`${name} must be an integer in the C int range, got ${value}`);
  return value;
}

const controls = new WeakMap<ObjectSpace, GcControl>();

/**
 * The collector's state of `space`'s interpreter, by name (one control per space):
 *
 * ```ts
 * const gcs = gcControl(space);
 * gcs.enabled = false;             // gc.disable()
 * gcs.debug = DEBUG_STATS;         // gc.set_debug(gc.DEBUG_STATS)
 * gcs.stats(2).collections;        // gc.get_stats()[2]["collections"]
 * ```
 */
export function gcControl(space: ObjectSpace): GcControl {
  checkSpace("gcControl", space);
  let c = controls.get(space);
  if (c === undefined) {
    c = new GcControl(space);
    controls.set(space, c);
  }
  return c;
}
