/**
 * The tld record ("thread-local data"): the segments and heaps of one thread in one pool. A thread
 * has a default tld; `@ft/interp` embeds one more in each thread state (CPython's
 * `_mimalloc_thread_state`), initialised in a record the caller provides.
 *
 * A SHARED tld (`tldInitShared`) is owned by a virtual thread id, one taken from the arena's
 * thread-id counter that no real thread has, and is used by whichever thread holds an external
 * lock (`@ft/interp`'s GIL: CPython 3.12's per-interpreter obmalloc state). Since no thread's id
 * matches its segments', every free of its blocks takes the atomic thread-free path; the lock
 * holder allocates and collects with plain stores. "owner" below then means the lock holder.
 *
 * ```
 *  word      field          who writes it
 *   0        threadId       const (0 once abandoned); a virtual id when SHARED
 *   1        pool           const: the abandoned pool this tld's segments go to
 *   2        heapBacking    const: the first heap; `heapDelete` moves pages here
 *   3        heaps          owner: heap list (HEAP_NEXT)
 *   4        segments       owner: segment list (SEG_NEXT), an accelerator
 *   5        state          ATOMIC: LIVE / ABANDONED / FREE (record reusable)
 *   6        allNext        const once linked: the arena's list of arena-made tlds
 *   7        intentPage     owner: page whose thread-free list is being collected …
 *   8        intentHead     owner: … and the list taken off it (see `pageThreadFreeCollect`)
 *   9        heartbeat      owner
 *  10        flags          const: EMBEDDED (record provided by the caller),
 *                           SHARED (virtual owner id, users serialized by a lock; always EMBEDDED)
 *  16 … 31   heapByTag[16]  owner: the heap that reclaimed pages of each tag go to
 * ```
 */
import { TAG_COUNT } from "./constants.ts";

export const TLD_THREAD_ID = 0;
export const TLD_POOL = 1;
export const TLD_HEAP_BACKING = 2;
export const TLD_HEAPS = 3;
export const TLD_SEGMENTS = 4;
export const TLD_XSTATE = 5;
export const TLD_ALL_NEXT = 6;
export const TLD_INTENT_PAGE = 7;
export const TLD_INTENT_HEAD = 8;
export const TLD_HEARTBEAT = 9;
export const TLD_FLAGS = 10;
export const TLD_HEAP_BY_TAG = 16;
export const TLD_WORDS = TLD_HEAP_BY_TAG + TAG_COUNT;
export const TLD_RECORD_SIZE = TLD_WORDS * 4; // 128

export const TLD_STATE_LIVE = 1;
export const TLD_STATE_ABANDONED = 2;
export const TLD_STATE_FREE = 3;

export const TLD_FLAG_EMBEDDED_MASK = 1 << 0;
/** The tld is owned by a virtual thread id and used by whichever thread holds an external lock. */
export const TLD_FLAG_SHARED_MASK = 1 << 1;
