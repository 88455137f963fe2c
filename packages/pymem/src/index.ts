/**
 * @ft/pymem: CPython's allocator layer (`Objects/obmalloc.c`) over @ft/mimalloc — the domains
 * RAW / MEM / OBJ and their allocators, get/set allocator, the debug hooks and their checks and
 * dumps, the tracing hook (`tracemalloc`), and the per-thread mimalloc state (a tld, four tagged
 * heaps and the current object heap) that routes MEM and OBJ allocations.
 *
 * ```ts
 * const pymem = createPyMem(arena, { preset: "debug" });        // one per thread
 * const state = MimallocThreadState.init(arena, record, pool);  // in a thread-state record
 * setCurrentThreadState(state);                                  // @ft/interp: on attach
 * const p = pymem.malloc(16);                                    // PyMem_Malloc
 * const op = pymem.objectMallocKind(HeapTag.GC, 32);             // a GC object's block
 * ```
 *
 * @packageDocumentation
 */

export type { Allocator, ApiId, ObjectLayout, PyMemOptions } from "./api.ts";
export { DefaultAllocatorContext } from "./internal/allocators.ts";
export {
  type DebugDumpOptions,
  formatDebugDump,
  formatFatalError,
  formatPointer,
  TRACEMALLOC_HINT,
  type TracebackFrame,
} from "./internal/debug-dump.ts";
export { DebugContext } from "./internal/debug-hooks.ts";
export {
  checkPads,
  DEBUG_API_ID_OFFSET,
  DEBUG_EXTRA_BYTES,
  DEBUG_EXTRA_BYTES_SERIAL,
  DEBUG_HEADER_SIZE,
  DEBUG_LEADING_PAD_OFFSET,
  DEBUG_LEADING_PAD_SIZE,
  DEBUG_SERIAL_SIZE,
  DEBUG_SIZE_OFFSET,
  DEBUG_TRAILER_SIZE,
  DEBUG_WORD_SHIFT,
  DEBUG_WORD_SIZE,
  type DebugBlockFault,
  type DebugBlockFaultKind,
  debugBlockStart,
  debugDataPointer,
  debugFillSkip,
  decorateDebugBlock,
  fillData,
  heapDebugOffset,
  isPtrFreed,
  markDebugBlockFreed,
  objectIsFreed,
  PYMEM_CLEANBYTE,
  PYMEM_DEADBYTE,
  PYMEM_FORBIDDENBYTE,
  readApiId,
  readRequestedSize,
  readSerialNumber,
  writeDebugHeader,
  writeDebugTrailer,
} from "./internal/debug-layout.ts";
export {
  checkDomain,
  DOMAIN_COUNT,
  Domain,
  type DomainName,
  domainApiId,
  domainName,
} from "./internal/domain.ts";
export { FatalMemoryError, NO_THREAD_STATE_MESSAGE, NoThreadStateError } from "./internal/errors.ts";
export {
  checkHeapTag,
  HEAP_TAG_COUNT,
  HeapTag,
  type HeapTagName,
  heapTagName,
} from "./internal/heap-tags.ts";
export {
  ALLOCATOR_PRESETS,
  type AllocatorPreset,
  allocatorPresetFromEnv,
  FT_MALLOC_ENV,
  parseAllocatorPreset,
  presetHasDebugHooks,
} from "./internal/presets.ts";
export { createPyMem, PyMem, type TracebackSource } from "./internal/pymem.ts";
export {
  currentThreadState,
  DEFAULT_OBJECT_LAYOUT,
  MimallocThreadState,
  mimallocStateOf,
  setCurrentThreadState,
} from "./internal/thread-state.ts";
export {
  HEAP_DEBUG_OFFSET,
  MIMALLOC_STATE_SIZE,
  MTS_ALIGN,
  MTS_CURRENT_OBJECT_HEAP,
  MTS_FLAG_SHARED_MASK,
  MTS_FLAGS,
  MTS_GENERATION,
  MTS_HEADER_SIZE,
  MTS_HEAPS_OFFSET,
  MTS_POOL,
  MTS_STATE_ABANDONED,
  MTS_STATE_FREE,
  MTS_STATE_LIVE,
  MTS_THREAD_ID,
  MTS_TLD_OFFSET,
  MTS_XSTATE,
  mimallocStateHeap,
  mimallocStateTld,
} from "./internal/thread-state-layout.ts";
export {
  DomainFilter,
  Filter,
  Frame,
  formatSize,
  Snapshot,
  Statistic,
  StatisticDiff,
  type StatisticKey,
  TRACEMALLOC_DEFAULT_DOMAIN,
  TRACEMALLOC_MAX_NFRAME,
  Trace,
  Traceback,
  Tracemalloc,
  TracingContext,
} from "./internal/tracemalloc.ts";
