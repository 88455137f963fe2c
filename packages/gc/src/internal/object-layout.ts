/**
 * The free-threaded object header, after CPython's `struct _object` under `Py_GIL_DISABLED`
 * (`Include/object.h`), with 4-byte pointers and a 4-byte `Py_ssize_t` (arena offsets are uint32).
 *
 *   byte 0        4      6     7     8        12       16       20       24
 *        +--------+------+-----+-----+--------+--------+--------+--------+
 *        | ob_tid |ob_   |ob_  |ob_  | ob_ref_| ob_ref_| ob_type| (pad)  |
 *        |        |flags |mutex|gc_  | local  | shared |        |        |
 *        |        |      |  x  |bits | u32    | i32  x | u32    |        |
 *        | u32    | u16  | u8  |u8  x|        |        |        |        |
 *        +--------+------+-----+-----+--------+--------+--------+--------+
 *
 * 4+2+1+1+4+4+4 = 20 bytes of fields; the header is rounded up to OBJECT_HEADER_SIZE = 24 so that
 * an object's body stays 8-aligned (for float64 and BigInt64 fields); the pad word is reserved.
 * Objects are 8-aligned: block starts are, and the debug header (16) and pre-header (8) keep it.
 *
 *   field         meaning                                        who writes it
 *   ------------  ---------------------------------------------  ----------------------------------
 *   ob_tid        owning thread id, 0 = unowned (immortal or     the owner at creation; the GC with
 *                 merged). During a collection: the index of     the world stopped (and restores it)
 *                 the object's gc_refs (a pending negative
 *                 count before update_refs visits it), then
 *                 the worklist link (gc_free_threading.c keeps
 *                 gc_refs itself there)
 *   ob_flags      object flags (immortal, static)                 the creator
 *   ob_mutex  x   per-object lock byte (PyMutex)                 any thread, Atomics only
 *   ob_gc_bits x  TRACKED, FINALIZED, UNREACHABLE, … (below)     lock holder or GC, Atomics only
 *   ob_ref_local  refcount owned by ob_tid's thread; UINT32_MAX  the owner thread only (or the GC
 *                 = immortal                                     with the world stopped)
 *   ob_ref_shared x refcount of all other threads, with 2 state  any thread, Atomics only
 *                 bits in the low bits (below)
 *   ob_type       the type's arena offset                        the creator
 *
 * `x` marks fields other threads write: their accessors use `Atomics`. Py_REFCNT(op) is
 * `ob_ref_local + (ob_ref_shared >> REF_SHARED_SHIFT)`.
 *
 * ob_ref_shared:
 *
 *   bit 31                                               2   1   0
 *       +------------------------------------------------+-------+
 *       | shared refcount, signed (may go negative when  | state |
 *       | other threads decref an object they don't own) |       |
 *       +------------------------------------------------+-------+
 *   state: 0 INIT, 1 MAYBE_WEAKREF, 2 QUEUED (in the owner's merge queue), 3 MERGED
 *
 * A GC object whose type has a pre-header (managed dict / weakref) carries two words before it:
 *
 *   block                                              op
 *   +--------------------------+---------+---------+--------------- ...
 *   | debug header (16 bytes,  | weakref | dict    | object header
 *   | when debug hooks are on) | op-8    | op-4    |
 *   +--------------------------+---------+---------+--------------- ...
 *
 * so `op = block + debugHeaderBytes + (hasPreheader ? PREHEADER_SIZE : 0)` (see {@link objectAddress}).
 */
import { assert } from "./assert.ts";

// ---------------------------------------------------------------------------------------------
// Header fields
// ---------------------------------------------------------------------------------------------

/** Byte offset of `ob_tid` (u32): owning thread id, or a gc_refs index / worklist link during a collection. */
export const OB_TID_OFFSET = 0;
/** Byte offset of `ob_flags` (u16, little-endian). */
export const OB_FLAGS_OFFSET = 4;
/** Byte offset of `ob_mutex` (u8, Atomics only): the per-object lock. */
export const OB_XMUTEX_OFFSET = 6;
/** Byte offset of `ob_gc_bits` (u8, Atomics only): see the `GC_*_BIT` / `GC_*_MASK` constants. */
export const OB_XGC_BITS_OFFSET = 7;
/** Byte offset of `ob_ref_local` (u32): the owner thread's refcount. */
export const OB_REF_LOCAL_OFFSET = 8;
/** Byte offset of `ob_ref_shared` (i32, Atomics only): other threads' refcount and its state bits. */
export const OB_XREF_SHARED_OFFSET = 12;
/** Byte offset of `ob_type` (u32): the type. CPython's `offsetof(PyObject, ob_type)`, the debug fills' skip. */
export const OB_TYPE_OFFSET = 16;
/** Byte offset of the reserved pad word that rounds the header up to 8-alignment. */
export const OB_PAD_OFFSET = 20;

/** log2 of the object alignment. */
export const OBJECT_ALIGN_SHIFT = 3;
/** Objects (and their bodies) are 8-aligned. */
export const OBJECT_ALIGN = 1 << OBJECT_ALIGN_SHIFT; // 8
/** `op & OBJECT_ALIGN_MASK` is 0 for a well-aligned object. */
export const OBJECT_ALIGN_MASK = OBJECT_ALIGN - 1; // 7
/** Size of the header: the 20 bytes of fields rounded up to OBJECT_ALIGN. */
export const OBJECT_HEADER_SIZE = (OB_PAD_OFFSET + OBJECT_ALIGN_MASK) & ~OBJECT_ALIGN_MASK; // 24

const TID_WORD = OB_TID_OFFSET >> 2;
const FLAGS_WORD = OB_FLAGS_OFFSET >> 2; // flags, mutex and gc bits share word 1
const REF_LOCAL_WORD = OB_REF_LOCAL_OFFSET >> 2;
const REF_SHARED_WORD = OB_XREF_SHARED_OFFSET >> 2;
const TYPE_WORD = OB_TYPE_OFFSET >> 2;
const PAD_WORD = OB_PAD_OFFSET >> 2;

// ---------------------------------------------------------------------------------------------
// ob_gc_bits (CPython's _PyGC_BITS_*, Include/internal/pycore_gc.h, 3.14)
// ---------------------------------------------------------------------------------------------

/** Bit index of `_PyGC_BITS_TRACKED`: tracked by the GC. */
export const GC_TRACKED_BIT = 0;
/** Bit index of `_PyGC_BITS_FINALIZED`: `tp_finalize` was called (PEP 442: at most once). */
export const GC_FINALIZED_BIT = 1;
/** Bit index of `_PyGC_BITS_UNREACHABLE`: tentatively unreachable, during a collection. */
export const GC_UNREACHABLE_BIT = 2;
/** Bit index of `_PyGC_BITS_FROZEN`: frozen by `gc.freeze()`, ignored by collections. */
export const GC_FROZEN_BIT = 3;
/** Bit index of `_PyGC_BITS_SHARED`: memory it points to must be freed through QSBR. */
export const GC_SHARED_BIT = 4;
/** Bit index of `_PyGC_BITS_ALIVE`: reached from the roots in the mark-alive pass. */
export const GC_ALIVE_BIT = 5;
/** Bit index of `_PyGC_BITS_DEFERRED`: uses deferred reference counting. */
export const GC_DEFERRED_BIT = 6;

/** `_PyGC_BITS_TRACKED` (1<<0). */
export const GC_TRACKED_MASK = 1 << GC_TRACKED_BIT;
/** `_PyGC_BITS_FINALIZED` (1<<1). */
export const GC_FINALIZED_MASK = 1 << GC_FINALIZED_BIT;
/** `_PyGC_BITS_UNREACHABLE` (1<<2). */
export const GC_UNREACHABLE_MASK = 1 << GC_UNREACHABLE_BIT;
/** `_PyGC_BITS_FROZEN` (1<<3). */
export const GC_FROZEN_MASK = 1 << GC_FROZEN_BIT;
/** `_PyGC_BITS_SHARED` (1<<4). */
export const GC_SHARED_MASK = 1 << GC_SHARED_BIT;
/** `_PyGC_BITS_ALIVE` (1<<5). */
export const GC_ALIVE_MASK = 1 << GC_ALIVE_BIT;
/** `_PyGC_BITS_DEFERRED` (1<<6). */
export const GC_DEFERRED_MASK = 1 << GC_DEFERRED_BIT;
/** Every defined gc bit; the eighth bit of `ob_gc_bits` is unused. */
export const GC_ALL_MASK =
  GC_TRACKED_MASK |
  GC_FINALIZED_MASK |
  GC_UNREACHABLE_MASK |
  GC_FROZEN_MASK |
  GC_SHARED_MASK |
  GC_ALIVE_MASK |
  GC_DEFERRED_MASK;

// ---------------------------------------------------------------------------------------------
// Reference counts (CPython's _Py_REF_*, Include/object.h and Include/internal/pycore_object.h)
// ---------------------------------------------------------------------------------------------

/** `_Py_IMMORTAL_REFCNT_LOCAL`: an `ob_ref_local` of UINT32_MAX marks an immortal object. */
export const IMMORTAL_REFCNT_LOCAL = 0xffffffff;
/** `_Py_UNOWNED_TID`: the `ob_tid` of objects no thread owns (immortal, or refcounts merged). */
export const UNOWNED_TID = 0;

/** `_Py_REF_SHARED_SHIFT`: the shared refcount sits above the two state bits. */
export const REF_SHARED_SHIFT = 2;
/** `_Py_REF_SHARED_FLAG_MASK`: the two state bits of `ob_ref_shared`. */
export const REF_SHARED_FLAG_MASK = (1 << REF_SHARED_SHIFT) - 1; // 0x3
/** `_Py_REF_SHARED_INIT`: state of a fresh object. */
export const REF_SHARED_INIT = 0x0;
/** `_Py_REF_MAYBE_WEAKREF`: a weak reference to the object may exist. */
export const REF_MAYBE_WEAKREF = 0x1;
/** `_Py_REF_QUEUED`: the shared count went negative and the object waits in its owner's merge queue. */
export const REF_QUEUED = 0x2;
/** `_Py_REF_MERGED`: local and shared counts were merged into the shared field; the object is unowned. */
export const REF_MERGED = 0x3;
/** Largest shared refcount an int32 `ob_ref_shared` holds: 2^29 - 1. */
export const REF_SHARED_MAX = 2 ** (31 - REF_SHARED_SHIFT) - 1;
/** Smallest (most negative) shared refcount: -2^29. */
export const REF_SHARED_MIN = -(2 ** (31 - REF_SHARED_SHIFT));
/**
 * `_Py_REF_DEFERRED` (`PY_SSIZE_T_MAX / 8` in CPython): the bias added to the shared count of an
 * object with deferred refcounting, so that only the GC frees it. Here INT32_MAX / 8.
 */
export const REF_DEFERRED = Math.floor(0x7fffffff / 8); // 0x0fffffff

// ---------------------------------------------------------------------------------------------
// Pre-header (managed dict and weakref words of GC_PRE objects)
// ---------------------------------------------------------------------------------------------

/** Size of the pre-header: two pointer words before the object. */
export const PREHEADER_SIZE = 2 * 4;
/** `MANAGED_DICT_OFFSET` (free-threaded: one word before the object). */
export const MANAGED_DICT_OFFSET = -4;
/** `MANAGED_WEAKREF_OFFSET` (free-threaded: two words before the object). */
export const MANAGED_WEAKREF_OFFSET = -8;

// ---------------------------------------------------------------------------------------------
// Accessors
// ---------------------------------------------------------------------------------------------

/**
 * Initialise a fresh object's header as CPython's free-threaded `_Py_NewReference` does: owned by
 * `tid`, flags, lock and gc bits zero, local refcount 1, shared refcount 0 (INIT), type `type`.
 * Not for resurrection, which must keep `ob_gc_bits`, `ob_mutex` and `ob_tid` (gh-113750).
 */
export function obInit(i32: Int32Array, op: number, tid: number, type: number): void {
  if (__DEBUG__) checkObject(i32, op);
  const w = op >> 2;
  i32[w + TID_WORD] = tid;
  i32[w + FLAGS_WORD] = 0; // ob_flags, ob_mutex, ob_gc_bits
  i32[w + REF_LOCAL_WORD] = 1;
  Atomics.store(i32, w + REF_SHARED_WORD, 0);
  i32[w + TYPE_WORD] = type;
  i32[w + PAD_WORD] = 0;
}

/** `ob_tid`: the owning thread's id, 0 when unowned (or a gc_refs index / a link during a collection). */
export function obTid(i32: Int32Array, op: number): number {
  return i32[(op >> 2) + TID_WORD] >>> 0;
}

/** Set `ob_tid`. Only the owner at creation, or the GC with the world stopped. */
export function obSetTid(i32: Int32Array, op: number, tid: number): void {
  i32[(op >> 2) + TID_WORD] = tid;
}

/** `ob_flags` (u16, little-endian). */
export function obFlags(u8: Uint8Array, op: number): number {
  return u8[op + OB_FLAGS_OFFSET] | (u8[op + OB_FLAGS_OFFSET + 1] << 8);
}

/** Set `ob_flags` (u16, little-endian). */
export function obSetFlags(u8: Uint8Array, op: number, flags: number): void {
  if (__DEBUG__)
    assert(flags >= 0 && flags <= 0xffff && Number.isInteger(flags), "ob_flags must be a uint16");
  u8[op + OB_FLAGS_OFFSET] = flags & 0xff;
  u8[op + OB_FLAGS_OFFSET + 1] = flags >>> 8;
}

/** `ob_mutex`, read atomically. */
export function obMutex(u8: Uint8Array, op: number): number {
  return Atomics.load(u8, op + OB_XMUTEX_OFFSET);
}

/** `ob_gc_bits`, read atomically (CPython: a relaxed load). */
export function obGcBits(u8: Uint8Array, op: number): number {
  return Atomics.load(u8, op + OB_XGC_BITS_OFFSET);
}

/** True when any bit of `mask` is set in `ob_gc_bits` (`_PyObject_HAS_GC_BITS`). */
export function obHasGcBits(u8: Uint8Array, op: number, mask: number): boolean {
  return (Atomics.load(u8, op + OB_XGC_BITS_OFFSET) & mask) !== 0;
}

/**
 * Set the bits of `mask` in `ob_gc_bits` (`_PyObject_SET_GC_BITS`). An atomic OR: unlike CPython's
 * relaxed load-and-store, it cannot lose a concurrent update even without the object's lock.
 */
export function obSetGcBits(u8: Uint8Array, op: number, mask: number): void {
  if (__DEBUG__) assert((mask & ~GC_ALL_MASK) === 0, "gc bits mask must only hold defined GC_*_MASK bits");
  Atomics.or(u8, op + OB_XGC_BITS_OFFSET, mask);
}

/** Clear the bits of `mask` in `ob_gc_bits` (`_PyObject_CLEAR_GC_BITS`), atomically. */
export function obClearGcBits(u8: Uint8Array, op: number, mask: number): void {
  if (__DEBUG__) assert((mask & ~GC_ALL_MASK) === 0, "gc bits mask must only hold defined GC_*_MASK bits");
  Atomics.and(u8, op + OB_XGC_BITS_OFFSET, ~mask & 0xff);
}

/** `ob_ref_local` (u32); IMMORTAL_REFCNT_LOCAL for an immortal object. */
export function obRefLocal(i32: Int32Array, op: number): number {
  return i32[(op >> 2) + REF_LOCAL_WORD] >>> 0;
}

/** Set `ob_ref_local`. Only the owner thread, or the GC with the world stopped. */
export function obSetRefLocal(i32: Int32Array, op: number, count: number): void {
  if (__DEBUG__) assert(count >>> 0 === count, "ob_ref_local must be a uint32");
  i32[(op >> 2) + REF_LOCAL_WORD] = count;
}

/** `ob_ref_shared` as stored (count and state bits), read atomically; decode with {@link refSharedCount}. */
export function obRefShared(i32: Int32Array, op: number): number {
  return Atomics.load(i32, (op >> 2) + REF_SHARED_WORD);
}

/** Store `ob_ref_shared` atomically; build the value with {@link refShared}. */
export function obStoreRefShared(i32: Int32Array, op: number, shared: number): void {
  Atomics.store(i32, (op >> 2) + REF_SHARED_WORD, shared);
}

/** Compare-and-swap `ob_ref_shared`; true when it held `expected` and now holds `desired`. */
export function obCasRefShared(i32: Int32Array, op: number, expected: number, desired: number): boolean {
  return Atomics.compareExchange(i32, (op >> 2) + REF_SHARED_WORD, expected, desired) === expected;
}

/**
 * Add `delta` shared references atomically (`_Py_atomic_add_ssize(&ob_ref_shared, delta << 2)`),
 * leaving the state bits alone; returns the previous stored value.
 */
export function obAddRefShared(i32: Int32Array, op: number, delta: number): number {
  return Atomics.add(i32, (op >> 2) + REF_SHARED_WORD, delta << REF_SHARED_SHIFT);
}

/** `ob_type`: the type's arena offset. */
export function obType(i32: Int32Array, op: number): number {
  return i32[(op >> 2) + TYPE_WORD] >>> 0;
}

/** Set `ob_type`. */
export function obSetType(i32: Int32Array, op: number, type: number): void {
  i32[(op >> 2) + TYPE_WORD] = type;
}

/** True when the object is immortal (`ob_ref_local == _Py_IMMORTAL_REFCNT_LOCAL`). */
export function obIsImmortal(i32: Int32Array, op: number): boolean {
  return obRefLocal(i32, op) === IMMORTAL_REFCNT_LOCAL;
}

/**
 * `Py_REFCNT(op)`: `ob_ref_local + (ob_ref_shared >> REF_SHARED_SHIFT)`, or IMMORTAL_REFCNT_LOCAL
 * for an immortal object. Other threads may be changing the shared part: the result is a snapshot.
 */
export function obRefcnt(i32: Int32Array, op: number): number {
  const local = obRefLocal(i32, op);
  if (local === IMMORTAL_REFCNT_LOCAL) return IMMORTAL_REFCNT_LOCAL;
  return local + refSharedCount(obRefShared(i32, op));
}

/** `_Py_REF_SHARED(count, state)`: the stored form of a shared refcount with its state bits. */
export function refShared(count: number, state: number): number {
  if (__DEBUG__) {
    assert(
      Number.isInteger(count) && count >= REF_SHARED_MIN && count <= REF_SHARED_MAX,
      "shared refcount must fit in 30 bits",
    );
  }
  if (__DEBUG__) assert((state & ~REF_SHARED_FLAG_MASK) === 0, "shared refcount state must be one of REF_*");
  return (count << REF_SHARED_SHIFT) | state;
}

/** The signed shared refcount of a stored `ob_ref_shared` (an arithmetic shift keeps the sign). */
export function refSharedCount(shared: number): number {
  return shared >> REF_SHARED_SHIFT;
}

/** The state bits of a stored `ob_ref_shared`: REF_SHARED_INIT, REF_MAYBE_WEAKREF, REF_QUEUED or REF_MERGED. */
export function refSharedState(shared: number): number {
  return shared & REF_SHARED_FLAG_MASK;
}

/** The managed-dict word of a pre-header object (op-4). */
export function obManagedDict(i32: Int32Array, op: number): number {
  return i32[(op + MANAGED_DICT_OFFSET) >> 2] >>> 0;
}

/** Set the managed-dict word (op-4). */
export function obSetManagedDict(i32: Int32Array, op: number, dict: number): void {
  i32[(op + MANAGED_DICT_OFFSET) >> 2] = dict;
}

/** The managed-weakref word of a pre-header object (op-8). */
export function obManagedWeakref(i32: Int32Array, op: number): number {
  return i32[(op + MANAGED_WEAKREF_OFFSET) >> 2] >>> 0;
}

/** Set the managed-weakref word (op-8). */
export function obSetManagedWeakref(i32: Int32Array, op: number, weakref: number): void {
  i32[(op + MANAGED_WEAKREF_OFFSET) >> 2] = weakref;
}

/**
 * How far into its block an object starts: the debug header (when debug hooks are on anywhere in
 * the chain) plus the pre-header. The collector's per-heap visitor offset (CPython's `offset_base`
 * for the GC heap, `offset_pre` for the GC_PRE heap).
 */
export function objectOffsetInBlock(debugHeaderBytes: number, hasPreheader: boolean): number {
  if (__DEBUG__) {
    assert(
      Number.isInteger(debugHeaderBytes) &&
        debugHeaderBytes >= 0 &&
        (debugHeaderBytes & OBJECT_ALIGN_MASK) === 0,
      "debug header size must be a non-negative multiple of 8",
    );
  }
  return debugHeaderBytes + (hasPreheader ? PREHEADER_SIZE : 0);
}

/** The object in the block that starts at `blockStart`: `blockStart + debugHeaderBytes + pre-header`. */
export function objectAddress(blockStart: number, debugHeaderBytes: number, hasPreheader: boolean): number {
  if (__DEBUG__) assert(blockStart !== 0, "block start must not be NULL");
  if (__DEBUG__) assert((blockStart & OBJECT_ALIGN_MASK) === 0, "block start must be 8-aligned");
  return blockStart + objectOffsetInBlock(debugHeaderBytes, hasPreheader);
}

/** The block an object lives in (the inverse of {@link objectAddress}): what `PyObject_Free` receives. */
export function objectBlockStart(op: number, debugHeaderBytes: number, hasPreheader: boolean): number {
  if (__DEBUG__) assert(op !== 0, "object pointer must not be NULL");
  const block = op - objectOffsetInBlock(debugHeaderBytes, hasPreheader);
  if (__DEBUG__) assert(block > 0, "object must lie after its block's headers");
  return block;
}

/**
 * Validate a header outside a collection (the `pageIsValid` of objects): 8-aligned and inside the
 * arena, a type set, only defined gc bits, and a local count of 0 whenever the refcounts are merged.
 * (During a collection `ob_tid` and `ob_ref_local` hold gc_refs and links, so do not call it then.)
 */
export function obIsValid(i32: Int32Array, u8: Uint8Array, op: number): boolean {
  if (op === 0 || (op & OBJECT_ALIGN_MASK) !== 0 || op + OBJECT_HEADER_SIZE > u8.length) return false;
  if (obType(i32, op) === 0) return false;
  if ((obGcBits(u8, op) & ~GC_ALL_MASK) !== 0) return false;
  const merged = refSharedState(obRefShared(i32, op)) === REF_MERGED;
  return !merged || obRefLocal(i32, op) === 0;
}

function checkObject(i32: Int32Array, op: number): void {
  assert(op !== 0, "object pointer must not be NULL");
  assert((op & OBJECT_ALIGN_MASK) === 0, "object must be 8-aligned");
  assert((op + OBJECT_HEADER_SIZE) >> 2 <= i32.length, "object header must lie inside the arena");
}
