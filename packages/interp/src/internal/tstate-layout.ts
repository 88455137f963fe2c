/**
 * The thread-state record: one per (thread, interpreter) pair, in the arena, so that any thread
 * (the stop-the-world requester, the collector, a thread clearing a dead worker's states) can read
 * it. After CPython's `PyThreadState` / `_PyThreadStateImpl` (`Include/cpython/pystate.h`,
 * `Include/internal/pycore_tstate.h`), reduced to what the shared machinery needs.
 *
 *   byte 0        4        8        12       16       20       24                      24 + 512
 *        +--------+--------+--------+--------+--------+--------+---------- ... ---------+
 *        |   id   | interp | thread | xstate |  next  |  prev  | mimalloc state         |
 *        |  u32   | id i32 | id u32 |  i32   |  u32   |  u32   | (reserved for pymem:   |
 *        |        |        |        |        |        |        |  tld + 4 heaps)        |
 *        +--------+--------+--------+--------+--------+--------+---------- ... ---------+
 *
 *   field      who writes it                                     how
 *   ---------  ------------------------------------------------  -------------------------------
 *   id         the creator, once, before the record is linked     plain
 *   interp id  the creator, once                                  plain
 *   thread id  the bound thread, when it binds (0 = unbound)      plain, read by others after link
 *   xstate     the bound thread and the stop-the-world thread     Atomics only (x = cross-thread)
 *   next/prev  whoever holds the runtime's HEAD_LOCK              plain, under the lock
 *   mimalloc   the bound thread (pymem's per-thread state)        pymem's rules
 *
 * A record starts 8-aligned and is TSTATE_SIZE bytes long. Pointers are arena byte offsets, 0 = NULL.
 * Invariant (checked by {@link tstateIsValid}): id != 0, xstate is a {@link ThreadState},
 * next != ts and prev != ts.
 */
import { assert } from "./assert.ts";
import { THREAD_STATE_COUNT, type ThreadState, type ThreadStateEvent, transition } from "./thread-state.ts";

/** Byte offset of the unique thread-state id (u32, nonzero). */
export const TSTATE_ID_OFFSET = 0;
/** Byte offset of the owning interpreter's id (i32; the main interpreter is 0). */
export const TSTATE_INTERP_ID_OFFSET = 4;
/** Byte offset of the ft thread id of the bound thread (u32; 0 = not bound yet). */
export const TSTATE_THREAD_ID_OFFSET = 8;
/** Byte offset of the attach state word, a {@link ThreadState} (i32; Atomics only). */
export const TSTATE_XSTATE_OFFSET = 12;
/** Byte offset of the next record in the interpreter's list (u32; 0 = last). */
export const TSTATE_NEXT_OFFSET = 16;
/** Byte offset of the previous record in the interpreter's list (u32; 0 = first). */
export const TSTATE_PREV_OFFSET = 20;
/** Byte offset of the region reserved for @ft/pymem's per-thread mimalloc state. */
export const TSTATE_MIMALLOC_OFFSET = 24;

/**
 * log2 of the bytes reserved for the per-thread mimalloc state (a tld and four tagged heaps, plus
 * the current-object-heap pointer). PLACEHOLDER: @ft/mimalloc's tld and heap record sizes are not
 * fixed yet; the lead sets the real size when they are.
 */
export const TSTATE_MIMALLOC_SHIFT = 9;
/** Bytes reserved for the per-thread mimalloc state (placeholder, see {@link TSTATE_MIMALLOC_SHIFT}). */
export const TSTATE_MIMALLOC_SIZE = 1 << TSTATE_MIMALLOC_SHIFT; // 512

/** Alignment of a record (and of the mimalloc region in it). */
export const TSTATE_ALIGN = 8;
/** Size of a whole record in bytes. */
export const TSTATE_SIZE = TSTATE_MIMALLOC_OFFSET + TSTATE_MIMALLOC_SIZE; // 536
/** Size of a whole record in int32 words. */
export const TSTATE_WORDS = TSTATE_SIZE >> 2;

const ID_WORD = TSTATE_ID_OFFSET >> 2;
const INTERP_ID_WORD = TSTATE_INTERP_ID_OFFSET >> 2;
const THREAD_ID_WORD = TSTATE_THREAD_ID_OFFSET >> 2;
const XSTATE_WORD = TSTATE_XSTATE_OFFSET >> 2;
const NEXT_WORD = TSTATE_NEXT_OFFSET >> 2;
const PREV_WORD = TSTATE_PREV_OFFSET >> 2;

function checkRecord(i32: Int32Array, ts: number): void {
  assert(ts !== 0, "thread-state pointer must not be NULL");
  assert((ts & (TSTATE_ALIGN - 1)) === 0, "thread-state record must be 8-aligned");
  assert((ts >> 2) + TSTATE_WORDS <= i32.length, "thread-state record must lie inside the arena");
}

/**
 * Initialise the record at `ts`: zero it (the mimalloc region included), then write its id and
 * interpreter id. It starts DETACHED, unbound and unlinked. Call before publishing the record.
 */
export function tstateInit(i32: Int32Array, ts: number, id: number, interpId: number): void {
  if (__DEBUG__) checkRecord(i32, ts);
  if (__DEBUG__) assert(id !== 0 && id >>> 0 === id, "thread-state id must be a nonzero uint32");
  if (__DEBUG__)
    assert((interpId | 0) === interpId && interpId >= 0, "interpreter id must be a non-negative int32");
  const w = ts >> 2;
  i32.fill(0, w, w + TSTATE_WORDS);
  i32[w + ID_WORD] = id;
  i32[w + INTERP_ID_WORD] = interpId;
}

/** The record's unique id (nonzero). */
export function tstateId(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + ID_WORD] >>> 0;
}

/** The id of the interpreter the record belongs to. */
export function tstateInterpId(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + INTERP_ID_WORD];
}

/** The ft thread id of the bound thread, 0 while unbound. */
export function tstateThreadId(i32: Int32Array, ts: number): number {
  return i32[(ts >> 2) + THREAD_ID_WORD] >>> 0;
}

/** Record the bound thread (CPython's `bind_tstate`); only that thread calls this. */
export function tstateSetThreadId(i32: Int32Array, ts: number, threadId: number): void {
  if (__DEBUG__) assert(threadId >>> 0 === threadId, "thread id must be a uint32");
  i32[(ts >> 2) + THREAD_ID_WORD] = threadId;
}

/** The attach state, read atomically (other threads change it). */
export function tstateState(i32: Int32Array, ts: number): ThreadState {
  return Atomics.load(i32, (ts >> 2) + XSTATE_WORD) as ThreadState;
}

/** Store the attach state atomically. Prefer {@link tstateTransition}, which checks the rules. */
export function tstateStoreState(i32: Int32Array, ts: number, state: ThreadState): void {
  if (__DEBUG__) assert(state >= 0 && state < THREAD_STATE_COUNT, "attach state must be a ThreadState");
  Atomics.store(i32, (ts >> 2) + XSTATE_WORD, state);
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

/** Byte offset of the record's reserved mimalloc region (TSTATE_MIMALLOC_SIZE bytes, 8-aligned). */
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
