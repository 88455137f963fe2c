/**
 * The per-thread mimalloc state record: CPython's `struct _mimalloc_thread_state`
 * (`Include/internal/pycore_mimalloc.h`), which `_PyThreadStateImpl` embeds. It lives in the arena
 * (in a record the caller provides, e.g. inside @ft/interp's thread-state record), so that another
 * thread can find the heaps of a thread that exited and abandon them, and the collector can visit
 * them by offset.
 *
 * A SHARED state (`MimallocThreadState.initShared`) has the same layout; its tld is a shared tld
 * of @ft/mimalloc (`tldInitShared`), owned by a virtual thread id, and whichever thread holds the
 * lock that serializes its users (@ft/interp's GIL) allocates through it: CPython 3.12's
 * per-interpreter obmalloc state, one per interpreter in GIL mode.
 *
 *   byte 0       4       8       12      16      20      24       64             192              192+H      192+2H     192+3H     192+4H
 *        +-------+-------+-------+-------+-------+-------+--------+--------------+----------------+----------+----------+----------+
 *        |current|xstate |thread |pool   |gener- |flags  |(res.)  | tld          | heap MEM       | heap     | heap GC  | heap     |
 *        |object |       |id     |       |ation  |       |        | TLD_RECORD_  | tag 0          | OBJECT   | tag 2    | GC_PRE   |
 *        |heap   |       |       |       |       |       |        | SIZE (128)   |                | tag 1    |          | tag 3    |
 *        +-------+-------+-------+-------+-------+-------+--------+--------------+----------------+----------+----------+----------+
 *        H = HEAP_RECORD_SIZE (1152 today); every part starts 64-aligned; the record is MIMALLOC_STATE_SIZE bytes.
 *
 *   word  field               who writes it
 *   ----  ------------------  ----------------------------------------------------------------------
 *    0    currentObjectHeap   the owner thread, plain stores (object allocation by kind sets it around
 *                             the OBJ-domain call). CPython's `current_object_heap`, as a tag.
 *    1    xstate              ATOMIC: FREE (0) → LIVE (init) → ABANDONED (abandon, from any thread)
 *    2    threadId            const: the arena thread id of the owner (a shared state: its virtual id)
 *    3    pool                const: the abandoned pool the tld is bound to
 *    4    generation          the initialiser: a fresh arena stamp (`Arena.nextStamp`) at every
 *                             (re-)initialisation, so that handles made before a re-initialisation
 *                             see they are stale, even when the record was freed and reused between
 *    5    flags               const: SHARED
 *
 * Each heap record keeps CPython's per-heap `debug_offset` in its first user word
 * (`HEAP_USER + 0`, which @ft/mimalloc reserves for the layers above): the bytes at the start of a
 * block that the debug fills must leave alone, see `heapDebugOffset`.
 */
import { HEAP_RECORD_SIZE, HEAP_USER, TLD_RECORD_SIZE } from "@ft/mimalloc";
import { HEAP_TAG_COUNT, type HeapTag } from "./heap-tags.ts";

/** log2 of the alignment of the record and of each of its parts. */
export const MTS_ALIGN_SHIFT = 6;
/** Alignment of the record and of each of its parts (a cache line). */
export const MTS_ALIGN = 1 << MTS_ALIGN_SHIFT; // 64
const MTS_ALIGN_MASK = MTS_ALIGN - 1;

/** Word index (from the record start) of the current object heap's tag. */
export const MTS_CURRENT_OBJECT_HEAP = 0;
/** Word index of the record's state (Atomics only): {@link MTS_STATE_FREE}, LIVE, ABANDONED. */
export const MTS_XSTATE = 1;
/** Word index of the owner's arena thread id. */
export const MTS_THREAD_ID = 2;
/** Word index of the abandoned pool the tld is bound to. */
export const MTS_POOL = 3;
/** Word index of the generation: a fresh arena stamp at every (re-)initialisation of the record. */
export const MTS_GENERATION = 4;
/** Word index of the flags ({@link MTS_FLAG_SHARED_MASK}). */
export const MTS_FLAGS = 5;

/** The state is shared: a virtual owner id, used by whichever thread holds an external lock. */
export const MTS_FLAG_SHARED_MASK = 1 << 0;

/** Never initialised (or zeroed by its owner). */
export const MTS_STATE_FREE = 0;
/** Initialised by its owner, who may allocate from its heaps. */
export const MTS_STATE_LIVE = 1;
/** Its heaps were abandoned into the pool; the owner must not allocate any more. */
export const MTS_STATE_ABANDONED = 2;

/** Bytes of the header words (padded to the alignment). */
export const MTS_HEADER_SIZE = MTS_ALIGN; // 64
/** Byte offset of the tld record. */
export const MTS_TLD_OFFSET = MTS_HEADER_SIZE; // 64
/** Byte offset of the first heap record (tag 0); heap `tag` is at `MTS_HEAPS_OFFSET + tag * HEAP_RECORD_SIZE`. */
export const MTS_HEAPS_OFFSET = alignUp(MTS_TLD_OFFSET + TLD_RECORD_SIZE); // 192
/**
 * Bytes a thread-state record reserves for the per-thread mimalloc state: the header words, one
 * tld and four heap records, 64-aligned. @ft/interp embeds this many bytes in its thread states.
 */
export const MIMALLOC_STATE_SIZE = alignUp(MTS_HEAPS_OFFSET + HEAP_TAG_COUNT * HEAP_RECORD_SIZE);

/** Word of a heap record holding CPython's `debug_offset` (the first user word). */
export const HEAP_DEBUG_OFFSET = HEAP_USER;

function alignUp(n: number): number {
  return (n + MTS_ALIGN_MASK) & ~MTS_ALIGN_MASK;
}

/** The tld record inside the state record at `record`. */
export function mimallocStateTld(record: number): number {
  return record + MTS_TLD_OFFSET;
}

/** The heap record with `tag` inside the state record at `record` (for visiting by offset). */
export function mimallocStateHeap(record: number, tag: HeapTag): number {
  return record + MTS_HEAPS_OFFSET + tag * HEAP_RECORD_SIZE;
}
