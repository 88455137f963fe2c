/**
 * The per-thread mimalloc state (CPython's `_mimalloc_thread_state`, bound by `tstate_mimalloc_bind`
 * in `Python/pystate.c`) and the calling thread's current state.
 *
 * The state lives in an arena record (layout: `thread-state-layout.ts`); a {@link MimallocThreadState}
 * is this thread's handle on it, holding the heap handles its owner allocates through. The current
 * state is a module variable, so each worker has its own: @ft/interp sets it when a thread state
 * attaches and clears it when it detaches. The MEM and OBJ domains allocate from it.
 */
import { type Arena, type Heap, SEGMENT_SIZE } from "@ft/mimalloc";
import type { ObjectLayout } from "../api.ts";
import { heapDebugOffset } from "./debug-layout.ts";
import { describe } from "./domain.ts";
import { checkHeapTag, HEAP_TAG_COUNT, HeapTag } from "./heap-tags.ts";
import {
  HEAP_DEBUG_OFFSET,
  MIMALLOC_STATE_SIZE,
  MTS_ALIGN,
  MTS_CURRENT_OBJECT_HEAP,
  MTS_FLAG_SHARED_MASK,
  MTS_FLAGS,
  MTS_GENERATION,
  MTS_POOL,
  MTS_STATE_ABANDONED,
  MTS_STATE_FREE,
  MTS_STATE_LIVE,
  MTS_THREAD_ID,
  MTS_XSTATE,
  mimallocStateHeap,
  mimallocStateTld,
} from "./thread-state-layout.ts";

/** @ft/gc's free-threaded object header: `ob_type` at byte 16, a two-word (8-byte) pre-header. */
export const DEFAULT_OBJECT_LAYOUT: ObjectLayout = Object.freeze({ obTypeOffset: 16, preheaderSize: 8 });

/**
 * A thread's handle on its per-thread mimalloc state: one tld and four heaps tagged MEM, OBJECT,
 * GC and GC_PRE, plus the current object heap, in an arena record. Only the owner (the thread that
 * called {@link MimallocThreadState.init}) allocates through it; any thread may free its blocks,
 * and any thread may {@link MimallocThreadState.abandon} it once the owner no longer runs.
 *
 * A SHARED state ({@link MimallocThreadState.initShared}) is owned by a virtual thread id and
 * used by whichever thread holds an external lock (@ft/interp's GIL: CPython 3.12's
 * per-interpreter obmalloc state); each thread gets its handle with
 * {@link MimallocThreadState.attachShared}.
 */
export class MimallocThreadState {
  /** The owner's arena handle. */
  readonly arena: Arena;
  /** Byte offset of the state record (MIMALLOC_STATE_SIZE bytes, 64-aligned). */
  readonly record: number;
  /** Byte offset of the tld record inside it. */
  readonly tld: number;
  /** The MEM heap (tag 0), kept apart for the MEM domain's fast path. */
  readonly memHeap: Heap;
  /** Heap handles by tag. */
  readonly heaps: readonly Heap[];
  /** Word index (into `arena.u32`) of the current object heap's tag. */
  readonly currentObjectHeapIndex: number;
  /** Whether the state is shared (a virtual owner id, users serialized by an external lock). */
  readonly shared: boolean;
  /** The record's generation when this handle was made (see {@link MimallocThreadState.stale}). */
  readonly generation: number;

  private constructor(arena: Arena, record: number, heaps: Heap[]) {
    this.arena = arena;
    this.record = record;
    this.tld = mimallocStateTld(record);
    this.heaps = heaps;
    this.memHeap = heaps[HeapTag.MEM]!;
    this.currentObjectHeapIndex = (record >>> 2) + MTS_CURRENT_OBJECT_HEAP;
    const w = record >>> 2;
    this.shared = (arena.u32[w + MTS_FLAGS]! & MTS_FLAG_SHARED_MASK) !== 0;
    this.generation = arena.u32[w + MTS_GENERATION]!;
  }

  /**
   * Initialise the state in `record` (MIMALLOC_STATE_SIZE bytes, 64-aligned, e.g. inside a
   * thread-state record) for the CALLING thread, bound to abandoned pool `pool`: one tld and four
   * heaps tagged MEM=0, OBJECT=1, GC=2, GC_PRE=3, each with CPython's `debug_offset`; the current
   * object heap is OBJECT. CPython's `tstate_mimalloc_bind`.
   *
   * @param layout - the object header, for the heaps' debug offsets. @defaultValue DEFAULT_OBJECT_LAYOUT
   * @throws RangeError when `record` is not a 64-aligned record offset or `pool` is not a pool.
   * @throws Error when `record` holds a live state (abandon it first).
   */
  static init(
    arena: Arena,
    record: number,
    pool: number,
    layout: ObjectLayout = DEFAULT_OBJECT_LAYOUT,
  ): MimallocThreadState {
    return MimallocThreadState.initIn("init", arena, record, pool, layout, -1);
  }

  /**
   * Initialise a SHARED state in `record` (same layout as {@link MimallocThreadState.init}), bound
   * to `pool` and owned by a virtual thread id (@ft/mimalloc's `tldInitShared`): `ownerId` 0 takes
   * a fresh one; a previous owner id re-initialises an abandoned state for the same owner, so that
   * its blocks and objects keep their owner. Any thread may then allocate through it while holding
   * the lock that serializes its users (and calling `arena.refreshViews()` after taking it); every
   * free of its blocks is a cross-thread free. Bumps the record's generation, so handles made
   * before (`attachShared`) become {@link MimallocThreadState.stale}. Returns the caller's handle;
   * `MTS_THREAD_ID` holds the owner id.
   *
   * @throws RangeError for a bad record, pool or owner id; Error when `record` holds a live state.
   */
  static initShared(
    arena: Arena,
    record: number,
    pool: number,
    ownerId = 0,
    layout: ObjectLayout = DEFAULT_OBJECT_LAYOUT,
  ): MimallocThreadState {
    if (typeof ownerId !== "number" || !Number.isInteger(ownerId) || ownerId < 0) {
      throw new RangeError(`MimallocThreadState.initShared: ownerId must be 0 or a virtual owner id, got ${String(ownerId)}`);
    }
    return MimallocThreadState.initIn("initShared", arena, record, pool, layout, ownerId);
  }

  /**
   * This thread's handle on the live SHARED state in `record` (made by `initShared`, possibly on
   * another thread): heap handles through @ft/mimalloc's `heapAttach`. Use it only while holding
   * the lock that serializes the state's users; make a new one when it is
   * {@link MimallocThreadState.stale} (the state was re-initialised or abandoned).
   *
   * @throws RangeError when `record` is not a 64-aligned offset or holds no state; Error when the
   *   state is abandoned or not shared.
   */
  static attachShared(arena: Arena, record: number): MimallocThreadState {
    checkArena("MimallocThreadState.attachShared", arena);
    checkStateRecord("MimallocThreadState.attachShared", record);
    arena.ensureView(record + MIMALLOC_STATE_SIZE);
    const w = record >>> 2;
    const state = Atomics.load(arena.u32, w + MTS_XSTATE);
    if (state === MTS_STATE_ABANDONED) {
      throw new Error(`MimallocThreadState.attachShared: the state in record ${record} was abandoned`);
    }
    if (state !== MTS_STATE_LIVE) {
      throw new RangeError(`MimallocThreadState.attachShared: record ${record} holds no mimalloc thread state`);
    }
    if ((arena.u32[w + MTS_FLAGS]! & MTS_FLAG_SHARED_MASK) === 0) {
      throw new Error(
        `MimallocThreadState.attachShared: the state in record ${record} belongs to thread ` +
          `${arena.u32[w + MTS_THREAD_ID]} (not shared); only its owner allocates through it`,
      );
    }
    const heaps: Heap[] = [];
    for (let tag = 0; tag < HEAP_TAG_COUNT; tag++) heaps.push(arena.heapAttach(mimallocStateHeap(record, tag as HeapTag)));
    return new MimallocThreadState(arena, record, heaps);
  }

  /** `init` (ownerId < 0: the calling thread owns it) and `initShared`. */
  private static initIn(
    fn: string,
    arena: Arena,
    record: number,
    pool: number,
    layout: ObjectLayout,
    ownerId: number,
  ): MimallocThreadState {
    checkArena(`MimallocThreadState.${fn}`, arena);
    checkStateRecord(`MimallocThreadState.${fn}`, record);
    checkObjectLayout(`MimallocThreadState.${fn}`, layout);
    arena.ensureView(record + MIMALLOC_STATE_SIZE);
    const w = record >>> 2;
    if (Atomics.load(arena.u32, w + MTS_XSTATE) === MTS_STATE_LIVE) {
      throw new Error(
        `MimallocThreadState.${fn}: record ${record} holds a live state of thread ` +
          `${arena.u32[w + MTS_THREAD_ID]}; abandon it first`,
      );
    }
    const tld = mimallocStateTld(record);
    // Both validate the record area and the pool.
    const owner = ownerId < 0 ? arena.threadId : arena.tldInitShared(tld, pool, ownerId);
    if (ownerId < 0) arena.tldInit(tld, pool);
    const heaps: Heap[] = [];
    for (let tag = 0; tag < HEAP_TAG_COUNT; tag++) {
      const heapRecord = mimallocStateHeap(record, tag as HeapTag);
      heaps.push(arena.heapInit(heapRecord, tld, tag));
      // CPython: heaps[i].debug_offset, block-relative, with the debug header counted.
      arena.u32[(heapRecord >>> 2) + HEAP_DEBUG_OFFSET] = heapDebugOffset(
        tag as HeapTag,
        layout.obTypeOffset,
        layout.preheaderSize,
        true,
      );
    }
    const u32 = arena.u32;
    u32[w + MTS_CURRENT_OBJECT_HEAP] = HeapTag.OBJECT;
    u32[w + MTS_THREAD_ID] = owner;
    u32[w + MTS_POOL] = pool;
    u32[w + MTS_GENERATION] = arena.nextStamp(); // arena-wide: differs even after the record is freed and reused
    u32[w + MTS_FLAGS] = ownerId < 0 ? 0 : MTS_FLAG_SHARED_MASK;
    Atomics.store(u32, w + MTS_XSTATE, MTS_STATE_LIVE); // publishes the fields above
    return new MimallocThreadState(arena, record, heaps);
  }

  /**
   * Abandon the heaps of the state in `record` into its pool, from ANY thread: the owner no longer
   * runs (it exited, was terminated, or is done with the state). Its live blocks stay valid, and a
   * thread whose tld is bound to the same pool reclaims their pages into its heap with the same
   * tag. CPython's `_PyThreadState_ClearMimallocHeaps`. Abandoning twice does nothing.
   *
   * @throws RangeError when `record` holds no state.
   */
  static abandon(arena: Arena, record: number): void {
    checkArena("MimallocThreadState.abandon", arena);
    checkStateRecord("MimallocThreadState.abandon", record);
    arena.ensureView(record + MIMALLOC_STATE_SIZE);
    const xstate = (record >>> 2) + MTS_XSTATE;
    const seen = Atomics.compareExchange(arena.u32, xstate, MTS_STATE_LIVE, MTS_STATE_ABANDONED);
    if (seen === MTS_STATE_ABANDONED) return;
    if (seen !== MTS_STATE_LIVE) {
      throw new RangeError(`MimallocThreadState.abandon: record ${record} holds no mimalloc thread state`);
    }
    if (current !== null && current.record === record && current.arena.buffer === arena.buffer)
      current = null;
    arena.abandonTld(mimallocStateTld(record));
  }

  /** The heap with `tag`. @throws as `checkHeapTag` for a tag out of range. */
  heap(tag: HeapTag): Heap {
    return this.heaps[checkHeapTag(tag)]!;
  }

  /** The tag of the heap that OBJ-domain allocations go to (OBJECT unless set otherwise). */
  get currentObjectHeap(): HeapTag {
    return this.arena.u32[this.currentObjectHeapIndex] as HeapTag;
  }

  set currentObjectHeap(tag: HeapTag) {
    if (tag !== HeapTag.OBJECT && tag !== HeapTag.GC && tag !== HeapTag.GC_PRE) {
      throw new RangeError(
        `currentObjectHeap: objects go to OBJECT (1), GC (2) or GC_PRE (3), got ${String(tag)}`,
      );
    }
    this.arena.u32[this.currentObjectHeapIndex] = tag;
  }

  /** The heap that OBJ-domain allocations go to now. */
  currentObjectHeapHandle(): Heap {
    return this.heaps[this.arena.u32[this.currentObjectHeapIndex]!]!;
  }

  /** CPython's `debug_offset` of the heap with `tag` (block-relative, debug header counted). */
  debugOffset(tag: HeapTag): number {
    return this.arena.u32[(mimallocStateHeap(this.record, checkHeapTag(tag)) >>> 2) + HEAP_DEBUG_OFFSET]!;
  }

  /** Whether the record is still live (not abandoned). */
  get live(): boolean {
    return Atomics.load(this.arena.u32, (this.record >>> 2) + MTS_XSTATE) === MTS_STATE_LIVE;
  }

  /**
   * Whether this handle no longer fits its record: the state was abandoned, or re-initialised
   * since the handle was made (its generation moved on). Make a new handle (`attachShared`).
   */
  get stale(): boolean {
    const w = this.record >>> 2;
    return (
      Atomics.load(this.arena.u32, w + MTS_XSTATE) !== MTS_STATE_LIVE ||
      this.arena.u32[w + MTS_GENERATION] !== this.generation
    );
  }
}

/**
 * Throws unless `record` could hold a state: a 64-aligned positive offset whose state fits in the
 * arena's record area (segment 0, where `recordAlloc` carves records).
 */
function checkStateRecord(fn: string, record: unknown): asserts record is number {
  if (
    typeof record !== "number" ||
    !Number.isInteger(record) ||
    record <= 0 ||
    record % MTS_ALIGN !== 0 ||
    record + MIMALLOC_STATE_SIZE > SEGMENT_SIZE
  ) {
    throw new RangeError(
      `${fn}: record must be a 64-aligned offset in the arena's record area, got ${typeof record === "number" ? record : describe(record)}`,
    );
  }
}

/** Throws unless `arena` is an arena handle (`Arena.create` / `Arena.attach`). */
export function checkArena(fn: string, arena: unknown): asserts arena is Arena {
  if (
    typeof arena !== "object" ||
    arena === null ||
    !((arena as Partial<Arena>).u32 instanceof Uint32Array) ||
    typeof (arena as Partial<Arena>).malloc !== "function"
  ) {
    throw new TypeError(`${fn}: arena must be an Arena (Arena.create or Arena.attach), got ${describe(arena)}`);
  }
}

/** Throws unless `layout` gives `obTypeOffset` and `preheaderSize` as non-negative integers. */
function checkObjectLayout(fn: string, layout: unknown): asserts layout is ObjectLayout {
  if (typeof layout !== "object" || layout === null) {
    throw new TypeError(`${fn}: layout must be an ObjectLayout object, got ${describe(layout)}`);
  }
  for (const name of ["obTypeOffset", "preheaderSize"] as const) {
    const value = (layout as Partial<ObjectLayout>)[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `${fn}: layout.${name} must be a non-negative integer, got ${typeof value === "number" ? value : describe(value)}`,
      );
    }
  }
}

/**
 * The state of the record at `record`: FREE (0), LIVE (1) or ABANDONED (2).
 * @throws RangeError when `record` could not hold a state.
 */
export function mimallocStateOf(arena: Arena, record: number): number {
  checkArena("mimallocStateOf", arena);
  checkStateRecord("mimallocStateOf", record);
  arena.ensureView(record + MIMALLOC_STATE_SIZE);
  const state = Atomics.load(arena.u32, (record >>> 2) + MTS_XSTATE);
  return state === MTS_STATE_LIVE || state === MTS_STATE_ABANDONED ? state : MTS_STATE_FREE;
}

// ------------------------------------------------------------------------------- current state

/** The calling thread's current state; a module variable, so each worker has its own. */
let current: MimallocThreadState | null = null;

/**
 * Make `state` the calling thread's current state (or clear it with `null`). @ft/interp calls it
 * when a thread state attaches and detaches. The state must belong to the calling thread, or be
 * a shared state (`attachShared`) whose lock the calling thread holds (GIL mode: the
 * interpreter's state, made current while its GIL is held).
 */
export function setCurrentThreadState(state: MimallocThreadState | null): void {
  if (state !== null && !(state instanceof MimallocThreadState)) {
    throw new TypeError(`setCurrentThreadState: state must be a MimallocThreadState or null, got ${describe(state)}`);
  }
  if (state?.stale) {
    throw new Error(
      state.live
        ? `setCurrentThreadState: the state in record ${state.record} was re-initialised since this handle was made; ` +
            "make a new handle (MimallocThreadState.attachShared)"
        : `setCurrentThreadState: the state in record ${state.record} was abandoned`,
    );
  }
  current = state;
}

/** The calling thread's current state, or `null` when no thread state is attached. */
export function currentThreadState(): MimallocThreadState | null {
  return current;
}
