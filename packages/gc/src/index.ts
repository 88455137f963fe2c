/**
 * @ft/gc: free-threaded objects in the shared arena (header, biased refcounting, types laid out
 * in the arena) and CPython's stop-the-world cycle collector that finds them by walking the
 * GC-tagged heaps of every thread state and the interpreter's abandoned pool.
 *
 * ```ts
 * const space = createStandaloneSpace();          // or objectSpaceFor(runtime) under @ft/interp
 * const a = space.newList(), b = space.newList();
 * space.listAppend(a, b); space.listAppend(b, a); // a cycle
 * space.decref(a); space.decref(b);
 * collect(space);                                  // 2
 * ```
 *
 * @packageDocumentation
 */

export { type ObjectAllocator, pymemAllocator } from "./internal/allocator.ts";
export { AssertionError } from "./internal/assert.ts";
export {
  registerTypeBehaviour,
  registerWeakrefCallback,
  type TypeBehaviour,
  type WeakrefCallback,
} from "./internal/behaviours.ts";
export {
  type CollectionInfo,
  collect,
  freeze,
  GcReason,
  getFreezeCount,
  getObjects,
  NUM_GENERATIONS,
  unfreeze,
  validateObjects,
  validateObjectsWorldStopped,
  visitObjects,
  visitObjectsWorldStopped,
  withWorldStopped,
} from "./internal/collector.ts";
export { GcControl, type GenerationStats, gcControl } from "./internal/control.ts";
export {
  DEBUG_COLLECTABLE,
  DEBUG_LEAK,
  DEBUG_SAVEALL,
  DEBUG_STATS,
  DEBUG_UNCOLLECTABLE,
  DEFAULT_THRESHOLD0,
  GC_STATE_SIZE,
  GS_DEBUG,
  GS_ENABLED,
  GS_GARBAGE,
  GS_LONG_LIVED_TOTAL,
  GS_OLD0_COUNT,
  GS_OLD1_COUNT,
  GS_STATS,
  GS_STATS_WORDS,
  GS_THRESHOLD0,
  GS_THRESHOLD1,
  GS_THRESHOLD2,
  GS_XYOUNG_COUNT,
  LOCAL_ALLOC_COUNT_THRESHOLD,
} from "./internal/gc-state-layout.ts";
export { formatFixed } from "./internal/format.ts";
export type { GcHost } from "./internal/host.ts";
export { type InterpSpaceOptions, objectSpaceFor } from "./internal/interp-host.ts";
export {
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
} from "./internal/object-layout.ts";
export {
  BuiltinType,
  type ClassOptions,
  ObjectError,
  ObjectSpace,
  type UnraisableHook,
} from "./internal/space.ts";
export {
  abandonStandaloneThread,
  attachStandaloneSpace,
  createStandaloneSpace,
  type StandaloneOptions,
  standaloneThreadState,
} from "./internal/standalone.ts";
export {
  TPFLAGS_HAS_FINALIZE,
  TPFLAGS_HAS_LEGACY_DEL,
  TPFLAGS_HAVE_GC,
  TPFLAGS_HEAPTYPE,
  TPFLAGS_MANAGED_DICT,
  TPFLAGS_MANAGED_WEAKREF,
  TPFLAGS_PREHEADER,
  TYPE_OBJECT_SIZE,
  TypeKind,
  tpBasicSize,
  tpFlags,
  tpKind,
  tpMro,
  tpRefmap,
} from "./internal/type-layout.ts";
