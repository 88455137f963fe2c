/**
 * The arena header: segment 0 of the buffer. It holds the arena-wide words, the segment table,
 * the default abandoned pool, the shared empty page, and the record area from which tld, heap and
 * pool records are carved.
 *
 * ```
 *  byte 0        256          512             4096                8192      8256          16384    4 MiB
 *  ┌────────────┬────────────┬───────────────┬───────────────────┬─────────┬─────────────┬────────────┐
 *  │ header     │ record     │ detached      │ segment table     │ empty   │ default     │ record     │
 *  │ words      │ free lists │ direct table  │ 1024 words        │ page    │ pool        │ area       │
 *  └────────────┴────────────┴───────────────┴───────────────────┴─────────┴─────────────┴────────────┘
 *  header word  field
 *   0  magic            "ftmi"
 *   1  version
 *   2  maxSegments      const: maxByteLength / SEGMENT_SIZE
 *   3  xnextThreadId    ATOMIC: thread ids are handed out from 1 and never reused
 *   4  xrecordLock      ATOMIC: holder's thread id, 0 = free (see `recordAlloc`)
 *   5  recordBump       under the lock: next unused byte of the record area
 *   6  xpageBytes       ATOMIC: bytes of pages in use
 *   7  xpeakPageBytes   ATOMIC
 *   8  xsegmentsInUse   ATOMIC
 *   9  flags            const: CHECKS
 *  10  xallTlds         ATOMIC: list of arena-made tlds (push only; records are reused in place)
 *  11  xnextPoolId      ATOMIC
 *  12  xsegmentHint     ATOMIC: where the next segment search starts
 *  13  xnextStamp       ATOMIC: stamps for the layers above (`Arena.nextStamp`), never reused
 * ```
 * Segment table word: FREE (0), HEADER, HUGE_CONT (a later slot of a huge span), ABANDONED
 * (in the pool named by the segment header), CLAIMING (being set up or reclaimed), or the owning
 * tld's record offset (always ≥ RECORD_AREA_START, so never one of the small values).
 *
 * Pool record: `xcount` (ATOMIC: abandoned segments in this pool), `id`.
 */
export const ARENA_MAGIC = 0x696d7466; // "ftmi" little-endian
export const ARENA_VERSION = 1;

export const AH_MAGIC = 0;
export const AH_VERSION = 1;
export const AH_MAX_SEGMENTS = 2;
export const AH_XNEXT_THREAD_ID = 3;
export const AH_XRECORD_LOCK = 4;
export const AH_RECORD_BUMP = 5;
export const AH_XPAGE_BYTES = 6;
export const AH_XPEAK_PAGE_BYTES = 7;
export const AH_XSEGMENTS_IN_USE = 8;
export const AH_FLAGS = 9;
export const AH_XALL_TLDS = 10;
export const AH_XNEXT_POOL_ID = 11;
export const AH_XSEGMENT_HINT = 12;
export const AH_XNEXT_STAMP = 13;

export const ARENA_FLAG_CHECKS_MASK = 1 << 0;

/** Free-list heads of the record allocator, one per record kind. */
export const RECORD_FREE_LISTS = 256;
/** A direct page table whose every entry is the empty page: detached handles point here. */
export const DETACHED_DIRECT = 512;
export const RECORD_KIND_COUNT = 9;
export const SEGMENT_TABLE = 4096;
export const EMPTY_PAGE = 8192;
export const DEFAULT_POOL = 8256;
export const RECORD_AREA_START = 16384;

export const SEGSTATE_FREE = 0;
export const SEGSTATE_HEADER = 1;
export const SEGSTATE_HUGE_CONT = 2;
export const SEGSTATE_ABANDONED = 3;
export const SEGSTATE_CLAIMING = 4;

export const POOL_XCOUNT = 0;
export const POOL_ID = 1;
export const POOL_WORDS = 16;
export const POOL_RECORD_SIZE = POOL_WORDS * 4;
