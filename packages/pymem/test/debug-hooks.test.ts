// Ports of CPython's Lib/test/test_capi/test_mem.py (PyMemDebugTests and its subclasses per
// PYTHONMALLOC) to ft's presets with debug hooks, plus the free-threaded debug fills.
import { afterEach, describe, expect, it } from "vitest";
import {
  DEBUG_HEADER_SIZE,
  DEFAULT_OBJECT_LAYOUT,
  Domain,
  FatalMemoryError,
  formatPointer,
  HeapTag,
  isPtrFreed,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  objectIsFreed,
  PYMEM_CLEANBYTE,
  PYMEM_DEADBYTE,
  PYMEM_FORBIDDENBYTE,
  setCurrentThreadState,
} from "../src/index.ts";
import { setup } from "./setup.ts";

afterEach(() => setCurrentThreadState(null));

/** test_mem.py's regexes, spelled for JavaScript (`.` there runs with DOTALL). */
const PTR = "(?:0x)?[0-9a-fA-F]+";
const BUFFER_OVERFLOW_RE = new RegExp(
  `Debug memory block at address p=${PTR}: API 'm'\\n` +
    "    16 bytes originally requested\\n" +
    "    The [0-9] pad bytes at p-[0-9] are FORBIDDENBYTE, as expected.\\n" +
    `    The [0-9] pad bytes at tail=${PTR} are not all FORBIDDENBYTE \\(0x[0-9a-f]{2}\\):\\n` +
    "        at tail\\+0: 0x78 \\*\\*\\* OUCH\\n" +
    "        at tail\\+1: 0xfd\\n" +
    "        at tail\\+2: 0xfd\\n" +
    "        [^]*\\n" +
    "(    The block was made by call #[0-9]+ to debug malloc/realloc.\\n)?" +
    "    Data at p: cd cd cd [^]*\\n" +
    "\\n" +
    "Enable tracemalloc to get the memory block allocation traceback\\n" +
    "\\n" +
    "Fatal Python error: _PyMem_DebugRawFree: bad trailing pad byte",
);
const API_MISUSE_RE = new RegExp(
  `Debug memory block at address p=${PTR}: API 'm'\\n` +
    "    16 bytes originally requested\\n" +
    "    The [0-9] pad bytes at p-[0-9] are FORBIDDENBYTE, as expected.\\n" +
    `    The [0-9] pad bytes at tail=${PTR} are FORBIDDENBYTE, as expected.\\n` +
    "(    The block was made by call #[0-9]+ to debug malloc/realloc.\\n)?" +
    "    Data at p: cd cd cd [^]*\\n" +
    "\\n" +
    "Enable tracemalloc to get the memory block allocation traceback\\n" +
    "\\n" +
    "Fatal Python error: _PyMem_DebugRawFree: bad ID: Allocated using API 'm', verified using API 'r'\\n",
);
const WITHOUT_THREAD_STATE =
  "Fatal Python error: _PyMem_DebugMalloc: Python memory allocator called without an active thread state. " +
  "Are you trying to call it inside of a Py_BEGIN_ALLOW_THREADS block?";

/** Run `f`, which must throw a FatalMemoryError; return it. */
function fatal(f: () => unknown): FatalMemoryError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FatalMemoryError);
    return e as FatalMemoryError;
  }
  throw new Error("expected a FatalMemoryError");
}

for (const preset of ["debug", "mimalloc_debug"] as const) {
  describe(`PyMemDebugTests, preset ${preset}`, () => {
    it("test_buffer_overflow: a byte written past the end is a bad trailing pad byte at free", () => {
      const { arena, pymem } = setup(preset);
      const buffer = pymem.malloc(16);
      arena.u8[buffer + 16] = 0x78; // buffer[16] = 'x'
      const before = arena.u8.slice(buffer - 16, buffer + 24);
      const e = fatal(() => pymem.free(buffer));
      expect(e.report).toMatch(BUFFER_OVERFLOW_RE);
      expect(e.message).toBe("_PyMem_DebugRawFree: bad trailing pad byte");
      expect(e.func).toBe("_PyMem_DebugRawFree");
      expect(e.fault).toMatchObject({ kind: "bad-trailing-pad", tail: buffer + 16, badOffsets: [0] });
      // Exactly CPython's text.
      const tail = formatPointer(buffer + 16);
      expect(e.report).toBe(
        [
          `Debug memory block at address p=${formatPointer(buffer)}: API 'm'`,
          "    16 bytes originally requested",
          "    The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.",
          `    The 8 pad bytes at tail=${tail} are not all FORBIDDENBYTE (0xfd):`,
          "        at tail+0: 0x78 *** OUCH",
          ...[1, 2, 3, 4, 5, 6, 7].map((i) => `        at tail+${i}: 0xfd`),
          "    Data at p: cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd",
          "",
          "Enable tracemalloc to get the memory block allocation traceback",
          "",
          "Fatal Python error: _PyMem_DebugRawFree: bad trailing pad byte",
          "",
        ].join("\n"),
      );
      // The broken block is left as it was (not freed, not refilled).
      expect(arena.u8.slice(buffer - 16, buffer + 24)).toEqual(before);
    });

    it("detects a write to any trailing pad byte, whatever the tail's alignment", () => {
      const { arena, pymem } = setup(preset);
      for (let size = 16; size < 24; size++) {
        for (let i = 0; i < 8; i++) {
          const buffer = pymem.malloc(size);
          arena.u8[buffer + size + i] = 0x78;
          const e = fatal(() => pymem.free(buffer));
          expect(e.fault).toMatchObject({ kind: "bad-trailing-pad", tail: buffer + size, badOffsets: [i] });
          arena.u8[buffer + size + i] = PYMEM_FORBIDDENBYTE;
          pymem.free(buffer); // repaired: sound again
        }
      }
      arena.check();
    });

    it("test_api_misuse: a MEM block freed with PyMem_RawFree is a bad ID", () => {
      const { pymem } = setup(preset);
      const buffer = pymem.malloc(16);
      const e = fatal(() => pymem.rawFree(buffer));
      expect(e.report).toMatch(API_MISUSE_RE);
      expect(e.reason).toBe("bad ID: Allocated using API 'm', verified using API 'r'");
      // Freed through the right domain, it is fine.
      pymem.free(buffer);
    });

    it("names both APIs for every domain mix-up", () => {
      const { pymem } = setup(preset);
      const o = pymem.objectMalloc(8);
      expect(fatal(() => pymem.free(o)).reason).toBe(
        "bad ID: Allocated using API 'o', verified using API 'm'",
      );
      const r = pymem.rawMalloc(8);
      expect(fatal(() => pymem.objectRealloc(r, 100)).message).toBe(
        "_PyMem_DebugRawRealloc: bad ID: Allocated using API 'r', verified using API 'o'",
      );
    });

    it("detects an underflow as a bad leading pad byte", () => {
      const { arena, pymem } = setup(preset);
      const buffer = pymem.malloc(16);
      arena.u8[buffer - 1] = 0x78;
      const e = fatal(() => pymem.free(buffer));
      expect(e.reason).toBe("bad leading pad byte");
      expect(e.report).toContain("    The 7 pad bytes at p-7 are not all FORBIDDENBYTE (0xfd):\n");
      expect(e.report).toContain("        at p-1: 0x78 *** OUCH\n");
      expect(e.report).toContain(
        "    Because memory is corrupted at the start, the count of bytes requested\n",
      );
      expect(e.report).toMatch(/Fatal Python error: _PyMem_DebugRawFree: bad leading pad byte\n$/);
    });

    it("detects a realloc of an overflowed block before resizing it", () => {
      const { arena, pymem } = setup(preset);
      const buffer = pymem.malloc(10);
      arena.u8[buffer + 12] = 0;
      const e = fatal(() => pymem.realloc(buffer, 100));
      expect(e.message).toBe("_PyMem_DebugRawRealloc: bad trailing pad byte");
      expect(e.report).toContain("        at tail+2: 0x00 *** OUCH\n");
    });

    it("marks freed memory with DEADBYTE and reports its use: a second free, a realloc", () => {
      const { arena, pymem } = setup(preset);
      const buffer = pymem.malloc(32);
      pymem.free(buffer);
      // The data and trailer read as DEADBYTE (the allocator's free-list link sits in the size word).
      expect([...arena.u8.subarray(buffer - 8, buffer + 40)].every((b) => b === PYMEM_DEADBYTE)).toBe(true);
      const again = fatal(() => pymem.free(buffer));
      expect(again.fault?.kind).toBe("freed");
      expect(again.message).toMatch(/^_PyMem_DebugRawFree: block already freed/);
      expect(again.report).toContain(
        `Debug memory block at address p=${formatPointer(buffer)}: API '\u00dd'\n`,
      );
      expect(fatal(() => pymem.realloc(buffer, 8)).message).toMatch(
        /^_PyMem_DebugRawRealloc: block already freed/,
      );
      arena.check(); // nothing was corrupted by the rejected calls
    });

    it("test_pymem_malloc_without_gil / test_pyobject_malloc_without_gil: MEM and OBJ need a thread state", () => {
      const { pymem } = setup(preset);
      const p = pymem.malloc(8);
      const o = pymem.objectMalloc(8);
      setCurrentThreadState(null);
      expect(fatal(() => pymem.malloc(8)).report).toContain(WITHOUT_THREAD_STATE);
      expect(fatal(() => pymem.objectMalloc(8)).report).toContain(WITHOUT_THREAD_STATE);
      expect(fatal(() => pymem.objectMallocKind(HeapTag.GC, 8)).report).toContain(WITHOUT_THREAD_STATE);
      expect(fatal(() => pymem.calloc(1, 1)).func).toBe("_PyMem_DebugCalloc");
      expect(fatal(() => pymem.realloc(p, 1)).func).toBe("_PyMem_DebugRealloc");
      expect(fatal(() => pymem.free(p)).func).toBe("_PyMem_DebugFree");
      expect(fatal(() => pymem.objectFree(o)).func).toBe("_PyMem_DebugFree");
      expect(fatal(() => pymem.malloc(8)).fault).toBeNull();
      // RAW needs none.
      pymem.rawFree(pymem.rawMalloc(8));
    });

    it("test_pyobject_null_is_freed / uninitialized / forbidden_bytes / freed_is_freed", () => {
      const { arena, pymem } = setup(preset);
      const { obTypeOffset } = DEFAULT_OBJECT_LAYOUT;
      expect(objectIsFreed(arena.u8, 0)).toBe(true); // NULL
      // Uninitialised: the ob_type word is CLEANBYTE.
      const uninitialized = pymem.objectMalloc(24);
      expect(objectIsFreed(arena.u8, uninitialized, obTypeOffset)).toBe(true);
      // Truncated before ob_type: the word is the trailing pad's FORBIDDENBYTEs.
      const forbidden = pymem.objectMalloc(obTypeOffset);
      expect(objectIsFreed(arena.u8, forbidden, obTypeOffset)).toBe(true);
      // A real object, then freed: ob_type is DEADBYTE, while ob_tid and the refcounts are spared.
      const op = pymem.objectMallocKind(HeapTag.OBJECT, 24);
      arena.u8.fill(0x11, op, op + obTypeOffset); // ob_tid, flags, refcounts
      arena.u32[(op + obTypeOffset) >>> 2] = 0x1000; // ob_type
      expect(objectIsFreed(arena.u8, op, obTypeOffset)).toBe(false);
      pymem.objectFreeKind(HeapTag.OBJECT, op);
      expect(objectIsFreed(arena.u8, op, obTypeOffset)).toBe(true);
      expect([...arena.u8.subarray(op, op + obTypeOffset)].every((b) => b === 0x11)).toBe(true);
      expect(isPtrFreed(0xcdcdcdcd) && isPtrFreed(0xdddddddd) && isPtrFreed(0xfdfdfdfd)).toBe(true);
      expect(isPtrFreed(0x1000)).toBe(false);
      pymem.objectFree(uninitialized);
      pymem.objectFree(forbidden);
    });
  });
}

describe("debug fills", () => {
  it("fill MEM data with CLEANBYTE on allocation and RAW too; calloc stays zero", () => {
    const { arena, pymem } = setup("debug");
    const m = pymem.malloc(20);
    const r = pymem.rawMalloc(20);
    const c = pymem.calloc(4, 5);
    for (const p of [m, r])
      expect([...arena.u8.subarray(p, p + 20)].every((b) => b === PYMEM_CLEANBYTE)).toBe(true);
    expect([...arena.u8.subarray(c, c + 20)].every((b) => b === 0)).toBe(true);
    expect([...arena.u8.subarray(c + 20, c + 28)].every((b) => b === PYMEM_FORBIDDENBYTE)).toBe(true);
  });

  it("spare the first debug_offset - 16 data bytes of an object of each heap (FT fill_mem_debug)", () => {
    const { arena, pymem, state } = setup("debug");
    for (const kind of [HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE]) {
      const skip = state.debugOffset(kind) - DEBUG_HEADER_SIZE;
      expect(skip).toBe(kind === HeapTag.GC_PRE ? 24 : 16);
      const p = pymem.objectMallocKind(kind, 40);
      expect(arena.u8[p + skip - 1]).not.toBe(PYMEM_CLEANBYTE);
      expect([...arena.u8.subarray(p + skip, p + 40)].every((b) => b === PYMEM_CLEANBYTE)).toBe(true);
      arena.u8.fill(0x22, p, p + skip);
      pymem.objectFreeKind(kind, p);
      expect([...arena.u8.subarray(p, p + skip)].every((b) => b === 0x22)).toBe(true);
      expect([...arena.u8.subarray(p + skip, p + 48)].every((b) => b === PYMEM_DEADBYTE)).toBe(true);
    }
  });

  it("spare an object's skip by the heap of its own page, whatever the current object heap is at free", () => {
    const { arena, pymem, state } = setup("debug");
    const skip = state.debugOffset(HeapTag.GC_PRE) - DEBUG_HEADER_SIZE;
    const p = pymem.objectMallocKind(HeapTag.GC_PRE, 40);
    arena.u8.fill(0x33, p, p + skip);
    pymem.objectFree(p); // plain OBJ free: the current object heap is OBJECT (skip 16), the page's is GC_PRE (24)
    expect([...arena.u8.subarray(p, p + skip)].every((b) => b === 0x33)).toBe(true);
    expect([...arena.u8.subarray(p + skip, p + 48)].every((b) => b === PYMEM_DEADBYTE)).toBe(true);
  });

  it("grow with CLEANBYTE on realloc and keep the data", () => {
    const { arena, pymem } = setup("mimalloc_debug");
    const p = pymem.malloc(8);
    arena.u8.fill(1, p, p + 8);
    const q = pymem.realloc(p, 600);
    expect([...arena.u8.subarray(q, q + 8)].every((b) => b === 1)).toBe(true);
    expect([...arena.u8.subarray(q + 8, q + 600)].every((b) => b === PYMEM_CLEANBYTE)).toBe(true);
    expect([...arena.u8.subarray(q + 600, q + 608)].every((b) => b === PYMEM_FORBIDDENBYTE)).toBe(true);
    const r = pymem.realloc(q, 4); // shrink
    expect(arena.u8.subarray(r + 4, r + 12).every((b) => b === PYMEM_FORBIDDENBYTE)).toBe(true);
    pymem.free(r);
    pymem.free(pymem.realloc(0, 5));
    expect(arena.stats().usedBlocks).toBe(0);
  });

  it("number the blocks with PYMEM_DEBUG_SERIALNO and show the number in the dump", () => {
    const { arena, pymem } = setup("debug", { serialNumbers: true });
    const a = pymem.malloc(16);
    const b = pymem.malloc(16);
    arena.u8[b + 16] = 0x78;
    const e = fatal(() => pymem.free(b));
    expect(e.report).toContain("    The block was made by call #2 to debug malloc/realloc.\n");
    expect(e.report).toMatch(BUFFER_OVERFLOW_RE);
    arena.u8[b + 16] = PYMEM_FORBIDDENBYTE;
    const c = pymem.realloc(a, 2000);
    arena.u8[c - 1] = 0;
    expect(fatal(() => pymem.free(c)).report).toContain("made by call #3 ");
  });

  it("take the byte path over an allocator that returns unaligned blocks, with the same results", () => {
    const { arena, pymem } = setup("default");
    const raw = pymem.getAllocator(Domain.MEM);
    // A user allocator under the debug hooks whose blocks start 4 bytes into mimalloc's.
    pymem.setAllocator(Domain.MEM, {
      ctx: raw,
      malloc: (ctx: typeof raw, n: number) => ctx.malloc(ctx.ctx, n + 4) + 4,
      calloc: (ctx: typeof raw, n: number, e: number) => ctx.calloc(ctx.ctx, 1, n * e + 4) + 4,
      realloc: (ctx: typeof raw, p: number, n: number) =>
        ctx.realloc(ctx.ctx, p === 0 ? 0 : p - 4, n + 4) + 4,
      free: (ctx: typeof raw, p: number) => ctx.free(ctx.ctx, p - 4),
    });
    pymem.setupDebugHooks();
    for (const size of [0, 1, 7, 8, 13, 100]) {
      const p = pymem.malloc(size);
      expect(p % 8).toBe(4);
      expect([...arena.u8.subarray(p, p + size)].every((b) => b === PYMEM_CLEANBYTE)).toBe(true);
      expect([...arena.u8.subarray(p + size, p + size + 8)].every((b) => b === PYMEM_FORBIDDENBYTE)).toBe(
        true,
      );
      pymem.free(p);
      expect([...arena.u8.subarray(p - 8, p + size + 8)].every((b) => b === PYMEM_DEADBYTE)).toBe(true);
    }
    const p = pymem.malloc(16);
    arena.u8[p + 16] = 0x78;
    expect(fatal(() => pymem.free(p)).report).toMatch(BUFFER_OVERFLOW_RE);
  });

  it("spare exactly the skip of a layout whose ob_type is not 8-aligned", () => {
    const { arena, pymem } = setup("debug");
    const record = arena.recordAlloc(MIMALLOC_STATE_SIZE);
    const state = MimallocThreadState.init(arena, record, arena.defaultPool, {
      obTypeOffset: 12,
      preheaderSize: 4,
    });
    setCurrentThreadState(state);
    for (const [kind, skip] of [
      [HeapTag.GC, 12],
      [HeapTag.GC_PRE, 16],
    ] as const) {
      const p = pymem.objectMallocKind(kind, 40);
      expect(arena.u8[p + skip - 1]).not.toBe(PYMEM_CLEANBYTE);
      expect(arena.u8[p + skip]).toBe(PYMEM_CLEANBYTE);
      arena.u8.fill(0x33, p, p + skip);
      pymem.objectFreeKind(kind, p);
      expect([...arena.u8.subarray(p, p + skip)].every((b) => b === 0x33)).toBe(true);
      expect([...arena.u8.subarray(p + skip, p + 48)].every((b) => b === PYMEM_DEADBYTE)).toBe(true);
    }
  });

  it("reject a wild pointer without reading outside the arena", () => {
    const { arena, pymem } = setup("debug");
    expect(fatal(() => pymem.free(arena.buffer.maxByteLength + 64)).reason).toMatch(/^invalid pointer 0x/);
    expect(fatal(() => pymem.free(8)).reason).toMatch(/not a debug block/);
  });

  it("return NULL when size plus the debug bytes would overflow, and reject a bad size", () => {
    const { pymem } = setup("debug");
    expect(pymem.malloc(0xffff_fff0)).toBe(0);
    expect(pymem.calloc(0x10000, 0x10000)).toBe(0);
    expect(() => pymem.malloc(-1)).toThrow(
      /_PyMem_DebugRawMalloc: size must be a non-negative integer, got -1/,
    );
    expect(pymem.getAllocator(Domain.MEM).malloc.name).toBe("debugMalloc");
  });
});
