/**
 * The arena handle and the heap handle: per-thread JavaScript objects that hold offsets and typed
 * array views over the shared buffer, never the state itself. The malloc and free fast paths live
 * here; everything else is a named slow path in `page-queue.ts`, `segments.ts`, `free.ts` and
 * `abandon.ts`.
 */
import {
  AH_FLAGS,
  AH_MAGIC,
  AH_MAX_SEGMENTS,
  AH_VERSION,
  AH_XALL_TLDS,
  AH_XNEXT_POOL_ID,
  AH_XNEXT_STAMP,
  AH_XNEXT_THREAD_ID,
  AH_XRECORD_LOCK,
  AH_RECORD_BUMP,
  ARENA_FLAG_CHECKS_MASK,
  ARENA_MAGIC,
  ARENA_VERSION,
  DEFAULT_POOL,
  DETACHED_DIRECT,
  EMPTY_PAGE,
  POOL_ID,
  POOL_RECORD_SIZE,
  RECORD_AREA_START,
  RECORD_FREE_LISTS,
  SEGMENT_TABLE,
  SEGSTATE_HEADER,
} from "./layout/arena.ts";
import {
  ARENA_MAX_BYTES,
  SEGMENT_MASK,
  SEGMENT_SIZE,
  SLICE_SHIFT,
  SLICES_PER_SEGMENT,
  SMALL_SIZE_MAX,
  WORD_SHIFT,
} from "./layout/constants.ts";
import {
  HEAP_DIRECT,
  HEAP_FLAGS,
  HEAP_NEXT,
  HEAP_RECORD_SIZE,
  HEAP_TAG,
  HEAP_THREAD_ID,
  HEAP_TLD,
  HEAP_WORDS,
  HEAP_FLAG_DESTROYED_MASK,
} from "./layout/heap.ts";
import {
  PAGE_FLAG_TAG_MASK,
  PAGE_FLAG_TAG_SHIFT,
  PAGE_FLAG_IN_FULL_MASK,
  PAGE_FLAG_IN_USE_MASK,
  PAGE_XHEAP,
  PAGE_FLAGS,
  PAGE_FLAGS_FREE_FAST_MASK,
  PAGE_OWNER_HINT_MAX,
  pageOwnerHint,
  PAGE_FREE,
  PAGE_LOCAL_FREE,
  PAGE_RECORD_SHIFT,
  PAGE_SLICE_OFFSET,
  PAGE_USED,
} from "./layout/page.ts";
import { SEG_SLICES_OFFSET } from "./layout/segment.ts";
import { SMALL_WSIZE_MAX } from "./layout/constants.ts";
import {
  TLD_ALL_NEXT,
  TLD_FLAG_EMBEDDED_MASK,
  TLD_FLAG_SHARED_MASK,
  TLD_FLAGS,
  TLD_HEAP_BACKING,
  TLD_HEAP_BY_TAG,
  TLD_HEAPS,
  TLD_POOL,
  TLD_RECORD_SIZE,
  TLD_STATE_ABANDONED,
  TLD_STATE_FREE,
  TLD_STATE_LIVE,
  TLD_THREAD_ID,
  TLD_WORDS,
  TLD_XSTATE,
} from "./layout/tld.ts";
import { checkAlignment, checkSize, checkTag, DoubleFreeError, HeapCorruptionError } from "./errors.ts";
import { heapAbsorb, heapCollect, heapDestroyPages, heapUnlink, mallocGeneric, mallocSmallCollect, pageRetire, pageUnfull } from "./page-queue.ts";
import {
  abandonThread,
  abandonTld,
  heapStaleReason,
  poolFreeSegments,
  releaseTldRecords,
  tldListsHeap,
  tryReclaim,
} from "./abandon.ts";
import { type ArenaStats, arenaStats, checkArena } from "./check.ts";
import { checkFreeable, freeGeneric, pageOfPointer, usableSizeOf } from "./free.ts";

/** Options of `Arena.create`. */
export interface ArenaOptions {
  /**
   * Bytes the buffer starts with (rounded up to whole segments; at least the header segment and one more).
   * @defaultValue 8 MiB
   */
  initialBytes?: number;
  /**
   * The most the buffer may grow to (rounded up to whole segments), at most 4 GiB.
   * @defaultValue 1 GiB
   */
  maxBytes?: number;
  /**
   * Check every free: double frees and interior pointers throw instead of corrupting the heap.
   * Costs the local free fast path. On in tests.
   * @defaultValue false
   */
  checks?: boolean;
}

/** Record kinds of the record allocator: power-of-two size classes, and heaps on their own. */
export const RECORD_KIND_HEAP = 8;
const RECORD_MIN_SHIFT = 6;

export class Arena {
  /** The shared buffer; send it to a worker and call `Arena.attach` there. */
  readonly buffer: SharedArrayBuffer;
  /** Views over the buffer, refreshed when it has grown (see `refreshViews`). */
  u32: Uint32Array;
  i32: Int32Array;
  u8: Uint8Array;
  /** Bytes the views cover. */
  limit: number;
  /** This thread's id (nonzero, never reused). */
  readonly threadId: number;
  /** What a page's flags read, under PAGE_FLAGS_FREE_FAST_MASK, when this thread may free into it locally. */
  private readonly freeFastKey: number;
  /** Whether frees are checked (an arena-wide option chosen at creation). */
  readonly checks: boolean;
  /** This thread's default tld record and backing heap. */
  readonly tld: number;
  readonly heap: Heap;
  /** Index (in words) of the default heap's direct page table (the detached table after `detach`). */
  directIndex: number;
  /**
   * Heap handles of this thread by record offset. When another thread abandons a tld of this
   * thread (e.g. @ft/interp clearing a detached thread state), its handles stay here until this
   * thread notices: `check`, `checkProblems`, `heapOf` and `forgetStaleHeaps` drop them.
   */
  readonly heaps = new Map<number, Heap>();
  detached = false;

  private constructor(buffer: SharedArrayBuffer, init: ArenaOptions | null) {
    this.buffer = buffer;
    // Fixed-length views: on Node 20 a length-tracking view of a growable buffer (`new
    // Uint32Array(buffer)`) takes V8's slow element path, ~10× slower per access.
    const length = buffer.byteLength;
    this.u32 = new Uint32Array(buffer, 0, length >>> 2);
    this.i32 = new Int32Array(buffer, 0, length >>> 2);
    this.u8 = new Uint8Array(buffer, 0, length);
    this.limit = length;
    if (init) initArenaHeader(this, init);
    else if (this.u32[AH_MAGIC] !== ARENA_MAGIC) {
      throw new TypeError("Arena.attach: the buffer does not hold an ft arena (bad magic)");
    }
    this.checks = (this.u32[AH_FLAGS]! & ARENA_FLAG_CHECKS_MASK) !== 0;
    this.threadId = Atomics.add(this.u32, AH_XNEXT_THREAD_ID, 1);
    // A key with bit 31 set matches no page: a thread whose id has no owner hint.
    this.freeFastKey =
      this.threadId <= PAGE_OWNER_HINT_MAX ? PAGE_FLAG_IN_USE_MASK | pageOwnerHint(this.threadId) : 1 << 31;
    this.tld = this.tldNew(DEFAULT_POOL);
    this.heap = this.heapNew(0);
    this.directIndex = this.heap.directIndex;
  }

  /** Create an arena in a new growable SharedArrayBuffer; the calling thread is attached to it. */
  static create(options: ArenaOptions = {}): Arena {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Arena.create: options must be an object, got ${options === null ? "null" : typeof options}`);
    }
    const maxBytes = options.maxBytes ?? 2 ** 30;
    const initialBytes = options.initialBytes ?? 2 * SEGMENT_SIZE;
    checkSize("Arena.create", "maxBytes", maxBytes);
    checkSize("Arena.create", "initialBytes", initialBytes);
    if (maxBytes > ARENA_MAX_BYTES) {
      throw new RangeError(`Arena.create: maxBytes must be at most 4 GiB (${ARENA_MAX_BYTES}), got ${maxBytes}`);
    }
    const max = Math.max(2, Math.ceil(maxBytes / SEGMENT_SIZE)) * SEGMENT_SIZE;
    const initial = Math.min(max, Math.max(2, Math.ceil(initialBytes / SEGMENT_SIZE)) * SEGMENT_SIZE);
    const buffer = new SharedArrayBuffer(initial, { maxByteLength: max });
    return new Arena(buffer, options);
  }

  /** Attach the calling thread (a worker) to the arena in `buffer`; it gets its own thread id and heaps. */
  static attach(buffer: SharedArrayBuffer): Arena {
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new TypeError("Arena.attach: buffer must be the arena's SharedArrayBuffer");
    }
    return new Arena(buffer, null);
  }

  /** Re-create the views after the buffer has grown (another thread may have grown it). */
  refreshViews(): void {
    const length = this.buffer.byteLength;
    if (length === this.limit) return;
    this.u32 = new Uint32Array(this.buffer, 0, length >>> 2);
    this.i32 = new Int32Array(this.buffer, 0, length >>> 2);
    this.u8 = new Uint8Array(this.buffer, 0, length);
    this.limit = length;
  }

  /** Make sure the views cover `end` bytes (the buffer must already be that long). */
  ensureView(end: number): void {
    if (end > this.limit) this.refreshViews();
  }

  get maxSegments(): number {
    return this.u32[AH_MAX_SEGMENTS]!;
  }

  // ---------------------------------------------------------------- allocation (default heap)

  /** Allocate `size` bytes from this thread's default heap; returns the block's offset, or 0 when out of memory. */
  malloc(size: number): number {
    // The fast path of `Heap.malloc`, repeated here so the common call needs no second handle.
    if ((size >>> 0) === size && size <= SMALL_SIZE_MAX) {
      // Int32 view: offsets at or past 2 GiB read negative; `>>>` turns them back into indices.
      const i32 = this.i32;
      const page = i32[this.directIndex + ((size + 7) >>> WORD_SHIFT)]!;
      const pi = page >>> 2;
      const block = i32[pi + PAGE_FREE]!;
      if (block !== 0) {
        i32[pi + PAGE_FREE] = i32[block >>> 2]!;
        i32[pi + PAGE_USED]++;
        return block >>> 0;
      }
      return mallocSmallCollect(this, this.heap.record, page, size);
    }
    return mallocGeneric(this, this.heap.record, size, 0, 0, "malloc");
  }
  /** Allocate `size` zeroed bytes. */
  zalloc(size: number): number {
    return this.heap.zalloc(size);
  }
  /** Allocate `count × size` zeroed bytes; 0 when the product is too large. */
  calloc(count: number, size: number): number {
    return this.heap.calloc(count, size);
  }
  /** Resize a block (moving it when needed); `realloc(0, n)` allocates; 0 on failure leaves `p` intact. */
  realloc(p: number, size: number): number {
    return this.heap.realloc(p, size);
  }
  /** Allocate `size` bytes aligned to `alignment` (a power of two). */
  mallocAligned(size: number, alignment: number): number {
    return this.heap.mallocAligned(size, alignment);
  }
  /** Allocate `size` bytes such that `p + offset` is aligned to `alignment`. */
  mallocAlignedAt(size: number, alignment: number, offset: number): number {
    return this.heap.mallocAlignedAt(size, alignment, offset);
  }
  zallocAligned(size: number, alignment: number): number {
    return this.heap.zallocAligned(size, alignment);
  }
  reallocAligned(p: number, size: number, alignment: number): number {
    return this.heap.reallocAligned(p, size, alignment);
  }

  /**
   * Free a block, from any attached thread. `free(0)` does nothing. A pointer that is not a block
   * of this arena throws `InvalidPointerError`; with checks, so do double frees and interior pointers.
   */
  free(p: number): void {
    // Fast path: a block of a page this thread owns, with nothing special about the page.
    if (p >= SEGMENT_SIZE && p < this.limit && (p & 7) === 0) {
      const i32 = this.i32; // as in malloc: `>>>` for indices, stores wrap
      const segment = p - 1 - ((p - 1) & SEGMENT_MASK);
      const slice =
        segment + SEG_SLICES_OFFSET + ((((p - segment) >>> SLICE_SHIFT) & (SLICES_PER_SEGMENT - 1)) << PAGE_RECORD_SHIFT);
      const pi = (slice - i32[(slice >>> 2) + PAGE_SLICE_OFFSET]!) >>> 2;
      const flags = i32[pi + PAGE_FLAGS]!;
      if ((flags & PAGE_FLAGS_FREE_FAST_MASK) === this.freeFastKey) {
        i32[p >>> 2] = i32[pi + PAGE_LOCAL_FREE]!;
        i32[pi + PAGE_LOCAL_FREE] = p;
        const used = i32[pi + PAGE_USED]! - 1;
        i32[pi + PAGE_USED] = used;
        if ((flags & PAGE_FLAG_IN_FULL_MASK) !== 0) pageUnfull(this, this.u32[pi + PAGE_XHEAP]!, pi << 2);
        if (used === 0) pageRetire(this, pi << 2);
        return;
      }
    }
    freeGeneric(this, p);
  }

  /** Bytes usable in the block at `p` (at least what was requested). */
  usableSize(p: number): number {
    return usableSizeOf(this, p);
  }

  /** The tag (0–15) of the page holding block `p`: the tag of the heap it was allocated from. */
  tagOf(p: number): number {
    const page = pageOfPointer(this, p, "tagOf");
    return (this.u32[(page >>> 2) + PAGE_FLAGS]! & PAGE_FLAG_TAG_MASK) >>> PAGE_FLAG_TAG_SHIFT;
  }

  // ---------------------------------------------------------------- threads, checks, statistics

  /**
   * Detach this thread: abandon its default tld's heaps (segments with live blocks go to the pool,
   * where other threads reclaim them) and free its records. Call it when a worker is done; a
   * worker that cannot (it exited or was terminated) is cleaned up by `abandonThread` from another
   * thread. The handle is unusable afterwards.
   */
  detach(): void {
    if (this.detached) return;
    // Handles must not reach the heap records any more (another thread may reuse them): point
    // their fast paths at the all-empty direct table, whose slow path reports the detach.
    this.directIndex = DETACHED_DIRECT >>> 2;
    for (const heap of this.heaps.values()) heap.directIndex = DETACHED_DIRECT >>> 2;
    abandonTld(this, this.tld);
    releaseTldRecords(this, this.tld);
    this.detached = true;
    this.heaps.clear();
  }

  /**
   * Abandon the heaps of thread `threadId` from this thread. Precondition: that thread no longer
   * runs allocator code (it exited, was terminated, or detached). Returns how many tlds were
   * abandoned (0 when the thread had detached already).
   */
  abandonThread(threadId: number): number {
    if (typeof threadId !== "number" || !Number.isInteger(threadId) || threadId <= 0) {
      throw new RangeError(`abandonThread: threadId must be a positive integer, got ${threadId}`);
    }
    this.checkAttached("abandonThread");
    const next = Atomics.load(this.u32, AH_XNEXT_THREAD_ID);
    if (threadId >= next) {
      throw new RangeError(`abandonThread: threadId ${threadId} was never handed out by this arena (ids so far: 1 … ${next - 1})`);
    }
    if (threadId === this.threadId) throw new Error("abandonThread: a thread cannot abandon itself this way; call detach()");
    return abandonThread(this, threadId);
  }

  /**
   * Abandon the heaps of `tld` (a tld record, e.g. embedded in a thread state), from any thread.
   * Precondition: the tld's owner runs no allocator code now or later.
   */
  abandonTld(tld: number): void {
    this.checkAttached("abandonTld");
    checkTldRecord("abandonTld", this, tld);
    if (tld === this.tld) throw new Error("abandonTld: this is the thread's default tld; call detach()");
    for (const [record, heap] of this.heaps) {
      if (heap.tld === tld) {
        heap.directIndex = DETACHED_DIRECT >>> 2;
        this.heaps.delete(record);
      }
    }
    const t = tld >>> 2;
    const live = Atomics.load(this.u32, t + TLD_XSTATE) === TLD_STATE_LIVE;
    abandonTld(this, tld);
    // A tld made by tldNew (on the arena's list, not a caller's record): its heap records are
    // freed and the record becomes reusable by tldNew, as when abandonThread cleans up.
    if (live && (this.u32[t + TLD_FLAGS]! & TLD_FLAG_EMBEDDED_MASK) === 0) releaseTldRecords(this, tld);
  }

  /**
   * Reclaim every abandoned segment of `tld`'s pool (by default this thread's default tld) whose
   * pages all have a heap with their tag in `tld`, then collect: what other threads left behind
   * is taken over and its empty pages freed. Returns the number of segments reclaimed.
   */
  reclaimAbandoned(tld = this.tld): number {
    this.checkAttached("reclaimAbandoned");
    this.checkOwnTld("reclaimAbandoned", tld);
    let total = 0;
    for (let n = tryReclaim(this, tld, true); n > 0; n = tryReclaim(this, tld, true)) total += n;
    // By the tld's heap list: the heaps of a shared tld are in no thread's `heaps`.
    for (let h = this.u32[(tld >>> 2) + TLD_HEAPS]!; h !== 0; h = this.u32[(h >>> 2) + HEAP_NEXT]!) heapCollect(this, h, false);
    return total;
  }

  /** Statistics of the whole arena. */
  stats(): ArenaStats {
    return arenaStats(this);
  }

  /** The problems the arena checker finds (empty when consistent). Run it when no thread allocates. */
  checkProblems(): string[] {
    return checkArena(this);
  }

  /** Run the arena checker; throws `HeapCorruptionError` listing the problems. */
  check(): void {
    const problems = checkArena(this);
    if (problems.length > 0) throw new HeapCorruptionError(problems);
  }

  // ---------------------------------------------------------------- heaps and tlds

  /** Create a heap with `tag` (0–15) in `tld` (a tld of this thread; by default its default tld). */
  heapNew(tag = 0, tld = this.tld): Heap {
    checkTag("heapNew", tag);
    this.checkAttached("heapNew");
    this.checkOwnTld("heapNew", tld);
    const record = this.recordAlloc(HEAP_RECORD_SIZE, RECORD_KIND_HEAP);
    if (record === 0) throw new RangeError("heapNew: the arena's record area is exhausted");
    return this.heapInit(record, tld, tag);
  }

  /**
   * Throws unless `tld` is a live tld record of this thread, or a live shared tld (any thread may
   * use one while it holds the lock that serializes its users, see `tldInitShared`).
   */
  checkOwnTld(fn: string, tld: number): void {
    if (typeof tld !== "number" || !Number.isInteger(tld) || tld <= 0 || tld % 4 !== 0 || tld >= SEGMENT_SIZE) {
      throw new RangeError(`${fn}: ${String(tld)} is not a tld record`);
    }
    const t = tld >>> 2;
    if (
      Atomics.load(this.u32, t + TLD_XSTATE) !== TLD_STATE_LIVE ||
      (this.u32[t + TLD_THREAD_ID] !== this.threadId && (this.u32[t + TLD_FLAGS]! & TLD_FLAG_SHARED_MASK) === 0)
    ) {
      throw new Error(`${fn}: tld ${tld} is not a live tld of this thread (thread ${this.threadId}) nor a live shared tld`);
    }
  }

  /**
   * Initialise a heap inside a record the caller provides (`HEAP_RECORD_SIZE` bytes, 4-aligned), in
   * `tld` (a tld of this thread, or a shared tld), with `tag`. CPython's `_mi_heap_init_ex`: lets
   * `@ft/pymem` embed the four tagged heaps of a thread state. The heap's owner is the tld's (a
   * shared tld's virtual id); the heap of a shared tld is listed in no thread's `heaps` (other
   * threads get handles with `heapAttach`).
   */
  heapInit(record: number, tld: number, tag: number): Heap {
    checkTag("heapInit", tag);
    checkRecord("heapInit", "record", record, HEAP_RECORD_SIZE);
    this.checkOwnTld("heapInit", tld);
    checkFreeHeapRecord(this, record, tld);
    const u32 = this.u32;
    const h = record >>> 2;
    u32.fill(0, h, h + HEAP_WORDS);
    const t = tld >>> 2;
    u32[h + HEAP_TLD] = tld;
    u32[h + HEAP_THREAD_ID] = u32[t + TLD_THREAD_ID]!;
    u32[h + HEAP_TAG] = tag;
    u32.fill(EMPTY_PAGE, h + HEAP_DIRECT, h + HEAP_DIRECT + SMALL_WSIZE_MAX + 1);
    u32[h + HEAP_NEXT] = u32[t + TLD_HEAPS]!;
    u32[t + TLD_HEAPS] = record;
    if (u32[t + TLD_HEAP_BACKING] === 0) u32[t + TLD_HEAP_BACKING] = record;
    if (u32[t + TLD_HEAP_BY_TAG + tag] === 0) u32[t + TLD_HEAP_BY_TAG + tag] = record;
    const heap = new Heap(this, record);
    if ((u32[t + TLD_FLAGS]! & TLD_FLAG_SHARED_MASK) === 0) this.heaps.set(record, heap);
    return heap;
  }

  /**
   * This thread's handle on the heap record `record` of a live SHARED tld (see `tldInitShared`),
   * e.g. one another thread initialised. Use it only while holding the lock that serializes the
   * tld's users. The handle is not listed in `heaps`; after the tld is abandoned it refuses to
   * allocate, and works again once the tld is re-initialised in place (`tldInitShared` with the
   * same owner) and its heaps with `heapInit`.
   *
   * @throws RangeError when `record` is not a heap record of a tld; Error when its tld is not live
   *   (abandoned or freed), is not shared, or the heap was destroyed.
   */
  heapAttach(record: number): Heap {
    this.checkAttached("heapAttach");
    checkRecord("heapAttach", "record", record, HEAP_RECORD_SIZE);
    const u32 = this.u32;
    const h = record >>> 2;
    const tld = u32[h + HEAP_TLD]!;
    let listed = false;
    if (tld % 4 === 0 && tld >= RECORD_AREA_START && tld + TLD_RECORD_SIZE <= SEGMENT_SIZE) {
      const state = Atomics.load(u32, (tld >>> 2) + TLD_XSTATE);
      if (state === TLD_STATE_LIVE || state === TLD_STATE_ABANDONED) {
        let steps = 0;
        for (let x = u32[(tld >>> 2) + TLD_HEAPS]!; x !== 0 && steps < 4096; x = u32[(x >>> 2) + HEAP_NEXT]!, steps++) {
          if (x === record) {
            listed = true;
            break;
          }
        }
      }
    }
    if (!listed) throw new RangeError(`heapAttach: ${record} is not a heap record (no tld lists it)`);
    const t = tld >>> 2;
    if (Atomics.load(u32, t + TLD_XSTATE) !== TLD_STATE_LIVE) {
      throw new Error(`heapAttach: heap ${record} belongs to tld ${tld}, which is not live (it was abandoned)`);
    }
    if ((u32[t + TLD_FLAGS]! & TLD_FLAG_SHARED_MASK) === 0) {
      throw new Error(
        `heapAttach: heap ${record} belongs to tld ${tld} of thread ${u32[t + TLD_THREAD_ID]}, which is not shared; ` +
          "only heaps of a shared tld (tldInitShared) can be attached",
      );
    }
    if ((u32[h + HEAP_FLAGS]! & HEAP_FLAG_DESTROYED_MASK) !== 0) {
      throw new Error(`heapAttach: heap ${record} was destroyed or deleted`);
    }
    return new Heap(this, record);
  }

  /**
   * The handle of a heap record of this thread.
   *
   * @throws RangeError when `record` is not a heap of this thread; Error (and the handle is
   *   forgotten) when it was, but another thread has abandoned its tld since.
   */
  heapOf(record: number): Heap {
    const heap = this.heaps.get(record);
    if (!heap) throw new RangeError(`heapOf: ${record} is not a heap of this thread`);
    const stale = ownHeapStaleReason(this, record);
    if (stale !== "") {
      this.forgetHeap(heap);
      throw new Error(`heapOf: ${stale}`);
    }
    return heap;
  }

  /**
   * Forget the handles in `heaps` whose heap this thread no longer owns: another thread abandoned
   * their tld (the owner is not told), and the records may since have been freed and reused. Their
   * fast paths are pointed at the detached direct table, whose slow path names the reason. The
   * checker calls it first.
   */
  forgetStaleHeaps(): void {
    for (const heap of this.heaps.values()) {
      if (ownHeapStaleReason(this, heap.record) !== "") this.forgetHeap(heap);
    }
  }

  private forgetHeap(heap: Heap): void {
    heap.directIndex = DETACHED_DIRECT >>> 2;
    this.heaps.delete(heap.record);
  }

  /** A new tld of this thread, bound to `pool`, in a record carved from the arena. */
  tldNew(pool: number): number {
    this.checkAttached("tldNew");
    checkPool("tldNew", this, pool);
    // Reuse a freed record of the arena's tld list in place (the list is push-only).
    let tld = Atomics.load(this.u32, AH_XALL_TLDS);
    while (tld !== 0) {
      if (Atomics.compareExchange(this.u32, (tld >>> 2) + TLD_XSTATE, TLD_STATE_FREE, TLD_STATE_LIVE) === TLD_STATE_FREE) {
        this.tldFill(tld, pool, this.threadId, 0);
        return tld;
      }
      tld = this.u32[(tld >>> 2) + TLD_ALL_NEXT]!;
    }
    tld = this.recordAlloc(TLD_RECORD_SIZE, recordKindOf(TLD_RECORD_SIZE));
    if (tld === 0) throw new RangeError("tldNew: the arena's record area is exhausted");
    this.tldFill(tld, pool, this.threadId, 0);
    let head = Atomics.load(this.u32, AH_XALL_TLDS);
    for (;;) {
      this.u32[(tld >>> 2) + TLD_ALL_NEXT] = head;
      const seen = Atomics.compareExchange(this.u32, AH_XALL_TLDS, head, tld);
      if (seen === head) break;
      head = seen;
    }
    return tld;
  }

  /**
   * Initialise a tld of this thread in a record (`TLD_RECORD_SIZE` bytes), bound to abandoned pool
   * `pool`. CPython's `_mi_tld_init`. The record belongs to the caller (`@ft/interp`'s thread
   * states: EMBEDDED), which abandons it with `abandonTld` and frees it itself; tlds of the arena's
   * own records come from `tldNew`.
   *
   * @throws RangeError for a bad record or pool; Error, with nothing written, when the record holds
   *   a live tld (any thread's; abandon it first) or is a tld of the arena's own list (`tldNew`).
   */
  tldInit(tld: number, pool: number): void {
    this.checkAttached("tldInit");
    checkRecord("tldInit", "tld", tld, TLD_RECORD_SIZE);
    checkPool("tldInit", this, pool);
    checkCallerTldRecord("tldInit", this, tld);
    this.tldFill(tld, pool, this.threadId, TLD_FLAG_EMBEDDED_MASK);
  }

  /**
   * Initialise a SHARED tld in a caller record (`TLD_RECORD_SIZE` bytes), bound to `pool`, owned by
   * a virtual thread id: `ownerId` 0 takes a fresh one from the arena's thread-id counter (no real
   * thread has it); a previous owner id re-initialises the tld for the same owner (after
   * `abandonTld`, so that blocks and objects keep their owner). Returns the owner id.
   *
   * Any thread may then use the tld and its heaps (`heapInit`, `heapAttach`, `reclaimAbandoned`)
   * while it holds an external lock that serializes all of them (CPython 3.12's per-interpreter
   * obmalloc state under the GIL). Allocation pops free lists with plain stores under the lock;
   * every free is a cross-thread free (no thread's id is the owner), which is correct from any
   * thread at any time; the lock holder collects those frees. A new holder calls `refreshViews()`
   * first: the previous one may have grown the buffer and put pages of new segments into the
   * heaps. Half-done slow paths of a holder
   * that died are repaired by `abandonTld`, from any thread, after which the tld is re-initialised
   * here with the same id. The record is the caller's (EMBEDDED): `abandonThread` never touches it.
   *
   * @throws RangeError for a bad record, pool or owner id (not an id the arena handed out, or the
   *   id of a live thread); Error when the tld is live (abandon it first) or the record is a tld of
   *   the arena's own list (`tldNew`).
   */
  tldInitShared(tld: number, pool: number, ownerId = 0): number {
    this.checkAttached("tldInitShared");
    checkRecord("tldInitShared", "tld", tld, TLD_RECORD_SIZE);
    checkPool("tldInitShared", this, pool);
    checkCallerTldRecord("tldInitShared", this, tld);
    const u32 = this.u32;
    let id = ownerId;
    if (id === 0) {
      id = Atomics.add(u32, AH_XNEXT_THREAD_ID, 1);
    } else {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= Atomics.load(u32, AH_XNEXT_THREAD_ID)) {
        throw new RangeError(`tldInitShared: ownerId must be 0 or an id the arena handed out, got ${String(ownerId)}`);
      }
      if (id === this.threadId || hasLiveTldOf(this, id)) {
        throw new RangeError(`tldInitShared: ownerId ${id} is the id of a live thread, not a virtual owner id`);
      }
    }
    this.tldFill(tld, pool, id, TLD_FLAG_EMBEDDED_MASK | TLD_FLAG_SHARED_MASK);
    return id;
  }

  /** Whether `tld` is a live shared tld (`tldInitShared`). */
  tldIsShared(tld: number): boolean {
    checkTldRecord("tldIsShared", this, tld);
    const t = tld >>> 2;
    return Atomics.load(this.u32, t + TLD_XSTATE) === TLD_STATE_LIVE && (this.u32[t + TLD_FLAGS]! & TLD_FLAG_SHARED_MASK) !== 0;
  }

  /** Fill a tld record (its arena list link kept unless EMBEDDED) and publish it LIVE. */
  private tldFill(tld: number, pool: number, ownerId: number, flags: number): void {
    const u32 = this.u32;
    const t = tld >>> 2;
    const allNext = u32[t + TLD_ALL_NEXT]!;
    u32.fill(0, t, t + TLD_WORDS);
    if ((flags & TLD_FLAG_EMBEDDED_MASK) === 0) u32[t + TLD_ALL_NEXT] = allNext;
    u32[t + TLD_THREAD_ID] = ownerId;
    u32[t + TLD_POOL] = pool;
    u32[t + TLD_FLAGS] = flags;
    Atomics.store(u32, t + TLD_XSTATE, TLD_STATE_LIVE);
  }

  /** The heap of `tld` that pages with `tag` go to (0 if none). */
  heapByTag(tld: number, tag: number): number {
    checkTag("heapByTag", tag);
    checkTldRecord("heapByTag", this, tld);
    return this.u32[(tld >>> 2) + TLD_HEAP_BY_TAG + tag]!;
  }

  /** A new abandoned pool (CPython gives each interpreter one). Returns the pool record. */
  /**
   * A stamp no other call on this arena, from any thread, has returned or will return (until 2³²−1
   * stamps have been handed out): 1, 2, 3, … For the layers above, to mark a record's incarnation so
   * that a handle made before the record was freed and reused can tell (pymem's thread-state
   * generation). Never 0.
   */
  nextStamp(): number {
    for (;;) {
      const stamp = Atomics.add(this.u32, AH_XNEXT_STAMP, 1);
      if (stamp !== 0) return stamp; // 0 only after the counter wrapped
    }
  }

  poolNew(): number {
    this.checkAttached("poolNew");
    const pool = this.recordAlloc(POOL_RECORD_SIZE, recordKindOf(POOL_RECORD_SIZE));
    if (pool === 0) throw new RangeError("poolNew: the arena's record area is exhausted");
    this.u32.fill(0, pool >>> 2, (pool + POOL_RECORD_SIZE) >>> 2);
    this.u32[(pool >>> 2) + POOL_ID] = Atomics.add(this.u32, AH_XNEXT_POOL_ID, 1);
    return pool;
  }

  /**
   * Destroy an abandoned pool (CPython: a finalized interpreter's): every segment abandoned into it
   * is freed with whatever blocks it still holds, then the pool record. Precondition: no tld bound
   * to the pool is live (every thread of the interpreter is gone). Returns the segments freed.
   */
  poolDestroy(pool: number): number {
    this.checkAttached("poolDestroy");
    if (pool === DEFAULT_POOL) throw new Error("poolDestroy: the default pool cannot be destroyed");
    checkPool("poolDestroy", this, pool);
    const freed = poolFreeSegments(this, pool);
    this.u32[(pool >>> 2) + POOL_ID] = 0; // no longer a pool: later uses of the offset are refused
    this.recordFree(pool, POOL_RECORD_SIZE);
    return freed;
  }

  /** The arena's default abandoned pool. */
  get defaultPool(): number {
    return DEFAULT_POOL;
  }

  checkAttached(fn: string): void {
    if (this.detached) throw new Error(`${fn}: this thread has detached from the arena`);
  }

  // ---------------------------------------------------------------- records

  /**
   * Carve a record of `size` bytes (at most 8 KiB; zeroed, 64-aligned) from the arena header's
   * record area, for tld, heap, pool and thread-state records. Returns 0 when the area is exhausted. Under a lock whose word holds the holder's thread id; the critical
   * section is straight-line code (no call, no loop), so a terminated holder leaves it consistent,
   * and `abandonThread` releases the lock of a dead holder.
   */
  recordAlloc(size: number, kind?: number): number {
    this.checkAttached("recordAlloc");
    checkSize("recordAlloc", "size", size);
    if (kind === undefined) kind = recordKindOf(size);
    else checkRecordKind("recordAlloc", kind);
    const u32 = this.u32;
    const bytes = recordBytes(kind);
    if (size > bytes) throw new RangeError(`recordAlloc: size ${size} does not fit record kind ${kind} (${bytes} bytes)`);
    this.recordLock();
    const listIndex = (RECORD_FREE_LISTS >>> 2) + kind;
    let record = u32[listIndex]!;
    if (record !== 0) {
      u32[listIndex] = u32[record >>> 2]!;
    } else {
      record = u32[AH_RECORD_BUMP]!;
      if (record + bytes > SEGMENT_SIZE) record = 0;
      else u32[AH_RECORD_BUMP] = record + bytes;
    }
    this.recordUnlock();
    if (record !== 0) u32.fill(0, record >>> 2, (record + bytes) >>> 2);
    return record;
  }

  /** Return a record of `size` bytes (as passed to `recordAlloc`) to its free list. */
  recordFree(record: number, size: number): void {
    checkSize("recordFree", "size", size);
    this.recordPush("recordFree", record, recordKindOf(size, "recordFree"));
  }

  /** Return a record to the free list of its kind. */
  recordFreeKind(record: number, kind: number): void {
    checkRecordKind("recordFreeKind", kind);
    this.recordPush("recordFreeKind", record, kind);
  }

  /**
   * Push `record` onto the free list of `kind`: a 64-aligned record the bump pointer has passed
   * (one `recordAlloc` handed out). With checks, a record already on that list
   * is refused (`DoubleFreeError`) before anything is written.
   */
  private recordPush(fn: string, record: unknown, kind: number): void {
    const u32 = this.u32;
    if (
      typeof record !== "number" ||
      !Number.isInteger(record) ||
      record < RECORD_AREA_START ||
      record % 64 !== 0 ||
      record >= Atomics.load(u32, AH_RECORD_BUMP)
    ) {
      throw new RangeError(`${fn}: record ${describeArg(record)} is not a record of this arena (of kind ${kind})`);
    }
    this.recordLock();
    const listIndex = (RECORD_FREE_LISTS >>> 2) + kind;
    // Read-only walk under the lock (a terminated holder leaves the list as it was).
    if (this.checks) {
      let steps = 0;
      for (let x = u32[listIndex]!; x !== 0 && steps < SEGMENT_SIZE >>> 6; x = u32[x >>> 2]!, steps++) {
        if (x === record) {
          this.recordUnlock();
          throw new DoubleFreeError(`${fn}: record ${record} (kind ${kind}) is already free: a double free`);
        }
      }
    }
    u32[record >>> 2] = u32[listIndex]!;
    u32[listIndex] = record;
    this.recordUnlock();
  }

  private recordLock(): void {
    const tid = this.threadId;
    for (let spins = 0; ; spins++) {
      const holder = Atomics.compareExchange(this.i32, AH_XRECORD_LOCK, 0, tid);
      if (holder === 0) return;
      if (holder === tid) throw new Error("recordAlloc: record lock re-entered by its holder");
      if (spins > 64) Atomics.wait(this.i32, AH_XRECORD_LOCK, holder, 1);
    }
  }

  private recordUnlock(): void {
    Atomics.store(this.i32, AH_XRECORD_LOCK, 0);
    Atomics.notify(this.i32, AH_XRECORD_LOCK);
  }
}

/** Throws unless `record` (the argument `name`) could be a record of `size` bytes in the record area (4-aligned). */
function checkRecord(fn: string, name: string, record: unknown, size: number): asserts record is number {
  if (typeof record !== "number" || !Number.isInteger(record) || record % 4 !== 0 || record < RECORD_AREA_START || record + size > SEGMENT_SIZE) {
    throw new RangeError(`${fn}: ${name} ${describeArg(record)} is not a record offset in the arena's record area`);
  }
}

/** A bad argument for a message: strings quoted, other values as `String` writes them. */
function describeArg(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** Throws unless `kind` is a record kind (0 … 7: 64 << kind bytes; RECORD_KIND_HEAP: a heap record). */
function checkRecordKind(fn: string, kind: unknown): asserts kind is number {
  if (typeof kind !== "number" || !Number.isInteger(kind) || kind < 0 || kind > RECORD_KIND_HEAP) {
    throw new RangeError(`${fn}: kind must be an integer 0 … ${RECORD_KIND_HEAP}, got ${describeArg(kind)}`);
  }
}

/** Bytes of a record of `kind`. */
function recordBytes(kind: number): number {
  return kind === RECORD_KIND_HEAP ? HEAP_RECORD_SIZE : 1 << (kind + RECORD_MIN_SHIFT);
}

/**
 * Throws, before anything is written, unless `heapInit` may make a heap in `record`: it must not
 * overlap `tld`, be a record of the arena's tld list, or hold a heap that a live tld still lists
 * (re-initialising it would link it twice and orphan its pages).
 */
function checkFreeHeapRecord(a: Arena, record: number, tld: number): void {
  if (record < tld + TLD_RECORD_SIZE && tld < record + HEAP_RECORD_SIZE) {
    throw new Error(`heapInit: record ${record} overlaps tld ${tld}`);
  }
  if (isArenaTld(a, record)) throw new Error(`heapInit: record ${record} is a tld of the arena's own list (made by tldNew)`);
  const owner = a.u32[(record >>> 2) + HEAP_TLD]!;
  if (
    owner % 4 === 0 &&
    owner >= RECORD_AREA_START &&
    owner + TLD_RECORD_SIZE <= SEGMENT_SIZE &&
    Atomics.load(a.u32, (owner >>> 2) + TLD_XSTATE) === TLD_STATE_LIVE &&
    tldListsHeap(a, owner, record)
  ) {
    throw new Error(`heapInit: record ${record} holds a live heap of tld ${owner}; delete or destroy it first`);
  }
}

/** Throws unless `tld` is an initialised tld record (live, abandoned or reusable). */
function checkTldRecord(fn: string, a: Arena, tld: unknown): asserts tld is number {
  checkRecord(fn, "tld", tld, TLD_RECORD_SIZE);
  const state = Atomics.load(a.u32, (tld >>> 2) + TLD_XSTATE);
  if (state !== TLD_STATE_LIVE && state !== TLD_STATE_ABANDONED && state !== TLD_STATE_FREE) {
    throw new RangeError(`${fn}: ${tld} is not a tld record`);
  }
}

/**
 * Throws unless a caller's record `tld` may be initialised as an embedded tld (`tldInit`,
 * `tldInitShared`), before anything is written: not a live tld of any thread (its owner may be
 * using it; its heaps and segments would be orphaned), and not a record of the arena's tld list
 * (`tldNew` reuses those in place; EMBEDDED zeroes their TLD_ALL_NEXT link and cuts the list).
 */
function checkCallerTldRecord(fn: string, a: Arena, tld: number): void {
  const u32 = a.u32;
  const t = tld >>> 2;
  if (Atomics.load(u32, t + TLD_XSTATE) === TLD_STATE_LIVE) {
    const owner = u32[t + TLD_THREAD_ID]!;
    const flags = u32[t + TLD_FLAGS]!;
    const whose =
      (flags & TLD_FLAG_SHARED_MASK) !== 0
        ? `owner ${owner}'s, shared`
        : `thread ${owner}'s, ${(flags & TLD_FLAG_EMBEDDED_MASK) !== 0 ? "embedded" : "made by tldNew"}`;
    throw new Error(`${fn}: tld ${tld} is live (${whose}); abandon it first`);
  }
  if (isArenaTld(a, tld)) {
    throw new Error(
      `${fn}: record ${tld} is a tld of the arena's own list (made by tldNew, reused in place by ` +
        "tldNew); initialising it as a caller's tld would cut that list",
    );
  }
}

/** Whether `tld` is on the arena's tld list (AH_XALL_TLDS: push-only, records never freed). */
function isArenaTld(a: Arena, tld: number): boolean {
  const u32 = a.u32;
  let steps = 0;
  for (let x = Atomics.load(u32, AH_XALL_TLDS); x !== 0 && steps < SEGMENT_SIZE >>> 6; x = u32[(x >>> 2) + TLD_ALL_NEXT]!, steps++) {
    if (x === tld) return true;
  }
  return false;
}

/**
 * Why this thread's handle on `heap` (an entry of `a.heaps`) is stale, or "": `heapStaleReason`
 * for a tld of this thread (a shared tld's heaps are never listed), and the tld must still list it.
 */
function ownHeapStaleReason(a: Arena, heap: number): string {
  const stale = heapStaleReason(a, heap, false);
  if (stale !== "") return stale;
  const tld = a.u32[(heap >>> 2) + HEAP_TLD]!;
  if (!tldListsHeap(a, tld, heap)) {
    return `heap ${heap}: tld ${tld} no longer lists it; the handle is stale (its record was freed and reused)`;
  }
  return "";
}

/** Whether an arena-made tld (a real thread's: every attached thread has its default tld) of thread `id` is in use. */
function hasLiveTldOf(a: Arena, id: number): boolean {
  const u32 = a.u32;
  for (let tld = Atomics.load(u32, AH_XALL_TLDS); tld !== 0; tld = u32[(tld >>> 2) + TLD_ALL_NEXT]!) {
    if (u32[(tld >>> 2) + TLD_THREAD_ID] === id && Atomics.load(u32, (tld >>> 2) + TLD_XSTATE) === TLD_STATE_LIVE) return true;
  }
  return false;
}

/** Throws unless `pool` is the default pool or a pool record. */
function checkPool(fn: string, a: Arena, pool: unknown): asserts pool is number {
  if (pool === DEFAULT_POOL) return;
  if (typeof pool !== "number" || !Number.isInteger(pool) || pool % 64 !== 0 || pool < RECORD_AREA_START || pool + POOL_RECORD_SIZE > SEGMENT_SIZE || a.u32[(pool >>> 2) + POOL_ID] === 0) {
    throw new RangeError(`${fn}: pool ${String(pool)} is not a pool record`);
  }
}

/** The smallest record kind that holds `size` bytes (a validated size). */
export function recordKindOf(size: number, fn = "recordAlloc"): number {
  if (size > 1 << (RECORD_KIND_HEAP - 1 + RECORD_MIN_SHIFT)) {
    throw new RangeError(`${fn}: size must be at most 8 KiB (records are at most 8 KiB), got ${size}`);
  }
  let kind = 0;
  while (1 << (kind + RECORD_MIN_SHIFT) < size) kind++;
  return kind;
}

function initArenaHeader(a: Arena, options: ArenaOptions): void {
  const u32 = a.u32;
  u32[AH_VERSION] = ARENA_VERSION;
  u32[AH_MAX_SEGMENTS] = a.buffer.maxByteLength / SEGMENT_SIZE;
  u32[AH_XNEXT_THREAD_ID] = 1;
  u32[AH_XNEXT_POOL_ID] = 1;
  u32[AH_XNEXT_STAMP] = 1;
  u32[AH_RECORD_BUMP] = RECORD_AREA_START;
  u32[AH_FLAGS] = options.checks ? ARENA_FLAG_CHECKS_MASK : 0;
  u32[SEGMENT_TABLE >>> 2] = SEGSTATE_HEADER;
  u32.fill(EMPTY_PAGE, DETACHED_DIRECT >>> 2, (DETACHED_DIRECT >>> 2) + SMALL_WSIZE_MAX + 1);
  u32[(DEFAULT_POOL >>> 2) + POOL_ID] = 0;
  Atomics.store(u32, AH_MAGIC, ARENA_MAGIC);
}

/**
 * A heap handle: allocation from one heap record of this thread. `malloc` is the fast path: pop
 * the free list of the page that the direct table names for the size; anything else (empty list,
 * larger size, bad argument) goes to `mallocGeneric`.
 */
export class Heap {
  readonly arena: Arena;
  /** Byte offset of the heap record. */
  readonly record: number;
  /** Index (in words) of the heap's direct page table (the detached table once unusable). */
  directIndex: number;

  constructor(arena: Arena, record: number) {
    this.arena = arena;
    this.record = record;
    this.directIndex = (record >>> 2) + HEAP_DIRECT;
  }

  get tag(): number {
    return this.arena.u32[(this.record >>> 2) + HEAP_TAG]!;
  }

  get tld(): number {
    return this.arena.u32[(this.record >>> 2) + HEAP_TLD]!;
  }

  malloc(size: number): number {
    if ((size >>> 0) === size && size <= SMALL_SIZE_MAX) {
      const u32 = this.arena.u32;
      const page = u32[this.directIndex + ((size + 7) >>> WORD_SHIFT)]!;
      const pi = page >>> 2;
      const block = u32[pi + PAGE_FREE]!;
      if (block !== 0) {
        u32[pi + PAGE_FREE] = u32[block >>> 2]!;
        u32[pi + PAGE_USED]++;
        return block;
      }
      return mallocSmallCollect(this.arena, this.record, page, size);
    }
    return mallocGeneric(this.arena, this.record, size, 0, 0, "malloc");
  }

  zalloc(size: number): number {
    const p = this.malloc(size);
    if (p !== 0) this.arena.u8.fill(0, p, p + size);
    return p;
  }

  calloc(count: number, size: number): number {
    checkSize("calloc", "count", count);
    checkSize("calloc", "size", size);
    const total = count * size;
    if (total > 0xffffffff) return 0; // overflow: C's calloc returns NULL
    return this.zalloc(total);
  }

  realloc(p: number, size: number): number {
    return reallocBlock(this, p, size, 0, "realloc");
  }

  mallocAligned(size: number, alignment: number): number {
    return mallocGeneric(this.arena, this.record, size, alignment, 0, "mallocAligned");
  }

  mallocAlignedAt(size: number, alignment: number, offset: number): number {
    checkSize("mallocAlignedAt", "offset", offset);
    return mallocGeneric(this.arena, this.record, size, alignment, offset, "mallocAlignedAt");
  }

  zallocAligned(size: number, alignment: number): number {
    const p = this.mallocAligned(size, alignment);
    if (p !== 0) this.arena.u8.fill(0, p, p + size);
    return p;
  }

  reallocAligned(p: number, size: number, alignment: number): number {
    return reallocBlock(this, p, size, alignment, "reallocAligned");
  }

  /** mimalloc's `mi_heap_collect`: take remote frees, free empty pages (all retired ones with `force`). */
  collect(force = false): void {
    this.checkLive("collect");
    heapCollect(this.arena, this.record, force);
  }

  /**
   * mimalloc's `mi_heap_destroy`: free every block of the heap at once, and the heap. Pointers into
   * it are invalid afterwards. The backing heap (the thread's first) cannot be destroyed.
   */
  destroy(): void {
    this.checkLive("destroy");
    const a = this.arena;
    if (this.record === a.u32[(this.tld >>> 2) + TLD_HEAP_BACKING]) throw new Error("destroy: the backing heap cannot be destroyed");
    heapDestroyPages(a, this.record);
    heapUnlink(a, this.record);
    a.heaps.delete(this.record);
    this.directIndex = DETACHED_DIRECT >>> 2;
  }

  /**
   * mimalloc's `mi_heap_delete`: delete the heap; its live blocks stay valid, their pages move to the
   * tld's backing heap (and take its tag).
   */
  delete(): void {
    this.checkLive("delete");
    const a = this.arena;
    const backing = a.u32[(this.tld >>> 2) + TLD_HEAP_BACKING]!;
    if (this.record === backing) throw new Error("delete: the backing heap cannot be deleted");
    heapAbsorb(a, backing, this.record);
    heapUnlink(a, this.record);
    a.heaps.delete(this.record);
    this.directIndex = DETACHED_DIRECT >>> 2;
  }

  private checkLive(fn: string): void {
    this.arena.checkAttached(fn);
    const stale = heapStaleReason(this.arena, this.record, true);
    if (stale !== "") throw new Error(`${fn}: ${stale}`);
    if (this.destroyed) throw new Error(`${fn}: the heap was destroyed or deleted`);
  }

  /** Whether this heap has been destroyed or deleted. */
  get destroyed(): boolean {
    return (this.arena.u32[(this.record >>> 2) + HEAP_FLAGS]! & HEAP_FLAG_DESTROYED_MASK) !== 0;
  }
}


/**
 * `realloc` (`alignment` 0) and `reallocAligned`. `p` is validated as `free` would validate it
 * (and so refused, with nothing allocated, when `free` would refuse it) before anything moves.
 */
function reallocBlock(heap: Heap, p: number, size: number, alignment: number, fn: string): number {
  checkSize(fn, "size", size);
  if (fn === "reallocAligned") checkAlignment(fn, alignment);
  const a = heap.arena;
  a.checkAttached(fn);
  if (p === 0) return alignment === 0 ? heap.malloc(size) : heap.mallocAligned(size, alignment);
  checkFreeable(a, p, fn);
  const usable = usableSizeOf(a, p, fn);
  if (size <= usable && size >= usable >>> 1 && (alignment === 0 || p % alignment === 0)) return p;
  const q = alignment === 0 ? heap.malloc(size) : heap.mallocAligned(size, alignment);
  if (q === 0) return 0;
  a.u8.copyWithin(q, p, p + Math.min(usable, size));
  a.free(p);
  return q;
}
