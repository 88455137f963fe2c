import { describe, expect, it } from "vitest";
import {
  type Allocator,
  checkDomain,
  checkHeapTag,
  checkPads,
  DEBUG_EXTRA_BYTES,
  DEBUG_HEADER_SIZE,
  DOMAIN_COUNT,
  Domain,
  debugBlockStart,
  decorateDebugBlock,
  domainApiId,
  domainName,
  HEAP_TAG_COUNT,
  HeapTag,
  heapTagName,
  markDebugBlockFreed,
} from "../src/index.ts";

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
