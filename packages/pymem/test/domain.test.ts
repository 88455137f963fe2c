import { Arena } from "@ft/mimalloc";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Allocator,
  allocatorPresetFromEnv,
  checkDomain,
  checkHeapTag,
  checkPads,
  createPyMem,
  DEBUG_EXTRA_BYTES,
  DEBUG_HEADER_SIZE,
  DEFAULT_OBJECT_LAYOUT,
  DOMAIN_COUNT,
  Domain,
  DomainFilter,
  debugBlockStart,
  decorateDebugBlock,
  domainApiId,
  domainName,
  FatalMemoryError,
  Filter,
  formatSize,
  HEAP_TAG_COUNT,
  HeapTag,
  heapDebugOffset,
  heapTagName,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  markDebugBlockFreed,
  mimallocStateOf,
  setCurrentThreadState,
  Traceback,
} from "../src/index.ts";
import { setup } from "./setup.ts";

afterEach(() => setCurrentThreadState(null));

describe("allocator domains", () => {
  it("numbers RAW, MEM and OBJ as CPython's PyMemAllocatorDomain", () => {
    expect(Domain).toEqual({ RAW: 0, MEM: 1, OBJ: 2 });
    expect(DOMAIN_COUNT).toBe(3);
  });

  it("names each domain and gives it the debug hooks' API id", () => {
    expect([Domain.RAW, Domain.MEM, Domain.OBJ].map(domainName)).toEqual(["RAW", "MEM", "OBJ"]);
    expect([Domain.RAW, Domain.MEM, Domain.OBJ].map(domainApiId)).toEqual(["r", "m", "o"]);
  });

  it("accepts the three domains", () => {
    for (const d of [0, 1, 2]) expect(checkDomain(d)).toBe(d);
  });

  it("rejects an out-of-range domain with a RangeError naming it", () => {
    expect(() => checkDomain(3)).toThrow(
      new RangeError("unknown memory domain 3: expected RAW (0), MEM (1) or OBJ (2)"),
    );
    expect(() => checkDomain(-1)).toThrow(RangeError);
    expect(() => domainName(7 as Domain)).toThrow(/unknown memory domain 7/);
  });

  it("rejects a domain that is not an integer with a TypeError naming the bad value", () => {
    expect(() => checkDomain("1")).toThrow(new TypeError('memory domain must be an integer, got string "1"'));
    expect(() => checkDomain(1.5)).toThrow(new TypeError("memory domain must be an integer, got number 1.5"));
    expect(() => checkDomain(null)).toThrow(new TypeError("memory domain must be an integer, got null"));
    expect(() => checkDomain(1n)).toThrow(new TypeError("memory domain must be an integer, got bigint 1"));
    expect(() => checkDomain({})).toThrow(/got object \[object Object\]/);
  });
});

describe("heap tags", () => {
  it("numbers the four heaps of a thread state as CPython's _Py_MIMALLOC_HEAP_*", () => {
    expect(HeapTag).toEqual({ MEM: 0, OBJECT: 1, GC: 2, GC_PRE: 3 });
    expect(HEAP_TAG_COUNT).toBe(4);
    expect([0, 1, 2, 3].map((t) => heapTagName(t as HeapTag))).toEqual(["MEM", "OBJECT", "GC", "GC_PRE"]);
  });

  it("rejects a tag out of range or not an integer", () => {
    expect(checkHeapTag(3)).toBe(3);
    expect(() => checkHeapTag(4)).toThrow(
      new RangeError("heap tag 4 out of range: expected MEM (0), OBJECT (1), GC (2) or GC_PRE (3)"),
    );
    expect(() => checkHeapTag("GC")).toThrow(TypeError);
  });
});

describe("Allocator contract", () => {
  /** A bump allocator over a plain buffer, as a stand-in for the domain's real allocator. */
  function bump(u8: Uint8Array): Allocator<{ next: number; freed: number[] }> {
    return {
      ctx: { next: 8, freed: [] },
      malloc(ctx, size) {
        const p = ctx.next;
        if (p + size > u8.length) return 0;
        ctx.next = (p + size + 7) & ~7;
        return p;
      },
      calloc(ctx, nelem, elsize) {
        const p = this.malloc(ctx, nelem * elsize);
        if (p !== 0) u8.fill(0, p, p + nelem * elsize);
        return p;
      },
      realloc(ctx, p, size) {
        const q = this.malloc(ctx, size);
        if (q !== 0 && p !== 0) u8.copyWithin(q, p, p + size);
        return q;
      },
      free(ctx, p) {
        if (p !== 0) ctx.freed.push(p);
      },
    };
  }

  /** A debug hook built on the contract: it wraps `inner` as CPython's debug_alloc_api_t does. */
  function debugHook(u8: Uint8Array, inner: Allocator<{ next: number; freed: number[] }>) {
    const hook: Allocator<{ api: "m"; inner: typeof inner }> = {
      ctx: { api: "m", inner },
      malloc(ctx, size) {
        const q = ctx.inner.malloc(ctx.inner.ctx, size + DEBUG_EXTRA_BYTES);
        if (q === 0) return 0;
        const p = q + DEBUG_HEADER_SIZE;
        decorateDebugBlock(u8, p, size, ctx.api);
        return p;
      },
      calloc(ctx, nelem, elsize) {
        const q = ctx.inner.calloc(ctx.inner.ctx, 1, nelem * elsize + DEBUG_EXTRA_BYTES);
        if (q === 0) return 0;
        decorateDebugBlock(u8, q + DEBUG_HEADER_SIZE, nelem * elsize, ctx.api, false);
        return q + DEBUG_HEADER_SIZE;
      },
      realloc() {
        return 0;
      },
      free(ctx, p) {
        if (p === 0) return;
        const fault = checkPads(u8, p, ctx.api);
        if (fault) throw new Error(fault.message);
        markDebugBlockFreed(u8, p);
        ctx.inner.free(ctx.inner.ctx, debugBlockStart(p));
      },
    };
    return hook;
  }

  it("lets a hook wrap the allocator below it and catch an overflow at free", () => {
    const u8 = new Uint8Array(256);
    const inner = bump(u8);
    const hook = debugHook(u8, inner);
    const a = hook.malloc(hook.ctx, 10);
    const b = hook.calloc(hook.ctx, 2, 3);
    expect(a).toBe(8 + DEBUG_HEADER_SIZE);
    expect([...u8.subarray(b, b + 6)]).toEqual([0, 0, 0, 0, 0, 0]);
    hook.free(hook.ctx, b);
    expect(inner.ctx.freed).toEqual([debugBlockStart(b)]);
    u8[a + 10] = 0x78;
    expect(() => hook.free(hook.ctx, a)).toThrow("bad trailing pad byte");
  });
});

describe("bad arguments at the public boundary", () => {
  it("createPyMem rejects an arena that is not one, and options that are not an object", () => {
    const arena = Arena.create({ maxBytes: 32 << 20 });
    for (const bad of [undefined, null, 5, "arena", {}]) {
      expect(() => createPyMem(bad as unknown as Arena)).toThrow(TypeError);
      expect(() => createPyMem(bad as unknown as Arena)).toThrow(/^createPyMem: arena must be an Arena/);
    }
    expect(() => createPyMem(arena, null as never)).toThrow(
      new TypeError("createPyMem: options must be an object, got null"),
    );
    expect(() => createPyMem(arena, { onFatal: 5 as never })).toThrow(
      new TypeError("createPyMem: options.onFatal must be a function, got number 5"),
    );
    arena.check();
  });

  it("objectMallocKind and friends name kind when it is not an object heap", () => {
    const { arena, pymem } = setup();
    for (const fn of [
      "objectMallocKind",
      "objectCallocKind",
      "objectReallocKind",
      "objectFreeKind",
    ] as const) {
      const call = (kind: unknown) =>
        fn === "objectMallocKind"
          ? pymem.objectMallocKind(kind as HeapTag, 16)
          : fn === "objectCallocKind"
            ? pymem.objectCallocKind(kind as HeapTag, 1, 16)
            : fn === "objectReallocKind"
              ? pymem.objectReallocKind(kind as HeapTag, 0, 16)
              : pymem.objectFreeKind(kind as HeapTag, 0);
      expect(() => call(0)).toThrow(
        new RangeError(
          `${fn}: kind must be OBJECT (1), GC (2) or GC_PRE (3) (the heaps objects go to), got 0`,
        ),
      );
      expect(() => call("GC")).toThrow(/kind must be .* got string "GC"/);
    }
    arena.check();
    expect(arena.stats().usedBlocks).toBe(0);
  });

  it("the debug hooks reject a pointer that is not a number with a TypeError naming it, and show a fractional one as given", () => {
    const { arena, pymem } = setup("debug");
    const p = pymem.malloc(16);
    for (const bad of [undefined, null, "16", {}]) {
      expect(() => pymem.free(bad as number)).toThrow(TypeError);
      expect(() => pymem.free(bad as number)).toThrow(
        /^_PyMem_DebugRawFree: pointer must be an integer byte offset, got /,
      );
      expect(() => pymem.realloc(bad as number, 8)).toThrow(
        /^_PyMem_DebugRawRealloc: pointer must be an integer byte offset/,
      );
    }
    expect(() => pymem.free(1.5)).toThrow(FatalMemoryError);
    expect(() => pymem.free(1.5)).toThrow(
      "_PyMem_DebugRawFree: invalid pointer 1.5: not a debug block of the arena",
    );
    pymem.free(p);
    arena.check();
    expect(arena.stats().usedBlocks).toBe(0);
  });

  it("the debug hooks reject a size at or past 2^32 as the default allocators do, and a size that is not a number with a TypeError", () => {
    for (const preset of ["default", "debug"] as const) {
      const { arena, pymem } = setup(preset);
      expect(() => pymem.malloc(2 ** 32)).toThrow(RangeError);
      expect(() => pymem.rawMalloc(2 ** 32)).toThrow(/size must be below 2\^32, got 4294967296/);
      const p = pymem.malloc(8);
      expect(() => pymem.realloc(p, 2 ** 33)).toThrow(/size must be below 2\^32/);
      expect(() => pymem.malloc("8" as never)).toThrow(TypeError);
      pymem.free(p);
      arena.check();
      setCurrentThreadState(null);
    }
  });

  it("MimallocThreadState rejects a record past the record area, a bad arena and a bad layout, writing nothing", () => {
    const arena = Arena.create({ maxBytes: 64 << 20, checks: true });
    const pool = arena.defaultPool;
    for (const record of [4 << 20, 1 << 30]) {
      const why = `record must be a 64-aligned offset in the arena's record area, got ${record}`;
      expect(() => MimallocThreadState.init(arena, record, pool)).toThrow(
        new RangeError(`MimallocThreadState.init: ${why}`),
      );
      expect(() => MimallocThreadState.attachShared(arena, record)).toThrow(
        `MimallocThreadState.attachShared: ${why}`,
      );
      expect(() => MimallocThreadState.abandon(arena, record)).toThrow(`MimallocThreadState.abandon: ${why}`);
      expect(() => mimallocStateOf(arena, record)).toThrow(`mimallocStateOf: ${why}`);
    }
    expect(() => mimallocStateOf(arena, Number.NaN)).toThrow(RangeError);
    const record = arena.recordAlloc(MIMALLOC_STATE_SIZE);
    expect(() => MimallocThreadState.init(null as never, record, pool)).toThrow(
      new TypeError(
        "MimallocThreadState.init: arena must be an Arena (Arena.create or Arena.attach), got null",
      ),
    );
    expect(() => MimallocThreadState.init(arena, record, pool, 5 as never)).toThrow(
      /layout must be an ObjectLayout object, got number 5/,
    );
    expect(() =>
      MimallocThreadState.init(arena, record, pool, { obTypeOffset: -1, preheaderSize: 8 }),
    ).toThrow(
      new RangeError("MimallocThreadState.init: layout.obTypeOffset must be a non-negative integer, got -1"),
    );
    expect(() =>
      MimallocThreadState.init(arena, record, pool, { obTypeOffset: 16, preheaderSize: Number.NaN }),
    ).toThrow(/layout.preheaderSize must be a non-negative integer, got NaN/);
    expect(mimallocStateOf(arena, record)).toBe(0); // nothing was initialised
    arena.check();
    const state = MimallocThreadState.init(arena, record, pool, DEFAULT_OBJECT_LAYOUT);
    expect(state.live).toBe(true);
    MimallocThreadState.abandon(arena, record);
    arena.check();
  });

  it("setCurrentThreadState names the state it refuses", () => {
    expect(() => setCurrentThreadState(5 as never)).toThrow(
      new TypeError("setCurrentThreadState: state must be a MimallocThreadState or null, got number 5"),
    );
    expect(() => setCurrentThreadState(undefined as never)).toThrow(/got undefined/);
  });

  it("heapDebugOffset and allocatorPresetFromEnv reject what is not a tag, an offset or an environment", () => {
    expect(heapDebugOffset(HeapTag.GC, 16, 8, true)).toBe(32);
    expect(() => heapDebugOffset(4 as HeapTag, 16, 8, true)).toThrow(RangeError);
    expect(() => heapDebugOffset("GC" as never, 16, 8, true)).toThrow(TypeError);
    expect(() => heapDebugOffset(HeapTag.GC, Number.NaN, 8, true)).toThrow(
      new RangeError("heapDebugOffset: obTypeOffset must be a non-negative integer, got NaN"),
    );
    expect(() => allocatorPresetFromEnv(null as never)).toThrow(
      new TypeError("allocatorPresetFromEnv: env must be an object (process.env), got null"),
    );
  });

  it("the tracing API names a bad pointer, filter, snapshot, key, limit or size", () => {
    const { arena, pymem } = setup();
    const tm = pymem.tracemalloc;
    tm.start();
    const p = pymem.malloc(16);
    const snapshot = tm.takeSnapshot();
    expect(() => tm.getTraceback("8" as never)).toThrow(
      new TypeError('getTraceback: p must be a block pointer (a non-negative integer), got string "8"'),
    );
    expect(tm.getTraceback(p)).not.toBeNull();
    expect(() => snapshot.compareTo(undefined as never, "lineno")).toThrow(
      new TypeError("compareTo: old must be a Snapshot, got undefined"),
    );
    expect(() => snapshot.filterTraces(null as never)).toThrow(/^filterTraces: filters must be an array/);
    expect(() => snapshot.filterTraces([5 as never])).toThrow(
      "filterTraces: filters[0] must be a Filter or a DomainFilter, got number 5",
    );
    expect(() => snapshot.statistics(Number.NaN as never)).toThrow(/^unknown key_type: number NaN/);
    expect(() => new Filter(true, undefined as never)).toThrow(
      new TypeError("Filter: filenamePattern must be a string, got undefined"),
    );
    expect(() => new Filter(true, "*", 1.5)).toThrow(
      new TypeError("Filter: lineno must be an integer or null, got number 1.5"),
    );
    expect(() => new DomainFilter(true, "0" as never)).toThrow(
      /^DomainFilter: domain must be an integer, got string "0"/,
    );
    const tb = new Traceback([
      ["a.js", 1],
      ["b.js", 2],
    ]);
    expect(tb.format(null)).toHaveLength(2);
    expect(() => tb.format(Number.NaN)).toThrow(
      new TypeError("Traceback.format: limit must be an integer or null, got number NaN"),
    );
    expect(() => formatSize(null as never, false)).toThrow(
      new TypeError("formatSize: size must be a finite number, got null"),
    );
    expect(() => formatSize(Number.NaN, false)).toThrow(TypeError);
    tm.stop();
    pymem.free(p);
    arena.check();
  });

  it("setAllocator shows the allocator it refuses", () => {
    const { pymem } = setup();
    expect(() => pymem.setAllocator(Domain.MEM, 7 as never)).toThrow(
      "setAllocator: the allocator must be an object { ctx, malloc, calloc, realloc, free }, got number 7",
    );
    expect(pymem.allocatorName()).toBe("mimalloc");
  });
});
