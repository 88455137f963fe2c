/**
 * The runtime's records in the arena: the runtime record (CPython's `_PyRuntime`), the interpreter
 * table, the interpreter records (`PyInterpreterState`) and the stop-the-world state embedded in
 * both (`_stoptheworld_state`). All are arena records (`recordAlloc`, 64-aligned, in the arena's
 * header segment), so every attached thread reads them through the same offsets.
 *
 * Runtime record (RUNTIME_SIZE bytes):
 *
 *   word  field              who writes it
 *   ----  -----------------  ------------------------------------------------------------------
 *    0    magic "ftrt"       the creator, last (published with Atomics.store)
 *    1    flags              const: GIL_MODE
 *    2    xheadLock          ATOMIC: HEAD_LOCK, the holder's arena thread id (0 = free)
 *    3    xheadWaiters       ATOMIC: threads sleeping on HEAD_LOCK
 *    4    xnextInterpId      ATOMIC: interpreter ids are handed out from 0 and never reused
 *    5    xnextTstateId      ATOMIC: thread-state ids from 1, never reused
 *    6    xnextQueueId       ATOMIC: queue ids from 1, never reused
 *    7    interpTable        const: the interpreter table record
 *    8    mainInterp         const: the main interpreter's record
 *    9    queues             HEAD_LOCK: first queue record (QUEUE_NEXT links)
 *   10    xstatus            ATOMIC: RUNNING, FINALIZING (with the finalizing thread id), FINALIZED
 *   11    xstwLock           ATOMIC: the stop-the-world mutex (holder's thread id); every pause takes it
 *   12    xstwWaiters        ATOMIC
 *   16…   stw                the runtime-wide stop-the-world state (StopTheWorldAll)
 *
 * Interpreter table (TABLE_SIZE bytes): word 0 `count`, then `count` interpreter records in
 * creation order (HEAD_LOCK). Removal shifts the tail down, so `list_all` sees creation order.
 *
 * Interpreter record (INTERP_SIZE bytes):
 *
 *   word  field              who writes it
 *   ----  -----------------  ------------------------------------------------------------------
 *    0    id                 const
 *    1    whence             const: an {@link InterpWhence}
 *    2    xflags             ATOMIC: READY, FINALIZING, DEAD
 *    3    pool               const: the interpreter's abandoned pool (`arena.poolNew()`)
 *    4    threads            HEAD_LOCK: first thread state of the interpreter's list
 *    5    xrunningMain       ATOMIC: id of the thread state running `__main__` (0 = none,
 *                            RUNNING_FINALIZING while it is being closed)
 *    6    xgil               ATOMIC: GIL mode: the holder's thread-state id (0 = free)
 *    7    xgilWaiters        ATOMIC
 *    8    xgilSwitches       ATOMIC: bumped at each hand-over (CPython's `switch_number`)
 *    9    gilMimalloc        const: GIL mode: the interpreter's ONE mimalloc state record
 *                            (@ft/pymem's shared MimallocThreadState, MIMALLOC_STATE_SIZE bytes),
 *                            used by whichever thread holds the GIL: CPython 3.12's per-interpreter
 *                            obmalloc state. 0 in free-threaded runtimes (one state per thread state)
 *   10    gilMimallocOwner   const: its virtual owner id (kept when a dead holder's state is
 *                            repaired and re-initialised: objects keep their ob_tid)
 *   11–15 (free)
 *   16…   stw                the interpreter's stop-the-world state
 *   64…   collector region   INTERP_GC_SIZE bytes for @ft/gc's per-interpreter state (hooks)
 *
 * Stop-the-world state (STW_WORDS words, inside a runtime or interpreter record):
 *
 *   word  field              who writes it
 *    0    xrequested         ATOMIC: a pause is requested (read by suspending threads under HEAD_LOCK)
 *    1    xworldStopped      ATOMIC: every thread in scope is parked
 *    2    requester          HEAD_LOCK: the requesting thread state (0 = none)
 *    3    xevent             ATOMIC: bumped and notified when a thread in scope suspends or leaves
 *    4    requesterThread    the requesting thread's arena thread id (to undo a dead requester's pause)
 */
import { assert } from "./assert.ts";

// ---------------------------------------------------------------------------------- runtime record

export const RUNTIME_MAGIC = 0x74727466; // "ftrt" little-endian
export const RUNTIME_SIZE = 256;

export const RT_MAGIC = 0;
export const RT_FLAGS = 1;
export const RT_XHEAD_LOCK = 2;
export const RT_XHEAD_WAITERS = 3;
export const RT_XNEXT_INTERP_ID = 4;
export const RT_XNEXT_TSTATE_ID = 5;
export const RT_XNEXT_QUEUE_ID = 6;
export const RT_INTERP_TABLE = 7;
export const RT_MAIN_INTERP = 8;
export const RT_QUEUES = 9;
export const RT_XSTATUS = 10;
export const RT_XSTW_LOCK = 11;
export const RT_XSTW_WAITERS = 12;
export const RT_STW = 16;

/**
 * Runtime flag: GIL mode (attach takes the interpreter's lock; no per-thread mimalloc state: one
 * shared state per interpreter, used by the GIL holder).
 */
export const RUNTIME_GIL_MODE_MASK = 1 << 0;

/** Runtime status: running. */
export const RUNTIME_RUNNING = 0;
/** Runtime status: `finalize()` is in progress. */
export const RUNTIME_FINALIZING = 1;
/** Runtime status: finalized; the arena stays readable, nothing may attach. */
export const RUNTIME_FINALIZED = 2;

// ---------------------------------------------------------------------------------- interpreter table

export const TABLE_SIZE = 8192;
export const TABLE_COUNT = 0;
export const TABLE_ENTRIES = 1;
/** How many interpreters may exist at once (the table is one 8 KiB record). */
export const TABLE_CAPACITY = (TABLE_SIZE >> 2) - TABLE_ENTRIES;

// ---------------------------------------------------------------------------------- interpreter record

export const INTERP_SIZE = 1024;

export const IS_ID = 0;
export const IS_WHENCE = 1;
export const IS_XFLAGS = 2;
export const IS_POOL = 3;
export const IS_THREADS = 4;
export const IS_XRUNNING_MAIN = 5;
export const IS_XGIL = 6;
export const IS_XGIL_WAITERS = 7;
export const IS_XGIL_SWITCHES = 8;
export const IS_GIL_MIMALLOC = 9;
export const IS_GIL_MIMALLOC_OWNER = 10;
export const IS_STW = 16;

/** Byte offset of the collector's region in an interpreter record (64-aligned). */
export const INTERP_GC_OFFSET = 256;
/** Bytes reserved for the collector's per-interpreter state. */
export const INTERP_GC_SIZE = INTERP_SIZE - INTERP_GC_OFFSET; // 768

/** Interpreter flag: initialised and listed (`_PyInterpreterState_IsReady`). */
export const INTERP_READY_MASK = 1 << 0;
/** Interpreter flag: being finalized; no new thread state may be made for it. */
export const INTERP_FINALIZING_MASK = 1 << 1;
/** Interpreter flag: finalized and unlisted; the record is about to be freed. */
export const INTERP_DEAD_MASK = 1 << 2;

/** `xrunningMain` while the interpreter is being closed: nobody may enter it. */
export const RUNNING_FINALIZING = -1;

/** Where an interpreter came from: CPython's `_PyInterpreterState_WHENCE_*`. */
export const InterpWhence = {
  UNKNOWN: 0,
  RUNTIME: 1,
  LEGACY_CAPI: 2,
  CAPI: 3,
  XI: 4,
  STDLIB: 5,
} as const;
/** One of {@link InterpWhence}'s values. */
export type InterpWhence = (typeof InterpWhence)[keyof typeof InterpWhence];

/** `Interpreter.whence` strings, as CPython's `_WHENCE_TO_STR`. */
export const WHENCE_NAMES: Readonly<Record<InterpWhence, string>> = Object.freeze({
  0: "unknown",
  1: "runtime init",
  2: "legacy C-API",
  3: "C-API",
  4: "cross-interpreter C-API",
  5: "_interpreters module",
});

// ---------------------------------------------------------------------------------- stop-the-world state

export const STW_XREQUESTED = 0;
export const STW_XWORLD_STOPPED = 1;
export const STW_REQUESTER = 2;
export const STW_XEVENT = 3;
export const STW_REQUESTER_THREAD = 4;
export const STW_WORDS = 8;

/** Word index of the runtime-wide stop-the-world state. */
export function runtimeStw(rt: number): number {
  return (rt >> 2) + RT_STW;
}

/** Word index of an interpreter's stop-the-world state. */
export function interpStw(interp: number): number {
  return (interp >> 2) + IS_STW;
}

// ---------------------------------------------------------------------------------- accessors

/** Word index of field `word` of the record at byte offset `record`. */
export function field(record: number, word: number): number {
  if (__DEBUG__) assert(record !== 0 && (record & 63) === 0, "record must be a 64-aligned arena record");
  return (record >> 2) + word;
}

export function interpId(i32: Int32Array, interp: number): number {
  return i32[field(interp, IS_ID)];
}

export function interpWhence(i32: Int32Array, interp: number): InterpWhence {
  return i32[field(interp, IS_WHENCE)] as InterpWhence;
}

export function interpFlags(i32: Int32Array, interp: number): number {
  return Atomics.load(i32, field(interp, IS_XFLAGS));
}

export function interpSetFlags(i32: Int32Array, interp: number, mask: number): number {
  return Atomics.or(i32, field(interp, IS_XFLAGS), mask);
}

export function interpClearFlags(i32: Int32Array, interp: number, mask: number): number {
  return Atomics.and(i32, field(interp, IS_XFLAGS), ~mask);
}

export function interpPool(i32: Int32Array, interp: number): number {
  return i32[field(interp, IS_POOL)] >>> 0;
}

/** First thread state of the interpreter's list. Hold HEAD_LOCK. */
export function interpThreads(i32: Int32Array, interp: number): number {
  return i32[field(interp, IS_THREADS)] >>> 0;
}

/** Set the head of the interpreter's thread list. Hold HEAD_LOCK. */
export function interpSetThreads(i32: Int32Array, interp: number, ts: number): void {
  i32[field(interp, IS_THREADS)] = ts;
}

/** Id of the thread state running the interpreter's `__main__` (0 = none, {@link RUNNING_FINALIZING}). */
export function interpRunningMain(i32: Int32Array, interp: number): number {
  return Atomics.load(i32, field(interp, IS_XRUNNING_MAIN));
}

/** Claim `__main__` for thread state `tsId` (CPython's `_PyInterpreterState_SetRunningMain`); false when taken. */
export function interpClaimRunningMain(i32: Int32Array, interp: number, tsId: number): boolean {
  return Atomics.compareExchange(i32, field(interp, IS_XRUNNING_MAIN), 0, tsId) === 0;
}

/** Release `__main__` if `tsId` holds it. */
export function interpReleaseRunningMain(i32: Int32Array, interp: number, tsId: number): void {
  Atomics.compareExchange(i32, field(interp, IS_XRUNNING_MAIN), tsId, 0);
}

/**
 * GIL mode: the record of the interpreter's one mimalloc state (@ft/pymem's shared
 * `MimallocThreadState`), used by whichever thread holds the interpreter's GIL; 0 in a
 * free-threaded runtime, or once the interpreter is closed.
 */
export function interpGilMimalloc(i32: Int32Array, interp: number): number {
  return i32[field(interp, IS_GIL_MIMALLOC)] >>> 0;
}

/** GIL mode: the virtual owner id of the interpreter's mimalloc state (objects' `ob_tid`); 0 otherwise. */
export function interpGilMimallocOwner(i32: Int32Array, interp: number): number {
  return i32[field(interp, IS_GIL_MIMALLOC_OWNER)] >>> 0;
}

/** Byte offset of the interpreter's collector region (INTERP_GC_SIZE bytes). */
export function interpGcState(interp: number): number {
  return interp + INTERP_GC_OFFSET;
}
