/**
 * The heap record. A heap belongs to one tld (so to one thread) and has a tag 0–15 that its pages
 * copy. It holds the direct page table of the malloc fast path and one page queue per bin.
 *
 * ```
 *  word            field            who writes it
 *   0              tld              const
 *   1              threadId         const (the owner thread)
 *   2              tag              const
 *   3              next             owner: the tld's heap list
 *   4              xhasDelayed      ATOMIC: a remote free reached a page of the full queue
 *   5              pageCount        owner
 *   6              genericCount     owner: slow-path calls, for periodic housekeeping
 *   7              flags            owner: NO_RECLAIM, DESTROYED
 *   8              retiredMin       owner: lowest bin that may hold a retired (empty) page
 *   9              retiredMax       owner: highest such bin
 *  10–15           (reserved for the layers above: CPython's debug_offset, …)
 *  16 … 16+128     direct[wsize]    owner: page to allocate `wsize` words from (the first page of
 *                                   its bin's queue, or the arena's empty page)
 *  then            queues[bin]      owner: { first, last } per bin 0 … BIN_FULL
 * ```
 */
import { SMALL_WSIZE_MAX } from "./constants.ts";
import { BIN_COUNT } from "./size-class.ts";

export const HEAP_TLD = 0;
export const HEAP_THREAD_ID = 1;
export const HEAP_TAG = 2;
export const HEAP_NEXT = 3;
export const HEAP_XHAS_DELAYED = 4;
export const HEAP_PAGE_COUNT = 5;
export const HEAP_GENERIC_COUNT = 6;
export const HEAP_FLAGS = 7;
export const HEAP_RETIRED_MIN = 8;
export const HEAP_RETIRED_MAX = 9;
export const HEAP_USER = 10;
export const HEAP_USER_WORDS = 6;
export const HEAP_DIRECT = 16;
export const HEAP_QUEUES = HEAP_DIRECT + SMALL_WSIZE_MAX + 1;
export const QUEUE_FIRST = 0;
export const QUEUE_LAST = 1;
export const QUEUE_WORDS = 2;
export const HEAP_WORDS = HEAP_QUEUES + BIN_COUNT * QUEUE_WORDS;
export const HEAP_RECORD_SIZE = ((HEAP_WORDS * 4 + 63) >>> 6) << 6;

export const HEAP_FLAG_NO_RECLAIM_MASK = 1 << 0;
export const HEAP_FLAG_DESTROYED_MASK = 1 << 1;
