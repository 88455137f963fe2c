/**
 * The collector: CPython's `gc_collect_main` / `gc_collect_internal` of the free-threaded build
 * (`Python/gc_free_threading.c`). One collection:
 *
 *   world stopped ───────────────────────────────────────────────────────────────────────────────
 *   1 merge_queued_objects  drain every thread's merge queue (dead owners' too); untracked objects
 *                           at zero go to objs_to_decref, tracked ones are left as trash for 2–4
 *   2 update_refs           visit the GC and GC_PRE pages of every thread state's heaps and of the
 *                           interpreter's abandoned pool; each tracked object (not frozen, not
 *                           immortal) becomes a candidate: UNREACHABLE, gc_refs = Py_REFCNT in
 *                           ob_tid, minus one per reference from another candidate
 *   3 mark_heap             candidates with gc_refs > 0 are reachable from outside: clear
 *                           UNREACHABLE on everything they reach (explicit stack, no recursion)
 *   4 scan_heap             reachable: ob_tid restored from the page's owner (0, and merged, when
 *                           the page is abandoned); unreachable: refcount merged + 1 (the
 *                           worklist's), pushed on `unreachable` (or `legacy_finalizers`) through ob_tid
 *   5 clear_weakrefs        weakrefs to garbage cleared; those with callbacks that are not garbage
 *                           themselves are kept (+1) for step 6
 *   world running ───────────────────────────────────────────────────────────────────────────────
 *   6 callbacks, finalizers weakref callbacks; each unreachable object's finalizer at most once
 *                           (FINALIZED bit). Errors: "Exception ignored in …", the collection goes on
 *   world stopped ───────────────────────────────────────────────────────────────────────────────
 *   7 handle_resurrected    gc_refs recomputed in ob_ref_local (ob_tid holds the links): objects a
 *                           finalizer made reachable again, and all they reach, leave the list —
 *                           their ob_gc_bits, ob_mutex are untouched (gh-113750)
 *   world running ───────────────────────────────────────────────────────────────────────────────
 *   8 delete_garbage        tp_clear each (or append to gc.garbage with DEBUG_SAVEALL), drop the
 *                           worklist reference: refcounting frees them
 *   9 legacy finalizers     to gc.garbage, counted uncollectable
 *
 * While the world is stopped the collector is the only thread touching objects, so gc bits,
 * ob_tid and ob_ref_local are read and written with plain stores. In GIL mode (or one thread) the
 * stop/start calls do nothing and the same steps run.
 *
 * After step 4 until step 8, `ob_tid` of a garbage object is a worklist link (an object address,
 * ≥ SEGMENT_SIZE) and can never equal a thread id (small integers): the refcount functions treat
 * the object as owned by nobody, so finalizers may incref/decref it safely.
 */
import {
  VISIT_ALL_TAGS,
  visitAbandonedPool,
  visitTagWorldStopped,
  type HeapArea,
  type HeapVisitor,
} from "@ft/mimalloc";
import { HeapTag } from "@ft/pymem";
import { assert, AssertionError } from "./assert.ts";
import { formatFixed } from "./format.ts";
import {
  DEBUG_COLLECTABLE,
  DEBUG_SAVEALL,
  DEBUG_STATS,
  DEBUG_UNCOLLECTABLE,
  GS_DEBUG,
  GS_FREEZE_ACTIVE,
  GS_GARBAGE,
  GS_LONG_LIVED_TOTAL,
  GS_OLD0_COUNT,
  GS_STATS,
  GS_STATS_WORDS,
  GS_XCOLLECTING,
  GS_XYOUNG_COUNT,
  gsField,
} from "./gc-state-layout.ts";
import {
  GC_ALIVE_MASK,
  GC_FINALIZED_MASK,
  GC_FROZEN_MASK,
  GC_TRACKED_MASK,
  GC_UNREACHABLE_MASK,
  IMMORTAL_REFCNT_LOCAL,
  OB_XGC_BITS_OFFSET,
  OBJECT_HEADER_SIZE,
  obIsValid,
  PREHEADER_SIZE,
  REF_MERGED,
  REF_SHARED_FLAG_MASK,
  REF_SHARED_SHIFT,
} from "./object-layout.ts";
import { checkFunction, checkSpace, describeArg, forEachReferent, type ObjectSpace } from "./space.ts";
import {
  DICT_DUMMY,
  DICT_ENTRIES_OFFSET,
  DICT_ENTRY_WORDS,
  DICT_MASK_OFFSET,
  LIST_ITEMS_OFFSET,
  TP_BASE_OFFSET,
  TP_DICT_OFFSET,
  TP_FLAGS_OFFSET,
  TP_KIND_OFFSET,
  TP_MRO_OFFSET,
  TP_NAME_OFFSET,
  TP_REFMAP_OFFSET,
  TPFLAGS_HAS_FINALIZE,
  TPFLAGS_HAS_LEGACY_DEL,
  TPFLAGS_HEAPTYPE,
  TPFLAGS_MANAGED_DICT,
  TPFLAGS_MANAGED_WEAKREF,
  TPFLAGS_PREHEADER,
  TUPLE_ITEMS_OFFSET,
  TypeKind,
  VAR_SIZE_OFFSET,
  WR_CALLBACK_OFFSET,
  weaklistAddress,
} from "./type-layout.ts";

/** Why a collection runs (`_PyGC_Reason`). */
export const GcReason = { HEAP: 0, SHUTDOWN: 1, MANUAL: 2 } as const;
/** One of {@link GcReason}'s values. */
export type GcReason = (typeof GcReason)[keyof typeof GcReason];

/** `NUM_GENERATIONS`. */
export const NUM_GENERATIONS = 3;

/** What gc callbacks are told (`info` of CPython's gc.callbacks). */
export interface CollectionInfo {
  generation: number;
  collected: number;
  uncollectable: number;
}

// ---------------------------------------------------------------------------------- per-run state

/** CPython's `struct collection_state`: one explicit record per run (worklists are ob_tid links). */
interface CollectionState {
  space: ObjectSpace;
  unreachable: number;
  legacyFinalizers: number;
  wrcbToCall: number;
  objsToDecref: number[];
  collected: number;
  uncollectable: number;
  longLivedTotal: number;
  /**
   * Candidates found by update_refs (scratch owned by this run, not in the arena); from scan on,
   * its first `ngarbage` entries are the objects of the `unreachable` list, in reverse list order
   * (the phases walk it backwards: list order, with loads that do not wait on each other).
   */
  cand: Int32Array;
  /** Candidates the first mark found reachable (and restored). */
  reachable: number;
  /** update_refs' gc_refs by candidate index (scratch owned by this run, as `cand`). */
  refs: Int32Array;
  ncand: number;
  ngarbage: number;
  /** Runs of candidates by owner: candidates from runStart[k] on came from thread runTid[k]. */
  runStart: number[];
  runTid: number[];
  /**
   * Unreachable objects whose type has a finalizer or can be weakly referenced, in scan order
   * (backwards: list order): all that clear_weakrefs and finalize_garbage look at.
   */
  weakOrFinal: number[];
  /** JavaScript ran against garbage (a weakref callback or finalizer): resurrection is possible. */
  ranCode: boolean;
}

/** The candidate array between runs (a run owns it: a collection of another space that a finalizer starts takes a new one). */
let scratch: Int32Array | null = new Int32Array(1 << 12);
let scratchRefs: Int32Array | null = null;

const MODE_DECREF = 0;
const MODE_CLEAR_UNREACHABLE = 1;
const MODE_DECREF_UNREACHABLE = 2;

// ---------------------------------------------------------------------------------- entry

/**
 * `gc_collect_main`: run one collection unless one is running (returns 0 then), and for HEAP
 * re-check that it is still due. Returns collected + uncollectable.
 */
export function collect(space: ObjectSpace, generation = 2, reason: GcReason = GcReason.MANUAL): number {
  checkSpace("collect", space);
  if (!(Number.isInteger(generation) && generation >= 0 && generation < NUM_GENERATIONS)) {
    throw new RangeError(`invalid generation ${typeof generation === "number" ? generation : describeArg(generation)} (collect: expected 0, 1 or 2)`);
  }
  if (reason !== GcReason.HEAP && reason !== GcReason.SHUTDOWN && reason !== GcReason.MANUAL) {
    throw new RangeError(`collect: reason must be a GcReason (0, 1 or 2), got ${describeArg(reason)}`);
  }
  const a = space.arena;
  const collecting = gsField(space.gcState, GS_XCOLLECTING);
  if (space.collecting || Atomics.compareExchange(a.i32, collecting, 0, 1) !== 0) return 0;
  space.collecting = true;
  let state: CollectionState | null = null;
  try {
    if (reason === GcReason.HEAP && !shouldCollectLocked(space)) return 0;
    const debug = space.gsGet(GS_DEBUG);
    if (reason !== GcReason.SHUTDOWN)
      invokeCallbacks(space, "start", { generation, collected: 0, uncollectable: 0 });
    const t0 = Date.now();
    if ((debug & DEBUG_STATS) !== 0) space.stderr(`gc: collecting generation ${generation}...`);
    state = newState(space);
    collectInternal(state, generation);
    const n = state.collected + state.uncollectable;
    if ((debug & DEBUG_STATS) !== 0) {
      space.stderr(
        `gc: done, ${n} unreachable, ${state.uncollectable} uncollectable, ${formatFixed((Date.now() - t0) / 1000, 4)}s elapsed`,
      );
    }
    const s = gsField(space.gcState, GS_STATS + generation * GS_STATS_WORDS);
    a.i32[s] += 1;
    a.i32[s + 1] += state.collected;
    a.i32[s + 2] += state.uncollectable;
    if (reason !== GcReason.SHUTDOWN) {
      invokeCallbacks(space, "stop", {
        generation,
        collected: state.collected,
        uncollectable: state.uncollectable,
      });
    }
    return n;
  } finally {
    if (state !== null) {
      scratch = state.cand;
      scratchRefs = state.refs;
    }
    space.collecting = false;
    Atomics.store(space.arena.i32, collecting, 0);
  }
}

function shouldCollectLocked(space: ObjectSpace): boolean {
  // `shouldCollect` refuses while a collection runs; we hold the flag ourselves here.
  const i32 = space.arena.i32;
  const w = gsField(space.gcState, GS_XCOLLECTING);
  Atomics.store(i32, w, 0);
  const due = space.shouldCollect();
  Atomics.store(i32, w, 1);
  return due;
}

function invokeCallbacks(space: ObjectSpace, phase: "start" | "stop", info: CollectionInfo): void {
  for (const cb of [...space.gcCallbacks]) {
    try {
      cb(phase, { ...info });
    } catch (e) {
      space.unraisable(`gc callback ${cb.name || "<anonymous>"}`, e);
    }
  }
}

function newState(space: ObjectSpace): CollectionState {
  const cand = scratch;
  scratch = null;
  const refsScratch = scratchRefs;
  scratchRefs = null;
  return {
    space,
    unreachable: 0,
    legacyFinalizers: 0,
    wrcbToCall: 0,
    objsToDecref: [],
    collected: 0,
    uncollectable: 0,
    longLivedTotal: 0,
    cand: cand ?? new Int32Array(1 << 12),
    refs: refsScratch ?? new Int32Array(0),
    ncand: 0,
    ngarbage: 0,
    reachable: 0,
    runStart: [],
    runTid: [],
    weakOrFinal: [],
    ranCode: false,
  };
}

function phase(state: CollectionState, name: string): void {
  const hook = state.space.onCollectorPhase;
  if (hook !== null) hook(name);
}

/** `gc_collect_internal`. */
function collectInternal(state: CollectionState, generation: number): void {
  const space = state.space;
  const host = space.host;
  const a = space.arena;
  host.stopTheWorld();
  try {
    space.flushAllocCount();
    Atomics.store(a.i32, gsField(space.gcState, GS_XYOUNG_COUNT), 0);
    if (generation + 1 < NUM_GENERATIONS) a.i32[gsField(space.gcState, GS_OLD0_COUNT + generation)] += 1;
    for (let i = 1; i <= generation && i < 3; i++) a.i32[gsField(space.gcState, GS_OLD0_COUNT + i - 1)] = 0;
    a.refreshViews();
    mergeQueuedObjectsWorldStopped(state);
    phase(state, "merge");
    updateRefsWorldStopped(state);
    phase(state, "update_refs");
    markHeapWorldStopped(state);
    phase(state, "mark");
    scanHeapWorldStopped(state);
    if (state.legacyFinalizers !== 0) moveLegacyFinalizerReachable(state);
    phase(state, "scan");
    a.i32[gsField(space.gcState, GS_LONG_LIVED_TOTAL)] = state.longLivedTotal;
    if ((space.gsGet(GS_DEBUG) & DEBUG_COLLECTABLE) !== 0) {
      for (let op = state.unreachable; op !== 0; op = a.i32[op >> 2])
        space.stderr(`gc: collectable <${space.typeName(op)} 0x${op.toString(16)}>`);
    }
    if (state.weakOrFinal.length !== 0) clearWeakrefsWorldStopped(state);
    phase(state, "clear_weakrefs");
    // `_PyGC_ClearAllFreeLists` (CPython: in the second pause, which ft skips when no code ran):
    // after every walk, since it frees blocks.
    clearAllFreeListsWorldStopped(space);
  } finally {
    host.startTheWorld();
  }

  // Callbacks and finalizers run with the world started (they may wait on other threads).
  if (state.objsToDecref.length !== 0) state.ranCode = true; // deallocation may run finalizers
  for (const op of state.objsToDecref) space.decref(op);
  state.objsToDecref.length = 0;
  callWeakrefCallbacks(state);
  if (state.weakOrFinal.length !== 0) finalizeGarbage(state);
  phase(state, "finalize");

  // Only code that ran since the first pause can have resurrected garbage (nothing else holds a
  // reference to it): without any, the second pause has nothing to find.
  if (state.ranCode) {
    host.stopTheWorld();
    try {
      space.arena.refreshViews();
      handleResurrectedObjectsWorldStopped(state);
    } finally {
      host.startTheWorld();
    }
  }
  phase(state, "resurrection");
  for (const op of state.objsToDecref) space.decref(op);
  state.objsToDecref.length = 0;
  deleteGarbage(state);
  handleLegacyFinalizers(state);
  phase(state, "done");
}

/** Empty every thread's free lists (the collecting thread's alone when the host cannot list them). */
function clearAllFreeListsWorldStopped(space: ObjectSpace): void {
  const regions: number[] = [];
  if (space.host.freeListRegionsWorldStopped !== undefined) space.host.freeListRegionsWorldStopped(regions);
  else if (space.freeLists !== 0) regions.push(space.freeLists);
  for (const region of regions) space.clearFreeListsAt(region);
}

// ---------------------------------------------------------------------------------- 1 merge

/**
 * `merge_queued_objects` for every thread, the dead included: an owner that died can no longer
 * merge its queue; the collector does. Queues of threads with no live heap are removed.
 */
function mergeQueuedObjectsWorldStopped(state: CollectionState): void {
  const space = state.space;
  const live: number[] = [];
  space.host.threadHeapsWorldStopped(live);
  const liveTids = new Set<number>();
  for (let i = 1; i < live.length; i += 2) liveTids.add(live[i]);
  liveTids.add(space.tid);
  for (const owner of space.queuedOwners()) {
    const objects = space.takeQueued(owner, !liveTids.has(owner));
    for (const op of objects) {
      const refcount = mergeRefcount(space.arena.i32, op, -1);
      if (refcount === 0) {
        const tracked = (space.arena.u8[op + OB_XGC_BITS_OFFSET] & GC_TRACKED_MASK) !== 0;
        if (!tracked) {
          // Freed after the world restarts (deallocation may run finalizers).
          mergeRefcount(space.arena.i32, op, 1);
          state.objsToDecref.push(op);
        }
        // Tracked: left to this collection as trash (its count is 0: unreachable).
      }
    }
  }
}

/** `merge_refcount` (world stopped): fold everything into the shared field, MERGED, unowned. */
function mergeRefcount(i32: Int32Array, op: number, extra: number): number {
  const w = op >> 2;
  const refcount = (i32[w + 2] >>> 0) + (i32[w + 3] >> REF_SHARED_SHIFT) + extra;
  i32[w] = 0;
  i32[w + 2] = 0;
  i32[w + 3] = (refcount << REF_SHARED_SHIFT) | REF_MERGED;
  return refcount;
}

// ---------------------------------------------------------------------------------- 2 update_refs

/** The visitor of one walk: op = block + offset; `mode` picks the action. */
class CandidateVisitor implements HeapVisitor {
  offset = 0;
  i32: Int32Array = new Int32Array(0);
  u8: Uint8Array = new Uint8Array(0);
  /** The run's candidates and gc_refs by candidate index, and their count, during the walk. */
  cand: Int32Array = new Int32Array(0);
  refs: Int32Array = new Int32Array(0);
  n = 0;

  block(block: number): void {
    const op = block + this.offset;
    const u8 = this.u8;
    const bits = u8[op + OB_XGC_BITS_OFFSET];
    if ((bits & (GC_TRACKED_MASK | GC_FROZEN_MASK | GC_ALIVE_MASK)) !== GC_TRACKED_MASK) return;
    const i32 = this.i32;
    const w = op >> 2;
    const local = i32[w + 2];
    if (local === -1) {
      // Immortal: never collected (`update_refs` untracks it).
      i32[w] = 0;
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~(GC_TRACKED_MASK | GC_UNREACHABLE_MASK);
      return;
    }
    const refcount = (local >>> 0) + (i32[w + 3] >> REF_SHARED_SHIFT);
    if (__DEBUG__) assert(refcount >= 0, "refcount is too small (negative Py_REFCNT at update_refs)");
    // gc_refs, the number of references from outside the GC heaps, is counted in the run's
    // `refs` array at the candidate's index, which ob_tid holds (no longer a thread id until
    // scan_heap restores it). A referent not visited yet keeps a pending negative count in
    // ob_tid instead, added in here.
    const k = this.n;
    if (k === this.cand.length) this.grow();
    const refs = this.refs;
    if ((bits & GC_UNREACHABLE_MASK) === 0) {
      u8[op + OB_XGC_BITS_OFFSET] = bits | GC_UNREACHABLE_MASK;
      refs[k] = refcount;
    } else {
      refs[k] = refcount + i32[w]; // referenced by an earlier candidate: its pending count
    }
    i32[w] = k;
    this.cand[k] = op;
    this.n = k + 1;
    if (!isLeaf(i32, op)) decrefReferents(i32, u8, refs, op);
  }

  private grow(): void {
    const cand = new Int32Array(this.cand.length * 2);
    cand.set(this.cand);
    this.cand = cand;
    const refs = new Int32Array(cand.length);
    refs.set(this.refs);
    this.refs = refs;
  }
}

const candidateVisitor = new CandidateVisitor();

/**
 * Visit the GC and GC_PRE pages of each thread state's heaps (owner known) and of the pool
 * (owner 0): `visitor.block` for every live block, with `offset` set per tag.
 */
function visitGcHeapsWorldStopped(
  space: ObjectSpace,
  visitor: HeapVisitor & { offset: number },
  onRun: ((tid: number) => void) | null,
): void {
  const a = space.arena;
  const base = space.alloc.debugHeaderBytes();
  const pairs: number[] = [];
  space.host.threadHeapsWorldStopped(pairs);
  for (let i = 0; i < pairs.length; i += 2) {
    onRun?.(pairs[i + 1]);
    visitor.offset = base;
    visitTagWorldStopped(a, HeapTag.GC, [pairs[i]], 0, visitor);
    visitor.offset = base + PREHEADER_SIZE;
    visitTagWorldStopped(a, HeapTag.GC_PRE, [pairs[i]], 0, visitor);
  }
  const pool = space.host.pool;
  if (pool !== 0) {
    onRun?.(0);
    visitor.offset = base;
    visitAbandonedPool(a, pool, HeapTag.GC, visitor);
    visitor.offset = base + PREHEADER_SIZE;
    visitAbandonedPool(a, pool, HeapTag.GC_PRE, visitor);
  }
}

function updateRefsWorldStopped(state: CollectionState): void {
  const a = state.space.arena;
  a.refreshViews();
  candidateVisitor.i32 = a.i32;
  candidateVisitor.u8 = a.u8;
  if (state.refs.length < state.cand.length) state.refs = new Int32Array(state.cand.length);
  const v = candidateVisitor;
  v.cand = state.cand;
  v.refs = state.refs;
  v.n = 0;
  visitGcHeapsWorldStopped(state.space, v, (tid) => {
    state.runStart.push(v.n);
    state.runTid.push(tid);
  });
  state.cand = v.cand;
  state.refs = v.refs;
  state.ncand = v.n;
  v.cand = v.refs = new Int32Array(0); // the run owns them
}

/**
 * One object's references, with the action of `mode` (a switch, not a closure: the three phases
 * that traverse share one monomorphic loop). `visit_decref`, `visit_clear_unreachable`
 * (mark_reachable), `visit_decref_unreachable`.
 */
function traverse(i32: Int32Array, u8: Uint8Array, op: number, mode: number): void {
  const tp = i32[(op + 16) >> 2] >>> 0;
  const tw = tp >> 2;
  const flags = i32[tw + (TP_FLAGS_OFFSET >> 2)];
  const kind = i32[tw + (TP_KIND_OFFSET >> 2)];
  if ((flags & TPFLAGS_HEAPTYPE) !== 0) visitRef(i32, u8, tp, mode);
  if ((flags & TPFLAGS_MANAGED_DICT) !== 0) {
    const d = i32[(op - 4) >> 2];
    if (d !== 0) visitRef(i32, u8, d, mode);
  }
  switch (kind) {
    case TypeKind.PLAIN: {
      let refmap = i32[tw + (TP_REFMAP_OFFSET >> 2)];
      const body = (op + OBJECT_HEADER_SIZE) >> 2;
      while (refmap !== 0) {
        const i = 31 - Math.clz32(refmap & -refmap);
        refmap &= refmap - 1;
        const r = i32[body + i];
        if (r !== 0) visitRef(i32, u8, r, mode);
      }
      return;
    }
    case TypeKind.TUPLE: {
      const n = i32[(op + VAR_SIZE_OFFSET) >> 2];
      const items = (op + TUPLE_ITEMS_OFFSET) >> 2;
      for (let i = 0; i < n; i++) {
        const r = i32[items + i];
        if (r !== 0) visitRef(i32, u8, r, mode);
      }
      return;
    }
    case TypeKind.LIST: {
      const n = i32[(op + VAR_SIZE_OFFSET) >> 2];
      const items = i32[(op + LIST_ITEMS_OFFSET) >> 2] >> 2;
      for (let i = 0; i < n; i++) {
        const r = i32[items + i];
        if (r !== 0) visitRef(i32, u8, r, mode);
      }
      return;
    }
    case TypeKind.DICT: {
      const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2] >> 2;
      if (entries === 0) return;
      const mask = i32[(op + DICT_MASK_OFFSET) >> 2];
      for (let i = 0; i <= mask; i++) {
        const e = entries + i * DICT_ENTRY_WORDS;
        const k = i32[e + 1];
        if (k === 0 || k === DICT_DUMMY) continue;
        visitRef(i32, u8, k, mode);
        const v = i32[e + 2];
        if (v !== 0) visitRef(i32, u8, v, mode);
      }
      return;
    }
    case TypeKind.WEAKREF: {
      const cb = i32[(op + WR_CALLBACK_OFFSET) >> 2];
      if (cb !== 0) visitRef(i32, u8, cb, mode);
      return;
    }
    case TypeKind.TYPE: {
      const n = i32[(op + TP_NAME_OFFSET) >> 2];
      if (n !== 0) visitRef(i32, u8, n, mode);
      const b = i32[(op + TP_BASE_OFFSET) >> 2];
      if (b !== 0) visitRef(i32, u8, b, mode);
      const d = i32[(op + TP_DICT_OFFSET) >> 2];
      if (d !== 0) visitRef(i32, u8, d, mode);
      const m = i32[(op + TP_MRO_OFFSET) >> 2];
      if (m !== 0) visitRef(i32, u8, m, mode);
      return;
    }
  }
}

/** The generic walk's stack (WEAKREF and TYPE objects only, and resurrection's marking). */
let stackTop = 0;
let stackOf: Int32Array = new Int32Array(0);
/** update_refs' gc_refs array, for the generic walk (WEAKREF and TYPE objects). */
let decrefRefsOf: Int32Array = new Int32Array(0);

function visitRef(i32: Int32Array, u8: Uint8Array, ref: number, mode: number): void {
  const bits = u8[ref + OB_XGC_BITS_OFFSET];
  switch (mode) {
    case MODE_DECREF: {
      // visit_decref: tracked, not frozen, not alive, not immortal referents lose one gc_ref.
      if ((bits & (GC_TRACKED_MASK | GC_FROZEN_MASK | GC_ALIVE_MASK)) !== GC_TRACKED_MASK) return;
      const w = ref >> 2;
      if (i32[w + 2] === -1) return;
      if ((bits & GC_UNREACHABLE_MASK) === 0) {
        u8[ref + OB_XGC_BITS_OFFSET] = bits | GC_UNREACHABLE_MASK; // gc_maybe_init_refs
        i32[w] = -1;
      } else {
        const t = i32[w];
        if (t < 0) i32[w] = t - 1;
        else decrefRefsOf[t] -= 1;
      }
      return;
    }
    case MODE_CLEAR_UNREACHABLE:
      // Only from markReferents, which made room for every reference of the object.
      if ((bits & GC_UNREACHABLE_MASK) !== 0) {
        u8[ref + OB_XGC_BITS_OFFSET] = bits & ~GC_UNREACHABLE_MASK;
        if (restoring) restoreTid(i32, ref);
        stackOf[stackTop++] = ref;
      }
      return;
    case MODE_DECREF_UNREACHABLE:
      if ((bits & (GC_UNREACHABLE_MASK | GC_TRACKED_MASK)) === (GC_UNREACHABLE_MASK | GC_TRACKED_MASK)) {
        i32[(ref >> 2) + 2] -= 1;
      }
      return;
  }
}

/**
 * `mark_reachable`: clear UNREACHABLE on everything reachable from `op` (an explicit stack of
 * object addresses). The stack lives in a local while the walk runs (a module-level `let` written
 * in the loop would slow it several times); it grows, before an object's references are pushed,
 * to hold all of them.
 */
function markReachable(i32: Int32Array, u8: Uint8Array, op: number): void {
  let stack = markStack;
  let top = 0;
  stack[top++] = op;
  while (top > 0) {
    const next = stack[--top];
    let after = markReferents(i32, u8, next, stack, top);
    if (after < 0) {
      // No room for its references (nothing was pushed): grow, then once more.
      stack = markStack = growStack(stack, -after);
      after = markReferents(i32, u8, next, stack, top);
    }
    top = after;
  }
}

let markStack: Int32Array = new Int32Array(1 << 12);

function growStack(stack: Int32Array, need: number): Int32Array {
  const bigger = new Int32Array(Math.max(need, stack.length * 2));
  bigger.set(stack);
  return bigger;
}

/** How many references `op` may push at most (its traversal's length). */
function maxReferents(i32: Int32Array, op: number, tw: number): number {
  switch (i32[tw + (TP_KIND_OFFSET >> 2)]) {
    case TypeKind.TUPLE:
    case TypeKind.LIST:
      return 2 + i32[(op + VAR_SIZE_OFFSET) >> 2];
    case TypeKind.DICT:
      return 2 + 2 * (i32[(op + DICT_MASK_OFFSET) >> 2] + 1);
    default:
      return 2 + 32 + 4; // ob_type, the managed dict, 32 refmap words, a type's 4 references
  }
}

/**
 * visit_clear_unreachable for one reference: returns the new stack top. An object with no
 * references to follow ({@link isLeaf}) is marked without going through the stack.
 */
function markRef(i32: Int32Array, u8: Uint8Array, stack: Int32Array, top: number, ref: number): number {
  const bits = u8[ref + OB_XGC_BITS_OFFSET];
  if ((bits & GC_UNREACHABLE_MASK) === 0) return top;
  u8[ref + OB_XGC_BITS_OFFSET] = bits & ~GC_UNREACHABLE_MASK;
  if (restoring) restoreTid(i32, ref);
  if (isLeaf(i32, ref)) return top;
  stack[top] = ref;
  return top + 1;
}

/**
 * Whether `op` refers to nothing a traversal visits: an empty list or tuple of a type that is not
 * a heap type (no `ob_type` reference) and has no managed dict. Common (empty containers), and
 * cheap to tell from the header line the caller just read.
 */
function isLeaf(i32: Int32Array, op: number): boolean {
  if (i32[(op + VAR_SIZE_OFFSET) >> 2] !== 0) return false;
  const tw = (i32[(op + 16) >> 2] >>> 0) >> 2;
  if ((i32[tw + (TP_FLAGS_OFFSET >> 2)] & (TPFLAGS_HEAPTYPE | TPFLAGS_MANAGED_DICT)) !== 0) return false;
  const kind = i32[tw + (TP_KIND_OFFSET >> 2)];
  return kind === TypeKind.LIST || kind === TypeKind.TUPLE;
}

/**
 * `traverse(op, visit_clear_unreachable)`, specialised: the kinds' loops with markRef inlined.
 * Returns the new stack top, or −(the size needed) before pushing anything when the stack is too
 * small for all of `op`'s references.
 */
function markReferents(i32: Int32Array, u8: Uint8Array, op: number, stack: Int32Array, top: number): number {
  const tp = i32[(op + 16) >> 2] >>> 0;
  const tw = tp >> 2;
  const need = top + maxReferents(i32, op, tw);
  if (need > stack.length) return -need;
  const flags = i32[tw + (TP_FLAGS_OFFSET >> 2)];
  if ((flags & TPFLAGS_HEAPTYPE) !== 0) top = markRef(i32, u8, stack, top, tp);
  if ((flags & TPFLAGS_MANAGED_DICT) !== 0) {
    const d = i32[(op - 4) >> 2];
    if (d !== 0) top = markRef(i32, u8, stack, top, d);
  }
  switch (i32[tw + (TP_KIND_OFFSET >> 2)]) {
    case TypeKind.PLAIN: {
      let refmap = i32[tw + (TP_REFMAP_OFFSET >> 2)];
      const body = (op + OBJECT_HEADER_SIZE) >> 2;
      while (refmap !== 0) {
        const i = 31 - Math.clz32(refmap & -refmap);
        refmap &= refmap - 1;
        const r = i32[body + i];
        if (r !== 0) top = markRef(i32, u8, stack, top, r);
      }
      return top;
    }
    case TypeKind.TUPLE: {
      const items = (op + TUPLE_ITEMS_OFFSET) >> 2;
      const end = items + i32[(op + VAR_SIZE_OFFSET) >> 2];
      for (let k = items; k < end; k++) {
        const r = i32[k];
        if (r !== 0) top = markRef(i32, u8, stack, top, r);
      }
      return top;
    }
    case TypeKind.LIST: {
      const items = i32[(op + LIST_ITEMS_OFFSET) >> 2] >> 2;
      const end = items + i32[(op + VAR_SIZE_OFFSET) >> 2];
      for (let k = items; k < end; k++) {
        const r = i32[k];
        if (r !== 0) top = markRef(i32, u8, stack, top, r);
      }
      return top;
    }
    case TypeKind.DICT: {
      const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2] >> 2;
      if (entries === 0) return top;
      const end = entries + (i32[(op + DICT_MASK_OFFSET) >> 2] + 1) * DICT_ENTRY_WORDS;
      for (let e = entries; e < end; e += DICT_ENTRY_WORDS) {
        const k = i32[e + 1];
        if (k === 0 || k === DICT_DUMMY) continue;
        top = markRef(i32, u8, stack, top, k);
        const v = i32[e + 2];
        if (v !== 0) top = markRef(i32, u8, stack, top, v);
      }
      return top;
    }
    default:
      // WEAKREF and TYPE: few references, the generic walk (its stack is the same one).
      stackTop = top;
      stackOf = stack;
      traverse(i32, u8, op, MODE_CLEAR_UNREACHABLE);
      return stackTop;
  }
}

/** visit_decref for one reference (update_refs): tracked, not frozen/alive/immortal referents lose one gc_ref. */
function decrefRef(i32: Int32Array, u8: Uint8Array, refs: Int32Array, ref: number): void {
  const bits = u8[ref + OB_XGC_BITS_OFFSET];
  if ((bits & (GC_TRACKED_MASK | GC_FROZEN_MASK | GC_ALIVE_MASK)) !== GC_TRACKED_MASK) return;
  const w = ref >> 2;
  if (i32[w + 2] === -1) return;
  if ((bits & GC_UNREACHABLE_MASK) === 0) {
    u8[ref + OB_XGC_BITS_OFFSET] = bits | GC_UNREACHABLE_MASK; // gc_maybe_init_refs
    i32[w] = -1; // not visited yet: a pending count in ob_tid
  } else {
    const t = i32[w];
    if (t < 0) i32[w] = t - 1;
    else refs[t] -= 1;
  }
}

/** visit_decref_unreachable for one reference: tracked garbage referents lose one gc_ref (in ob_ref_local). */
function decrefUnreachableRef(i32: Int32Array, u8: Uint8Array, ref: number): void {
  if (
    (u8[ref + OB_XGC_BITS_OFFSET] & (GC_UNREACHABLE_MASK | GC_TRACKED_MASK)) ===
    (GC_UNREACHABLE_MASK | GC_TRACKED_MASK)
  )
    i32[(ref >> 2) + 2] -= 1;
}

/** `traverse(op, visit_decref_unreachable)` (handle_resurrected_objects), specialised as {@link markReferents}. */
function decrefUnreachableReferents(i32: Int32Array, u8: Uint8Array, op: number): void {
  const tp = i32[(op + 16) >> 2] >>> 0;
  const tw = tp >> 2;
  const flags = i32[tw + (TP_FLAGS_OFFSET >> 2)];
  if ((flags & TPFLAGS_HEAPTYPE) !== 0) decrefUnreachableRef(i32, u8, tp);
  if ((flags & TPFLAGS_MANAGED_DICT) !== 0) {
    const d = i32[(op - 4) >> 2];
    if (d !== 0) decrefUnreachableRef(i32, u8, d);
  }
  switch (i32[tw + (TP_KIND_OFFSET >> 2)]) {
    case TypeKind.PLAIN: {
      let refmap = i32[tw + (TP_REFMAP_OFFSET >> 2)];
      const body = (op + OBJECT_HEADER_SIZE) >> 2;
      while (refmap !== 0) {
        const i = 31 - Math.clz32(refmap & -refmap);
        refmap &= refmap - 1;
        const r = i32[body + i];
        if (r !== 0) decrefUnreachableRef(i32, u8, r);
      }
      return;
    }
    case TypeKind.LIST: {
      const items = i32[(op + LIST_ITEMS_OFFSET) >> 2] >> 2;
      const end = items + i32[(op + VAR_SIZE_OFFSET) >> 2];
      for (let k = items; k < end; k++) {
        const r = i32[k];
        if (r !== 0) decrefUnreachableRef(i32, u8, r);
      }
      return;
    }
    default:
      traverse(i32, u8, op, MODE_DECREF_UNREACHABLE);
  }
}

/** `traverse(op, visit_decref)`, specialised as {@link markReferents}. */
function decrefReferents(i32: Int32Array, u8: Uint8Array, refs: Int32Array, op: number): void {
  const tp = i32[(op + 16) >> 2] >>> 0;
  const tw = tp >> 2;
  const flags = i32[tw + (TP_FLAGS_OFFSET >> 2)];
  if ((flags & TPFLAGS_HEAPTYPE) !== 0) decrefRef(i32, u8, refs, tp);
  if ((flags & TPFLAGS_MANAGED_DICT) !== 0) {
    const d = i32[(op - 4) >> 2];
    if (d !== 0) decrefRef(i32, u8, refs, d);
  }
  switch (i32[tw + (TP_KIND_OFFSET >> 2)]) {
    case TypeKind.PLAIN: {
      let refmap = i32[tw + (TP_REFMAP_OFFSET >> 2)];
      const body = (op + OBJECT_HEADER_SIZE) >> 2;
      while (refmap !== 0) {
        const i = 31 - Math.clz32(refmap & -refmap);
        refmap &= refmap - 1;
        const r = i32[body + i];
        if (r !== 0) decrefRef(i32, u8, refs, r);
      }
      return;
    }
    case TypeKind.TUPLE: {
      const items = (op + TUPLE_ITEMS_OFFSET) >> 2;
      const end = items + i32[(op + VAR_SIZE_OFFSET) >> 2];
      for (let k = items; k < end; k++) {
        const r = i32[k];
        if (r !== 0) decrefRef(i32, u8, refs, r);
      }
      return;
    }
    case TypeKind.LIST: {
      const items = i32[(op + LIST_ITEMS_OFFSET) >> 2] >> 2;
      const end = items + i32[(op + VAR_SIZE_OFFSET) >> 2];
      for (let k = items; k < end; k++) {
        const r = i32[k];
        if (r !== 0) decrefRef(i32, u8, refs, r);
      }
      return;
    }
    case TypeKind.DICT: {
      const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2] >> 2;
      if (entries === 0) return;
      const end = entries + (i32[(op + DICT_MASK_OFFSET) >> 2] + 1) * DICT_ENTRY_WORDS;
      for (let e = entries; e < end; e += DICT_ENTRY_WORDS) {
        const k = i32[e + 1];
        if (k === 0 || k === DICT_DUMMY) continue;
        decrefRef(i32, u8, refs, k);
        const v = i32[e + 2];
        if (v !== 0) decrefRef(i32, u8, refs, v);
      }
      return;
    }
    default:
      decrefRefsOf = refs;
      traverse(i32, u8, op, MODE_DECREF);
  }
}

// ---------------------------------------------------------------------------------- 3 mark

function markHeapWorldStopped(state: CollectionState): void {
  const a = state.space.arena;
  const i32 = a.i32;
  const u8 = a.u8;
  const cand = state.cand;
  const refs = state.refs;
  restoreRuns = Int32Array.from(state.runStart);
  restoreTids = Int32Array.from(state.runTid);
  restoredCount = 0;
  restoring = true;
  try {
    for (let k = 0; k < state.ncand; k++) {
      const gcRefs = refs[k]; // a dense array: only roots' headers are read
      if (gcRefs === 0) continue;
      const op = cand[k];
      if (gcRefs < 0) throw refcountTooSmall(state.space, op, gcRefs);
      const bits = u8[op + OB_XGC_BITS_OFFSET];
      if ((bits & GC_UNREACHABLE_MASK) !== 0) {
        // Reachable from outside the GC heaps: so is everything it reaches.
        u8[op + OB_XGC_BITS_OFFSET] = bits & ~GC_UNREACHABLE_MASK;
        restoreTid(i32, op);
        markReachable(i32, u8, op);
      }
    }
  } finally {
    restoring = false;
  }
  state.reachable = restoredCount;
}

/**
 * While the first mark runs: each object it finds reachable gets its `ob_tid` back at once
 * (`gc_restore_tid`: merged → unowned; else the owner of the heap it was found in, from the
 * candidate index `ob_tid` holds; found in an abandoned page → merged), so that scan has nothing
 * to do for it, and nothing at all when every candidate is reachable.
 */
let restoring = false;
let restoredCount = 0;
let restoreRuns: Int32Array = new Int32Array(0);
let restoreTids: Int32Array = new Int32Array(0);

function restoreTid(i32: Int32Array, op: number): void {
  const w = op >> 2;
  const k = i32[w];
  const runs = restoreRuns;
  let r = runs.length - 1;
  while (r > 0 && k < runs[r]) r--;
  const tid = r >= 0 ? restoreTids[r] : 0;
  if ((i32[w + 3] & REF_SHARED_FLAG_MASK) === REF_MERGED) i32[w] = 0;
  else if (tid !== 0) i32[w] = tid;
  else mergeRefcount(i32, op, 0);
  restoredCount++;
}

function refcountTooSmall(space: ObjectSpace, op: number, gcRefs: number): Error {
  return new AssertionError(
    `gc_get_refs(op) >= 0 failed: refcount is too small\n` +
      `object address  : 0x${op.toString(16)}\nobject refcount : ${gcRefs} (gc_refs)\nobject type name: ${space.typeName(op)}`,
  );
}

// ---------------------------------------------------------------------------------- 4 scan

function scanHeapWorldStopped(state: CollectionState): void {
  const a = state.space.arena;
  const i32 = a.i32;
  const u8 = a.u8;
  const cand = state.cand;
  state.longLivedTotal = state.reachable;
  if (state.reachable === state.ncand) return; // no garbage; mark restored every ob_tid
  for (let k = 0; k < state.ncand; k++) {
    const op = cand[k];
    const w = op >> 2;
    const bits = u8[op + OB_XGC_BITS_OFFSET];
    if ((bits & GC_UNREACHABLE_MASK) === 0) continue; // reachable: mark restored its ob_tid
    mergeRefcount(i32, op, 1); // the worklist holds a reference; ob_tid = 0
    const tw = (i32[w + 4] >>> 0) >> 2;
    const flags = i32[tw + (TP_FLAGS_OFFSET >> 2)];
    if ((flags & TPFLAGS_HAS_LEGACY_DEL) !== 0) {
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~GC_UNREACHABLE_MASK;
      i32[w] = state.legacyFinalizers;
      state.legacyFinalizers = op;
    } else {
      i32[w] = state.unreachable;
      state.unreachable = op;
      cand[state.ngarbage++] = op; // k ≥ ngarbage: the candidate there was read already
      if (
        (flags & (TPFLAGS_HAS_FINALIZE | TPFLAGS_MANAGED_WEAKREF)) !== 0 ||
        i32[tw + (TP_KIND_OFFSET >> 2)] >= TypeKind.WEAKREF
      )
        state.weakOrFinal.push(op);
    }
  }
}

/**
 * Drop from the unreachable list, and from its array, every object for which `leaves` is true,
 * handing each to `gone` in list order (it may reuse the object's link word). Keeps the order of
 * the rest.
 */
function filterGarbage(state: CollectionState, leaves: (op: number) => boolean, gone: (op: number) => void): void {
  const garbage = state.cand;
  const n = state.ngarbage;
  let any = false;
  for (let k = n - 1; k >= 0; k--) {
    const op = garbage[k];
    if (!leaves(op)) continue;
    garbage[k] = 0;
    any = true;
    gone(op);
  }
  if (!any) return;
  // Index k holds list position n − 1 − k: relink from the tail of the list up.
  const i32 = state.space.arena.i32;
  let kept = 0;
  let head = 0;
  for (let k = 0; k < n; k++) {
    const op = garbage[k];
    if (op === 0) continue;
    i32[op >> 2] = head;
    head = op;
    garbage[kept++] = op;
  }
  state.unreachable = head;
  state.ngarbage = kept;
}

/** Everything reachable from an object with a legacy finalizer is uncollectable too. */
function moveLegacyFinalizerReachable(state: CollectionState): void {
  const a = state.space.arena;
  const i32 = a.i32;
  const u8 = a.u8;
  for (let op = state.legacyFinalizers; op !== 0; op = i32[op >> 2]) markReachable(i32, u8, op);
  filterGarbage(
    state,
    (op) => (u8[op + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) === 0,
    (op) => {
      i32[op >> 2] = state.legacyFinalizers;
      state.legacyFinalizers = op;
    },
  );
}

// ---------------------------------------------------------------------------------- 5 weakrefs

/**
 * `clear_weakrefs`: garbage weakrefs lose their referent (bpo-38006); every weakref TO garbage is
 * cleared, and the ones with a callback that are not garbage themselves get a reference and wait
 * on `wrcb_to_call`.
 */
function clearWeakrefsWorldStopped(state: CollectionState): void {
  const space = state.space;
  const a = space.arena;
  const list = state.weakOrFinal;
  for (let k = list.length - 1; k >= 0; k--) {
    const op = list[k];
    // Moved to the legacy finalizers' list (uncollectable): nothing to clear.
    if ((a.u8[op + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) === 0) continue;
    const i32 = a.i32;
    const tp = i32[(op + 16) >> 2] >>> 0;
    const kind = i32[(tp + TP_KIND_OFFSET) >> 2];
    // Only weakrefs, classes and instances with a managed weakref list have anything to clear.
    if (kind < TypeKind.WEAKREF && (i32[(tp + TP_FLAGS_OFFSET) >> 2] & TPFLAGS_MANAGED_WEAKREF) === 0)
      continue;
    if (kind === TypeKind.WEAKREF) space.clearWeakref(op);
    const head = weaklistAddress(i32, op, tp);
    if (head === 0) continue;
    for (let wr = i32[head >> 2] >>> 0; wr !== 0; wr = i32[head >> 2] >>> 0) {
      space.clearWeakref(wr);
      if (i32[(wr + WR_CALLBACK_OFFSET) >> 2] === 0) continue;
      if ((a.u8[wr + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) !== 0) continue;
      mergeRefcount(i32, wr, 1);
      i32[wr >> 2] = state.wrcbToCall;
      state.wrcbToCall = wr;
    }
  }
}

// ---------------------------------------------------------------------------------- 6 callbacks, finalizers

function callWeakrefCallbacks(state: CollectionState): void {
  const space = state.space;
  while (state.wrcbToCall !== 0) {
    const wr = state.wrcbToCall;
    state.wrcbToCall = space.arena.i32[wr >> 2];
    space.arena.i32[wr >> 2] = 0;
    state.ranCode = true;
    space.callWeakrefCallback(wr);
    space.decref(wr);
  }
}

/** `finalize_garbage`: each object's finalizer once (FINALIZED is set before the call). */
function finalizeGarbage(state: CollectionState): void {
  const space = state.space;
  const list = state.weakOrFinal;
  for (let k = list.length - 1; k >= 0; k--) {
    const op = list[k];
    const a = space.arena;
    if ((a.u8[op + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) === 0) continue; // legacy: uncollectable
    const tp = a.i32[(op + 16) >> 2] >>> 0;
    if ((a.i32[(tp + TP_FLAGS_OFFSET) >> 2] & TPFLAGS_HAS_FINALIZE) === 0) continue;
    if ((a.u8[op + OB_XGC_BITS_OFFSET] & GC_FINALIZED_MASK) !== 0) continue;
    Atomics.or(a.u8, op + OB_XGC_BITS_OFFSET, GC_FINALIZED_MASK);
    state.ranCode = true;
    space.callFinalizer(op);
  }
}

// ---------------------------------------------------------------------------------- 7 resurrection

/**
 * `handle_resurrected_objects`: gc_refs again, in ob_ref_local this time (ob_tid holds the
 * links). An object with outside references left was resurrected by a finalizer: it, and all it
 * reaches, leave the list. Nothing here re-initialises ob_gc_bits, ob_mutex or ob_tid.
 */
function handleResurrectedObjectsWorldStopped(state: CollectionState): void {
  const space = state.space;
  const i32 = space.arena.i32;
  const u8 = space.arena.u8;
  const garbage = state.cand;
  let untracked = false;
  for (let k = state.ngarbage - 1; k >= 0; k--) {
    const op = garbage[k];
    if ((u8[op + OB_XGC_BITS_OFFSET] & GC_TRACKED_MASK) === 0) {
      untracked = true;
      continue;
    }
    const refcount = i32[(op >> 2) + 3] >> REF_SHARED_SHIFT;
    i32[(op >> 2) + 2] = (i32[(op >> 2) + 2] + refcount - 1) | 0;
    decrefUnreachableReferents(i32, u8, op);
  }
  if (untracked) {
    // A finalizer untracked it: drop the worklist reference after the pause.
    filterGarbage(
      state,
      (op) => (u8[op + OB_XGC_BITS_OFFSET] & GC_TRACKED_MASK) === 0,
      (op) => {
        u8[op + OB_XGC_BITS_OFFSET] &= ~GC_UNREACHABLE_MASK;
        i32[op >> 2] = 0;
        state.objsToDecref.push(op);
      },
    );
  }
  let anyResurrected = false;
  for (let k = state.ngarbage - 1; k >= 0; k--) {
    const op = garbage[k];
    const gcRefs = i32[(op >> 2) + 2];
    i32[(op >> 2) + 2] = 0;
    if (__DEBUG__ && gcRefs < 0) throw refcountTooSmall(space, op, gcRefs);
    const bits = u8[op + OB_XGC_BITS_OFFSET];
    if ((bits & GC_UNREACHABLE_MASK) !== 0 && gcRefs > 0) {
      anyResurrected = true;
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~GC_UNREACHABLE_MASK;
      markReachable(i32, u8, op);
    }
  }
  if (!anyResurrected) return;
  filterGarbage(
    state,
    (op) => (u8[op + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) === 0,
    (op) => mergeRefcount(i32, op, -1), // drops the worklist reference; ob_tid = 0 (unowned, merged)
  );
}

// ---------------------------------------------------------------------------------- 8, 9

/**
 * `delete_garbage`: each object of the list, in list order, is cleared and loses the worklist's
 * reference. Objects become this thread's as they are reached (`space.takeGarbage`: the object
 * at its turn, or a garbage referent when a reference to it is dropped first), so that
 * references between garbage objects are dropped with plain stores; exact built-in containers
 * take one fused pass (`space.deleteBuiltinGarbage`).
 */
function deleteGarbage(state: CollectionState): void {
  const space = state.space;
  const saveAll = (space.gsGet(GS_DEBUG) & DEBUG_SAVEALL) !== 0;
  const garbage = space.gsGet(GS_GARBAGE) >>> 0;
  const list = state.cand;
  const n = state.ngarbage;
  state.unreachable = 0;
  state.ngarbage = 0;
  // Default allocators: blocks go straight back to @ft/mimalloc (space.directFree, reset by the
  // space as soon as any behaviour runs, and after this phase).
  space.directFree = space.alloc.directFreeArena?.() ?? null;
  try {
    deleteList(state, list, n, saveAll, garbage);
  } finally {
    space.directFree = null;
  }
}

/** Each object of `list[0..n)`, in list order (from the end of the array). */
function deleteList(state: CollectionState, list: Int32Array, n: number, saveAll: boolean, garbage: number): void {
  const space = state.space;
  for (let k = n - 1; k >= 0; k--) {
    const op = list[k];
    if (!saveAll && space.directFree !== null && space.deleteBuiltinGarbage(op)) {
      state.collected++;
      continue;
    }
    const u8 = space.arena.u8;
    const bits = u8[op + OB_XGC_BITS_OFFSET];
    if ((bits & GC_UNREACHABLE_MASK) !== 0) space.takeGarbage(op);
    if ((bits & GC_TRACKED_MASK) === 0) {
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~GC_UNREACHABLE_MASK; // private to this thread (see above)
    } else if (saveAll) {
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~GC_UNREACHABLE_MASK;
      state.collected++;
      space.listAppend(garbage, op);
    } else {
      // Untracked here with a plain store rather than by the deallocation that follows (which
      // would need an atomic), as subtype_dealloc untracks first.
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~(GC_UNREACHABLE_MASK | GC_TRACKED_MASK);
      state.collected++;
      try {
        space.clearObject(op);
      } catch (e) {
        Atomics.or(space.arena.u8, op + OB_XGC_BITS_OFFSET, GC_TRACKED_MASK); // it may live on
        space.unraisable(`tp_clear of ${space.typeName(op)}`, e);
      }
    }
    space.decref(op);
  }
}

function handleLegacyFinalizers(state: CollectionState): void {
  const space = state.space;
  const debug = space.gsGet(GS_DEBUG);
  const garbage = space.gsGet(GS_GARBAGE) >>> 0;
  while (state.legacyFinalizers !== 0) {
    const op = state.legacyFinalizers;
    const a = space.arena;
    state.legacyFinalizers = a.i32[op >> 2];
    a.i32[op >> 2] = 0;
    state.uncollectable++;
    if ((debug & DEBUG_UNCOLLECTABLE) !== 0)
      space.stderr(`gc: uncollectable <${space.typeName(op)} 0x${op.toString(16)}>`);
    const tp = a.i32[(op + 16) >> 2] >>> 0;
    if (
      (a.i32[(tp + TP_FLAGS_OFFSET) >> 2] & TPFLAGS_HAS_LEGACY_DEL) !== 0 ||
      (debug & DEBUG_SAVEALL) !== 0
    ) {
      space.listAppend(garbage, op);
    }
    space.decref(op);
  }
}

// ---------------------------------------------------------------------------------- freeze, objects, validation

/** A visitor over tracked objects (world stopped) calling `fn(op, tag)`. */
class ObjectVisitor implements HeapVisitor {
  offset = 0;
  fn: (op: number, area: HeapArea) => void = () => {};
  u8: Uint8Array = new Uint8Array(0);
  block(block: number, _size: number, area: HeapArea): void {
    const op = block + this.offset;
    if ((this.u8[op + OB_XGC_BITS_OFFSET] & GC_TRACKED_MASK) !== 0) this.fn(op, area);
  }
}

/**
 * Run `fn` with every other thread of the interpreter stopped (`_PyEval_StopTheWorld` …
 * `_PyEval_StartTheWorld`), the arena's views refreshed first, and return its result. While it
 * runs no other thread touches any object: `fn` may read any object and take references
 * (`space.incref`) that no other thread can drop in between, and call the `…WorldStopped`
 * functions ({@link visitObjectsWorldStopped}, {@link validateObjectsWorldStopped}). `fn` must not
 * allocate or free objects, run finalizers, wait on other threads, nor collect. In GIL mode (or
 * one thread) the world has nothing to stop and `fn` simply runs.
 */
export function withWorldStopped<T>(space: ObjectSpace, fn: () => T): T {
  checkSpace("withWorldStopped", space);
  checkFunction("withWorldStopped", "fn", fn);
  const host = space.host;
  host.stopTheWorld();
  try {
    space.arena.refreshViews();
    return fn();
  } finally {
    host.startTheWorld();
  }
}

/**
 * Call `fn` for every tracked object of the interpreter, with the world stopped
 * (`_PyGC_VisitObjectsWorldStopped`). `fn` must not allocate or free objects.
 */
export function visitObjects(space: ObjectSpace, fn: (op: number, area: HeapArea) => void): void {
  checkSpace("visitObjects", space);
  checkFunction("visitObjects", "fn", fn);
  withWorldStopped(space, () => visitObjectsWorldStopped(space, fn));
}

/** {@link visitObjects} for a caller that stopped the world itself. */
export function visitObjectsWorldStopped(space: ObjectSpace, fn: (op: number, area: HeapArea) => void): void {
  checkSpace("visitObjectsWorldStopped", space);
  checkFunction("visitObjectsWorldStopped", "fn", fn);
  space.arena.refreshViews();
  const v = new ObjectVisitor();
  v.fn = fn;
  v.u8 = space.arena.u8;
  visitGcHeapsWorldStopped(space, v, null);
}

/** `gc.freeze()`: every tracked object becomes FROZEN (ignored by collections). */
export function freeze(space: ObjectSpace): void {
  checkSpace("freeze", space);
  visitObjects(space, (op) => {
    const u8 = space.arena.u8;
    if ((u8[op + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) === 0)
      u8[op + OB_XGC_BITS_OFFSET] |= GC_FROZEN_MASK;
  });
  space.gsSet(GS_FREEZE_ACTIVE, 1);
}

/** `gc.unfreeze()`. */
export function unfreeze(space: ObjectSpace): void {
  checkSpace("unfreeze", space);
  visitObjects(space, (op) => {
    space.arena.u8[op + OB_XGC_BITS_OFFSET] &= ~GC_FROZEN_MASK;
  });
  space.gsSet(GS_FREEZE_ACTIVE, 0);
}

/** `gc.get_freeze_count()`. */
export function getFreezeCount(space: ObjectSpace): number {
  checkSpace("getFreezeCount", space);
  let n = 0;
  visitObjects(space, (op) => {
    if ((space.arena.u8[op + OB_XGC_BITS_OFFSET] & GC_FROZEN_MASK) !== 0) n++;
  });
  return n;
}

/**
 * `gc.get_objects()`: every tracked object that is neither UNREACHABLE nor FROZEN, as NEW
 * references (decref them). Each is increfed while the world is still stopped, so no other
 * thread can free one between the walk and the caller's reference.
 */
export function getObjects(space: ObjectSpace): number[] {
  checkSpace("getObjects", space);
  const out: number[] = [];
  withWorldStopped(space, () => {
    visitObjectsWorldStopped(space, (op) => {
      if ((space.arena.u8[op + OB_XGC_BITS_OFFSET] & (GC_UNREACHABLE_MASK | GC_FROZEN_MASK)) === 0)
        out.push(op);
    });
    for (const op of out) space.incref(op);
  });
  return out;
}

/**
 * The debug validation pass (CPython's debug builds run whole-heap validators between phases):
 * with the world stopped, every tracked object has a valid header, no UNREACHABLE bit outside a
 * collection, lives in the heap its type asks for (GC_PRE iff pre-header), and a refcount at least
 * the number of references other tracked objects hold to it. Returns the problems found.
 */
export function validateObjects(space: ObjectSpace): string[] {
  checkSpace("validateObjects", space);
  // The whole pass runs with the world stopped: other threads' refcount and container changes
  // between the visit and the checks would otherwise read as problems.
  return withWorldStopped(space, () => validateObjectsWorldStopped(space));
}

/** {@link validateObjects} for a caller that stopped the world itself (nothing is allocated in the arena). */
export function validateObjectsWorldStopped(space: ObjectSpace): string[] {
  const problems: string[] = [];
  const objects: number[] = [];
  const tags = new Map<number, number>();
  visitObjectsWorldStopped(space, (op, area) => {
    objects.push(op);
    tags.set(op, area.tag);
  });
  const a = space.arena;
  const internal = new Map<number, number>();
  const refs: number[] = [];
  for (const op of objects) {
    const i32 = a.i32;
    const u8 = a.u8;
    const name = `0x${op.toString(16)}`;
    if (!obIsValid(i32, u8, op)) problems.push(`${name}: invalid header`);
    if ((u8[op + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) !== 0)
      problems.push(`${name}: UNREACHABLE outside a collection`);
    const tp = i32[(op + 16) >> 2] >>> 0;
    const pre = (i32[(tp + TP_FLAGS_OFFSET) >> 2] & TPFLAGS_PREHEADER) !== 0;
    if (tags.get(op) !== (pre ? HeapTag.GC_PRE : HeapTag.GC))
      problems.push(`${name}: in heap tag ${tags.get(op)}, its type asks for ${pre ? "GC_PRE" : "GC"}`);
    if (i32[(op >> 2) + 2] >>> 0 !== IMMORTAL_REFCNT_LOCAL) {
      const refcnt = (i32[(op >> 2) + 2] >>> 0) + (i32[(op >> 2) + 3] >> REF_SHARED_SHIFT);
      if (refcnt < 0) problems.push(`${name}: negative refcount ${refcnt}`);
    }
    refs.length = 0;
    forEachReferent(i32, op, refs);
    for (const r of refs) internal.set(r, (internal.get(r) ?? 0) + 1);
  }
  for (const op of objects) {
    const i32 = a.i32;
    if (i32[(op >> 2) + 2] >>> 0 === IMMORTAL_REFCNT_LOCAL) continue;
    const refcnt = (i32[(op >> 2) + 2] >>> 0) + (i32[(op >> 2) + 3] >> REF_SHARED_SHIFT);
    const held = internal.get(op) ?? 0;
    if (refcnt < held)
      problems.push(
        `0x${op.toString(16)} (${space.typeName(op)}): refcount is too small (${refcnt} < ${held} references from tracked objects)`,
      );
  }
  return problems;
}

export { VISIT_ALL_TAGS };
