import { describe, expect, it } from "vitest";
import {
  GC_ALIVE_BIT,
  GC_ALIVE_MASK,
  GC_ALL_MASK,
  GC_DEFERRED_BIT,
  GC_DEFERRED_MASK,
  GC_FINALIZED_BIT,
  GC_FINALIZED_MASK,
  GC_FROZEN_BIT,
  GC_FROZEN_MASK,
  GC_SHARED_BIT,
  GC_SHARED_MASK,
  GC_TRACKED_BIT,
  GC_TRACKED_MASK,
  GC_UNREACHABLE_BIT,
  GC_UNREACHABLE_MASK,
  IMMORTAL_REFCNT_LOCAL,
  MANAGED_DICT_OFFSET,
  MANAGED_WEAKREF_OFFSET,
  OB_FLAGS_OFFSET,
  OB_PAD_OFFSET,
  OB_REF_LOCAL_OFFSET,
  OB_TID_OFFSET,
  OB_TYPE_OFFSET,
  OB_XGC_BITS_OFFSET,
  OB_XMUTEX_OFFSET,
  OB_XREF_SHARED_OFFSET,
  OBJECT_ALIGN,
  OBJECT_ALIGN_MASK,
  OBJECT_ALIGN_SHIFT,
  OBJECT_HEADER_SIZE,
  obAddRefShared,
  obCasRefShared,
  obClearGcBits,
  obFlags,
  obGcBits,
  obHasGcBits,
  obInit,
  obIsImmortal,
  obIsValid,
  obManagedDict,
  obManagedWeakref,
  obMutex,
  objectAddress,
  objectBlockStart,
  objectOffsetInBlock,
  obRefcnt,
  obRefLocal,
  obRefShared,
  obSetFlags,
  obSetGcBits,
  obSetManagedDict,
  obSetManagedWeakref,
  obSetRefLocal,
  obSetTid,
  obSetType,
  obStoreRefShared,
  obTid,
  obType,
  PREHEADER_SIZE,
  REF_DEFERRED,
  REF_MAYBE_WEAKREF,
  REF_MERGED,
  REF_QUEUED,
  REF_SHARED_FLAG_MASK,
  REF_SHARED_INIT,
  REF_SHARED_MAX,
  REF_SHARED_MIN,
  REF_SHARED_SHIFT,
  refShared,
  refSharedCount,
  refSharedState,
  UNOWNED_TID,
} from "../src/index.ts";

function arena(bytes = 1024) {
  const sab = new SharedArrayBuffer(bytes);
  return { i32: new Int32Array(sab), u8: new Uint8Array(sab) };
}

const FIELDS: [name: string, offset: number, size: number][] = [
  ["ob_tid", OB_TID_OFFSET, 4],
  ["ob_flags", OB_FLAGS_OFFSET, 2],
  ["ob_mutex", OB_XMUTEX_OFFSET, 1],
  ["ob_gc_bits", OB_XGC_BITS_OFFSET, 1],
  ["ob_ref_local", OB_REF_LOCAL_OFFSET, 4],
  ["ob_ref_shared", OB_XREF_SHARED_OFFSET, 4],
  ["ob_type", OB_TYPE_OFFSET, 4],
];

describe("object header layout", () => {
  it("lays the fields out back to back in CPython's order, each aligned to its size (the #error checks)", () => {
    let end = 0;
    for (const [name, offset, size] of FIELDS) {
      expect(offset, name).toBe(end);
      expect(offset % size, `${name} alignment`).toBe(0);
      end = offset + size;
    }
    expect(end).toBe(20);
    expect(OB_PAD_OFFSET).toBe(20);
  });

  it("rounds the 20 bytes of fields up to a 24-byte, 8-aligned header", () => {
    expect(OBJECT_ALIGN).toBe(1 << OBJECT_ALIGN_SHIFT);
    expect(OBJECT_ALIGN).toBe(8);
    expect(OBJECT_ALIGN_MASK).toBe(7);
    expect(OBJECT_HEADER_SIZE).toBe(24);
    expect(OBJECT_HEADER_SIZE % OBJECT_ALIGN).toBe(0);
    expect(OBJECT_HEADER_SIZE - OB_PAD_OFFSET).toBe(4);
  });

  it("uses CPython 3.14's _PyGC_BITS_* values, one distinct bit each, inside a byte", () => {
    const bits = [
      [GC_TRACKED_BIT, GC_TRACKED_MASK, 1 << 0],
      [GC_FINALIZED_BIT, GC_FINALIZED_MASK, 1 << 1],
      [GC_UNREACHABLE_BIT, GC_UNREACHABLE_MASK, 1 << 2],
      [GC_FROZEN_BIT, GC_FROZEN_MASK, 1 << 3],
      [GC_SHARED_BIT, GC_SHARED_MASK, 1 << 4],
      [GC_ALIVE_BIT, GC_ALIVE_MASK, 1 << 5],
      [GC_DEFERRED_BIT, GC_DEFERRED_MASK, 1 << 6],
    ];
    let all = 0;
    for (const [bit, mask, cpython] of bits) {
      expect(mask).toBe(1 << bit);
      expect(mask).toBe(cpython);
      expect(all & mask).toBe(0);
      all |= mask;
    }
    expect(all).toBe(GC_ALL_MASK);
    expect(GC_ALL_MASK).toBe(0x7f);
  });

  it("uses CPython's shared-refcount encoding and immortal marker", () => {
    expect(REF_SHARED_SHIFT).toBe(2);
    expect(REF_SHARED_FLAG_MASK).toBe(0x3);
    expect([REF_SHARED_INIT, REF_MAYBE_WEAKREF, REF_QUEUED, REF_MERGED]).toEqual([0, 1, 2, 3]);
    expect(IMMORTAL_REFCNT_LOCAL).toBe(2 ** 32 - 1);
    expect(UNOWNED_TID).toBe(0);
    expect(REF_SHARED_MAX).toBe(2 ** 29 - 1);
    expect(REF_SHARED_MIN).toBe(-(2 ** 29));
    expect(REF_DEFERRED).toBe(0x0fffffff);
    expect(REF_DEFERRED).toBeLessThanOrEqual(REF_SHARED_MAX);
  });

  it("puts the pre-header's dict word right before the object and the weakref word before that", () => {
    expect(PREHEADER_SIZE).toBe(8);
    expect(MANAGED_DICT_OFFSET).toBe(-4);
    expect(MANAGED_WEAKREF_OFFSET).toBe(-8);
    expect(-MANAGED_WEAKREF_OFFSET).toBe(PREHEADER_SIZE);
  });
});

describe("shared refcount encoding", () => {
  it("round-trips counts and states, negative counts included", () => {
    for (const count of [0, 1, 2, 1000, REF_SHARED_MAX, -1, -2, -1000, REF_SHARED_MIN]) {
      for (const state of [REF_SHARED_INIT, REF_MAYBE_WEAKREF, REF_QUEUED, REF_MERGED]) {
        const shared = refShared(count, state);
        expect(shared | 0).toBe(shared); // an int32
        expect(refSharedCount(shared)).toBe(count);
        expect(refSharedState(shared)).toBe(state);
      }
    }
  });

  it("matches _Py_REF_SHARED's arithmetic: (count << 2) + state", () => {
    expect(refShared(3, REF_MERGED)).toBe(15);
    expect(refShared(-1, REF_QUEUED)).toBe(-2);
    expect(refShared(-1, REF_SHARED_INIT)).toBe(-4);
  });

  it("refuses counts that do not fit in 30 bits in debug builds", () => {
    expect(() => refShared(REF_SHARED_MAX + 1, 0)).toThrow("shared refcount must fit in 30 bits");
    expect(() => refShared(REF_SHARED_MIN - 1, 0)).toThrow("shared refcount must fit in 30 bits");
    expect(() => refShared(1, 4)).toThrow("shared refcount state must be one of REF_*");
  });
});

describe("object header accessors", () => {
  it("initialises a new object as _Py_NewReference does", () => {
    const { i32, u8 } = arena();
    u8.fill(0xee);
    const op = 64;
    obInit(i32, op, 7, 0x200);
    expect([...u8.subarray(op, op + OBJECT_HEADER_SIZE)]).toEqual([
      ...[7, 0, 0, 0], // ob_tid
      ...[0, 0], // ob_flags
      0, // ob_mutex
      0, // ob_gc_bits
      ...[1, 0, 0, 0], // ob_ref_local
      ...[0, 0, 0, 0], // ob_ref_shared
      ...[0, 2, 0, 0], // ob_type
      ...[0, 0, 0, 0], // pad
    ]);
    expect(u8[op - 1]).toBe(0xee);
    expect(u8[op + OBJECT_HEADER_SIZE]).toBe(0xee);
    expect(obTid(i32, op)).toBe(7);
    expect(obType(i32, op)).toBe(0x200);
    expect(obRefcnt(i32, op)).toBe(1);
    expect(obIsValid(i32, u8, op)).toBe(true);
  });

  it("reads and writes each field at its named offset", () => {
    const { i32, u8 } = arena();
    const op = 32;
    obInit(i32, op, 1, 8);
    obSetTid(i32, op, 0xfffffff0);
    obSetFlags(u8, op, 0xbeef);
    obSetRefLocal(i32, op, 0x80000000);
    obStoreRefShared(i32, op, refShared(-5, REF_QUEUED));
    obSetType(i32, op, 0xabcdef08);
    expect(obTid(i32, op)).toBe(0xfffffff0);
    expect(obFlags(u8, op)).toBe(0xbeef);
    expect([u8[op + OB_FLAGS_OFFSET], u8[op + OB_FLAGS_OFFSET + 1]]).toEqual([0xef, 0xbe]);
    expect(obMutex(u8, op)).toBe(0);
    expect(obRefLocal(i32, op)).toBe(0x80000000);
    expect(refSharedCount(obRefShared(i32, op))).toBe(-5);
    expect(obType(i32, op)).toBe(0xabcdef08);
    expect(i32[(op + OB_XREF_SHARED_OFFSET) >> 2]).toBe(-5 * 4 + 2);
  });

  it("sets and clears gc bits without touching the others", () => {
    const { i32, u8 } = arena();
    const op = 8;
    obInit(i32, op, 1, 8);
    obSetGcBits(u8, op, GC_TRACKED_MASK | GC_FINALIZED_MASK);
    obSetGcBits(u8, op, GC_UNREACHABLE_MASK);
    expect(obGcBits(u8, op)).toBe(0b111);
    expect(obHasGcBits(u8, op, GC_FINALIZED_MASK)).toBe(true);
    obClearGcBits(u8, op, GC_UNREACHABLE_MASK);
    expect(obGcBits(u8, op)).toBe(GC_TRACKED_MASK | GC_FINALIZED_MASK);
    expect(obHasGcBits(u8, op, GC_UNREACHABLE_MASK | GC_FROZEN_MASK)).toBe(false);
    // Neighbouring bytes (the mutex, the local refcount) are untouched.
    expect(u8[op + OB_XMUTEX_OFFSET]).toBe(0);
    expect(obRefLocal(i32, op)).toBe(1);
    expect(u8[op + OB_XGC_BITS_OFFSET]).toBe(obGcBits(u8, op));
    expect(() => obSetGcBits(u8, op, 0x80)).toThrow("gc bits mask must only hold defined GC_*_MASK bits");
  });

  it("counts references as ob_ref_local plus the shifted shared count", () => {
    const { i32 } = arena();
    const op = 8;
    obInit(i32, op, 1, 8);
    obSetRefLocal(i32, op, 3);
    expect(obAddRefShared(i32, op, 2)).toBe(0);
    expect(obRefcnt(i32, op)).toBe(5);
    obAddRefShared(i32, op, -4); // another thread dropped more than it took: shared goes negative
    expect(refSharedCount(obRefShared(i32, op))).toBe(-2);
    expect(obRefcnt(i32, op)).toBe(1);
    // A state bit survives the arithmetic on the count.
    expect(obCasRefShared(i32, op, refShared(-2, 0), refShared(-2, REF_QUEUED))).toBe(true);
    obAddRefShared(i32, op, 1);
    expect(obRefShared(i32, op)).toBe(refShared(-1, REF_QUEUED));
    expect(obCasRefShared(i32, op, 0, 4)).toBe(false);
  });

  it("reports immortal objects as such, whatever the shared count", () => {
    const { i32 } = arena();
    const op = 8;
    obInit(i32, op, UNOWNED_TID, 8);
    obSetRefLocal(i32, op, IMMORTAL_REFCNT_LOCAL);
    obAddRefShared(i32, op, 10);
    expect(obIsImmortal(i32, op)).toBe(true);
    expect(obRefcnt(i32, op)).toBe(IMMORTAL_REFCNT_LOCAL);
  });

  it("reads and writes the pre-header words before the object", () => {
    const { i32, u8 } = arena();
    const op = 64;
    obSetManagedWeakref(i32, op, 0x1230);
    obSetManagedDict(i32, op, 0x4560);
    expect(obManagedWeakref(i32, op)).toBe(0x1230);
    expect(obManagedDict(i32, op)).toBe(0x4560);
    expect(new Int32Array(u8.buffer, op - PREHEADER_SIZE, 2)).toEqual(new Int32Array([0x1230, 0x4560]));
  });

  it("validates headers: alignment, type, gc bits, merged refcounts", () => {
    const { i32, u8 } = arena(256);
    const op = 8;
    obInit(i32, op, 1, 8);
    expect(obIsValid(i32, u8, op)).toBe(true);
    expect(obIsValid(i32, u8, 0)).toBe(false);
    expect(obIsValid(i32, u8, 12)).toBe(false);
    expect(obIsValid(i32, u8, 256 - 16)).toBe(false);
    obStoreRefShared(i32, op, refShared(1, REF_MERGED));
    expect(obIsValid(i32, u8, op)).toBe(false); // merged but ob_ref_local still 1
    obSetRefLocal(i32, op, 0);
    expect(obIsValid(i32, u8, op)).toBe(true);
    u8[op + OB_XGC_BITS_OFFSET] = 0x80;
    expect(obIsValid(i32, u8, op)).toBe(false);
    u8[op + OB_XGC_BITS_OFFSET] = 0;
    obSetType(i32, op, 0);
    expect(obIsValid(i32, u8, op)).toBe(false);
  });

  it("guards obInit's preconditions in debug builds", () => {
    const { i32 } = arena(64);
    expect(() => obInit(i32, 0, 1, 8)).toThrow("object pointer must not be NULL");
    expect(() => obInit(i32, 4, 1, 8)).toThrow("object must be 8-aligned");
    expect(() => obInit(i32, 48, 1, 8)).toThrow("object header must lie inside the arena");
  });
});

describe("block and object addresses", () => {
  it("places the object after the debug header and the pre-header", () => {
    expect(objectAddress(0x1000, 0, false)).toBe(0x1000);
    expect(objectAddress(0x1000, 16, false)).toBe(0x1010);
    expect(objectAddress(0x1000, 0, true)).toBe(0x1008);
    expect(objectAddress(0x1000, 16, true)).toBe(0x1018);
  });

  it("gives the collector's per-heap visitor offsets (offset_base, offset_pre)", () => {
    expect(objectOffsetInBlock(0, false)).toBe(0);
    expect(objectOffsetInBlock(16, false)).toBe(16);
    expect(objectOffsetInBlock(16, true)).toBe(16 + PREHEADER_SIZE);
  });

  it("inverts objectAddress and keeps objects 8-aligned", () => {
    for (const debug of [0, 16]) {
      for (const pre of [false, true]) {
        for (const block of [8, 0x40, 0x7ffffff8]) {
          const op = objectAddress(block, debug, pre);
          expect(op & OBJECT_ALIGN_MASK).toBe(0);
          expect(objectBlockStart(op, debug, pre)).toBe(block);
        }
      }
    }
  });

  it("rejects NULL and misaligned blocks and odd debug headers in debug builds", () => {
    expect(() => objectAddress(0, 16, false)).toThrow("block start must not be NULL");
    expect(() => objectAddress(4, 16, false)).toThrow("block start must be 8-aligned");
    expect(() => objectAddress(8, 12, false)).toThrow(
      "debug header size must be a non-negative multiple of 8",
    );
    expect(() => objectBlockStart(0, 0, false)).toThrow("object pointer must not be NULL");
    expect(() => objectBlockStart(16, 16, true)).toThrow("object must lie after its block's headers");
  });
});
