/**
 * The object space: one thread's handle on the objects of one interpreter (CPython's object API
 * over `_PyThreadStateImpl`). It holds offsets and views, never objects: every object, type and
 * queue lives in the arena, and any thread with a space on the same gc state may use any object.
 *
 * Reference counting is CPython's biased scheme (`Objects/object.c`, `Python/brc.c`):
 *
 *   incref   owner (ob_tid == this thread): ob_ref_local += 1, a plain store
 *            other threads: ob_ref_shared += 1 << 2, an atomic add
 *   decref   owner: ob_ref_local -= 1; at 0, merge (`_Py_MergeZeroLocalRefcount`): shared 0 → dealloc,
 *            else ob_tid = 0 and the shared field becomes MERGED (dealloc when that count is 0)
 *            others (`_Py_DecRefShared`): CAS; a shared count of 0 (INIT / MAYBE_WEAKREF) is not
 *            decremented but QUEUED to the owner (the queue holds that reference); MERGED 1 → 0
 *            deallocates
 *   merge    the owner drains its queue (`mergeRefcounts`), or the collector does with the world
 *            stopped, for every thread (dead ones included): merged count − 1 (the queue's), 0 → dealloc
 *
 * Immortal objects (`ob_ref_local == UINT32_MAX`: the built-in types and their names) are never
 * counted nor freed. Deallocation goes through the type's layout from any thread; deallocations
 * triggered during a deallocation are queued and run iteratively (CPython's trashcan), so freeing a
 * long chain does not grow the JavaScript stack.
 *
 * API conventions, as CPython's: constructors return a NEW reference (the caller must `decref` it);
 * arguments are BORROWED; containers take their own reference to what is stored in them; getters
 * return borrowed references. `0` stands for None / NULL.
 */
import type { Arena } from "@ft/mimalloc";
import { type ObjectAllocator, HeapTag } from "./allocator.ts";
import { AssertionError, assert } from "./assert.ts";
import { type TypeBehaviour, typeBehaviour, weakrefCallback } from "./behaviours.ts";
import {
  BRC_CAPACITY,
  BRC_COUNT,
  BRC_ITEMS,
  BRC_NEXT,
  BRC_RECORD_SIZE,
  BRC_BUCKET_COUNT,
  BRC_TID,
  brcLock,
  brcUnlock,
  DEFAULT_THRESHOLD0,
  DEFAULT_THRESHOLD1,
  GC_STATE_INITIALIZING,
  GC_STATE_MAGIC,
  GS_BRC_BUCKETS,
  GS_BUILTINS,
  GS_ENABLED,
  GS_GARBAGE,
  GS_LONG_LIVED_TOTAL,
  GS_THRESHOLD0,
  GS_THRESHOLD1,
  GS_XCOLLECTING,
  GS_XMAGIC,
  GS_XYOUNG_COUNT,
  gsField,
  LOCAL_ALLOC_COUNT_THRESHOLD,
} from "./gc-state-layout.ts";
import {
  clearFreeLists,
  FL_DICT,
  FL_LENGTHS,
  FL_LIST,
  FL_TUPLE_MAX_SIZE,
  freeListPop,
  freeListPush,
} from "./freelists.ts";
import type { GcHost } from "./host.ts";
import {
  GC_FINALIZED_MASK,
  GC_TRACKED_MASK,
  GC_UNREACHABLE_MASK,
  IMMORTAL_REFCNT_LOCAL,
  OB_XGC_BITS_OFFSET,
  OBJECT_HEADER_SIZE,
  obClearGcBits,
  obHasGcBits,
  obInit,
  obRefcnt,
  obSetGcBits,
  PREHEADER_SIZE,
  REF_MAYBE_WEAKREF,
  REF_MERGED,
  REF_QUEUED,
  REF_SHARED_FLAG_MASK,
  REF_SHARED_SHIFT,
} from "./object-layout.ts";
import {
  DICT_DUMMY,
  DICT_ENTRIES_OFFSET,
  DICT_ENTRY_WORDS,
  DICT_FILL_OFFSET,
  DICT_MASK_OFFSET,
  DICT_SIZE,
  DICT_USED_OFFSET,
  INT_SIZE,
  INT_VALUE_OFFSET,
  LIST_ALLOCATED_OFFSET,
  LIST_ITEMS_OFFSET,
  LIST_SIZE,
  STR_DATA_OFFSET,
  STR_HASH_OFFSET,
  STR_LENGTH_OFFSET,
  TP_BASE_OFFSET,
  TP_DICT_OFFSET,
  TP_MRO_OFFSET,
  TP_NAME_OFFSET,
  TPFLAGS_HAS_FINALIZE,
  TPFLAGS_HAS_LEGACY_DEL,
  TPFLAGS_HAVE_GC,
  TPFLAGS_HEAPTYPE,
  TPFLAGS_MANAGED_DICT,
  TPFLAGS_PREHEADER,
  TUPLE_ITEMS_OFFSET,
  TYPE_OBJECT_SIZE,
  TypeKind,
  tpBase,
  tpBasicSize,
  tpDict,
  tpFlags,
  tpInit,
  tpItemSize,
  tpKind,
  tpIsGc,
  tpName,
  tpRefmap,
  VAR_SIZE_OFFSET,
  WEAKREF_SIZE,
  WR_CALLBACK_OFFSET,
  WR_NEXT_OFFSET,
  WR_OBJECT_OFFSET,
  WR_PREV_OFFSET,
  weaklistAddress,
} from "./type-layout.ts";

/** Indexes of the built-in types (`tp_id`); a built-in type's object sits at `builtins + id · TYPE_OBJECT_SIZE`. */
export const BuiltinType = {
  type: 1,
  object: 2,
  int: 3,
  str: 4,
  tuple: 5,
  list: 6,
  dict: 7,
  weakref: 8,
} as const;
/** One of {@link BuiltinType}'s values. */
export type BuiltinType = (typeof BuiltinType)[keyof typeof BuiltinType];
const BUILTIN_NAMES = ["", "type", "object", "int", "str", "tuple", "list", "dict", "weakref"] as const;
const BUILTIN_COUNT = BUILTIN_NAMES.length;
/** Size of the built-ins record: the type objects, then their names (immortal str objects). */
const BUILTINS_RECORD_SIZE = 2048;
const BUILTIN_NAME_SLOT = 64;

/** Options of a class made with {@link ObjectSpace.newClass}. */
export interface ClassOptions {
  /** The base class (a type); its flags (finalizers) are inherited. @defaultValue `object` */
  base?: number;
  /** Instances have a finalizer (`__del__`, PEP 442): register it with `registerTypeBehaviour(name, { finalize })`. */
  finalize?: boolean;
  /** Instances have a legacy finalizer (`tp_del`): unreachable cycles holding one go to `gc.garbage`. */
  legacyDel?: boolean;
  /** Reference slots (`__slots__`) in the instance body, besides the managed `__dict__`. @defaultValue 0 */
  slots?: number;
  /** Instances are not GC objects (no tracking, OBJECT heap, no managed dict or weakrefs). @defaultValue false */
  noGc?: boolean;
}

/** Where a collection's errors go: CPython's `PyErr_WriteUnraisable` ("Exception ignored in …"). */
export type UnraisableHook = (message: string, error: unknown) => void;

/** A thrown error of the object API (CPython's TypeError / IndexError / MemoryError analogues). */
export class ObjectError extends Error {
  override name = "ObjectError";
}

const I32_MAX = 0x7fffffff;

/** Throws a TypeError naming `fn`'s `space` unless it is an `ObjectSpace`. */
export function checkSpace(fn: string, space: unknown): asserts space is ObjectSpace {
  if (!(space instanceof ObjectSpace)) {
    throw new TypeError(`${fn}: space must be an ObjectSpace, got ${describeArg(space)}`);
  }
}

/** Throws a TypeError naming `fn`'s argument `name` unless `value` is a function. */
export function checkFunction(fn: string, name: string, value: unknown): void {
  if (typeof value !== "function") throw new TypeError(`${fn}: ${name} must be a function, got ${describeArg(value)}`);
}

/** A bad argument for a message: its type, and its value when that is short. */
export function describeArg(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return `${typeof value} ${value}`;
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `object ${Object.prototype.toString.call(value)}` : typeof value;
}

/** A slot index for "no slot …": a number as itself, anything else described. */
function describeSlot(i: unknown): string {
  return typeof i === "number" ? String(i) : describeArg(i);
}

/**
 * The cold branch of an index check on a `kind` ("list", "tuple"): a TypeError for an index that
 * is not an integer, else CPython's IndexError (`what`: "list index", "list assignment index", …).
 */
function badIndex(kind: string, what: string, i: unknown): never {
  if (typeof i !== "number" || !Number.isInteger(i)) {
    throw new ObjectError(`TypeError: ${kind} indices must be integers, not ${describeArg(i)}`);
  }
  throw new ObjectError(`IndexError: ${what} out of range`);
}

/**
 * One thread's handle on the objects of one interpreter. Make it with `createStandaloneSpace`,
 * `attachStandaloneSpace` or `objectSpaceFor(runtime)`.
 */
export class ObjectSpace {
  readonly arena: Arena;
  /** The allocator (this thread's PyMem). */
  readonly alloc: ObjectAllocator;
  /** The collector's state record of the interpreter. */
  readonly gcState: number;
  /** What the collector asks of the runtime. */
  readonly host: GcHost;
  /**
   * The biased-refcount owner id of this space: `ob_tid` of the objects it owns, whose counts it
   * changes with plain stores. This thread's arena id, or the host's `ownerThreadId` (GIL mode: the
   * interpreter's virtual id, shared by every thread holding its GIL). Locks use `arena.threadId`.
   */
  readonly tid: number;
  /** Built-in types (immortal objects). */
  readonly types: Readonly<Record<keyof typeof BuiltinType, number>>;
  /** Where errors in finalizers and callbacks are reported; default: `console.error`. */
  onUnraisable: UnraisableHook = defaultUnraisable;
  /** Where the collector's DEBUG_* output goes (CPython writes to stderr); default: `console.error`. */
  stderr: (line: string) => void = (line) => printError(line);
  /** `gc.callbacks` of this thread: called with "start" / "stop" around each collection it runs. */
  readonly gcCallbacks: ((
    phase: "start" | "stop",
    info: { generation: number; collected: number; uncollectable: number },
  ) => void)[] = [];
  /** Debug hook: called between the collector's phases (tests run validators there). */
  onCollectorPhase: ((phase: string) => void) | null = null;
  /** @internal Allocations minus deallocations of GC objects not yet added to the young count. */
  localAllocCount = 0;
  /** @internal Nesting of deallocation; > 0 queues further deallocations. */
  private deallocDepth = 0;
  private readonly pendingDealloc: number[] = [];
  /** @internal Set while this thread runs a collection (no nested collections). */
  collecting = false;
  /**
   * @internal This thread's free lists (a region in the arena, see freelists.ts), 0 when it has
   * none (its thread state was cleared): set by the host.
   */
  freeLists = 0;
  /**
   * @internal Set by the collector's delete phase when the allocators are the defaults
   * (`ObjectAllocator.directFreeArena`): object blocks and item arrays are freed straight to this
   * arena instead of through pymem's chain. Reset to null as soon as any JavaScript behaviour runs
   * (a finalizer, `__del__`, a weakref callback, a repr, the unraisable hook), since it may install
   * an allocator hook.
   */
  directFree: Arena | null = null;
  private readonly behaviourCache = new Map<
    number,
    { name: number; b: TypeBehaviour | undefined; n: string }
  >();

  /** @internal Use the factories. */
  constructor(arena: Arena, alloc: ObjectAllocator, gcState: number, host: GcHost) {
    this.arena = arena;
    this.alloc = alloc;
    this.gcState = gcState;
    this.host = host;
    this.tid = host.ownerThreadId ?? arena.threadId;
    const builtins = initGcState(arena, gcState);
    const types = {} as Record<keyof typeof BuiltinType, number>;
    for (const [name, id] of Object.entries(BuiltinType))
      types[name as keyof typeof BuiltinType] = builtins + id * TYPE_OBJECT_SIZE;
    this.types = Object.freeze(types);
    if (arena.u32[gsField(gcState, GS_GARBAGE)] === 0) this.initGarbageList();
  }

  private initGarbageList(): void {
    // The garbage list belongs to the state (one reference, never dropped). Races: first CAS wins.
    const list = this.newList();
    if (Atomics.compareExchange(this.arena.i32, gsField(this.gcState, GS_GARBAGE), 0, list) !== 0)
      this.decref(list);
  }

  // ------------------------------------------------------------------------------- views

  /** The arena's int32 view, covering `end` bytes (another thread may have grown the buffer). */
  i32(end = 0): Int32Array {
    const a = this.arena;
    if (end > a.limit) a.refreshViews();
    return a.i32;
  }

  // ------------------------------------------------------------------------------- refcounts

  /** `Py_INCREF` (biased: a plain store by the owner, an atomic add by others). 0 is ignored. */
  incref(op: number): void {
    if (op === 0) return;
    const a = this.arena;
    if (op + OBJECT_HEADER_SIZE > a.limit) a.refreshViews();
    const i32 = a.i32;
    const w = op >> 2;
    const local = i32[w + 2] >>> 0;
    if (local === IMMORTAL_REFCNT_LOCAL) return;
    if (i32[w] >>> 0 === this.tid) i32[w + 2] = local + 1;
    else Atomics.add(i32, w + 3, 1 << REF_SHARED_SHIFT);
  }

  /** `Py_DECREF`: deallocates through the type when the count reaches zero, from any thread. 0 is ignored. */
  decref(op: number): void {
    if (op === 0) return;
    const a = this.arena;
    if (op + OBJECT_HEADER_SIZE > a.limit) a.refreshViews();
    const i32 = a.i32;
    const w = op >> 2;
    const local = i32[w + 2] >>> 0;
    if (local === IMMORTAL_REFCNT_LOCAL) return;
    if (i32[w] >>> 0 === this.tid) {
      if (__DEBUG__) assert(local > 0, "decref of an object with no local reference (refcount underflow)");
      i32[w + 2] = local - 1;
      if (local === 1) this.mergeZeroLocal(op);
    } else {
      this.decrefShared(op);
    }
  }

  /** `Py_REFCNT`. */
  refcnt(op: number): number {
    return obRefcnt(this.i32(op + OBJECT_HEADER_SIZE), op);
  }

  /** `_Py_MergeZeroLocalRefcount`: the owner's local count reached zero. */
  private mergeZeroLocal(op: number): void {
    const i32 = this.arena.i32;
    const w = op >> 2;
    let shared = Atomics.load(i32, w + 3);
    if (shared === 0) {
      this.dealloc(op);
      return;
    }
    i32[w] = 0; // give up ownership
    for (;;) {
      const merged = (shared & ~REF_SHARED_FLAG_MASK) | REF_MERGED;
      const seen = Atomics.compareExchange(i32, w + 3, shared, merged);
      if (seen === shared) {
        if (merged === REF_MERGED) this.dealloc(op);
        return;
      }
      shared = seen;
    }
  }

  /** `_Py_DecRefShared`: a thread that does not own `op` drops a reference. */
  private decrefShared(op: number): void {
    const i32 = this.arena.i32;
    const w = op >> 2;
    let shared = Atomics.load(i32, w + 3);
    for (;;) {
      const shouldQueue = shared === 0 || shared === REF_MAYBE_WEAKREF;
      // Queued: the count is not decremented, the queue holds that reference.
      const next = shouldQueue ? REF_QUEUED : shared - (1 << REF_SHARED_SHIFT);
      const seen = Atomics.compareExchange(i32, w + 3, shared, next);
      if (seen === shared) {
        if (shouldQueue) this.queueForOwner(op);
        else if (next === REF_MERGED) this.dealloc(op);
        return;
      }
      shared = seen;
    }
  }

  /**
   * `_Py_ExplicitMergeRefcount`: fold the local count and `extra` into the shared field, MERGED,
   * unowned. Returns the merged count.
   */
  explicitMerge(op: number, extra: number): number {
    const i32 = this.i32(op + OBJECT_HEADER_SIZE);
    const w = op >> 2;
    let shared = Atomics.load(i32, w + 3);
    for (;;) {
      const count = (shared >> REF_SHARED_SHIFT) + (i32[w + 2] >>> 0) + extra;
      const seen = Atomics.compareExchange(i32, w + 3, shared, (count << REF_SHARED_SHIFT) | REF_MERGED);
      if (seen === shared) {
        i32[w + 2] = 0;
        i32[w] = 0;
        return count;
      }
      shared = seen;
    }
  }

  /** `_Py_brc_queue_object`: put `op` on its owner's merge queue (in the arena). */
  private queueForOwner(op: number): void {
    const a = this.arena;
    const i32 = a.i32;
    const owner = i32[op >> 2] >>> 0;
    if (owner === 0) {
      // The owner is merging concurrently: merge here (the queue's reference goes with it).
      if (this.explicitMerge(op, -1) === 0) this.dealloc(op);
      return;
    }
    brcLock(i32, this.gcState, this.arena.threadId);
    let q: number;
    try {
      q = this.brcQueueLockHeld(owner, true);
      const u32 = a.u32;
      const qw = q >>> 2;
      let count = u32[qw + BRC_COUNT];
      if (count === u32[qw + BRC_CAPACITY]) {
        const capacity = Math.max(16, count * 2);
        const items = a.realloc(u32[qw + BRC_ITEMS], capacity * 4);
        if (items === 0) throw new ObjectError("MemoryError: cannot grow a refcount merge queue");
        a.u32[qw + BRC_ITEMS] = items;
        a.u32[qw + BRC_CAPACITY] = capacity;
      }
      count = a.u32[qw + BRC_COUNT];
      a.ensureView(a.u32[qw + BRC_ITEMS] + 4 * (count + 1));
      a.u32[(a.u32[qw + BRC_ITEMS] >>> 2) + count] = op;
      a.u32[qw + BRC_COUNT] = count + 1;
    } finally {
      brcUnlock(a.i32, this.gcState);
    }
  }

  /** The queue record of `owner` (created when `create`); hold the brc lock. */
  private brcQueueLockHeld(owner: number, create: boolean): number {
    const u32 = this.arena.u32;
    const bucket = gsField(this.gcState, GS_BRC_BUCKETS) + (owner % BRC_BUCKET_COUNT);
    for (let q = u32[bucket]; q !== 0; q = u32[(q >>> 2) + BRC_NEXT]) {
      if (u32[(q >>> 2) + BRC_TID] === owner) return q;
    }
    if (!create) return 0;
    const q = this.arena.recordAlloc(BRC_RECORD_SIZE);
    if (q === 0) throw new ObjectError("MemoryError: no record left for a refcount merge queue");
    const w = q >>> 2;
    u32[w + BRC_TID] = owner;
    u32[w + BRC_NEXT] = u32[bucket];
    u32[bucket] = q;
    return q;
  }

  /**
   * Take the merge queue of thread `owner` out of the table (all of it when `remove`, else only its
   * items); returns the queued objects. The caller merges them.
   */
  takeQueued(owner: number, remove: boolean): number[] {
    const a = this.arena;
    const out: number[] = [];
    brcLock(a.i32, this.gcState, a.threadId);
    try {
      const q = this.brcQueueLockHeld(owner, false);
      if (q === 0) return out;
      const qw = q >>> 2;
      const items = a.u32[qw + BRC_ITEMS];
      const count = a.u32[qw + BRC_COUNT];
      a.ensureView(items + 4 * count); // another thread may have grown the buffer for the items
      const u32 = a.u32;
      for (let i = 0; i < count; i++) out.push(u32[(items >>> 2) + i]);
      u32[qw + BRC_COUNT] = 0;
      if (remove) {
        const bucket = gsField(this.gcState, GS_BRC_BUCKETS) + (owner % BRC_BUCKET_COUNT);
        let link = bucket;
        while (u32[link] !== q) link = (u32[link] >>> 2) + BRC_NEXT;
        u32[link] = u32[qw + BRC_NEXT];
        if (items !== 0) a.free(items);
        a.recordFree(q, BRC_RECORD_SIZE);
      }
    } finally {
      brcUnlock(a.i32, this.gcState);
    }
    return out;
  }

  /** Owner threads that have a merge queue in the table. */
  queuedOwners(): number[] {
    const u32 = this.arena.u32;
    const out: number[] = [];
    brcLock(this.arena.i32, this.gcState, this.arena.threadId);
    try {
      for (let b = 0; b < BRC_BUCKET_COUNT; b++) {
        for (let q = u32[gsField(this.gcState, GS_BRC_BUCKETS) + b]; q !== 0; q = u32[(q >>> 2) + BRC_NEXT]) {
          out.push(u32[(q >>> 2) + BRC_TID]);
        }
      }
    } finally {
      brcUnlock(this.arena.i32, this.gcState);
    }
    return out;
  }

  /**
   * `_Py_brc_merge_refcounts`: the owner merges the objects other threads queued for it (their
   * shared counts went negative); those at zero are deallocated. Returns how many were merged.
   */
  mergeRefcounts(): number {
    const objects = this.takeQueued(this.tid, false);
    for (const op of objects) {
      if (this.explicitMerge(op, -1) === 0) this.dealloc(op);
    }
    return objects.length;
  }

  // ------------------------------------------------------------------------------- allocation

  /**
   * Allocate an object of type `tp` with `items` inline items (`gc_alloc` + `_PyObject_Init`): the
   * heap by type (GC_PRE / GC / OBJECT), the pre-header zeroed, the header as `_Py_NewReference`,
   * the body zeroed; classes' instances hold a reference to their class. Not tracked yet.
   */
  allocObject(tp: number, items = 0): number {
    let i32 = this.arena.i32;
    const flags = tpFlags(i32, tp);
    const gc = (flags & TPFLAGS_HAVE_GC) !== 0;
    const pre = gc && (flags & TPFLAGS_PREHEADER) !== 0 ? PREHEADER_SIZE : 0;
    const size = (tpBasicSize(i32, tp) + items * tpItemSize(i32, tp) + 7) & ~7;
    if (gc) this.recordAllocation();
    const kind = pre !== 0 ? HeapTag.GC_PRE : gc ? HeapTag.GC : HeapTag.OBJECT;
    const p = this.alloc.mallocObject(kind, pre + size);
    if (p === 0) throw new ObjectError(`MemoryError: cannot allocate ${pre + size} bytes`);
    i32 = this.i32(p + pre + size);
    const op = p + pre;
    i32.fill(0, p >> 2, (op + size) >> 2);
    obInit(i32, op, this.tid, tp);
    if ((flags & TPFLAGS_HEAPTYPE) !== 0) this.incref(tp);
    return op;
  }

  /** `record_allocation`: buffer the count per thread, add it to the young count every 512; maybe collect. */
  private recordAllocation(): void {
    if (++this.localAllocCount < LOCAL_ALLOC_COUNT_THRESHOLD) return;
    const i32 = this.arena.i32;
    Atomics.add(i32, gsField(this.gcState, GS_XYOUNG_COUNT), this.localAllocCount);
    this.localAllocCount = 0;
    if (this.shouldCollect()) this.onScheduledCollection?.(this);
  }

  /**
   * `_Py_FREELIST_POP`: an object of list `index` of this thread's free lists, made new (header as
   * `_Py_NewReference`, owned by this thread; its body is as its deallocation left it: an empty
   * list or dict, a tuple of the right size). 0 when the list is empty. Push and pop count as a
   * deallocation and an allocation, so the young count (`gc.get_count`) does not see the lists.
   */
  private reuseFreeListed(index: number, tp: number): number {
    const region = this.freeLists;
    if (region === 0) return 0;
    const op = freeListPop(this.arena.u32, region, index);
    if (op === 0) return 0;
    this.recordAllocation(); // counted as an allocation (gc.get_count), as its push was a deallocation
    obInit(this.arena.i32, op, this.tid, tp);
    return op;
  }

  /** The length of one of this thread's free lists: `"list"`, `"dict"`, or `"tuple"` of `size` 1–20. */
  freeListLength(kind: "tuple" | "list" | "dict", size = 0): number {
    if (kind !== "tuple" && kind !== "list" && kind !== "dict") {
      throw new RangeError(`freeListLength: kind must be "tuple", "list" or "dict", got ${describeArg(kind)}`);
    }
    if (typeof size !== "number" || !Number.isInteger(size)) {
      throw new RangeError(`freeListLength: size must be an integer, got ${describeArg(size)}`);
    }
    if (this.freeLists === 0) return 0;
    const index = kind === "list" ? FL_LIST : kind === "dict" ? FL_DICT : size - 1;
    if (!(index >= 0 && index <= FL_DICT) || (kind === "tuple" && size > FL_TUPLE_MAX_SIZE))
      throw new RangeError(`freeListLength: no free list for ${kind} of size ${size}`);
    return this.arena.u32[(this.freeLists >>> 2) + FL_LENGTHS + index];
  }

  /**
   * @internal `_PyObject_ClearFreeLists` of the region at `region` (this thread's or, with the
   * world stopped or its state being cleared, another's): every object's block is freed.
   * Returns how many.
   */
  clearFreeListsAt(region: number): number {
    if (region === 0) return 0;
    this.arena.refreshViews();
    // Not counted again: the push counted the deallocation.
    return clearFreeLists(this.arena.u32, region, (op) => this.alloc.freeObject(HeapTag.GC, op));
  }

  /** @internal The collector installs the automatic collection (`_Py_ScheduleGC` + `_Py_RunGC`). */
  onScheduledCollection: ((space: ObjectSpace) => void) | null = null;

  /** `record_deallocation`. */
  private recordDeallocation(): void {
    if (--this.localAllocCount > -LOCAL_ALLOC_COUNT_THRESHOLD) return;
    Atomics.add(this.arena.i32, gsField(this.gcState, GS_XYOUNG_COUNT), this.localAllocCount);
    this.localAllocCount = 0;
  }

  /** Flush this thread's buffered allocation count into the young count (`gc.get_count` does). */
  flushAllocCount(): void {
    if (this.localAllocCount === 0) return;
    Atomics.add(this.arena.i32, gsField(this.gcState, GS_XYOUNG_COUNT), this.localAllocCount);
    this.localAllocCount = 0;
  }

  /** `gc_should_collect`: count over the threshold, enabled, and over a quarter of the long-lived objects. */
  shouldCollect(): boolean {
    const i32 = this.arena.i32;
    const count = Atomics.load(i32, gsField(this.gcState, GS_XYOUNG_COUNT));
    const threshold = i32[gsField(this.gcState, GS_THRESHOLD0)];
    if (count <= threshold || threshold === 0 || i32[gsField(this.gcState, GS_ENABLED)] === 0) return false;
    if (Atomics.load(i32, gsField(this.gcState, GS_XCOLLECTING)) !== 0) return false;
    return (
      count > i32[gsField(this.gcState, GS_LONG_LIVED_TOTAL)] / 4 ||
      i32[gsField(this.gcState, GS_THRESHOLD1)] === 0
    );
  }

  // ------------------------------------------------------------------------------- tracking

  /** `PyObject_GC_Track`. @throws ObjectError when already tracked or not a GC object. */
  track(op: number): void {
    const a = this.arena;
    this.i32(op + OBJECT_HEADER_SIZE);
    if (!tpIsGcOf(a.i32, op))
      throw new ObjectError(`cannot track ${this.safeRepr(op)}: its type is not a GC type`);
    if (obHasGcBits(a.u8, op, GC_TRACKED_MASK))
      throw new ObjectError("object already tracked by the garbage collector");
    obSetGcBits(a.u8, op, GC_TRACKED_MASK);
  }

  /** `PyObject_GC_UnTrack` (untracking an untracked object does nothing). */
  untrack(op: number): void {
    this.i32(op + OBJECT_HEADER_SIZE);
    obClearGcBits(this.arena.u8, op, GC_TRACKED_MASK);
  }

  /** `gc.is_tracked`. */
  isTracked(op: number): boolean {
    this.i32(op + OBJECT_HEADER_SIZE);
    return obHasGcBits(this.arena.u8, op, GC_TRACKED_MASK);
  }

  /** `gc.is_finalized`: the FINALIZED bit. */
  isFinalized(op: number): boolean {
    this.i32(op + OBJECT_HEADER_SIZE);
    return obHasGcBits(this.arena.u8, op, GC_FINALIZED_MASK);
  }

  // ------------------------------------------------------------------------------- built-in objects

  /** A new int (ft ints are int32). */
  newInt(value: number): number {
    if (!Number.isInteger(value) || value < -0x80000000 || value > I32_MAX) {
      throw new ObjectError(`int out of range for ft's int32 ints: ${value}`);
    }
    const op = this.allocObject(this.types.int);
    this.arena.i32[(op + INT_VALUE_OFFSET) >> 2] = value;
    return op;
  }

  /** A new str. */
  newStr(value: string): number {
    if (typeof value !== "string") throw new ObjectError(`TypeError: newStr: value must be a string, got ${describeArg(value)}`);
    const op = this.allocObject(this.types.str, value.length);
    writeStr(
      this.arena.i32,
      new Uint16Array(this.arena.buffer, op + STR_DATA_OFFSET, value.length),
      op,
      value,
    );
    return op;
  }

  /** A new tuple of `items` (each gets a reference); tracked. */
  newTuple(items: readonly number[] = []): number {
    if (!Array.isArray(items)) throw new ObjectError(`TypeError: newTuple: items must be an array of objects, got ${describeArg(items)}`);
    const n = items.length;
    let op = n >= 1 && n <= FL_TUPLE_MAX_SIZE ? this.reuseFreeListed(n - 1, this.types.tuple) : 0;
    if (op === 0) op = this.allocObject(this.types.tuple, n);
    const i32 = this.arena.i32;
    i32[(op + VAR_SIZE_OFFSET) >> 2] = items.length;
    for (let i = 0; i < items.length; i++) {
      this.incref(items[i]);
      i32[((op + TUPLE_ITEMS_OFFSET) >> 2) + i] = items[i];
    }
    obSetGcBits(this.arena.u8, op, GC_TRACKED_MASK);
    return op;
  }

  /** A new list of `items` (each gets a reference); tracked. Items live in the MEM heap. */
  newList(items: readonly number[] = []): number {
    if (!Array.isArray(items)) throw new ObjectError(`TypeError: newList: items must be an array of objects, got ${describeArg(items)}`);
    let op = this.reuseFreeListed(FL_LIST, this.types.list);
    if (op === 0) op = this.allocObject(this.types.list);
    for (const item of items) this.listAppend(op, item);
    obSetGcBits(this.arena.u8, op, GC_TRACKED_MASK);
    return op;
  }

  /** A new, empty dict; tracked. */
  newDict(): number {
    let op = this.reuseFreeListed(FL_DICT, this.types.dict);
    if (op === 0) op = this.allocObject(this.types.dict);
    obSetGcBits(this.arena.u8, op, GC_TRACKED_MASK);
    return op;
  }

  /**
   * A new class (a heap type, itself a GC object in the GC heap): instances are GC objects with a
   * managed `__dict__` and weakref list in the pre-header (GC_PRE heap), `slots` reference words,
   * and the finalizer flags asked for (inherited from the base). Tracked.
   *
   * Its `tp_mro` (`__mro__`) is the tuple (class, base, …, object), which holds the class: as in
   * CPython, a class is part of a reference cycle from the start, so dropping the last outside
   * reference does not free it; the cycle collector does.
   */
  newClass(name: string, options: ClassOptions = {}): number {
    if (typeof name !== "string" || name === "") {
      throw new ObjectError(`TypeError: newClass: name must be a non-empty string, got ${describeArg(name)}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new ObjectError(`TypeError: newClass: options must be an object, got ${describeArg(options)}`);
    }
    if (options.slots !== undefined && !(Number.isInteger(options.slots) && options.slots >= 0)) {
      throw new ObjectError(`TypeError: newClass: options.slots must be a non-negative integer, got ${describeArg(options.slots)}`);
    }
    if (options.base !== undefined && !this.isType(options.base)) {
      throw new ObjectError(`TypeError: newClass: options.base must be a type object, got ${describeArg(options.base)}`);
    }
    const base = options.base ?? this.types.object;
    let i32 = this.arena.i32;
    const baseFlags = tpFlags(i32, base);
    const baseSlots = this.slotCount(base);
    const slots = baseSlots + (options.slots ?? 0);
    if (slots > 32) throw new ObjectError("a class has at most 32 reference slots");
    let flags = TPFLAGS_HEAPTYPE | (baseFlags & (TPFLAGS_HAS_FINALIZE | TPFLAGS_HAS_LEGACY_DEL));
    if (options.noGc !== true) flags |= TPFLAGS_HAVE_GC | TPFLAGS_PREHEADER;
    if (options.finalize === true) flags |= TPFLAGS_HAS_FINALIZE;
    if (options.legacyDel === true) flags |= TPFLAGS_HAS_LEGACY_DEL;
    const nameOp = this.newStr(name);
    const dict = this.newDict();
    const tp = this.allocObject(this.types.type);
    i32 = this.arena.i32;
    tpInit(
      i32,
      tp,
      flags,
      TypeKind.PLAIN,
      OBJECT_HEADER_SIZE + slots * 4,
      0,
      slots === 32 ? -1 : (1 << slots) - 1,
      0,
    );
    i32[(tp + TP_NAME_OFFSET) >> 2] = nameOp; // the new references are the type's
    i32[(tp + TP_DICT_OFFSET) >> 2] = dict;
    this.incref(base);
    i32[(tp + TP_BASE_OFFSET) >> 2] = base;
    // __mro__ (single inheritance): the class, then its bases' chain; the tuple holds the class.
    const mro = [tp];
    for (let b = base; b !== 0; b = tpBase(this.arena.i32, b)) mro.push(b);
    this.arena.i32[(tp + TP_MRO_OFFSET) >> 2] = this.newTuple(mro);
    obSetGcBits(this.arena.u8, tp, GC_TRACKED_MASK);
    return tp;
  }

  private slotCount(tp: number): number {
    return (tpBasicSize(this.arena.i32, tp) - OBJECT_HEADER_SIZE) >> 2;
  }

  /** A new instance of class `cls` (tracked if GC). */
  newInstance(cls: number): number {
    if (!this.isType(cls) || (tpFlags(this.arena.i32, cls) & TPFLAGS_HEAPTYPE) === 0) {
      throw new ObjectError(`TypeError: newInstance: cls must be a class (newClass), got ${describeArg(cls)}`);
    }
    const op = this.allocObject(cls);
    if (tpIsGc(this.arena.i32, cls)) obSetGcBits(this.arena.u8, op, GC_TRACKED_MASK);
    return op;
  }

  /**
   * A new weak reference to `referent` (whose type must support them: instances and classes),
   * with an optional callback: a str naming a callback registered with `registerWeakrefCallback`,
   * or an object whose type's behaviour has `call`. The callback is held strongly. Tracked.
   */
  newWeakref(referent: number, callback = 0): number {
    if ((callback >>> 0) !== callback || (callback !== 0 && !this.isObjectPointer(callback))) {
      throw new ObjectError(`TypeError: newWeakref: callback must be 0 or an object, got ${describeArg(callback)}`);
    }
    const i32 = this.i32(referent + OBJECT_HEADER_SIZE);
    const head = weaklistAddress(i32, referent, this.typeOf(referent));
    if (head === 0)
      throw new ObjectError(`TypeError: cannot create weak reference to '${this.typeName(referent)}' object`);
    const wr = this.allocObject(this.types.weakref);
    this.incref(callback);
    const j = this.arena.i32;
    j[(wr + WR_OBJECT_OFFSET) >> 2] = referent;
    j[(wr + WR_CALLBACK_OFFSET) >> 2] = callback;
    this.lockObject(referent);
    try {
      const first = j[head >> 2];
      j[(wr + WR_NEXT_OFFSET) >> 2] = first;
      j[(wr + WR_PREV_OFFSET) >> 2] = 0;
      if (first !== 0) j[(first + WR_PREV_OFFSET) >> 2] = wr;
      j[head >> 2] = wr;
    } finally {
      this.unlockObject(referent);
    }
    obSetGcBits(this.arena.u8, wr, GC_TRACKED_MASK);
    return wr;
  }

  /** The referent of a weakref, or 0 when it was cleared (borrowed). */
  weakrefGet(wr: number): number {
    return this.i32(wr + WEAKREF_SIZE)[(wr + WR_OBJECT_OFFSET) >> 2] >>> 0;
  }

  /** Take the per-object lock (`ob_mutex`, CPython's `Py_BEGIN_CRITICAL_SECTION`). */
  lockObject(op: number): void {
    const u8 = this.arena.u8;
    for (let spins = 0; Atomics.compareExchange(u8, op + 6, 0, 1) !== 0; spins++) {
      if (spins > 1_000_000) throw new AssertionError("ob_mutex held for too long (a dead holder?)");
    }
  }

  /** Release the per-object lock. */
  unlockObject(op: number): void {
    Atomics.store(this.arena.u8, op + 6, 0);
  }

  // ------------------------------------------------------------------------------- reading objects

  /** `Py_TYPE(op)`. */
  typeOf(op: number): number {
    return this.i32(op + OBJECT_HEADER_SIZE)[(op + 16) >> 2] >>> 0;
  }

  /** The name of `op`'s type. */
  typeName(op: number): string {
    return this.strValue(tpName(this.arena.i32, this.typeOf(op)));
  }

  /** The name of type `tp`. */
  nameOfType(tp: number): string {
    return this.strValue(tpName(this.i32(tp + TYPE_OBJECT_SIZE), tp));
  }

  /** Whether `x` could be an object of the arena: a nonzero 8-aligned offset whose header lies in the buffer. */
  private isObjectPointer(x: unknown): x is number {
    return typeof x === "number" && (x >>> 0) === x && x !== 0 && (x & 7) === 0 && x + OBJECT_HEADER_SIZE <= this.arena.buffer.byteLength;
  }

  /** Whether `tp` is a type object (a built-in type or a class). */
  private isType(tp: unknown): tp is number {
    return this.isObjectPointer(tp) && this.typeOf(tp) === this.types.type;
  }

  /** Whether `op` is exactly of built-in type `name`. */
  is(op: number, name: keyof typeof BuiltinType): boolean {
    return this.typeOf(op) === this.types[name];
  }

  /** The value of an int. */
  intValue(op: number): number {
    this.expect(op, "int");
    return this.arena.i32[(op + INT_VALUE_OFFSET) >> 2];
  }

  /** The value of a str. */
  strValue(op: number): string {
    const i32 = this.i32(op + STR_DATA_OFFSET);
    const n = i32[(op + STR_LENGTH_OFFSET) >> 2];
    this.i32(op + STR_DATA_OFFSET + 2 * n);
    return readStr(this.arena.buffer, op, n);
  }

  /**
   * `repr(op)`: the `repr` of the behaviour registered in this thread for `op`'s class or its
   * nearest base that has one (Python's `__repr__`, inherited), else CPython-like defaults:
   * `'abc'`, `42`, `<class 'A'>`, `<list object at 0x…>`. An error thrown by a behaviour's `repr`
   * propagates, as Python's does.
   */
  repr(op: number): string {
    if (op === 0) return "None";
    const b = this.reprBehaviourOf(op);
    return b !== undefined ? b.repr!(this, op) : this.defaultRepr(op);
  }

  /**
   * {@link repr} where an error cannot be raised (`PyErr_WriteUnraisable` writing the object):
   * a throwing `repr` gives `<object repr() failed>`, as CPython prints.
   */
  safeRepr(op: number): string {
    try {
      return this.repr(op);
    } catch {
      return "<object repr() failed>";
    }
  }

  /** The `repr` behaviour of `op`'s class or its nearest base that has one (this thread's). */
  private reprBehaviourOf(op: number): TypeBehaviour | undefined {
    const i32 = this.arena.i32;
    for (let tp = this.typeOf(op); tp !== 0; tp = tpBase(this.arena.i32, tp)) {
      if ((tpFlags(i32, tp) & TPFLAGS_HEAPTYPE) === 0) return undefined; // built-in types: no behaviours
      const b = typeBehaviour(this.nameOfType(tp));
      if (b?.repr !== undefined) return b;
    }
    return undefined;
  }

  private defaultRepr(op: number): string {
    const tp = this.typeOf(op);
    if (tp === this.types.str) return `'${this.strValue(op)}'`;
    if (tp === this.types.int) return String(this.intValue(op));
    if (tp === this.types.type || tpIsGcOf(this.arena.i32, op) === false) {
      if (tp === this.types.type) return `<class '${this.nameOfType(op)}'>`;
    }
    return `<${this.typeName(op)} object at 0x${op.toString(16)}>`;
  }

  private expect(op: number, name: keyof typeof BuiltinType): void {
    if (op === 0 || this.typeOf(op) !== this.types[name]) {
      throw new ObjectError(`TypeError: expected ${name}, got ${op === 0 ? "None" : this.typeName(op)}`);
    }
  }

  // ------------------------------------------------------------------------------- tuple

  /** `len(tuple)`. */
  tupleSize(op: number): number {
    this.expect(op, "tuple");
    return this.arena.i32[(op + VAR_SIZE_OFFSET) >> 2];
  }

  /** `tuple[i]` (borrowed). */
  tupleGet(op: number, i: number): number {
    const n = this.tupleSize(op);
    if (!((i >>> 0) === i && i < n)) badIndex("tuple", "tuple index", i);
    return this.i32(op + TUPLE_ITEMS_OFFSET + 4 * n)[((op + TUPLE_ITEMS_OFFSET) >> 2) + i] >>> 0;
  }

  // ------------------------------------------------------------------------------- list

  /** `len(list)`. */
  listLen(op: number): number {
    this.expect(op, "list");
    return this.arena.i32[(op + VAR_SIZE_OFFSET) >> 2];
  }

  /** `list[i]` (borrowed). */
  listGet(op: number, i: number): number {
    const n = this.listLen(op);
    if (!((i >>> 0) === i && i < n)) badIndex("list", "list index", i);
    const items = this.arena.i32[(op + LIST_ITEMS_OFFSET) >> 2];
    return this.i32(items + 4 * n)[(items >> 2) + i] >>> 0;
  }

  /** `list[i] = value`. */
  listSet(op: number, i: number, value: number): void {
    const n = this.listLen(op);
    if (!((i >>> 0) === i && i < n)) badIndex("list", "list assignment index", i);
    this.incref(value);
    const items = this.arena.i32[(op + LIST_ITEMS_OFFSET) >> 2];
    const i32 = this.i32(items + 4 * n);
    const old = i32[(items >> 2) + i] >>> 0;
    i32[(items >> 2) + i] = value;
    this.decref(old);
  }

  /** `list.append(value)`: the item array (MEM heap) grows as CPython's `list_resize`. */
  listAppend(op: number, value: number): void {
    const n = this.listLen(op);
    let i32 = this.arena.i32;
    const allocated = i32[(op + LIST_ALLOCATED_OFFSET) >> 2];
    let items = i32[(op + LIST_ITEMS_OFFSET) >> 2];
    if (n === allocated) {
      const capacity = (n + (n >> 3) + 6) & ~3;
      items = items === 0 ? this.alloc.memMalloc(capacity * 4) : this.alloc.memRealloc(items, capacity * 4);
      if (items === 0) throw new ObjectError("MemoryError: cannot grow a list");
      i32 = this.i32(items + capacity * 4);
      i32[(op + LIST_ITEMS_OFFSET) >> 2] = items;
      i32[(op + LIST_ALLOCATED_OFFSET) >> 2] = capacity;
    }
    this.incref(value);
    i32 = this.arena.i32;
    i32[(items >> 2) + n] = value;
    i32[(op + VAR_SIZE_OFFSET) >> 2] = n + 1;
  }

  /** `list.pop()`: returns a NEW reference to the last item. */
  listPop(op: number): number {
    const n = this.listLen(op);
    if (n === 0) throw new ObjectError("IndexError: pop from empty list");
    const i32 = this.arena.i32;
    const items = i32[(op + LIST_ITEMS_OFFSET) >> 2];
    const value = this.i32(items + 4 * n)[(items >> 2) + n - 1] >>> 0;
    this.arena.i32[(op + VAR_SIZE_OFFSET) >> 2] = n - 1;
    return value;
  }

  /** `list.clear()` (`_list_clear`): drop every item and the item array. */
  listClear(op: number): void {
    this.expect(op, "list");
    this.clearList(op);
  }

  // ------------------------------------------------------------------------------- dict

  /** `len(dict)`. */
  dictLen(op: number): number {
    this.expect(op, "dict");
    return this.arena.i32[(op + DICT_USED_OFFSET) >> 2];
  }

  /** `dict[key]` (borrowed), or 0 when absent. Keys compare by identity, str and int by value. */
  dictGet(op: number, key: number): number {
    this.expect(op, "dict");
    const slot = this.dictLookup(op, key, this.hashOf(key));
    if (slot < 0) return 0;
    return this.arena.i32[slot + 2] >>> 0;
  }

  /** `dict[key] = value`. */
  dictSet(op: number, key: number, value: number): void {
    this.expect(op, "dict");
    const hash = this.hashOf(key);
    this.incref(value);
    const slot = this.dictLookup(op, key, hash);
    if (slot >= 0) {
      const i32 = this.arena.i32;
      const old = i32[slot + 2] >>> 0;
      i32[slot + 2] = value;
      this.decref(old);
      return;
    }
    let i32 = this.arena.i32;
    if (
      (i32[(op + DICT_FILL_OFFSET) >> 2] + 1) * 3 >= (i32[(op + DICT_MASK_OFFSET) >> 2] + 1) * 2 ||
      i32[(op + DICT_ENTRIES_OFFSET) >> 2] === 0
    ) {
      this.dictResize(op, Math.max(8, i32[(op + DICT_USED_OFFSET) >> 2] * 4));
      i32 = this.arena.i32;
    }
    this.incref(key);
    i32 = this.arena.i32;
    const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2];
    const mask = i32[(op + DICT_MASK_OFFSET) >> 2];
    let i = hash & mask;
    for (;;) {
      const e = (entries >> 2) + i * DICT_ENTRY_WORDS;
      const k = i32[e + 1];
      if (k === 0 || k === DICT_DUMMY) {
        if (k === 0) i32[(op + DICT_FILL_OFFSET) >> 2]++;
        i32[e] = hash;
        i32[e + 1] = key;
        i32[e + 2] = value;
        i32[(op + DICT_USED_OFFSET) >> 2]++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** `del dict[key]`; false when absent. */
  dictDel(op: number, key: number): boolean {
    this.expect(op, "dict");
    const slot = this.dictLookup(op, key, this.hashOf(key));
    if (slot < 0) return false;
    const i32 = this.arena.i32;
    const k = i32[slot + 1] >>> 0;
    const v = i32[slot + 2] >>> 0;
    i32[slot + 1] = DICT_DUMMY;
    i32[slot + 2] = 0;
    i32[(op + DICT_USED_OFFSET) >> 2]--;
    this.decref(k);
    this.decref(v);
    return true;
  }

  /** `dict.items()` as [key, value] pairs (borrowed). */
  dictItems(op: number): [number, number][] {
    this.expect(op, "dict");
    const out: [number, number][] = [];
    const i32 = this.arena.i32;
    const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2];
    if (entries === 0) return out;
    const mask = i32[(op + DICT_MASK_OFFSET) >> 2];
    const j = this.i32(entries + (mask + 1) * DICT_ENTRY_WORDS * 4);
    for (let i = 0; i <= mask; i++) {
      const e = (entries >> 2) + i * DICT_ENTRY_WORDS;
      if (j[e + 1] > DICT_DUMMY || j[e + 1] < 0) out.push([j[e + 1] >>> 0, j[e + 2] >>> 0]);
    }
    return out;
  }

  /** `d[name] = value` with a str key made from `name`. */
  dictSetStr(op: number, name: string, value: number): void {
    if (typeof name !== "string") throw new ObjectError(`TypeError: dictSetStr: name must be a string, got ${describeArg(name)}`);
    const key = this.newStr(name);
    try {
      this.dictSet(op, key, value);
    } finally {
      this.decref(key);
    }
  }

  /** `d[name]` with a str key (borrowed), or 0. */
  dictGetStr(op: number, name: string): number {
    if (typeof name !== "string") throw new ObjectError(`TypeError: dictGetStr: name must be a string, got ${describeArg(name)}`);
    const key = this.newStr(name);
    try {
      return this.dictGet(op, key);
    } finally {
      this.decref(key);
    }
  }

  private hashOf(key: number): number {
    if (key === 0) throw new ObjectError("TypeError: None is not a valid key in ft dicts");
    const tp = this.typeOf(key);
    const i32 = this.arena.i32;
    if (tp === this.types.str) return i32[(key + STR_HASH_OFFSET) >> 2];
    if (tp === this.types.int) return i32[(key + INT_VALUE_OFFSET) >> 2];
    if (tp === this.types.list || tp === this.types.dict)
      throw new ObjectError(`TypeError: unhashable type: '${this.typeName(key)}'`);
    return Math.imul(key >>> 3, 0x9e3779b1);
  }

  private keysEqual(a: number, b: number): boolean {
    if (a === b) return true;
    const i32 = this.arena.i32;
    const ta = i32[(a + 16) >> 2];
    if (ta !== i32[(b + 16) >> 2]) return false;
    if (ta === this.types.int) return i32[(a + INT_VALUE_OFFSET) >> 2] === i32[(b + INT_VALUE_OFFSET) >> 2];
    if (ta === this.types.str) return this.strValue(a) === this.strValue(b);
    return false;
  }

  /** Word index of the entry holding `key`, or -1. */
  private dictLookup(op: number, key: number, hash: number): number {
    let i32 = this.i32(op + DICT_SIZE);
    const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2];
    if (entries === 0) return -1;
    const mask = i32[(op + DICT_MASK_OFFSET) >> 2];
    i32 = this.i32(entries + (mask + 1) * DICT_ENTRY_WORDS * 4);
    let i = hash & mask;
    for (let probes = 0; probes <= mask; probes++) {
      const e = (entries >> 2) + i * DICT_ENTRY_WORDS;
      const k = i32[e + 1] >>> 0;
      if (k === 0) return -1;
      if (k !== DICT_DUMMY && i32[e] === hash && this.keysEqual(k, key)) return e;
      i = (i + 1) & mask;
    }
    return -1;
  }

  private dictResize(op: number, minSlots: number): void {
    let slots = 8;
    while (slots < minSlots) slots *= 2;
    const bytes = slots * DICT_ENTRY_WORDS * 4;
    const fresh = this.alloc.memMalloc(bytes);
    if (fresh === 0) throw new ObjectError("MemoryError: cannot grow a dict");
    const i32 = this.i32(fresh + bytes);
    i32.fill(0, fresh >> 2, (fresh + bytes) >> 2);
    const old = i32[(op + DICT_ENTRIES_OFFSET) >> 2];
    const oldMask = i32[(op + DICT_MASK_OFFSET) >> 2];
    const mask = slots - 1;
    let used = 0;
    if (old !== 0) {
      for (let i = 0; i <= oldMask; i++) {
        const e = (old >> 2) + i * DICT_ENTRY_WORDS;
        const k = i32[e + 1] >>> 0;
        if (k === 0 || k === DICT_DUMMY) continue;
        let j = i32[e] & mask;
        while (i32[(fresh >> 2) + j * DICT_ENTRY_WORDS + 1] !== 0) j = (j + 1) & mask;
        const f = (fresh >> 2) + j * DICT_ENTRY_WORDS;
        i32[f] = i32[e];
        i32[f + 1] = k;
        i32[f + 2] = i32[e + 2];
        used++;
      }
    }
    i32[(op + DICT_ENTRIES_OFFSET) >> 2] = fresh;
    i32[(op + DICT_MASK_OFFSET) >> 2] = mask;
    i32[(op + DICT_FILL_OFFSET) >> 2] = used;
    i32[(op + DICT_USED_OFFSET) >> 2] = used;
    if (old !== 0) this.alloc.memFree(old);
  }

  // ------------------------------------------------------------------------------- attributes

  /** `obj.name = value` on an instance (its managed `__dict__`, made on first use) or a class (`tp_dict`). */
  setAttr(op: number, name: string, value: number): void {
    this.dictSetStr(this.attrDict(op, true), name, value);
  }

  /** `obj.name` (borrowed), looked up in the instance dict then the class chain; 0 when absent. */
  getAttr(op: number, name: string): number {
    const own = this.attrDict(op, false);
    if (own !== 0) {
      const v = this.dictGetStr(own, name);
      if (v !== 0) return v;
    }
    const i32 = this.arena.i32;
    for (let tp = this.is(op, "type") ? op : this.typeOf(op); tp !== 0; tp = tpBase(i32, tp)) {
      if (tp === op) continue;
      const d = tpDict(i32, tp);
      if (d !== 0) {
        const v = this.dictGetStr(d, name);
        if (v !== 0) return v;
      }
    }
    return 0;
  }

  /** The managed `__dict__` of an instance, or a class's `tp_dict` (borrowed); made when `create`. */
  attrDict(op: number, create: boolean): number {
    const i32 = this.i32(op + OBJECT_HEADER_SIZE);
    const tp = this.typeOf(op);
    if (tp === this.types.type || tpKind(i32, tp) === TypeKind.TYPE) return tpDict(i32, op);
    if ((tpFlags(i32, tp) & TPFLAGS_MANAGED_DICT) === 0) {
      throw new ObjectError(`AttributeError: '${this.typeName(op)}' object has no attribute '__dict__'`);
    }
    let d = i32[(op - 4) >> 2] >>> 0;
    if (d === 0 && create) {
      d = this.newDict();
      this.arena.i32[(op - 4) >> 2] = d;
    }
    return d;
  }

  /** Set reference slot `i` of an instance (a `__slots__` word). */
  setSlot(op: number, i: number, value: number): void {
    const refmap = tpRefmap(this.arena.i32, this.typeOf(op));
    if (!((i >>> 0) === i && i < 32 && ((refmap >>> i) & 1) === 1))
      throw new ObjectError(`AttributeError: no slot ${describeSlot(i)}`);
    this.incref(value);
    const w = ((op + OBJECT_HEADER_SIZE) >> 2) + i;
    const old = this.arena.i32[w] >>> 0;
    this.arena.i32[w] = value;
    this.decref(old);
  }

  /** Reference slot `i` of an instance (borrowed). */
  getSlot(op: number, i: number): number {
    const refmap = tpRefmap(this.arena.i32, this.typeOf(op));
    if (!((i >>> 0) === i && i < 32 && ((refmap >>> i) & 1) === 1))
      throw new ObjectError(`AttributeError: no slot ${describeSlot(i)}`);
    return this.i32(op + OBJECT_HEADER_SIZE + 4 * i + 4)[((op + OBJECT_HEADER_SIZE) >> 2) + i] >>> 0;
  }

  // ------------------------------------------------------------------------------- traversal

  /** `gc.get_referents(op)` for one object: the references its traversal visits (borrowed). */
  referents(op: number): number[] {
    const out: number[] = [];
    forEachReferent(this.i32(op + OBJECT_HEADER_SIZE), op, out);
    return out;
  }

  // ------------------------------------------------------------------------------- behaviours

  /** @internal This thread's behaviour for `op`'s type (looked up by name, cached by type). */
  behaviourOf(op: number): { b: TypeBehaviour | undefined; n: string } {
    this.directFree = null; // a behaviour is about to run (see directFree)
    const tp = this.typeOf(op);
    const name = tpName(this.arena.i32, tp);
    let cached = this.behaviourCache.get(tp);
    if (cached === undefined || cached.name !== name) {
      const n = this.strValue(name);
      cached = { name, b: undefined, n };
      this.behaviourCache.set(tp, cached);
    }
    cached.b = typeBehaviour(cached.n);
    return cached;
  }

  /** Report an error that cannot be raised (`PyErr_WriteUnraisable`). */
  unraisable(where: string, error: unknown): void {
    this.directFree = null;
    try {
      this.onUnraisable(`Exception ignored in: ${where}`, error);
    } catch {
      // a broken hook must not stop a collection
    }
  }

  /** @internal Call `op`'s finalizer (`tp_finalize`); errors are reported, not thrown. */
  callFinalizer(op: number): void {
    const { b, n } = this.behaviourOf(op);
    try {
      if (b?.finalize === undefined)
        throw new ObjectError(`no finalizer registered for type '${n}' in this thread`);
      b.finalize(this, op);
    } catch (e) {
      this.unraisable(this.safeRepr(op), e);
    }
  }

  /** @internal Call a weakref's callback with the weakref; errors are reported. */
  callWeakrefCallback(wr: number): void {
    const cb = this.arena.i32[(wr + WR_CALLBACK_OFFSET) >> 2] >>> 0;
    if (cb === 0) return;
    this.directFree = null;
    try {
      if (this.typeOf(cb) === this.types.str) {
        const name = this.strValue(cb);
        const fn = weakrefCallback(name);
        if (fn === undefined)
          throw new ObjectError(`no weakref callback '${name}' registered in this thread`);
        fn(this, wr);
      } else {
        const { b, n } = this.behaviourOf(cb);
        if (b?.call === undefined) throw new ObjectError(`TypeError: '${n}' object is not callable`);
        b.call(this, cb, wr);
      }
    } catch (e) {
      this.unraisable(this.safeRepr(cb), e);
    }
  }

  // ------------------------------------------------------------------------------- clear & dealloc

  /** @internal `tp_clear`: drop the references that may form cycles (the collector calls it). */
  clearObject(op: number): void {
    const i32 = this.i32(op + OBJECT_HEADER_SIZE);
    const tp = this.typeOf(op);
    const kind = tpKind(i32, tp);
    if (kind === TypeKind.LIST) {
      this.clearList(op);
    } else if (kind === TypeKind.DICT) {
      this.clearDict(op);
    } else if (kind === TypeKind.WEAKREF) {
      this.clearWeakref(op);
      const cb = this.arena.i32[(op + WR_CALLBACK_OFFSET) >> 2] >>> 0;
      this.arena.i32[(op + WR_CALLBACK_OFFSET) >> 2] = 0;
      this.decref(cb);
    } else if (kind === TypeKind.TYPE) {
      // type_clear: the dict, and tp_mro (a tuple, which has no tp_clear, holding the class).
      const d = i32[(op + TP_DICT_OFFSET) >> 2] >>> 0;
      i32[(op + TP_DICT_OFFSET) >> 2] = 0;
      const mro = i32[(op + TP_MRO_OFFSET) >> 2] >>> 0;
      i32[(op + TP_MRO_OFFSET) >> 2] = 0;
      this.decref(d);
      this.decref(mro);
    }
    if (kind !== TypeKind.TUPLE) this.clearRefmapAndDict(op, tp);
  }

  /** The slots' and managed dict's references dropped (`garbage`: as {@link clearList}). */
  private clearRefmapAndDict(op: number, tp: number, garbage = false): void {
    const i32 = this.arena.i32;
    const flags = tpFlags(i32, tp);
    let refmap = kindOwnRefmap(i32, tp);
    const body = (op + OBJECT_HEADER_SIZE) >> 2;
    while (refmap !== 0) {
      const i = 31 - Math.clz32(refmap & -refmap);
      refmap &= refmap - 1;
      const ref = this.arena.i32[body + i] >>> 0;
      this.arena.i32[body + i] = 0;
      if (garbage) {
        if (ref !== 0) this.decrefGarbageReferent(ref);
      } else {
        this.decref(ref);
      }
    }
    if ((flags & TPFLAGS_MANAGED_DICT) !== 0) {
      const d = this.arena.i32[(op - 4) >> 2] >>> 0;
      this.arena.i32[(op - 4) >> 2] = 0;
      if (garbage) {
        if (d !== 0) this.decrefGarbageReferent(d);
      } else {
        this.decref(d);
      }
    }
  }

  /**
   * `_list_clear`: detach the item array first (the list is empty from here on), drop each item's
   * reference from the detached array, then free it. A decref may run a finalizer that allocates
   * (the buffer may grow): the view is re-read per item, never copied. `garbage`: the list is
   * delete_garbage's, and its references are dropped as {@link decrefGarbageReferent} does.
   */
  private clearList(op: number, garbage = false): void {
    const i32 = this.arena.i32;
    const n = i32[(op + VAR_SIZE_OFFSET) >> 2];
    const items = i32[(op + LIST_ITEMS_OFFSET) >> 2];
    i32[(op + VAR_SIZE_OFFSET) >> 2] = 0;
    i32[(op + LIST_ITEMS_OFFSET) >> 2] = 0;
    i32[(op + LIST_ALLOCATED_OFFSET) >> 2] = 0;
    if (items === 0) return;
    const base = items >> 2;
    for (let i = 0; i < n; i++) {
      const ref = this.arena.i32[base + i];
      if (ref === 0) continue;
      if (garbage) this.decrefGarbageReferent(ref);
      else this.decref(ref >>> 0);
    }
    const direct = this.directFree;
    if (direct !== null) direct.free(items);
    else this.alloc.memFree(items);
  }

  /** `dict_tp_clear`, as {@link clearList}: entries detached, references dropped, entries freed. */
  private clearDict(op: number, garbage = false): void {
    const i32 = this.arena.i32;
    const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2];
    const mask = i32[(op + DICT_MASK_OFFSET) >> 2];
    i32[(op + DICT_ENTRIES_OFFSET) >> 2] = 0;
    i32[(op + DICT_MASK_OFFSET) >> 2] = 0;
    i32[(op + DICT_USED_OFFSET) >> 2] = 0;
    i32[(op + DICT_FILL_OFFSET) >> 2] = 0;
    if (entries === 0) return;
    const base = entries >> 2;
    for (let i = 0; i <= mask; i++) {
      const e = base + i * DICT_ENTRY_WORDS;
      const k = this.arena.i32[e + 1] >>> 0;
      if (k === 0 || k === DICT_DUMMY) continue;
      const v = this.arena.i32[e + 2] >>> 0;
      if (garbage) {
        this.decrefGarbageReferent(k);
        if (v !== 0) this.decrefGarbageReferent(v);
      } else {
        this.decref(k);
        this.decref(v);
      }
    }
    const direct = this.directFree;
    if (direct !== null) direct.free(entries);
    else this.alloc.memFree(entries);
  }

  /** `_PyWeakref_ClearRef`: unlink a weakref from its referent's list and clear its referent. */
  clearWeakref(wr: number): void {
    const i32 = this.arena.i32;
    const referent = i32[(wr + WR_OBJECT_OFFSET) >> 2] >>> 0;
    if (referent === 0) return;
    const head = weaklistAddress(i32, referent, i32[(referent + 16) >> 2] >>> 0);
    const next = i32[(wr + WR_NEXT_OFFSET) >> 2];
    const prev = i32[(wr + WR_PREV_OFFSET) >> 2];
    if (prev !== 0) i32[(prev + WR_NEXT_OFFSET) >> 2] = next;
    else i32[head >> 2] = next;
    if (next !== 0) i32[(next + WR_PREV_OFFSET) >> 2] = prev;
    i32[(wr + WR_NEXT_OFFSET) >> 2] = 0;
    i32[(wr + WR_PREV_OFFSET) >> 2] = 0;
    i32[(wr + WR_OBJECT_OFFSET) >> 2] = 0;
  }

  /** The weakrefs to `op` (borrowed), in list order. */
  weakrefsTo(op: number): number[] {
    const i32 = this.i32(op + OBJECT_HEADER_SIZE);
    const head = weaklistAddress(i32, op, this.typeOf(op));
    const out: number[] = [];
    if (head === 0) return out;
    for (let wr = i32[head >> 2] >>> 0; wr !== 0; wr = i32[(wr + WR_NEXT_OFFSET) >> 2] >>> 0) out.push(wr);
    return out;
  }

  /**
   * `_Py_Dealloc`: the count reached zero. A deallocation that starts inside another one is queued
   * and run by the outermost, so the JavaScript stack stays flat (CPython's trashcan).
   */
  dealloc(op: number): void {
    // Untracked first (CPython's subtype_dealloc), so that a collection started meanwhile (by a
    // finalizer) never sees an object whose count is zero.
    const u8 = this.arena.u8;
    if ((u8[op + OB_XGC_BITS_OFFSET] & GC_TRACKED_MASK) !== 0) obClearGcBits(u8, op, GC_TRACKED_MASK);
    if (this.deallocDepth > 0) {
      this.pendingDealloc.push(op);
      return;
    }
    this.deallocDepth++;
    try {
      this.deallocOne(op);
      while (this.pendingDealloc.length > 0) this.deallocOne(this.pendingDealloc.pop()!);
    } finally {
      this.deallocDepth--;
    }
  }

  private deallocOne(op: number): void {
    let i32 = this.i32(op + OBJECT_HEADER_SIZE);
    const tp = i32[(op + 16) >> 2] >>> 0;
    const flags = tpFlags(i32, tp);
    const gc = (flags & TPFLAGS_HAVE_GC) !== 0;
    if (
      (flags & (TPFLAGS_HAS_FINALIZE | TPFLAGS_HAS_LEGACY_DEL)) !== 0 &&
      this.finalizeFromDealloc(op, flags)
    )
      return;
    // Weak references: cleared, and their callbacks called (`PyObject_ClearWeakRefs`).
    const head = weaklistAddress(this.arena.i32, op, tp);
    if (head !== 0 && this.arena.i32[head >> 2] !== 0) this.clearWeakrefsWithCallbacks(op, head);
    i32 = this.arena.i32;
    const kind = tpKind(i32, tp);
    if (kind === TypeKind.TUPLE) {
      const n = i32[(op + VAR_SIZE_OFFSET) >> 2];
      for (let i = 0; i < n; i++) this.decref(this.arena.i32[((op + TUPLE_ITEMS_OFFSET) >> 2) + i] >>> 0);
    } else if (kind === TypeKind.LIST) {
      this.clearList(op);
    } else if (kind === TypeKind.DICT) {
      this.clearDict(op);
    } else if (kind === TypeKind.WEAKREF) {
      this.clearWeakref(op);
      this.decref(this.arena.i32[(op + WR_CALLBACK_OFFSET) >> 2] >>> 0);
    } else if (kind === TypeKind.TYPE) {
      this.decref(i32[(op + TP_NAME_OFFSET) >> 2] >>> 0);
      this.decref(this.arena.i32[(op + TP_BASE_OFFSET) >> 2] >>> 0);
      this.decref(this.arena.i32[(op + TP_DICT_OFFSET) >> 2] >>> 0);
      this.decref(this.arena.i32[(op + TP_MRO_OFFSET) >> 2] >>> 0);
    }
    if (kind !== TypeKind.TUPLE) this.clearRefmapAndDict(op, tp);
    if (
      this.freeLists !== 0 &&
      kind >= TypeKind.TUPLE &&
      kind <= TypeKind.DICT &&
      this.pushFreeListed(op, tp, kind)
    ) {
      this.recordDeallocation();
      return;
    }
    const pre = gc && (flags & TPFLAGS_PREHEADER) !== 0 ? PREHEADER_SIZE : 0;
    if (gc) this.recordDeallocation();
    const direct = this.directFree;
    if (direct !== null) direct.free(op - pre);
    else this.alloc.freeObject(pre !== 0 ? HeapTag.GC_PRE : gc ? HeapTag.GC : HeapTag.OBJECT, op - pre);
    if ((flags & TPFLAGS_HEAPTYPE) !== 0) this.decref(tp);
  }

  /**
   * @internal The collector's `delete_garbage` makes this thread the owner of a garbage object
   * (still UNREACHABLE: not taken yet; taking clears the bit) before it, or a reference to it, is dropped: nothing
   * outside the garbage refers to it (resurrected objects left the list, weakrefs to it are
   * cleared), so no other thread touches its count, and the references garbage objects hold to
   * each other are dropped with plain stores instead of compare-and-swaps. The merged count moves
   * to `ob_ref_local`; `ob_tid`, the worklist link until now, becomes this thread. Each object's
   * worklist reference keeps it alive until its own turn.
   */
  takeGarbage(op: number): void {
    const i32 = this.arena.i32;
    const w = op >> 2;
    if (__DEBUG__)
      assert(i32[w + 2] === 0 && (i32[w + 3] & REF_SHARED_FLAG_MASK) === REF_MERGED, "garbage is merged");
    i32[w + 2] = i32[w + 3] >> REF_SHARED_SHIFT;
    i32[w + 3] = 0;
    i32[w] = this.tid;
    this.arena.u8[op + OB_XGC_BITS_OFFSET] &= ~GC_UNREACHABLE_MASK; // taken: not twice
  }

  /**
   * @internal `delete_garbage` for one tracked object of the exact built-in tuple, list or dict
   * type, while blocks go straight to the arena ({@link directFree}): `tp_clear`, the drop of the
   * collector's reference, and the deallocation when that was the last one, without the generic
   * calls. The garbage is this thread's (the collector made it so): a referent that stays alive
   * only loses one local count ({@link decrefGarbageReferent}). These types have no finalizer, no
   * weak references and no pre-header. Returns false, having done nothing, for any other object.
   */
  deleteBuiltinGarbage(op: number): boolean {
    const i32 = this.arena.i32;
    const u8 = this.arena.u8;
    const tp = i32[(op + 16) >> 2] >>> 0;
    const bits = u8[op + OB_XGC_BITS_OFFSET];
    if ((bits & GC_TRACKED_MASK) === 0) return false;
    const types = this.types;
    if (tp !== types.list && tp !== types.dict && tp !== types.tuple) {
      if (tpKind(i32, tp) !== TypeKind.PLAIN) return false;
      this.deleteInstanceGarbage(op, tp, bits);
      return true;
    }
    if ((bits & GC_UNREACHABLE_MASK) !== 0) this.takeGarbage(op);
    if (tp === types.list || tp === types.dict) {
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~(GC_UNREACHABLE_MASK | GC_TRACKED_MASK);
      if (tp === types.list) this.clearList(op, true);
      else this.clearDict(op, true);
    } else {
      // A tuple has no tp_clear: its items go with its deallocation, when this is its last reference.
      u8[op + OB_XGC_BITS_OFFSET] = bits & ~(GC_UNREACHABLE_MASK | GC_TRACKED_MASK);
    }
    this.decrefGarbageReferent(op); // the collector's reference
    return true;
  }

  /**
   * {@link deleteBuiltinGarbage} for an instance of a class (PLAIN kind): `tp_clear` (its slots
   * and managed dict), the collector's reference, and, when that was the last, the deallocation
   * inline unless the deallocation has work for JavaScript (a finalizer not run yet, a legacy
   * `__del__`) or weak references to clear: those take the generic path.
   */
  private deleteInstanceGarbage(op: number, tp: number, bits: number): void {
    if ((bits & GC_UNREACHABLE_MASK) !== 0) this.takeGarbage(op);
    const u8 = this.arena.u8;
    bits &= ~(GC_UNREACHABLE_MASK | GC_TRACKED_MASK);
    u8[op + OB_XGC_BITS_OFFSET] = bits;
    this.clearRefmapAndDict(op, tp, true);
    const i32 = this.arena.i32;
    const flags = tpFlags(i32, tp);
    // The collector's reference.
    const w = op >> 2;
    const local = i32[w + 2];
    if (i32[w] >>> 0 === this.tid && local > 1) {
      i32[w + 2] = local - 1;
      return;
    }
    const head = weaklistAddress(i32, op, tp);
    if (
      i32[w] >>> 0 !== this.tid ||
      local !== 1 ||
      i32[w + 3] !== 0 ||
      this.deallocDepth > 0 ||
      (flags & TPFLAGS_HAS_LEGACY_DEL) !== 0 ||
      ((flags & TPFLAGS_HAS_FINALIZE) !== 0 && (bits & GC_FINALIZED_MASK) === 0) ||
      (head !== 0 && i32[head >> 2] !== 0)
    ) {
      this.decref(op);
      return;
    }
    i32[w + 2] = 0;
    const gc = (flags & TPFLAGS_HAVE_GC) !== 0;
    const pre = gc && (flags & TPFLAGS_PREHEADER) !== 0 ? PREHEADER_SIZE : 0;
    if (gc) this.recordDeallocation();
    const direct = this.directFree;
    if (direct !== null) direct.free(op - pre);
    else this.alloc.freeObject(pre !== 0 ? HeapTag.GC_PRE : gc ? HeapTag.GC : HeapTag.OBJECT, op - pre);
    if ((flags & TPFLAGS_HEAPTYPE) !== 0) this.decrefGarbageReferent(tp);
  }

  /**
   * Drop one reference held by a garbage object: a plain local decrement while the referent is
   * this thread's and stays alive; the deallocation of an exact built-in container inline when it
   * was the last (outside any other deallocation); the generic `decref` otherwise. Returns false
   * when code may have run (the generic path): views must be re-read.
   */
  private decrefGarbageReferent(ref: number): boolean {
    const i32 = this.arena.i32;
    const w = ref >> 2;
    if ((this.arena.u8[ref + OB_XGC_BITS_OFFSET] & GC_UNREACHABLE_MASK) !== 0) this.takeGarbage(ref);
    const local = i32[w + 2];
    if (i32[w] >>> 0 === this.tid) {
      if (local > 1) {
        i32[w + 2] = local - 1;
        return true;
      }
      if (local === 1 && i32[w + 3] === 0 && this.deallocDepth === 0) {
        const tp = i32[(ref + 16) >> 2] >>> 0;
        const types = this.types;
        if (tp === types.list || tp === types.dict || tp === types.tuple) {
          i32[w + 2] = 0;
          this.deallocBuiltin(ref, tp);
          return this.directFree !== null;
        }
      }
    }
    this.decref(ref >>> 0);
    return false;
  }

  /**
   * `list_dealloc` / `dict_dealloc` / `tupledealloc` for an exact built-in container whose count
   * just reached zero: its references dropped (deallocations they cause are queued and run after,
   * as {@link dealloc} does), then a free list or the arena.
   */
  private deallocBuiltin(op: number, tp: number): void {
    const u8 = this.arena.u8;
    const bits = u8[op + OB_XGC_BITS_OFFSET];
    if ((bits & GC_TRACKED_MASK) !== 0) obClearGcBits(u8, op, GC_TRACKED_MASK);
    this.deallocDepth++;
    let fl: number;
    try {
      if (tp === this.types.tuple) {
        const n = this.arena.i32[(op + VAR_SIZE_OFFSET) >> 2];
        for (let i = 0; i < n; i++) {
          const ref = this.arena.i32[((op + TUPLE_ITEMS_OFFSET) >> 2) + i];
          if (ref !== 0) this.decrefGarbageReferent(ref);
        }
        fl = n >= 1 && n <= FL_TUPLE_MAX_SIZE ? n - 1 : -1;
      } else {
        if (tp === this.types.list) this.clearList(op, true);
        else this.clearDict(op, true);
        fl = tp === this.types.list ? FL_LIST : FL_DICT;
      }
      this.recordDeallocation();
      if (!(fl >= 0 && this.freeLists !== 0 && freeListPush(this.arena.u32, this.freeLists, fl, op))) {
        const direct = this.directFree;
        if (direct !== null) direct.free(op);
        else this.alloc.freeObject(HeapTag.GC, op);
      }
      while (this.pendingDealloc.length > 0) this.deallocOne(this.pendingDealloc.pop()!);
    } finally {
      this.deallocDepth--;
    }
  }

  /** `_Py_FREELIST_FREE`: keep a dead tuple (size 1–20), list or dict of the built-in type. */
  private pushFreeListed(op: number, tp: number, kind: number): boolean {
    const types = this.types;
    let index: number;
    if (kind === TypeKind.LIST) {
      if (tp !== types.list) return false;
      index = FL_LIST;
    } else if (kind === TypeKind.DICT) {
      if (tp !== types.dict) return false;
      index = FL_DICT;
    } else {
      const n = this.arena.i32[(op + VAR_SIZE_OFFSET) >> 2];
      if (tp !== types.tuple || n < 1 || n > FL_TUPLE_MAX_SIZE) return false;
      index = n - 1;
    }
    return freeListPush(this.arena.u32, this.freeLists, index, op);
  }

  /**
   * `PyObject_CallFinalizerFromDealloc`: run the finalizer of an object whose count reached zero,
   * with a temporary reference (`_PyObject_ResurrectStart`: ob_tid = this thread, local 1, shared
   * 0 — ob_gc_bits and ob_mutex untouched, gh-113750). Returns true when the finalizer
   * resurrected the object (`_PyObject_ResurrectEnd`), which must then not be freed.
   */
  private finalizeFromDealloc(op: number, flags: number): boolean {
    const u8 = this.arena.u8;
    const hasFinalize =
      (flags & TPFLAGS_HAS_FINALIZE) !== 0 && (u8[op + OB_XGC_BITS_OFFSET] & GC_FINALIZED_MASK) === 0;
    const hasDel = (flags & TPFLAGS_HAS_LEGACY_DEL) !== 0;
    if (!hasFinalize && !hasDel) return false;
    const i32 = this.arena.i32;
    const w = op >> 2;
    const gc = (flags & TPFLAGS_HAVE_GC) !== 0;
    i32[w] = this.tid;
    i32[w + 2] = 1;
    Atomics.store(i32, w + 3, 0);
    if (gc) obSetGcBits(this.arena.u8, op, GC_TRACKED_MASK); // tracked while the finalizer runs
    if (hasFinalize) {
      if ((flags & TPFLAGS_HAVE_GC) !== 0) obSetGcBits(this.arena.u8, op, GC_FINALIZED_MASK);
      this.callFinalizer(op);
    }
    if (hasDel) {
      const { b, n } = this.behaviourOf(op);
      try {
        if (b?.del === undefined)
          throw new ObjectError(`no __del__ registered for type '${n}' in this thread`);
        b.del(this, op);
      } catch (e) {
        this.unraisable(this.safeRepr(op), e);
      }
    }
    // _PyObject_ResurrectEnd
    const j = this.arena.i32;
    const local = j[w + 2] >>> 0;
    const shared = Atomics.load(j, w + 3);
    let resurrected: boolean;
    if (j[w] >>> 0 === this.tid && local === 1 && shared === 0) {
      j[w + 2] = 0;
      resurrected = false;
    } else if (local === IMMORTAL_REFCNT_LOCAL) {
      resurrected = true;
    } else {
      // _PyObject_ResurrectEndSlow: give up ownership and merge, dropping the temporary reference.
      resurrected = this.explicitMerge(op, -1) !== 0;
    }
    if (!resurrected && gc) obClearGcBits(this.arena.u8, op, GC_TRACKED_MASK);
    return resurrected;
  }

  private clearWeakrefsWithCallbacks(op: number, head: number): void {
    const withCallbacks: number[] = [];
    this.lockObject(op);
    try {
      for (let wr = this.arena.i32[head >> 2] >>> 0; wr !== 0; wr = this.arena.i32[head >> 2] >>> 0) {
        const cb = this.arena.i32[(wr + WR_CALLBACK_OFFSET) >> 2];
        this.clearWeakref(wr);
        // A weakref being deallocated itself has a zero count: take a reference only to live ones.
        if (cb !== 0 && obRefcnt(this.arena.i32, wr) > 0) {
          this.incref(wr);
          withCallbacks.push(wr);
        }
      }
    } finally {
      this.unlockObject(op);
    }
    for (const wr of withCallbacks) {
      this.callWeakrefCallback(wr);
      this.decref(wr);
    }
  }

  // ------------------------------------------------------------------------------- gc state access

  /** @internal The collector's state words. */
  gsGet(word: number): number {
    return this.arena.i32[gsField(this.gcState, word)];
  }
  /** @internal */
  gsSet(word: number, value: number): void {
    this.arena.i32[gsField(this.gcState, word)] = value;
  }
}

// ---------------------------------------------------------------------------------- traversal

/** The refmap of a type's own body words (tuples and types use their body differently). */
export function kindOwnRefmap(i32: Int32Array, tp: number): number {
  const kind = tpKind(i32, tp);
  return kind === TypeKind.PLAIN ? tpRefmap(i32, tp) : 0;
}

/** Whether `op`'s type is a GC type. */
export function tpIsGcOf(i32: Int32Array, op: number): boolean {
  return (tpFlags(i32, i32[(op + 16) >> 2] >>> 0) & TPFLAGS_HAVE_GC) !== 0;
}

/** Push every strong reference `op` holds (its traversal) onto `out`; zero words are skipped. */
export function forEachReferent(i32: Int32Array, op: number, out: number[]): void {
  const tp = i32[(op + 16) >> 2] >>> 0;
  const flags = tpFlags(i32, tp);
  const kind = tpKind(i32, tp);
  if ((flags & TPFLAGS_HEAPTYPE) !== 0) out.push(tp);
  if ((flags & TPFLAGS_MANAGED_DICT) !== 0 && i32[(op - 4) >> 2] !== 0) out.push(i32[(op - 4) >> 2] >>> 0);
  let refmap = kindOwnRefmap(i32, tp);
  const body = (op + OBJECT_HEADER_SIZE) >> 2;
  while (refmap !== 0) {
    const i = 31 - Math.clz32(refmap & -refmap);
    refmap &= refmap - 1;
    if (i32[body + i] !== 0) out.push(i32[body + i] >>> 0);
  }
  switch (kind) {
    case TypeKind.TUPLE: {
      const n = i32[(op + VAR_SIZE_OFFSET) >> 2];
      for (let i = 0; i < n; i++) {
        const r = i32[((op + TUPLE_ITEMS_OFFSET) >> 2) + i];
        if (r !== 0) out.push(r >>> 0);
      }
      break;
    }
    case TypeKind.LIST: {
      const n = i32[(op + VAR_SIZE_OFFSET) >> 2];
      const items = i32[(op + LIST_ITEMS_OFFSET) >> 2] >> 2;
      for (let i = 0; i < n; i++) if (i32[items + i] !== 0) out.push(i32[items + i] >>> 0);
      break;
    }
    case TypeKind.DICT: {
      const entries = i32[(op + DICT_ENTRIES_OFFSET) >> 2] >> 2;
      if (entries === 0) break;
      const mask = i32[(op + DICT_MASK_OFFSET) >> 2];
      for (let i = 0; i <= mask; i++) {
        const e = entries + i * DICT_ENTRY_WORDS;
        const k = i32[e + 1] >>> 0;
        if (k === 0 || k === DICT_DUMMY) continue;
        out.push(k);
        if (i32[e + 2] !== 0) out.push(i32[e + 2] >>> 0);
      }
      break;
    }
    case TypeKind.WEAKREF:
      if (i32[(op + WR_CALLBACK_OFFSET) >> 2] !== 0) out.push(i32[(op + WR_CALLBACK_OFFSET) >> 2] >>> 0);
      break;
    case TypeKind.TYPE:
      for (const off of [TP_NAME_OFFSET, TP_BASE_OFFSET, TP_DICT_OFFSET, TP_MRO_OFFSET]) {
        if (i32[(op + off) >> 2] !== 0) out.push(i32[(op + off) >> 2] >>> 0);
      }
      break;
  }
}

// ---------------------------------------------------------------------------------- str

function strHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

function writeStr(i32: Int32Array, units: Uint16Array, op: number, s: string): void {
  i32[(op + STR_LENGTH_OFFSET) >> 2] = s.length;
  i32[(op + STR_HASH_OFFSET) >> 2] = strHash(s);
  for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
}

function readStr(buffer: SharedArrayBuffer, op: number, n: number): string {
  const units = new Uint16Array(buffer, op + STR_DATA_OFFSET, n);
  let s = "";
  for (let i = 0; i < n; i += 4096) s += String.fromCharCode(...units.subarray(i, Math.min(n, i + 4096)));
  return s;
}

// ---------------------------------------------------------------------------------- gc state init

/**
 * Initialise the gc state at `gcState` once (any thread; the first CAS wins, others wait): the
 * thresholds, and the built-in types as immortal objects in a record of the arena. Returns the
 * built-ins record.
 */
export function initGcState(arena: Arena, gcState: number): number {
  const i32 = arena.i32;
  const magic = gsField(gcState, GS_XMAGIC);
  const seen = Atomics.compareExchange(i32, magic, 0, GC_STATE_INITIALIZING);
  if (seen === GC_STATE_MAGIC) return i32[gsField(gcState, GS_BUILTINS)];
  if (seen === GC_STATE_INITIALIZING) {
    while (Atomics.load(i32, magic) !== GC_STATE_MAGIC) Atomics.wait(i32, magic, GC_STATE_INITIALIZING, 10);
    return i32[gsField(gcState, GS_BUILTINS)];
  }
  if (seen !== 0) throw new TypeError(`gc state at ${gcState} is corrupt (magic ${seen})`);
  const builtins = arena.recordAlloc(BUILTINS_RECORD_SIZE);
  if (builtins === 0) throw new ObjectError("MemoryError: no record left for the built-in types");
  const typeType = builtins + BuiltinType.type * TYPE_OBJECT_SIZE;
  for (let id = 1; id < BUILTIN_COUNT; id++) {
    const tp = builtins + id * TYPE_OBJECT_SIZE;
    obInit(i32, tp, 0, typeType);
    i32[(tp + 8) >> 2] = IMMORTAL_REFCNT_LOCAL;
    const nameOp = builtins + BUILTIN_COUNT * TYPE_OBJECT_SIZE + (id - 1) * BUILTIN_NAME_SLOT;
    obInit(i32, nameOp, 0, builtins + BuiltinType.str * TYPE_OBJECT_SIZE);
    i32[(nameOp + 8) >> 2] = IMMORTAL_REFCNT_LOCAL;
    writeStr(
      i32,
      new Uint16Array(arena.buffer, nameOp + STR_DATA_OFFSET, BUILTIN_NAMES[id].length),
      nameOp,
      BUILTIN_NAMES[id],
    );
    const [flags, kind, size, itemSize] = BUILTIN_LAYOUTS[id];
    tpInit(i32, tp, flags, kind, size, itemSize, 0, id);
    i32[(tp + TP_NAME_OFFSET) >> 2] = nameOp;
    if (id !== BuiltinType.object)
      i32[(tp + TP_BASE_OFFSET) >> 2] = builtins + BuiltinType.object * TYPE_OBJECT_SIZE;
  }
  i32[gsField(gcState, GS_BUILTINS)] = builtins;
  i32[gsField(gcState, GS_ENABLED)] = 1;
  i32[gsField(gcState, GS_THRESHOLD0)] = DEFAULT_THRESHOLD0;
  i32[gsField(gcState, GS_THRESHOLD1)] = DEFAULT_THRESHOLD1;
  Atomics.store(i32, magic, GC_STATE_MAGIC);
  Atomics.notify(i32, magic);
  return builtins;
}

const GC = TPFLAGS_HAVE_GC;
/** Built-in layouts by id: flags, kind, basic size, item size. */
const BUILTIN_LAYOUTS: readonly (readonly [number, TypeKind, number, number])[] = [
  [0, TypeKind.PLAIN, 0, 0],
  [GC, TypeKind.TYPE, TYPE_OBJECT_SIZE, 0], // type
  [0, TypeKind.PLAIN, OBJECT_HEADER_SIZE, 0], // object
  [0, TypeKind.PLAIN, INT_SIZE, 0], // int
  [0, TypeKind.PLAIN, STR_DATA_OFFSET, 2], // str
  [GC, TypeKind.TUPLE, TUPLE_ITEMS_OFFSET, 4], // tuple
  [GC, TypeKind.LIST, LIST_SIZE, 0], // list
  [GC, TypeKind.DICT, DICT_SIZE, 0], // dict
  [GC, TypeKind.WEAKREF, WEAKREF_SIZE, 0], // weakref
];

function defaultUnraisable(message: string, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
  printError(`${message}\n${detail}`);
}

/** `console.error` where there is one (browsers and Node both have it; the portable core's types do not). */
function printError(line: string): void {
  (globalThis as { console?: { error(...args: unknown[]): void } }).console?.error(line);
}
