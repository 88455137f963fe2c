/**
 * The thread-state record: one per (thread, interpreter) pair, in the arena, so that any thread
 * (the stop-the-world requester, the collector, a thread clearing a dead worker's states) can read
 * it. After CPython's `PyThreadState` / `_PyThreadStateImpl` (`Include/cpython/pystate.h`,
 * `Include/internal/pycore_tstate.h`), reduced to what the shared machinery needs.
 *
 *   byte 0      4      8      12     16     20     24     28     32     36     40        64          256
 *        +------+------+------+------+------+------+------+------+------+------+--- ... -+-- ... ---+--- ... ---------+
 *        |interp|  id  |thread|xstate| next | prev |interp|xeval |xflags|whence| (spare) | collector | mimalloc state  |
 *        |id i32| u32  |id u32| i32  | u32  | u32  |record|break.| i32  | i32  |         | region    | (@ft/pymem: tld |
 *        |      |      |      |      |      |      | u32  | i32  |      |      |         | 192 bytes |  + 4 heaps)     |
 *        +------+------+------+------+------+------+------+------+------+------+--- ... -+-- ... ---+--- ... ---------+
 *
 *   field        who writes it                                       how
 *   -----------  --------------------------------------------------  ---------------------------------
 *   interp id    the creator, once                                    plain
 *   id           the creator, once, before the record is linked;      plain
 *                zeroed by delete (word 1, because a freed record's
 *                word 0 becomes the record free-list link: a stale
 *                handle compares its id with this word)
 *   thread id    the bound thread, when it binds (0 = unbound)        plain, before BOUND is published
 *   xstate       the bound thread, the stop-the-world thread and the  Atomics only (x = cross-thread)
 *                finalizing / cleaning thread
 *   next/prev    whoever holds the runtime's HEAD_LOCK                plain, under the lock
 *   interp       the creator, once: the interpreter record            plain
 *   xeval        the stop-the-world thread sets PLEASE_STOP, the      Atomics only (`checkpoint()` polls it)
 *    breaker     GIL waiters set GIL_DROP_REQUEST, the owner clears
 *   xflags       BOUND (bound thread), CLEARED (clearing thread)      Atomics only
 *   whence       the creator, once                                    plain
 *   collector    @ft/gc, through the hooks (per-thread free lists,    the collector's rules
 *                refcount queues, biased-refcount state)
 *   mimalloc     @ft/pymem's per-thread state: one tld and four       pymem's rules (its owner is the
 *                heaps tagged MEM, OBJECT, GC, GC_PRE                 bound thread; abandoned by clear)
 *
 * A record is a 64-aligned arena record (`recordAlloc`) of TSTATE_SIZE bytes; pointers are arena
 * byte offsets, 0 = NULL. Invariant (checked by {@link tstateIsValid}): id != 0, xstate is a
 * {@link ThreadState}, next != ts and prev != ts, CLEARED only after BOUND or never bound.
 */
import { assert } from "./assert.ts";
import { MIMALLOC_STATE_SIZE } from "./mimalloc-state.ts";
import { THREAD_STATE_COUNT, type ThreadState, type ThreadStateEvent, transition } from "./thread-state.ts";

/** Byte offset of the owning interpreter's id (i32; the main interpreter is 0). */
export const TSTATE_INTERP_ID_OFFSET = 0;
/** Byte offset of the unique thread-state id (u32, nonzero, never reused; 0 once deleted). */
export const TSTATE_ID_OFFSET = 4;
/** Byte offset of the arena thread id of the bound thread (u32; 0 = not bound yet). */
export const TSTATE_THREAD_ID_OFFSET = 8;
/** Byte offset of the attach state word, a {@link ThreadState} (i32; Atomics only). */
export const TSTATE_XSTATE_OFFSET = 12;
/** Byte offset of the next record in the interpreter's list (u32; 0 = last). */
export const TSTATE_NEXT_OFFSET = 16;
/** Byte offset of the previous record in the interpreter's list (u32; 0 = first). */
export const TSTATE_PREV_OFFSET = 20;
/** Byte offset of the owning interpreter's record (u32). */
export const TSTATE_INTERP_OFFSET = 24;
/** Byte offset of the eval-breaker word (i32; Atomics only): {@link PLEASE_STOP_MASK}, {@link GIL_DROP_REQUEST_MASK}. */
export const TSTATE_XEVAL_BREAKER_OFFSET = 28;
/** Byte offset of the flags word (i32; Atomics only): {@link TSTATE_BOUND_MASK}, {@link TSTATE_CLEARED_MASK}. */
export const TSTATE_XFLAGS_OFFSET = 32;
/** Byte offset of the `whence` word: why the thread state was made (a {@link TstateWhence}). */
export const TSTATE_WHENCE_OFFSET = 36;

/** log2 of the record alignment (arena records are 64-aligned). */
export const TSTATE_ALIGN_SHIFT = 6;
/** Alignment of a record and of the regions in it. */
export const TSTATE_ALIGN = 1 << TSTATE_ALIGN_SHIFT; // 64

/** Byte offset of the region reserved for the collector's per-thread state (`@ft/gc`, through the hooks). */
export const TSTATE_GC_OFFSET = TSTATE_ALIGN; // 64
/** Bytes reserved for the collector's per-thread state. */
export const TSTATE_GC_SIZE = 192;
/** Byte offset of @ft/pymem's per-thread mimalloc state (64-aligned, as `MimallocThreadState.init` needs). */
export const TSTATE_MIMALLOC_OFFSET = TSTATE_GC_OFFSET + TSTATE_GC_SIZE; // 256
/** Bytes of the per-thread mimalloc state: @ft/pymem's `MIMALLOC_STATE_SIZE` (a tld, four heaps and a word). */
export const TSTATE_MIMALLOC_SIZE = MIMALLOC_STATE_SIZE;
/** Size of a whole record in bytes (more than 4 KiB: it takes an 8 KiB arena record). */
export const TSTATE_SIZE = TSTATE_MIMALLOC_OFFSET + TSTATE_MIMALLOC_SIZE;
/** Size of a whole record in int32 words. */
export const TSTATE_WORDS = (TSTATE_SIZE + 3) >> 2;

/** Eval-breaker bit: a stop-the-world request is waiting for this thread (CPython's `_PY_EVAL_PLEASE_STOP_BIT`). */
export const PLEASE_STOP_MASK = 1 << 0;
/** Eval-breaker bit: another thread waits for the GIL this thread holds (`_PY_GIL_DROP_REQUEST_BIT`). */
export const GIL_DROP_REQUEST_MASK = 1 << 1;

/** Flag: bound to a thread (`_status.bound`); its mimalloc state is initialised in free-threaded runtimes. */
export const TSTATE_BOUND_MASK = 1 << 0;
/** Flag: cleared (`_status.cleared`); its heaps are abandoned, it may only be deleted. */
export const TSTATE_CLEARED_MASK = 1 << 1;
/** Flag: holds its interpreter's GIL (GIL mode only; `holds_gil`). */
export const TSTATE_HOLDS_GIL_MASK = 1 << 2;

/** Why a thread state was made: CPython's `_PyThreadState_WHENCE_*`. */
export const TstateWhence = {
  UNKNOWN: 0,
  /** The runtime's main thread state (`Py_Initialize`). */
  INIT: 1,
  /** A temporary state of a finalizing thread (`Py_EndInterpreter` from another interpreter). */
  FINI: 2,
  /** Made for a thread that runs code of the interpreter (`threading`, a worker). */
  THREADING: 3,
  /** Made by `PyThreadState_New` / the low-level API. */
  CAPI: 4,
  /** Made by `exec` / `call` to run in a subinterpreter on the calling thread (`_PyXI_Enter`). */
  EXEC: 5,
} as const;
/** One of {@link TstateWhence}'s values. */
export type TstateWhence = (typeof TstateWhence)[keyof typeof TstateWhence];

const ID_WORD = TSTATE_ID_OFFSET >> 2;
const INTERP_ID_WORD = TSTATE_INTERP_ID_OFFSET >> 2;
const THREAD_ID_WORD = TSTATE_THREAD_ID_OFFSET >> 2;
const XSTATE_WORD = TSTATE_XSTATE_OFFSET >> 2;
const NEXT_WORD = TSTATE_NEXT_OFFSET >> 2;
const PREV_WORD = TSTATE_PREV_OFFSET >> 2;
const INTERP_WORD = TSTATE_INTERP_OFFSET >> 2;
const XEVAL_BREAKER_WORD = TSTATE_XEVAL_BREAKER_OFFSET >> 2;
const XFLAGS_WORD = TSTATE_XFLAGS_OFFSET >> 2;
const WHENCE_WORD = TSTATE_WHENCE_OFFSET >> 2;

function checkRecord(i32: Int32Array, ts: number): void {
  assert(ts !== 0, "thread-state pointer must not be NULL");
  assert((ts & (TSTATE_ALIGN - 1)) === 0, "thread-state record must be 64-aligned");
  assert((ts >> 2) + TSTATE_WORDS <= i32.length, "thread-state record must lie inside the arena");
}

/**
 * Initialise the record at `ts`: zero it (the reserved regions included), then write its ids,
 * interpreter record and whence. It starts DETACHED, unbound and unlinked. Call before publishing
 * the record.
 */
export function tstateInit(
  i32: Int32Array,
  ts: number,
  id: number,
  interpId: number,
  interp = 0,
  whence: TstateWhence = TstateWhence.UNKNOWN,
): void {
  if (__DEBUG__) checkRecord(i32, ts);
  if (__DEBUG__) assert(id !== 0 && id >>> 0 === id, "thread-state id must be a nonzero uint32");
  if (__DEBUG__)
    assert((interpId | 0) === interpId && interpId >= 0, "interpreter id must be a non-negative int32");
  const w = ts >> 2;
  i32.fill(0, w, w + TSTATE_WORDS);
  i32[w + ID_WORD] = id;
  i32[w + INTERP_ID_WORD] = interpId;
  i32[w + INTERP_WORD] = interp;
  i32[w + WHENCE_WORD] = whence;
}

/** The record's unique id (nonzero; 0 once deleted). */
export function tstateId(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + ID_WORD] >>> 0;
}

/** Word index of the id: a handle checks it to notice that its record was deleted. */
export function tstateIdIndex(ts: number): number {
  return (ts >> 2) + ID_WORD;
}

/** Mark the record deleted (before it returns to the record free list). Hold HEAD_LOCK. */
export function tstateMarkDeleted(i32: Int32Array, ts: number): void {
  i32[(ts >> 2) + ID_WORD] = 0;
}

/** The id of the interpreter the record belongs to. */
export function tstateInterpId(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + INTERP_ID_WORD];
}

/** The record of the interpreter the thread state belongs to. */
export function tstateInterp(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + INTERP_WORD] >>> 0;
}

/** Why the thread state was made. */
export function tstateWhence(i32: Int32Array, ts: number): TstateWhence {
  return i32[(ts >> 2) + WHENCE_WORD] as TstateWhence;
}

/** The arena thread id of the bound thread, 0 while unbound. */
export function tstateThreadId(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + THREAD_ID_WORD] >>> 0;
}

/** Record the bound thread (CPython's `bind_tstate`); only that thread calls this, before setting BOUND. */
export function tstateSetThreadId(i32: Int32Array, ts: number, threadId: number): void {
  if (__DEBUG__) assert(threadId >>> 0 === threadId, "thread id must be a uint32");
  i32[(ts >> 2) + THREAD_ID_WORD] = threadId;
}

/** The attach state, read atomically (other threads change it). */
export function tstateState(i32: Int32Array, ts: number): ThreadState {
  return Atomics.load(i32, (ts >> 2) + XSTATE_WORD) as ThreadState;
}

/** Index (in int32 words) of the attach state word, for `Atomics.wait` / `notify`. */
export function tstateStateIndex(ts: number): number {
  return (ts >> 2) + XSTATE_WORD;
}

/** Store the attach state atomically. Prefer {@link tstateTransition}, which checks the rules. */
export function tstateStoreState(i32: Int32Array, ts: number, state: ThreadState): void {
  if (__DEBUG__) assert(state >= 0 && state < THREAD_STATE_COUNT, "attach state must be a ThreadState");
  Atomics.store(i32, (ts >> 2) + XSTATE_WORD, state);
}

/** Swap in `state` atomically and return the state found (the finalizing thread's forced SHUTTING_DOWN). */
export function tstateExchangeState(i32: Int32Array, ts: number, state: ThreadState): ThreadState {
  return Atomics.exchange(i32, (ts >> 2) + XSTATE_WORD, state) as ThreadState;
}

/** Compare-and-swap the attach state; true when it was `expected` and is now `desired`. */
export function tstateCasState(
  i32: Int32Array,
  ts: number,
  expected: ThreadState,
  desired: ThreadState,
): boolean {
  return Atomics.compareExchange(i32, (ts >> 2) + XSTATE_WORD, expected, desired) === expected;
}

/**
 * Apply `event` to the record's attach state under the rules of {@link transition}, atomically:
 * read the state, check the event is allowed from it, compare-and-swap, and retry when another
 * thread changed the state in between. Returns the new state.
 *
 * @throws ThreadStateTransitionError when the state found does not allow `event`.
 */
export function tstateTransition(i32: Int32Array, ts: number, event: ThreadStateEvent): ThreadState {
  for (;;) {
    const from = tstateState(i32, ts);
    const to = transition(from, event);
    if (tstateCasState(i32, ts, from, to)) return to;
  }
}

/** Index (in int32 words) of the eval-breaker word: `checkpoint()` polls it with one `Atomics.load`. */
export function tstateEvalBreakerIndex(ts: number): number {
  return (ts >> 2) + XEVAL_BREAKER_WORD;
}

/** The eval-breaker bits. */
export function tstateEvalBreaker(i32: Int32Array, ts: number): number {
  return Atomics.load(i32, (ts >> 2) + XEVAL_BREAKER_WORD);
}

/** Set eval-breaker bits (`_Py_set_eval_breaker_bit`), from any thread. */
export function tstateSetEvalBreakerBits(i32: Int32Array, ts: number, mask: number): void {
  Atomics.or(i32, (ts >> 2) + XEVAL_BREAKER_WORD, mask);
}

/** Clear eval-breaker bits (`_Py_unset_eval_breaker_bit`), from any thread. */
export function tstateClearEvalBreakerBits(i32: Int32Array, ts: number, mask: number): void {
  Atomics.and(i32, (ts >> 2) + XEVAL_BREAKER_WORD, ~mask);
}

/** The flag bits (BOUND, CLEARED, HOLDS_GIL). */
export function tstateFlags(i32: Int32Array, ts: number): number {
  return Atomics.load(i32, (ts >> 2) + XFLAGS_WORD);
}

/** Set flag bits; returns the flags before. */
export function tstateSetFlags(i32: Int32Array, ts: number, mask: number): number {
  return Atomics.or(i32, (ts >> 2) + XFLAGS_WORD, mask);
}

/** Clear flag bits; returns the flags before. */
export function tstateClearFlags(i32: Int32Array, ts: number, mask: number): number {
  return Atomics.and(i32, (ts >> 2) + XFLAGS_WORD, ~mask);
}

/** The next record of the interpreter's list, 0 at the end. Hold HEAD_LOCK. */
export function tstateNext(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + NEXT_WORD] >>> 0;
}

/** Set the next link. Hold HEAD_LOCK. */
export function tstateSetNext(i32: Int32Array, ts: number, next: number): void {
  if (__DEBUG__) assert(next !== ts, "a thread state must not link to itself");
  i32[(ts >> 2) + NEXT_WORD] = next;
}

/** The previous record of the interpreter's list, 0 at the head. Hold HEAD_LOCK. */
export function tstatePrev(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + PREV_WORD] >>> 0;
}

/** Set the previous link. Hold HEAD_LOCK. */
export function tstateSetPrev(i32: Int32Array, ts: number, prev: number): void {
  if (__DEBUG__) assert(prev !== ts, "a thread state must not link to itself");
  i32[(ts >> 2) + PREV_WORD] = prev;
}

/** Byte offset of the record's collector region (TSTATE_GC_SIZE bytes, 64-aligned). */
export function tstateGcState(ts: number): number {
  return ts + TSTATE_GC_OFFSET;
}

/** Byte offset of the record's mimalloc region (TSTATE_MIMALLOC_SIZE bytes, 64-aligned). */
export function tstateMimallocState(ts: number): number {
  return ts + TSTATE_MIMALLOC_OFFSET;
}

/**
 * Validate a record (the `pageIsValid` of thread states): aligned, inside the arena, nonzero id,
 * a known attach state, no self links. Tests run it after operations; debug builds between phases.
 */
export function tstateIsValid(i32: Int32Array, ts: number): boolean {
  if (ts === 0 || (ts & (TSTATE_ALIGN - 1)) !== 0 || (ts >> 2) + TSTATE_WORDS > i32.length) return false;
  const state = tstateState(i32, ts);
  return (
    tstateId(i32, ts) !== 0 &&
    state >= 0 &&
    state < THREAD_STATE_COUNT &&
    tstateNext(i32, ts) !== ts &&
    tstatePrev(i32, ts) !== ts
  );
}
