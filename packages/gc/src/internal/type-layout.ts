/**
 * Types in the arena: a type is an object (24-byte header, `ob_type` = the `type` type) followed by
 * a layout descriptor that says how big its instances are and which of their words are object
 * references, so that ANY thread — the collector's included — traverses any object by reading
 * memory, without a JavaScript closure (CPython's `tp_traverse` becomes data).
 *
 *   byte 24        28       32          36         40        44       48       52       56          60       64       68
 *        +--------+--------+-----------+----------+---------+--------+--------+--------+-----------+--------+--------+-----+
 *        |tp_flags|tp_kind |tp_basic-  |tp_item-  |tp_refmap|tp_name |tp_base |tp_dict |tp_weaklist| tp_id  |tp_mro  |(pad)|
 *        | u32    | u32    |size u32   |size u32  | u32     | str  s | type s | dict s | weakref   | u32    |tuple s |     |
 *        +--------+--------+-----------+----------+---------+--------+--------+--------+-----------+--------+--------+-----+
 *   (s = strong reference, owned by heap types; built-in types and their names are immortal)
 *
 * `tp_mro` is a class's `__mro__`: the tuple (class, base, base's base, …, object), so a class
 * refers to itself through it and, as in CPython, is part of a reference cycle from the start:
 * only the cycle collector frees a class (its `tp_clear` drops `tp_dict` and `tp_mro`). Built-in
 * types (immortal) have none (0).
 *
 * Traversal of an object `op` of type `tp` (what {@link TYPE_KIND_NAMES} kinds add is below):
 *   - every body word `i` with bit `i` of `tp_refmap` set: `op + OBJECT_HEADER_SIZE + 4·i`
 *   - `MANAGED_DICT` flag: the pre-header dict word `op - 4`
 *   - `HEAPTYPE` flag: `ob_type` itself (instances of classes hold their class, as CPython's)
 *   - the kind's items:
 *
 *   kind      body (after the header)                                 references
 *   --------  ------------------------------------------------------  -----------------------------
 *   PLAIN     refmap words only (int, str, instances, test types)      refmap
 *   TUPLE     +24 ob_size, +28 pad, +32 items[ob_size] inline          items
 *   LIST      +24 ob_size, +28 allocated, +32 ob_item (MEM heap)       ob_item[0..ob_size)
 *   DICT      +24 used, +28 mask, +32 entries (MEM heap), +36 fill     each live entry's key, value
 *             entries: (mask+1) × {hash, key, value}; key 0 empty, 1 dummy
 *   WEAKREF   +24 wr_object (NOT strong), +28 wr_callback, +32 next,   wr_callback
 *             +36 prev (the referent's list of weakrefs)
 *   TYPE      the descriptor above                                     tp_name, tp_base, tp_dict, tp_mro
 */
import { OBJECT_HEADER_SIZE } from "./object-layout.ts";

// ---------------------------------------------------------------------------------- type record

/** Byte offset of `tp_flags` in a type object. */
export const TP_FLAGS_OFFSET = OBJECT_HEADER_SIZE; // 24
/** Byte offset of `tp_kind` (a `TypeKind`): how items beyond the refmap are found. */
export const TP_KIND_OFFSET = 28;
/** Byte offset of `tp_basicsize`: bytes of an instance (header included, pre-header excluded). */
export const TP_BASICSIZE_OFFSET = 32;
/** Byte offset of `tp_itemsize`: bytes per inline item of variable-size instances (tuple, str). */
export const TP_ITEMSIZE_OFFSET = 36;
/** Byte offset of `tp_refmap`: bit i set = body word i (byte `24 + 4i`) is a strong reference. */
export const TP_REFMAP_OFFSET = 40;
/** Byte offset of `tp_name` (a str object). */
export const TP_NAME_OFFSET = 44;
/** Byte offset of `tp_base` (a type, or 0). */
export const TP_BASE_OFFSET = 48;
/** Byte offset of `tp_dict` (a dict, or 0): class attributes. */
export const TP_DICT_OFFSET = 52;
/** Byte offset of `tp_weaklist`: the head of the list of weak references to the type. */
export const TP_WEAKLIST_OFFSET = 56;
/** Byte offset of `tp_id`: a built-in type's index (BuiltinType), 0 for classes. */
export const TP_ID_OFFSET = 60;
/** Byte offset of `tp_mro` (a tuple, or 0 for built-in types): `__mro__`, the class first. */
export const TP_MRO_OFFSET = 64;
/** Size of a type object (8-aligned: the word after `tp_mro` is padding). */
export const TYPE_OBJECT_SIZE = 72;

// ---------------------------------------------------------------------------------- tp_flags

/** `Py_TPFLAGS_HAVE_FINALIZE` (its historical value, 1<<0): the type has a finalizer (`tp_finalize`, PEP 442). */
export const TPFLAGS_HAS_FINALIZE = 1 << 0;
/** ft: the type has a legacy finalizer (`tp_del`): its unreachable cycles go to `gc.garbage`. */
export const TPFLAGS_HAS_LEGACY_DEL = 1 << 1;
/** `Py_TPFLAGS_MANAGED_WEAKREF` (1<<3): the weakref list head is the pre-header word op-8. */
export const TPFLAGS_MANAGED_WEAKREF = 1 << 3;
/** `Py_TPFLAGS_MANAGED_DICT` (1<<4): the instance `__dict__` is the pre-header word op-4. */
export const TPFLAGS_MANAGED_DICT = 1 << 4;
/** `Py_TPFLAGS_PREHEADER`: either managed word; such GC objects live in the GC_PRE heap. */
export const TPFLAGS_PREHEADER = TPFLAGS_MANAGED_WEAKREF | TPFLAGS_MANAGED_DICT;
/** `Py_TPFLAGS_HEAPTYPE` (1<<9): a class; its instances hold a strong reference to it. */
export const TPFLAGS_HEAPTYPE = 1 << 9;
/** `Py_TPFLAGS_HAVE_GC` (1<<14): instances are tracked by the collector. */
export const TPFLAGS_HAVE_GC = 1 << 14;

// ---------------------------------------------------------------------------------- tp_kind

/** How a type's objects hold references beyond the refmap (see the module comment). */
export const TypeKind = { PLAIN: 0, TUPLE: 1, LIST: 2, DICT: 3, WEAKREF: 4, TYPE: 5 } as const;
/** One of {@link TypeKind}'s values. */
export type TypeKind = (typeof TypeKind)[keyof typeof TypeKind];
/** Names of the kinds, by value. */
export const TYPE_KIND_NAMES = ["PLAIN", "TUPLE", "LIST", "DICT", "WEAKREF", "TYPE"] as const;

// ---------------------------------------------------------------------------------- object bodies

/** int: the value, an int32 (ft keeps ints to 32 bits), at +24. */
export const INT_VALUE_OFFSET = 24;
/** int: instance size. */
export const INT_SIZE = 32;
/** str: length in UTF-16 code units at +24, hash at +28, the units from +32. */
export const STR_LENGTH_OFFSET = 24;
export const STR_HASH_OFFSET = 28;
export const STR_DATA_OFFSET = 32;
/** tuple and list: `ob_size` at +24. */
export const VAR_SIZE_OFFSET = 24;
/** tuple: items inline from +32. */
export const TUPLE_ITEMS_OFFSET = 32;
/** list: `allocated` at +28, `ob_item` (a MEM-heap block) at +32; instance size 40. */
export const LIST_ALLOCATED_OFFSET = 28;
export const LIST_ITEMS_OFFSET = 32;
export const LIST_SIZE = 40;
/** dict: `used` at +24, `mask` at +28, `entries` (MEM heap) at +32, `fill` at +36; instance size 40. */
export const DICT_USED_OFFSET = 24;
export const DICT_MASK_OFFSET = 28;
export const DICT_ENTRIES_OFFSET = 32;
export const DICT_FILL_OFFSET = 36;
export const DICT_SIZE = 40;
/** dict entry: three words {hash, key, value}. */
export const DICT_ENTRY_WORDS = 3;
/** dict entry key of a deleted entry (never an object: objects are 8-aligned). */
export const DICT_DUMMY = 1;
/** weakref: referent (not a strong reference) at +24, callback (strong) at +28, list links at +32 / +36. */
export const WR_OBJECT_OFFSET = 24;
export const WR_CALLBACK_OFFSET = 28;
export const WR_NEXT_OFFSET = 32;
export const WR_PREV_OFFSET = 36;
export const WEAKREF_SIZE = 40;

// ---------------------------------------------------------------------------------- accessors

/** `tp_flags` of type `tp`. */
export function tpFlags(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_FLAGS_OFFSET) >> 2]! >>> 0;
}
/** `tp_kind` of type `tp`. */
export function tpKind(i32: Int32Array, tp: number): TypeKind {
  return i32[(tp + TP_KIND_OFFSET) >> 2]! as TypeKind;
}
/** `tp_basicsize` of type `tp`. */
export function tpBasicSize(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_BASICSIZE_OFFSET) >> 2]!;
}
/** `tp_itemsize` of type `tp`. */
export function tpItemSize(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_ITEMSIZE_OFFSET) >> 2]!;
}
/** `tp_refmap` of type `tp`. */
export function tpRefmap(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_REFMAP_OFFSET) >> 2]! >>> 0;
}
/** `tp_name` (a str object) of type `tp`. */
export function tpName(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_NAME_OFFSET) >> 2]! >>> 0;
}
/** `tp_base` of type `tp`. */
export function tpBase(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_BASE_OFFSET) >> 2]! >>> 0;
}
/** `tp_dict` of type `tp`. */
export function tpDict(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_DICT_OFFSET) >> 2]! >>> 0;
}
/** `tp_mro` (the `__mro__` tuple, class first) of type `tp`; 0 for built-in types. */
export function tpMro(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_MRO_OFFSET) >> 2]! >>> 0;
}
/** `tp_id` of type `tp` (a built-in type's index, 0 for classes). */
export function tpId(i32: Int32Array, tp: number): number {
  return i32[(tp + TP_ID_OFFSET) >> 2]!;
}
/** Whether instances of `tp` are GC objects (`_PyType_IS_GC`). */
export function tpIsGc(i32: Int32Array, tp: number): boolean {
  return (tpFlags(i32, tp) & TPFLAGS_HAVE_GC) !== 0;
}

/** Initialise a type's descriptor (the object header is set apart). */
export function tpInit(
  i32: Int32Array,
  tp: number,
  flags: number,
  kind: TypeKind,
  basicSize: number,
  itemSize: number,
  refmap: number,
  id: number,
): void {
  const w = tp >> 2;
  i32[w + (TP_FLAGS_OFFSET >> 2)] = flags;
  i32[w + (TP_KIND_OFFSET >> 2)] = kind;
  i32[w + (TP_BASICSIZE_OFFSET >> 2)] = basicSize;
  i32[w + (TP_ITEMSIZE_OFFSET >> 2)] = itemSize;
  i32[w + (TP_REFMAP_OFFSET >> 2)] = refmap;
  i32[w + (TP_NAME_OFFSET >> 2)] = 0;
  i32[w + (TP_BASE_OFFSET >> 2)] = 0;
  i32[w + (TP_DICT_OFFSET >> 2)] = 0;
  i32[w + (TP_WEAKLIST_OFFSET >> 2)] = 0;
  i32[w + (TP_ID_OFFSET >> 2)] = id;
  i32[w + (TP_MRO_OFFSET >> 2)] = 0;
}

/**
 * The word that heads the list of weak references to `op` (type `tp`), or 0 when the type does
 * not support weak references (CPython's `tp_weaklistoffset`): the pre-header word op-8 for
 * MANAGED_WEAKREF types, `tp_weaklist` for types.
 */
export function weaklistAddress(i32: Int32Array, op: number, tp: number): number {
  if ((tpFlags(i32, tp) & TPFLAGS_MANAGED_WEAKREF) !== 0) return op - 8;
  if (tpKind(i32, tp) === TypeKind.TYPE) return op + TP_WEAKLIST_OFFSET;
  return 0;
}
