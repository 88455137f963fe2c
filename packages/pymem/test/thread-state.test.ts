import { Arena, HEAP_RECORD_SIZE, HEAP_USER, HEAP_USER_WORDS, TLD_RECORD_SIZE } from "@ft/mimalloc";
import { afterEach, describe, expect, it } from "vitest";
import {
  currentThreadState,
  DEBUG_HEADER_SIZE,
  DEFAULT_OBJECT_LAYOUT,
  HEAP_DEBUG_OFFSET,
  HeapTag,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  MTS_ALIGN,
  MTS_CURRENT_OBJECT_HEAP,
  MTS_HEADER_SIZE,
  MTS_HEAPS_OFFSET,
  MTS_STATE_ABANDONED,
  MTS_STATE_FREE,
  MTS_STATE_LIVE,
  MTS_TLD_OFFSET,
  MTS_XSTATE,
  mimallocStateHeap,
  mimallocStateOf,
  mimallocStateTld,
  setCurrentThreadState,
} from "../src/index.ts";
import { heapTagOfBlock } from "./setup.ts";

afterEach(() => setCurrentThreadState(null));

function fresh(): { arena: Arena; record: number } {
  const arena = Arena.create({ maxBytes: 64 << 20, checks: true });
  return { arena, record: arena.recordAlloc(MIMALLOC_STATE_SIZE) };
}

describe("mimalloc thread-state layout", () => {
  it("places a header, the tld and four heap records 64-aligned (the #error checks)", () => {
    expect(MTS_ALIGN).toBe(64);
    expect(MTS_HEADER_SIZE % MTS_ALIGN).toBe(0);
    expect(MTS_TLD_OFFSET).toBe(MTS_HEADER_SIZE);
    expect(MTS_HEAPS_OFFSET).toBeGreaterThanOrEqual(MTS_TLD_OFFSET + TLD_RECORD_SIZE);
    expect(MTS_HEAPS_OFFSET % MTS_ALIGN).toBe(0);
    expect(HEAP_RECORD_SIZE % MTS_ALIGN).toBe(0);
    expect(MIMALLOC_STATE_SIZE).toBeGreaterThanOrEqual(MTS_HEAPS_OFFSET + 4 * HEAP_RECORD_SIZE);
    expect(MIMALLOC_STATE_SIZE % MTS_ALIGN).toBe(0);
    // A thread-state record (at most 8 KiB, the arena's record limit) embeds it with room to spare.
    expect(MIMALLOC_STATE_SIZE).toBeLessThanOrEqual(8192 - 1024);
    expect(MTS_CURRENT_OBJECT_HEAP * 4).toBeLessThan(MTS_HEADER_SIZE);
    expect(MTS_XSTATE * 4).toBeLessThan(MTS_HEADER_SIZE);
    // The debug offset lives in the first of the heap record's user words.
    expect(HEAP_DEBUG_OFFSET).toBe(HEAP_USER);
    expect(HEAP_USER_WORDS).toBeGreaterThanOrEqual(1);
    expect(mimallocStateTld(1024)).toBe(1024 + MTS_TLD_OFFSET);
    expect(mimallocStateHeap(1024, HeapTag.GC_PRE)).toBe(1024 + MTS_HEAPS_OFFSET + 3 * HEAP_RECORD_SIZE);
  });
});

describe("MimallocThreadState", () => {
  it("initialises one tld and four heaps tagged MEM, OBJECT, GC, GC_PRE inside the record", () => {
    const { arena, record } = fresh();
    const state = MimallocThreadState.init(arena, record, arena.defaultPool);
    expect(state.record).toBe(record);
    expect(state.tld).toBe(mimallocStateTld(record));
    for (const tag of [HeapTag.MEM, HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE]) {
      const heap = state.heap(tag);
      expect(heap.record).toBe(mimallocStateHeap(record, tag));
      expect(heap.tag).toBe(tag);
      expect(heap.tld).toBe(state.tld);
      expect(arena.heapByTag(state.tld, tag)).toBe(heap.record);
    }
    expect(mimallocStateOf(arena, record)).toBe(MTS_STATE_LIVE);
    arena.check();
  });

  it("routes OBJ allocations to OBJECT by default and keeps the current object heap in the record", () => {
    const { arena, record } = fresh();
    const state = MimallocThreadState.init(arena, record, arena.defaultPool);
    expect(state.currentObjectHeap).toBe(HeapTag.OBJECT);
    state.currentObjectHeap = HeapTag.GC_PRE;
    expect(arena.u32[(record >>> 2) + MTS_CURRENT_OBJECT_HEAP]).toBe(HeapTag.GC_PRE);
    expect(state.currentObjectHeapHandle()).toBe(state.heap(HeapTag.GC_PRE));
    expect(() => {
      state.currentObjectHeap = HeapTag.MEM;
    }).toThrow(/objects go to OBJECT \(1\), GC \(2\) or GC_PRE \(3\), got 0/);
  });

  it("gives each heap CPython's debug_offset: 0, then ob_type's offset plus the debug header, plus the pre-header", () => {
    const { arena, record } = fresh();
    const state = MimallocThreadState.init(arena, record, arena.defaultPool);
    const base = DEFAULT_OBJECT_LAYOUT.obTypeOffset + DEBUG_HEADER_SIZE;
    expect(state.debugOffset(HeapTag.MEM)).toBe(0);
    expect(state.debugOffset(HeapTag.OBJECT)).toBe(base);
    expect(state.debugOffset(HeapTag.GC)).toBe(base);
    expect(state.debugOffset(HeapTag.GC_PRE)).toBe(base + DEFAULT_OBJECT_LAYOUT.preheaderSize);
    const other = fresh();
    const custom = MimallocThreadState.init(other.arena, other.record, other.arena.defaultPool, {
      obTypeOffset: 24,
      preheaderSize: 16,
    });
    expect(custom.debugOffset(HeapTag.GC_PRE)).toBe(24 + 16 + 16);
  });

  it("allocates from each heap into pages with that heap's tag", () => {
    const { arena, record } = fresh();
    const state = MimallocThreadState.init(arena, record, arena.defaultPool);
    for (const tag of [HeapTag.MEM, HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE]) {
      const p = state.heap(tag).malloc(48);
      expect(heapTagOfBlock(arena, state, p)).toBe(tag);
      arena.free(p);
    }
  });

  it("is the calling thread's current state once set, and null after", () => {
    const { arena, record } = fresh();
    const state = MimallocThreadState.init(arena, record, arena.defaultPool);
    expect(currentThreadState()).toBeNull();
    setCurrentThreadState(state);
    expect(currentThreadState()).toBe(state);
    setCurrentThreadState(null);
    expect(currentThreadState()).toBeNull();
    expect(() => setCurrentThreadState({} as MimallocThreadState)).toThrow(TypeError);
  });

  it("abandons its heaps into the pool: blocks stay valid, another tld of the pool reclaims them", () => {
    const { arena, record } = fresh();
    const pool = arena.poolNew();
    const state = MimallocThreadState.init(arena, record, pool);
    setCurrentThreadState(state);
    const blocks = [HeapTag.MEM, HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE].map((tag) => {
      const p = state.heap(tag).malloc(64);
      arena.u32[p >>> 2] = 0xc0ffee00 + tag;
      return p;
    });
    MimallocThreadState.abandon(arena, record);
    expect(mimallocStateOf(arena, record)).toBe(MTS_STATE_ABANDONED);
    expect(state.live).toBe(false);
    expect(currentThreadState()).toBeNull(); // it was current: cleared
    MimallocThreadState.abandon(arena, record); // twice: nothing
    arena.check();
    // A new state in the same pool takes the pages back, tag by tag.
    const record2 = arena.recordAlloc(MIMALLOC_STATE_SIZE);
    const state2 = MimallocThreadState.init(arena, record2, pool);
    expect(arena.reclaimAbandoned(state2.tld)).toBeGreaterThan(0);
    blocks.forEach((p, tag) => {
      expect(arena.u32[p >>> 2]).toBe(0xc0ffee00 + tag);
      expect(heapTagOfBlock(arena, state2, p)).toBe(tag);
      arena.free(p);
    });
    arena.check();
  });

  it("can be initialised again in its record once abandoned, but not while live", () => {
    const { arena, record } = fresh();
    MimallocThreadState.init(arena, record, arena.defaultPool);
    expect(() => MimallocThreadState.init(arena, record, arena.defaultPool)).toThrow(/holds a live state/);
    MimallocThreadState.abandon(arena, record);
    const again = MimallocThreadState.init(arena, record, arena.defaultPool);
    expect(again.live).toBe(true);
    const p = again.heap(HeapTag.GC).malloc(16);
    expect(heapTagOfBlock(arena, again, p)).toBe(HeapTag.GC);
  });

  it("rejects bad records and pools with errors naming them", () => {
    const { arena } = fresh();
    expect(() => MimallocThreadState.init(arena, 100, arena.defaultPool)).toThrow(
      /record must be a 64-aligned offset in the arena.s record area, got 100/,
    );
    expect(() => MimallocThreadState.init(arena, -64, arena.defaultPool)).toThrow(RangeError);
    const record = arena.recordAlloc(MIMALLOC_STATE_SIZE);
    expect(() => MimallocThreadState.init(arena, record, 12345)).toThrow(/12345/);
    expect(mimallocStateOf(arena, record)).toBe(MTS_STATE_FREE);
    expect(() => MimallocThreadState.abandon(arena, record)).toThrow(/holds no mimalloc thread state/);
    const state = MimallocThreadState.init(arena, record, arena.defaultPool);
    expect(() => state.heap(4 as HeapTag)).toThrow(/heap tag 4 out of range/);
  });
});
