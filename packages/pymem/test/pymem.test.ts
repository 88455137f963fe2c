import { afterEach, describe, expect, it } from "vitest";
import {
  ALLOCATOR_PRESETS,
  type Allocator,
  allocatorPresetFromEnv,
  createPyMem,
  DEBUG_HEADER_SIZE,
  DefaultAllocatorContext,
  Domain,
  FatalMemoryError,
  HeapTag,
  NoThreadStateError,
  type PyMem,
  parseAllocatorPreset,
  setCurrentThreadState,
} from "../src/index.ts";
import { heapTagOfBlock, setup } from "./setup.ts";

afterEach(() => setCurrentThreadState(null));

/** A user hook in CPython's idiom: its ctx is the allocator it wraps, and it counts the calls. */
function countingHook(inner: Allocator) {
  const counts = { malloc: 0, calloc: 0, realloc: 0, free: 0 };
  const hook: Allocator<Allocator> = {
    ctx: inner,
    malloc(ctx, size) {
      counts.malloc++;
      return ctx.malloc(ctx.ctx, size);
    },
    calloc(ctx, nelem, elsize) {
      counts.calloc++;
      return ctx.calloc(ctx.ctx, nelem, elsize);
    },
    realloc(ctx, p, size) {
      counts.realloc++;
      return ctx.realloc(ctx.ctx, p, size);
    },
    free(ctx, p) {
      counts.free++;
      ctx.free(ctx.ctx, p);
    },
  };
  return { hook, counts };
}

describe("domains and their default allocators", () => {
  it("allocates MEM blocks from the thread state's MEM heap and OBJ blocks from the OBJECT heap", () => {
    const { arena, pymem, state } = setup();
    const m = pymem.malloc(40);
    const o = pymem.objectMalloc(40);
    expect(heapTagOfBlock(arena, state, m)).toBe(HeapTag.MEM);
    expect(heapTagOfBlock(arena, state, o)).toBe(HeapTag.OBJECT);
    pymem.free(m);
    pymem.objectFree(o);
    arena.check();
  });

  it("allocates RAW blocks from the arena's per-thread default heap, with or without a thread state", () => {
    const { arena, pymem, state } = setup();
    const withState = pymem.rawMalloc(24);
    setCurrentThreadState(null);
    const without = pymem.rawMalloc(24);
    expect(heapTagOfBlock(arena, state, withState)).toBeNull();
    const q = pymem.rawRealloc(without, 500);
    const z = pymem.rawCalloc(4, 8);
    expect([...arena.u8.subarray(z, z + 32)].every((b) => b === 0)).toBe(true);
    pymem.rawFree(withState);
    pymem.rawFree(q);
    pymem.rawFree(z);
    pymem.rawFree(0);
    expect(arena.stats().usedBlocks).toBe(0);
  });

  it("zeroes calloc'd MEM and OBJ blocks, reallocates keeping the data, and treats realloc(0, n) as malloc", () => {
    const { arena, pymem, state } = setup();
    const c = pymem.calloc(10, 10);
    expect([...arena.u8.subarray(c, c + 100)].every((b) => b === 0)).toBe(true);
    arena.u8.fill(7, c, c + 100);
    const r = pymem.realloc(c, 3000);
    expect([...arena.u8.subarray(r, r + 100)].every((b) => b === 7)).toBe(true);
    expect(heapTagOfBlock(arena, state, r)).toBe(HeapTag.MEM);
    const fresh = pymem.realloc(0, 8);
    const oc = pymem.objectCalloc(2, 8);
    const or = pymem.objectRealloc(oc, 2000);
    expect(heapTagOfBlock(arena, state, or)).toBe(HeapTag.OBJECT);
    for (const p of [r, fresh]) pymem.free(p);
    pymem.objectFree(or);
    expect(arena.stats().usedBlocks).toBe(0);
  });

  it("rejects MEM and OBJ calls without a thread state with a clear error (no debug hooks)", () => {
    const { pymem } = setup("default");
    const p = pymem.malloc(8);
    setCurrentThreadState(null);
    expect(() => pymem.malloc(8)).toThrow(NoThreadStateError);
    expect(() => pymem.malloc(8)).toThrow(
      "PyMem_Malloc called without a thread state: the MEM domain allocates from the calling thread's " +
        "mimalloc state; attach a thread state (setCurrentThreadState) first",
    );
    expect(() => pymem.calloc(1, 8)).toThrow(/PyMem_Calloc called without a thread state/);
    expect(() => pymem.realloc(p, 9)).toThrow(/PyMem_Realloc called without a thread state/);
    expect(() => pymem.free(p)).toThrow(/PyMem_Free called without a thread state/);
    expect(() => pymem.objectMalloc(8)).toThrow(
      /PyObject_Malloc called without a thread state: the OBJ domain/,
    );
    expect(() => pymem.objectMallocKind(HeapTag.GC, 8)).toThrow(
      /PyObject_Malloc called without a thread state/,
    );
    expect(() => pymem.objectFree(p)).toThrow(/PyObject_Free called without a thread state/);
  });

  it("rejects a thread state of another arena", () => {
    const a = setup();
    const b = setup(); // b's state is now current
    expect(() => a.pymem.malloc(8)).toThrow(
      /for this arena: the current thread state \(record \d+\) belongs to another arena/,
    );
    expect(b.pymem.malloc(8)).not.toBe(0);
  });
});

describe("getAllocator and setAllocator", () => {
  it("copy allocators by value: a set/get round trip gives equal records, never the same object", () => {
    const { pymem } = setup();
    const { hook } = countingHook(pymem.getAllocator(Domain.MEM));
    pymem.setAllocator(Domain.MEM, hook);
    const got = pymem.getAllocator(Domain.MEM);
    expect(got).not.toBe(hook);
    expect(got).toEqual({
      ctx: hook.ctx,
      malloc: hook.malloc,
      calloc: hook.calloc,
      realloc: hook.realloc,
      free: hook.free,
    });
    // Changing the caller's object afterwards does not change the domain.
    (hook as { malloc: unknown }).malloc = () => 0;
    expect(pymem.malloc(8)).not.toBe(0);
    expect(pymem.getAllocator(Domain.MEM)).not.toBe(pymem.getAllocator(Domain.MEM));
  });

  it("gives each domain its own default allocator over the PyMem's arena", () => {
    const { arena, pymem } = setup();
    for (const domain of [Domain.RAW, Domain.MEM, Domain.OBJ]) {
      const a = pymem.getAllocator(domain);
      expect(a.ctx).toBeInstanceOf(DefaultAllocatorContext);
      expect((a.ctx as DefaultAllocatorContext).arena).toBe(arena);
      expect((a.ctx as DefaultAllocatorContext).domain).toBe(domain);
    }
    expect(pymem.getAllocator(Domain.MEM).malloc).not.toBe(pymem.getAllocator(Domain.OBJ).malloc);
  });

  it("rejects an unknown domain and an allocator without its four functions", () => {
    const { pymem } = setup();
    expect(() => pymem.getAllocator(3 as Domain)).toThrow(
      new RangeError("unknown memory domain 3: expected RAW (0), MEM (1) or OBJ (2)"),
    );
    expect(() => pymem.setAllocator(-1 as Domain, pymem.getAllocator(Domain.RAW))).toThrow(
      /unknown memory domain -1/,
    );
    expect(() => pymem.getAllocator("MEM" as unknown as Domain)).toThrow(TypeError);
    const broken = { ...pymem.getAllocator(Domain.MEM), realloc: 5 } as unknown as Allocator;
    expect(() => pymem.setAllocator(Domain.MEM, broken)).toThrow(
      new TypeError("setAllocator: the allocator's realloc must be a function, got number"),
    );
  });

  it("lets a counting user hook wrap the default allocator and see every call", () => {
    const { arena, pymem, state } = setup();
    const { hook, counts } = countingHook(pymem.getAllocator(Domain.MEM));
    pymem.setAllocator(Domain.MEM, hook);
    const p = pymem.malloc(10);
    const q = pymem.calloc(2, 5);
    const r = pymem.realloc(q, 100);
    pymem.free(p);
    pymem.free(r);
    expect(counts).toEqual({ malloc: 1, calloc: 1, realloc: 1, free: 2 });
    expect(heapTagOfBlock(arena, state, pymem.malloc(8))).toBe(HeapTag.MEM);
    expect(pymem.allocatorName()).toBeNull();
  });

  it("chains hooks: a hook over the debug hooks over the default", () => {
    const { pymem } = setup("debug");
    const { hook, counts } = countingHook(pymem.getAllocator(Domain.OBJ));
    pymem.setAllocator(Domain.OBJ, hook);
    const p = pymem.objectMalloc(16);
    expect(pymem.arena.u8[p - 8]).toBe("o".charCodeAt(0)); // the debug header is there
    pymem.objectFree(p);
    expect(counts.malloc + counts.free).toBe(2);
  });
});

describe("object allocation by heap kind", () => {
  const kinds = [HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE] as const;

  for (const preset of ["default", "debug"] as const) {
    it(`puts each kind in the heap with that tag and restores the current object heap (${preset})`, () => {
      const { arena, pymem, state } = setup(preset);
      const header = pymem.objectDebugHeaderSize();
      expect(header).toBe(preset === "debug" ? DEBUG_HEADER_SIZE : 0);
      for (const kind of kinds) {
        const p = pymem.objectMallocKind(kind, 48);
        expect(heapTagOfBlock(arena, state, p - header)).toBe(kind);
        expect(state.currentObjectHeap).toBe(HeapTag.OBJECT);
        const z = pymem.objectCallocKind(kind, 3, 16);
        expect(heapTagOfBlock(arena, state, z - header)).toBe(kind);
        const moved = pymem.objectReallocKind(kind, z, 4000);
        expect(heapTagOfBlock(arena, state, moved - header)).toBe(kind);
        expect(state.currentObjectHeap).toBe(HeapTag.OBJECT);
        pymem.objectFreeKind(kind, p);
        pymem.objectFreeKind(kind, moved);
      }
      expect(arena.stats().usedBlocks).toBe(0);
    });
  }

  it("reaches the right heap through a user hook and the tracing hook on OBJ", () => {
    const { arena, pymem, state } = setup("debug");
    pymem.tracemalloc.start();
    const { hook, counts } = countingHook(pymem.getAllocator(Domain.OBJ));
    pymem.setAllocator(Domain.OBJ, hook);
    for (const kind of kinds) {
      const p = pymem.objectMallocKind(kind, 32);
      expect(heapTagOfBlock(arena, state, p - DEBUG_HEADER_SIZE)).toBe(kind);
      pymem.objectFreeKind(kind, p);
    }
    expect(counts.malloc).toBe(3);
  });

  it("restores the previous current object heap when a hook throws, and nests", () => {
    const { pymem, state } = setup();
    const inner = pymem.getAllocator(Domain.OBJ);
    let seen: HeapTag | null = null;
    pymem.setAllocator(Domain.OBJ, {
      ctx: inner,
      malloc(_ctx: Allocator, _size: number): number {
        seen = state.currentObjectHeap;
        throw new Error("hook failed");
      },
      calloc: inner.calloc,
      realloc: inner.realloc,
      free: inner.free,
    } as Allocator);
    expect(() => pymem.objectMallocKind(HeapTag.GC_PRE, 16)).toThrow("hook failed");
    expect(seen).toBe(HeapTag.GC_PRE);
    expect(state.currentObjectHeap).toBe(HeapTag.OBJECT);
    state.currentObjectHeap = HeapTag.GC;
    expect(() => pymem.objectMallocKind(HeapTag.OBJECT, 16)).toThrow("hook failed");
    expect(seen).toBe(HeapTag.OBJECT);
    expect(state.currentObjectHeap).toBe(HeapTag.GC);
  });

  it("rejects a kind that is no object heap", () => {
    const { pymem, state } = setup();
    expect(() => pymem.objectMallocKind(HeapTag.MEM, 8)).toThrow(
      new RangeError("objectMallocKind: kind must be OBJECT (1), GC (2) or GC_PRE (3) (the heaps objects go to), got 0"),
    );
    expect(() => pymem.objectMallocKind(7 as HeapTag, 8)).toThrow(RangeError);
    expect(state.currentObjectHeap).toBe(HeapTag.OBJECT);
  });
});

describe("debugEnabled", () => {
  function debugEverywhere(pymem: PyMem): boolean[] {
    return [pymem.debugEnabled(), ...[Domain.RAW, Domain.MEM, Domain.OBJ].map((d) => pymem.debugEnabled(d))];
  }

  it("is false without hooks", () => {
    const { pymem } = setup("default");
    expect(debugEverywhere(pymem)).toEqual([false, false, false, false]);
    expect(pymem.objectDebugHeaderSize()).toBe(0);
  });

  it("is true with the debug hooks", () => {
    const { pymem } = setup("default");
    pymem.setupDebugHooks();
    expect(debugEverywhere(pymem)).toEqual([true, true, true, true]);
    expect(pymem.allocatorName()).toBe("mimalloc_debug");
  });

  it("stays true with the tracing hook over the debug hooks", () => {
    const { pymem } = setup("debug");
    pymem.tracemalloc.start();
    expect(pymem.getAllocator(Domain.OBJ).malloc.name).toBe("traceMalloc");
    expect(debugEverywhere(pymem)).toEqual([true, true, true, true]);
    pymem.tracemalloc.stop();
    expect(debugEverywhere(pymem)).toEqual([true, true, true, true]);
  });

  it("stays true with a user hook over the debug hooks", () => {
    const { pymem } = setup("debug");
    for (const d of [Domain.RAW, Domain.MEM, Domain.OBJ])
      pymem.setAllocator(d, countingHook(pymem.getAllocator(d)).hook);
    expect(debugEverywhere(pymem)).toEqual([true, true, true, true]);
    // Another level, whose ctx holds the hook under a `wrapped` property.
    const under = pymem.getAllocator(Domain.OBJ);
    pymem.setAllocator(Domain.OBJ, { ...under, ctx: { wrapped: under } });
    expect(pymem.debugEnabled(Domain.OBJ)).toBe(true);
  });

  it("is false again once the debug hooks are removed", () => {
    const { pymem } = setup("default");
    const saved = [Domain.RAW, Domain.MEM, Domain.OBJ].map((d) => pymem.getAllocator(d));
    pymem.setupDebugHooks();
    pymem.setupDebugHooks(); // already there: no second layer
    const p = pymem.malloc(4);
    expect(pymem.arena.u8[p - 8]).toBe("m".charCodeAt(0));
    expect(pymem.arena.u8[p - 16 - 8]).not.toBe("m".charCodeAt(0));
    pymem.free(p);
    for (const [d, a] of saved.entries()) pymem.setAllocator(d as Domain, a);
    expect(debugEverywhere(pymem)).toEqual([false, false, false, false]);
    expect(pymem.allocatorName()).toBe("mimalloc");
    pymem.setupDebugHooks();
    pymem.setAllocator(Domain.OBJ, saved[Domain.OBJ]!);
    expect(debugEverywhere(pymem)).toEqual([true, true, true, false]);
  });
});

describe("allocator presets", () => {
  it("installs the default allocators, with the debug hooks for debug and mimalloc_debug", () => {
    for (const preset of ALLOCATOR_PRESETS) {
      const { pymem } = setup(preset);
      const debug = preset.endsWith("debug");
      expect(pymem.debugEnabled()).toBe(debug);
      expect(pymem.allocatorName()).toBe(debug ? "mimalloc_debug" : "mimalloc");
    }
  });

  it("resets every domain when set again", () => {
    const { pymem } = setup("debug");
    pymem.setAllocator(Domain.MEM, countingHook(pymem.getAllocator(Domain.MEM)).hook);
    pymem.setPreset("mimalloc");
    expect(pymem.allocatorName()).toBe("mimalloc");
    pymem.setPreset("");
    expect(pymem.allocatorName()).toBe("mimalloc");
    pymem.tracemalloc.start();
    expect(() => pymem.setPreset("debug")).toThrow(/stop tracing first/);
  });

  it("parses names as PYTHONMALLOC does, refusing malloc and pymalloc", () => {
    expect(parseAllocatorPreset("mimalloc_debug")).toBe("mimalloc_debug");
    expect(parseAllocatorPreset("")).toBe("default");
    expect(() => parseAllocatorPreset("pymalloc")).toThrow(
      /allocator preset "pymalloc" is not available: the free-threaded build allocates with mimalloc/,
    );
    expect(() => parseAllocatorPreset("malloc_debug")).toThrow(/not available/);
    expect(() => parseAllocatorPreset("fast")).toThrow(
      'unknown allocator preset "fast": expected default, debug, mimalloc or mimalloc_debug',
    );
    expect(() => createPyMem(setup().arena, { preset: "jemalloc" })).toThrow(/unknown allocator preset/);
  });

  it("reads FT_MALLOC from an environment the caller passes", () => {
    expect(allocatorPresetFromEnv({})).toBeUndefined();
    expect(allocatorPresetFromEnv({ FT_MALLOC: "" })).toBeUndefined();
    expect(allocatorPresetFromEnv({ FT_MALLOC: "debug" })).toBe("debug");
    expect(() => allocatorPresetFromEnv({ FT_MALLOC: "pymalloc" })).toThrow(/^FT_MALLOC: allocator preset/);
  });

  it("hands fatal errors to onFatal before throwing them", () => {
    const reports: string[] = [];
    const { pymem } = setup("debug", { onFatal: (e) => reports.push(e.report) });
    setCurrentThreadState(null);
    expect(() => pymem.malloc(1)).toThrow(FatalMemoryError);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^Fatal Python error: _PyMem_DebugMalloc: /);
  });
});
