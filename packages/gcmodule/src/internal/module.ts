/**
 * The `gc` module of one interpreter, as seen from one thread (`Modules/gcmodule.c` over the core
 * collector, as CPython's module is over `Python/gc_free_threading.c`). Every function is a thin
 * layer over @ft/gc: the state it reads and writes (enabled, thresholds, counts, debug flags,
 * stats, the `garbage` list) lives in the interpreter's gc state in the arena, so every thread of
 * the interpreter sees the same values; only `callbacks` (JavaScript functions) are per thread.
 *
 *   Python                        here                          state
 *   ----------------------------  ----------------------------  ---------------------------------
 *   gc.enable() / disable()       enable() / disable()          control.enabled (automatic collection)
 *   gc.collect(generation=2)      collect(generation = 2)       runs @ft/gc's collect (MANUAL)
 *   gc.get_count()                getCount()                    control.youngCount, old0Count, old1Count
 *   gc.get/set_threshold          getThreshold / setThreshold   control.threshold0..2
 *   gc.get/set_debug              getDebug / setDebug           control.debug
 *   gc.get_objects(generation)    getObjects(generation)        a new list (withWorldStopped walk)
 *   gc.get_stats()                getStats()                    control.stats(g), snapshot
 *   gc.get_referrers(*objs)       getReferrers(...objs)         a new list (withWorldStopped walk)
 *   gc.get_referents(*objs)       getReferents(...objs)         a new list (withWorldStopped)
 *   gc.is_tracked / is_finalized  isTracked / isFinalized       ob_gc_bits
 *   gc.freeze / unfreeze / …      freeze / unfreeze / …         FROZEN bits
 *   gc.garbage                    garbage                       control.garbage (a list object)
 *   gc.callbacks                  callbacks                     this thread's array
 *
 * "control" is @ft/gc's `gcControl(space)`: the module uses only @ft/gc's public API.
 *
 * Objects are arena offsets (`0` is None). Lists returned are NEW references (decref them), as
 * the C API's; arguments are borrowed.
 */
import {
  collect as coreCollect,
  freeze as coreFreeze,
  getFreezeCount as coreGetFreezeCount,
  unfreeze as coreUnfreeze,
  GC_FROZEN_MASK,
  GC_UNREACHABLE_MASK,
  type GcControl,
  GcReason,
  gcControl,
  ObjectSpace,
  obGcBits,
  TPFLAGS_HAVE_GC,
  tpFlags,
  type UnraisableHook,
  visitObjectsWorldStopped,
  withWorldStopped,
} from "@ft/gc";
import { pyTypeName } from "@ft/interp";
import {
  checkDebugFlags,
  checkGeneration,
  checkObjectArgument,
  checkObjectsGeneration,
  checkThreshold,
} from "./arguments.ts";
import {
  DEBUG_COLLECTABLE,
  DEBUG_LEAK,
  DEBUG_SAVEALL,
  DEBUG_STATS,
  DEBUG_UNCOLLECTABLE,
  NUM_GENERATIONS,
} from "./constants.ts";
import { formatUncollectableAtShutdown } from "./debug-output.ts";

/** What a gc callback is told (`info` of Python's `gc.callbacks`). */
export interface GcCallbackInfo {
  generation: number;
  collected: number;
  uncollectable: number;
}

/** A gc callback: called with "start" before and "stop" after each collection this thread runs. */
export type GcCallback = (phase: "start" | "stop", info: GcCallbackInfo) => void;

/** One generation's entry of {@link GcModule.getStats} (Python's dict). */
export interface GcGenerationStats {
  collections: number;
  collected: number;
  uncollectable: number;
}

/** Where text goes (the runtime's `stderr` option has this shape): each call gets whole lines. */
export type TextSink = (text: string) => void;

/** Options of {@link gcModule} / {@link gcModuleFor}. */
export interface GcModuleOptions {
  /**
   * Where the DEBUG_* lines and the shutdown warning go (CPython's `sys.stderr`). Replaces the
   * space's `stderr` (the collector writes there). @defaultValue the space's (`console.error`)
   */
  stderr?: TextSink;
  /** Where errors in callbacks and finalizers go ("Exception ignored in …"). @defaultValue the space's */
  onUnraisable?: UnraisableHook;
  /**
   * `repr(obj)` for the DEBUG_UNCOLLECTABLE listing of `gc.garbage` at shutdown: an override of
   * the types' own `repr` behaviours (`registerTypeBehaviour(name, { repr })`, Python's
   * `__repr__`), which `space.repr` uses. @defaultValue `space.repr`
   */
  repr?: (space: ObjectSpace, op: number) => string;
}

/** The `gc` module of the interpreter of `space`, for the calling thread. Make it with {@link gcModule}. */
export class GcModule {
  /** `gc.DEBUG_STATS`. */
  readonly DEBUG_STATS = DEBUG_STATS;
  /** `gc.DEBUG_COLLECTABLE`. */
  readonly DEBUG_COLLECTABLE = DEBUG_COLLECTABLE;
  /** `gc.DEBUG_UNCOLLECTABLE`. */
  readonly DEBUG_UNCOLLECTABLE = DEBUG_UNCOLLECTABLE;
  /** `gc.DEBUG_SAVEALL`. */
  readonly DEBUG_SAVEALL = DEBUG_SAVEALL;
  /** `gc.DEBUG_LEAK`. */
  readonly DEBUG_LEAK = DEBUG_LEAK;

  /** The calling thread's object space in the interpreter. */
  readonly space: ObjectSpace;
  /** The interpreter's collector state, by name (@ft/gc's `gcControl(space)`). */
  readonly control: GcControl;
  /** @internal */
  reprOf: (space: ObjectSpace, op: number) => string;
  private sink: TextSink | null = null;

  /** @internal Use {@link gcModule} or {@link gcModuleFor}. */
  constructor(space: ObjectSpace, options: GcModuleOptions = {}) {
    this.space = space;
    this.control = gcControl(space);
    this.reprOf = options.repr ?? ((s, op) => s.repr(op));
    if (options.stderr !== undefined) this.setStderr(options.stderr);
    if (options.onUnraisable !== undefined) space.onUnraisable = options.onUnraisable;
  }

  /** Send the DEBUG_* lines and the shutdown warning to `sink` (whole lines, newline included). */
  setStderr(sink: TextSink): void {
    if (typeof sink !== "function") throw new TypeError("setStderr: sink must be a function");
    this.sink = sink;
    this.space.stderr = (line) => sink(`${line}\n`);
  }

  private write(text: string): void {
    if (this.sink !== null) this.sink(text);
    else this.space.stderr(text.endsWith("\n") ? text.slice(0, -1) : text);
  }

  // ------------------------------------------------------------------------------- automatic collection

  /** `gc.enable()`: automatic collection on. */
  enable(): void {
    this.control.enabled = true;
  }

  /** `gc.disable()`: automatic collection off (`collect()` still runs). */
  disable(): void {
    this.control.enabled = false;
  }

  /** `gc.isenabled()`. */
  isEnabled(): boolean {
    return this.control.enabled;
  }

  // ------------------------------------------------------------------------------- collect

  /**
   * `gc.collect(generation=2)`: a full collection now (the free-threaded collector always scans
   * the whole heap; the generation picks the counters and the stats slot). Returns the number of
   * unreachable objects found, collected + uncollectable; 0 when a collection is already running
   * (no nesting).
   *
   * @throws RangeError "invalid generation" outside 0–2; TypeError for a non-integer.
   */
  collect(generation: unknown = 2): number {
    return coreCollect(this.space, checkGeneration(generation), GcReason.MANUAL);
  }

  /** `gc.get_count()`: (young count, old[0], old[1]), after flushing this thread's buffered count. */
  getCount(): [number, number, number] {
    this.space.flushAllocCount();
    const c = this.control;
    return [c.youngCount, c.old0Count, c.old1Count];
  }

  /** `gc.get_threshold()`: (young threshold, old[0] threshold, 0), as the free-threaded build. */
  getThreshold(): [number, number, number] {
    return [this.control.threshold0, this.control.threshold1, 0];
  }

  /**
   * `gc.set_threshold(threshold0[, threshold1[, threshold2]])`. `threshold0 = 0` disables automatic
   * collection.
   *
   * @throws TypeError without an argument or for a non-integer; RangeError beyond a C int.
   */
  setThreshold(threshold0: unknown, threshold1?: unknown, threshold2?: unknown): void {
    if (threshold0 === undefined) throw new TypeError("set_threshold expected at least 1 argument, got 0");
    const t0 = checkThreshold(threshold0);
    const t1 = threshold1 === undefined ? undefined : checkThreshold(threshold1);
    const t2 = threshold2 === undefined ? undefined : checkThreshold(threshold2);
    this.control.threshold0 = t0;
    if (t1 !== undefined) this.control.threshold1 = t1;
    if (t2 !== undefined) this.control.threshold2 = t2;
  }

  /** `gc.get_debug()`. */
  getDebug(): number {
    return this.control.debug;
  }

  /** `gc.set_debug(flags)`: DEBUG_STATS, DEBUG_COLLECTABLE, … (unknown bits are kept, as CPython). */
  setDebug(flags: unknown): void {
    this.control.debug = checkDebugFlags(flags);
  }

  /** `gc.get_stats()`: a snapshot, one entry per generation. */
  getStats(): GcGenerationStats[] {
    const out: GcGenerationStats[] = [];
    for (let g = 0; g < NUM_GENERATIONS; g++) out.push(this.control.stats(g));
    return out;
  }

  // ------------------------------------------------------------------------------- objects

  /**
   * `gc.get_objects(generation=None)`: a NEW list of every tracked object of the interpreter,
   * except frozen ones and those a running collection found unreachable (gh-125859). The
   * free-threaded build keeps no generation lists: a valid generation gives the same list.
   *
   * @throws RangeError / TypeError with CPython's wording for a bad generation.
   */
  getObjects(generation: unknown = null): number {
    checkObjectsGeneration(generation);
    return this.listOfNewReferences(this.walkWorldStopped(null));
  }

  /**
   * `gc.get_referrers(*objs)`: a NEW list of the tracked objects whose traversal visits any of
   * `objs` (frozen objects and objects being collected excluded, as `get_objects`).
   */
  getReferrers(...objs: number[]): number {
    for (const op of objs) checkObjectArgument("get_referrers", this.space.arena.buffer, op);
    const targets = new Set(objs);
    return this.listOfNewReferences(this.walkWorldStopped(targets));
  }

  /**
   * `gc.get_referents(*objs)`: a NEW list of what the traversal of each GC object in `objs`
   * visits (atoms, such as ints and strs, contribute nothing).
   */
  getReferents(...objs: number[]): number {
    const s = this.space;
    for (const op of objs) checkObjectArgument("get_referents", s.arena.buffer, op);
    const found: number[] = [];
    withWorldStopped(s, () => {
      for (const op of objs) {
        if (op === 0 || (tpFlags(s.arena.i32, s.typeOf(op)) & TPFLAGS_HAVE_GC) === 0) continue;
        for (const r of s.referents(op)) {
          s.incref(r); // while no other thread runs: r cannot be freed before the list holds it
          found.push(r);
        }
      }
    });
    return this.listOfNewReferences(found);
  }

  /**
   * With the world stopped, the tracked objects that are neither UNREACHABLE nor FROZEN (and, with
   * `targets`, that refer to one of them), each increfed before the world restarts.
   */
  private walkWorldStopped(targets: Set<number> | null): number[] {
    const s = this.space;
    const found: number[] = [];
    withWorldStopped(s, () => {
      visitObjectsWorldStopped(s, (op) => {
        if ((obGcBits(s.arena.u8, op) & (GC_UNREACHABLE_MASK | GC_FROZEN_MASK)) !== 0) return;
        if (targets !== null && !s.referents(op).some((r) => targets.has(r))) return;
        found.push(op);
      });
      for (const op of found) s.incref(op);
    });
    return found;
  }

  /** A new list holding `refs`, whose references (new ones) it takes over. */
  private listOfNewReferences(refs: number[]): number {
    const s = this.space;
    let list = 0;
    try {
      list = s.newList();
      for (const op of refs) s.listAppend(list, op);
    } finally {
      for (const op of refs) s.decref(op);
    }
    return list;
  }

  /** `gc.is_tracked(obj)`: false for atoms (ints, strs, None) and static types. */
  isTracked(op: number): boolean {
    checkObjectArgument("is_tracked", this.space.arena.buffer, op);
    return op !== 0 && this.space.isTracked(op);
  }

  /** `gc.is_finalized(obj)`: whether the collector (or deallocation) already ran its finalizer. */
  isFinalized(op: number): boolean {
    checkObjectArgument("is_finalized", this.space.arena.buffer, op);
    return op !== 0 && this.space.isFinalized(op);
  }

  // ------------------------------------------------------------------------------- freeze

  /** `gc.freeze()`: every tracked object is ignored by later collections. */
  freeze(): void {
    coreFreeze(this.space);
  }

  /** `gc.unfreeze()`. */
  unfreeze(): void {
    coreUnfreeze(this.space);
  }

  /** `gc.get_freeze_count()`. */
  getFreezeCount(): number {
    return coreGetFreezeCount(this.space);
  }

  // ------------------------------------------------------------------------------- garbage, callbacks

  /** `gc.garbage`: the interpreter's list (borrowed) of uncollectable objects, and all garbage under DEBUG_SAVEALL. */
  get garbage(): number {
    return this.control.garbage;
  }

  /** `gc.callbacks`: this thread's list of callbacks (append and remove functions). */
  get callbacks(): GcCallback[] {
    return this.space.gcCallbacks;
  }

  // ------------------------------------------------------------------------------- shutdown

  /**
   * What interpreter shutdown does for the gc (`finalize_modules`): a last collection (reason
   * SHUTDOWN: no callbacks), then {@link dumpShutdownStats}. Returns the collection's result.
   */
  shutdown(): number {
    const n = coreCollect(this.space, 2, GcReason.SHUTDOWN);
    this.dumpShutdownStats();
    return n;
  }

  /**
   * `_PyGC_DumpShutdownStats`: unless DEBUG_SAVEALL is set, a non-empty `gc.garbage` gets the
   * ResourceWarning "gc: N uncollectable objects at shutdown; use
   * gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them"; with DEBUG_UNCOLLECTABLE the list's repr
   * follows (each item's type's `repr` behaviour; an error in one is reported as "Exception
   * ignored in runtime shutdown: repr(gc.garbage)" and the listing left out, as CPython does).
   * Returns whether it warned.
   */
  dumpShutdownStats(): boolean {
    const s = this.space;
    const debug = this.getDebug();
    const garbage = this.garbage;
    if ((debug & DEBUG_SAVEALL) !== 0 || garbage === 0) return false;
    const n = s.listLen(garbage);
    if (n === 0) return false;
    this.write(`gc:0: ResourceWarning: ${formatUncollectableAtShutdown(n, debug)}\n`);
    if ((debug & DEBUG_UNCOLLECTABLE) !== 0) {
      // repr(gc.garbage): each item's repr (its type's `repr` behaviour, or the `repr` option).
      let text: string | null = null;
      try {
        const items: string[] = [];
        for (let i = 0; i < s.listLen(garbage); i++) items.push(this.reprOf(s, s.listGet(garbage, i)));
        text = `[${items.join(", ")}]`;
      } catch (e) {
        try {
          s.onUnraisable("Exception ignored in runtime shutdown: repr(gc.garbage)", e);
        } catch {
          // a broken hook must not stop the shutdown
        }
      }
      if (text !== null) this.write(`      ${text}\n`);
    }
    return true;
  }
}

const modules = new WeakMap<ObjectSpace, GcModule>();

/**
 * The `gc` module over `space` (one per space: later calls return the same module, applying the
 * `options` given again).
 */
export function gcModule(space: ObjectSpace, options?: GcModuleOptions): GcModule {
  if (!(space instanceof ObjectSpace)) {
    throw new TypeError(`gcModule: space must be an ObjectSpace, got ${pyTypeName(space)}`);
  }
  if (options !== undefined) checkModuleOptions("gcModule", options);
  let m = modules.get(space);
  if (m === undefined) {
    m = new GcModule(space, options);
    modules.set(space, m);
  } else if (options !== undefined) {
    if (options.stderr !== undefined) m.setStderr(options.stderr);
    if (options.onUnraisable !== undefined) space.onUnraisable = options.onUnraisable;
    if (options.repr !== undefined) m.reprOf = options.repr;
  }
  return m;
}

/** Throws a TypeError naming `fn`'s option unless `options` is an object of functions (where given). */
export function checkModuleOptions(fn: string, options: unknown): asserts options is GcModuleOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${fn}: options must be an object, got ${pyTypeName(options)}`);
  }
  for (const name of ["stderr", "onUnraisable", "repr"] as const) {
    const value = (options as GcModuleOptions)[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`${fn}: options.${name} must be a function, got ${pyTypeName(value)}`);
    }
  }
}
