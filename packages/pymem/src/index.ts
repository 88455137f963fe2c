/**
 * @ft/pymem: CPython's allocator domains (RAW / MEM / OBJ), allocator hooks and the debug
 * allocator, over @ft/mimalloc.
 *
 * First piece: the domain and heap-tag vocabulary, the `Allocator` contract, and the debug-block
 * layout (header, pads, fills, checks and CPython's dump text) as pure functions over a
 * `Uint8Array`. Domain tables, get/set allocator, the hook chain and the per-thread mimalloc state
 * come later.
 *
 * @packageDocumentation
 */

export type { Allocator, ApiId } from "./api.ts";
export {
  type DebugDumpOptions,
  formatDebugDump,
  formatFatalError,
  formatPointer,
  TRACEMALLOC_HINT,
  type TracebackFrame,
} from "./internal/debug-dump.ts";
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
  markDebugBlockFreed,
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
export {
  checkHeapTag,
  HEAP_TAG_COUNT,
  HeapTag,
  type HeapTagName,
  heapTagName,
} from "./internal/heap-tags.ts";
