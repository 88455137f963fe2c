/**
 * Clearing and deleting thread states, finalizing interpreters and the runtime, and cleaning up
 * after dead workers (CPython's `PyThreadState_Clear` / `tstate_delete_common`,
 * `Py_EndInterpreter`, `Py_FinalizeEx` with `_PyThreadState_RemoveExcept` and
 * `_PyThreadState_DeleteList`).
 *
 * Clearing abandons a state's heaps (`MimallocThreadState.abandon`) into its interpreter's pool.
 * That may run on any thread, provided the owner runs no allocator code now or later: the owner is
 * the caller itself, or the state was DETACHED/SUSPENDED and is first made SHUTTING_DOWN (so it can
 * never attach again), or its thread is dead. The caller must be attached to a thread state of the
 * same interpreter (gh-112723); finalization and cleanup get one by switching to a temporary state
 * of that interpreter on the calling thread, as CPython's `_PyXI_EndInterpreter` does.
 */
import { SEGMENT_SIZE } from "@ft/mimalloc";
import { InterpreterError, ThreadStateError } from "./errors.ts";
import { releaseGilOf, dropGil } from "./gil.ts";
import { runInterpreterHooks, runThreadStateHooks } from "./hooks.ts";
import { releaseDeadHolder } from "./lock.ts";
import {
  gilMimallocDestroy,
  gilMimallocRepairDeadHolder,
  MimallocThreadState,
  setCurrentMimallocState,
} from "./mimalloc-state.ts";
import { clearInterpreterItems, freeAllQueues } from "./queue.ts";
import {
  field,
  INTERP_FINALIZING_MASK,
  INTERP_SIZE,
  interpClaimRunningMain,
  interpClearFlags,
  interpId,
  interpPool,
  interpReleaseRunningMain,
  interpSetFlags,
  IS_XGIL,
  IS_XRUNNING_MAIN,
  RT_XHEAD_LOCK,
  RT_XSTATUS,
  RUNNING_FINALIZING,
  RUNTIME_FINALIZED,
  RUNTIME_FINALIZING,
  RUNTIME_RUNNING,
} from "./runtime-layout.ts";
import type { Runtime } from "./runtime.ts";
import { endDeadRequestersPause, notifyPausesLockHeld, startTheWorld, stopTheWorld } from "./stoptheworld.ts";
import { ThreadState } from "./thread-state.ts";
import { currentThreadState, setCurrent, ThreadStateHandle } from "./tstate.ts";
import {
  TSTATE_BOUND_MASK,
  TSTATE_CLEARED_MASK,
  TSTATE_SIZE,
  tstateFlags,
  tstateGcState,
  tstateId,
  tstateInterp,
  tstateMarkDeleted,
  tstateMimallocState,
  tstateNext,
  tstateSetFlags,
  tstateStateIndex,
  tstateThreadId,
  TstateWhence,
} from "./tstate-layout.ts";

const { ATTACHED, SHUTTING_DOWN } = ThreadState;

// ---------------------------------------------------------------------------------- clear and delete

/** `ThreadStateHandle.clear()`: check the caller (gh-112723) and the state, then clear it. */
export function clearThreadState(ts: ThreadStateHandle): void {
  const rt = ts.runtime;
  const cur = currentThreadState();
  if (cur === null || cur.runtime.record !== rt.record || cur.runtime.arena.buffer !== rt.arena.buffer) {
    throw new ThreadStateError(
      `clear: the calling thread has no attached thread state in this runtime; clearing thread state ${ts.id} ` +
        "needs the caller attached to a thread state of the same interpreter (gh-112723)",
    );
  }
  if (cur.interp !== ts.interp) {
    throw new ThreadStateError(
      `clear: thread state ${ts.id} belongs to interpreter ${ts.interpId}, but the calling thread is attached to ` +
        `interpreter ${cur.interpId}; clear a thread state from its own interpreter (gh-112723: its objects would ` +
        "otherwise be freed under the wrong interpreter)",
    );
  }
  if (!ts.alive) throw new ThreadStateError(`clear: thread state ${ts.id} was deleted`);
  if (ts.cleared) throw new ThreadStateError(`clear: thread state ${ts.id} was already cleared`);
  if (ts !== cur) takeOutOfService(ts);
  clearRecord(rt, ts.record);
}

/** Make another thread's (detached or suspended) state SHUTTING_DOWN so it can never attach again. */
function takeOutOfService(ts: ThreadStateHandle): void {
  const i32 = ts.i32;
  for (;;) {
    const state = Atomics.load(i32, ts.stateIndex);
    if (state === SHUTTING_DOWN) return;
    if (state === ATTACHED) {
      throw new ThreadStateError(
        `clear: thread state ${ts.id} is attached by thread ${ts.threadId}; another thread's state can be cleared ` +
          "only while it is detached (or its thread is dead: use runtime.cleanupThread)",
      );
    }
    if (Atomics.compareExchange(i32, ts.stateIndex, state, SHUTTING_DOWN) === state) {
      Atomics.notify(i32, ts.stateIndex);
      return;
    }
  }
}

/**
 * Clear the record `ts` (precondition: its owner runs no allocator code now or later, and the
 * caller is attached in its interpreter): run the clear hooks, abandon its heaps into the
 * interpreter's pool, release `__main__` if it held it. Returns false if it was cleared already.
 */
export function clearRecord(rt: Runtime, ts: number): boolean {
  const i32 = rt.i32;
  const before = tstateSetFlags(i32, ts, TSTATE_CLEARED_MASK);
  if ((before & TSTATE_CLEARED_MASK) !== 0) return false;
  const bound = (before & TSTATE_BOUND_MASK) !== 0;
  const interp = tstateInterp(i32, ts);
  const id = tstateId(i32, ts);
  runThreadStateHooks("clearThreadState", {
    arena: rt.arena,
    tstate: ts,
    id,
    interp,
    gcState: tstateGcState(ts),
    bound,
  });
  const handle = rt.handles.get(ts);
  if (handle !== undefined && handle.id === id) {
    if (handle.mimalloc !== null && currentThreadState() === handle) setCurrentMimallocState(null);
    handle.mimalloc = null;
    handle.usable = false;
  }
  // `_PyThreadState_ClearMimallocHeaps`: abandon before the state is destroyed, so the objects
  // stay visible to the collector in the interpreter's pool.
  if (bound && !rt.gilMode) MimallocThreadState.abandon(rt.arena, tstateMimallocState(ts));
  interpReleaseRunningMain(i32, interp, id);
  return true;
}

/** `delete()` / `deleteCurrent()`. */
export function deleteThreadState(ts: ThreadStateHandle, isCurrent: boolean): void {
  const fn = isCurrent ? "deleteCurrent" : "delete";
  if (!ts.alive) throw new ThreadStateError(`${fn}: thread state ${ts.id} was deleted already`);
  if (!ts.cleared) {
    throw new ThreadStateError(
      `${fn}: thread state ${ts.id} must be cleared first (clear(), PyThreadState_Clear)`,
    );
  }
  const cur = currentThreadState();
  if (isCurrent && cur !== ts) {
    throw new ThreadStateError(
      `deleteCurrent: thread state ${ts.id} is not the calling thread's current state`,
    );
  }
  if (!isCurrent && cur === ts) {
    throw new ThreadStateError(
      `delete: thread state ${ts.id} is the calling thread's current state; use deleteCurrent()`,
    );
  }
  if (isCurrent) {
    setCurrent(null);
    if (ts.gil) dropGil(ts);
  }
  deleteRecord(ts.runtime, ts.record);
}

/** Unlink the record from its interpreter's list and free it. Any thread. */
export function deleteRecord(rt: Runtime, ts: number): void {
  const i32 = rt.i32;
  const interp = tstateInterp(i32, ts);
  rt.headLock();
  try {
    rt.unlinkThreadStateLockHeld(interp, ts);
    notifyPausesLockHeld(rt, interp);
    tstateMarkDeleted(i32, ts);
  } finally {
    rt.headUnlock();
  }
  const handle = rt.handles.get(ts);
  if (handle !== undefined) {
    handle.usable = false;
    handle.mimalloc = null;
    rt.handles.delete(ts);
  }
  rt.arena.recordFree(ts, TSTATE_SIZE);
}

/** Clear (if needed) and free records already unlinked from their list. */
function clearAndFreeUnlinked(rt: Runtime, records: readonly number[]): void {
  for (const ts of records) {
    clearRecord(rt, ts);
    rt.headLock();
    tstateMarkDeleted(rt.i32, ts);
    rt.headUnlock();
    const handle = rt.handles.get(ts);
    if (handle !== undefined) {
      handle.usable = false;
      rt.handles.delete(ts);
    }
    rt.arena.recordFree(ts, TSTATE_SIZE);
  }
}

/**
 * Take every state of `interp` but `except` out of service and off the list (CPython's
 * `_PyThreadState_RemoveExcept`): SHUTTING_DOWN (a waiter wakes and refuses to run), unlinked.
 * Hold HEAD_LOCK, with the interpreter's threads stopped.
 */
function removeExceptLockHeld(rt: Runtime, interp: number, except: number): number[] {
  const i32 = rt.i32;
  const removed: number[] = [];
  let ts = rt.firstThreadStateLockHeld(interp);
  while (ts !== 0) {
    const next = tstateNext(i32, ts);
    if (ts !== except) {
      const index = tstateStateIndex(ts);
      Atomics.exchange(i32, index, SHUTTING_DOWN);
      Atomics.notify(i32, index);
      rt.unlinkThreadStateLockHeld(interp, ts);
      removed.push(ts);
    }
    ts = next;
  }
  return removed;
}

// ---------------------------------------------------------------------------------- switching interpreters

/**
 * Run `fn` attached to a thread state of `interp` on the calling thread: the current one if it is
 * in `interp`, else a live one of this thread there, else a temporary one (made, bound, and cleared
 * and deleted afterwards). The previous state is attached again at the end.
 */
export function withThreadStateIn<T>(rt: Runtime, interp: number, fn: (ts: ThreadStateHandle) => T): T {
  const cur = rt.currentThreadState();
  if (cur !== null && cur.interp === interp) return fn(cur);
  let ts = rt.liveThreadStateIn(interp);
  const temporary = ts === null;
  if (ts === null) {
    ts = rt.newThreadStateFor(interp, TstateWhence.FINI, true);
    ts.bind();
  }
  const previous = ThreadStateHandle.swap(ts);
  try {
    return fn(ts);
  } finally {
    // `fn` may have cleared and deleted the state itself (finalization does): look before touching it.
    if (ts.alive && ts.isCurrent) {
      if (temporary) {
        if (!ts.cleared) ts.clear();
        ts.deleteCurrent();
      } else {
        ts.detach();
      }
    }
    if (previous !== null) previous.attach();
  }
}

// ---------------------------------------------------------------------------------- finalization

/**
 * Finalize and destroy the interpreter `interp` from the calling thread (CPython's
 * `_PyXI_EndInterpreter` → `Py_EndInterpreter`). Unless `force`, refuses an interpreter that is
 * running `__main__` ("interpreter running"). Its thread states are cleared (their heaps abandoned
 * into the interpreter's pool, where the collector's last pass sees them), then the pool is
 * destroyed with whatever is left in it: interpreters share no objects.
 *
 * @throws InterpreterError "interpreter running"; StopTheWorldError when an attached thread of it
 *   does not stop (nothing is changed then).
 */
export function endInterpreter(rt: Runtime, interp: number, force: boolean): void {
  const i32 = rt.i32;
  const id = interpId(i32, interp);
  if (force) Atomics.store(i32, field(interp, IS_XRUNNING_MAIN), RUNNING_FINALIZING);
  else if (!interpClaimRunningMain(i32, interp, RUNNING_FINALIZING))
    throw new InterpreterError("interpreter running");
  interpSetFlags(i32, interp, INTERP_FINALIZING_MASK);
  let stopped = false;
  try {
    withThreadStateIn(rt, interp, (me) => {
      stopTheWorld(rt, interp, rt.stopTimeoutMs);
      stopped = true;
      let removed: number[];
      rt.headLock();
      try {
        removed = removeExceptLockHeld(rt, interp, me.record);
      } finally {
        rt.headUnlock();
      }
      startTheWorld(rt, interp);
      clearAndFreeUnlinked(rt, removed);
      clearInterpreterItems(rt, id);
      runInterpreterHooks("finiInterpreter", rt.interpreterHookArgs(interp));
      me.clear();
      // GIL mode: the interpreter's one mimalloc state goes to its pool (destroyed below) while
      // this thread still holds the GIL.
      gilMimallocDestroy(rt, interp);
      me.deleteCurrent();
    });
  } catch (e) {
    if (!stopped) {
      interpClearFlags(i32, interp, INTERP_FINALIZING_MASK);
      Atomics.compareExchange(i32, field(interp, IS_XRUNNING_MAIN), RUNNING_FINALIZING, 0);
    }
    throw e;
  }
  rt.headLock();
  try {
    rt.removeInterpreterLockHeld(interp);
  } finally {
    rt.headUnlock();
  }
  rt.arena.poolDestroy(interpPool(i32, interp));
  rt.arena.recordFree(interp, INTERP_SIZE);
}

/** `Runtime.finalize()`. */
export function finalizeRuntime(rt: Runtime): void {
  const i32 = rt.i32;
  const main = rt.mainInterpreterRecord;
  const cur = rt.currentThreadState();
  if (cur === null || cur.interp !== main) {
    throw new ThreadStateError(
      "finalize: call it from the thread whose attached thread state is in the main interpreter (Py_FinalizeEx)",
    );
  }
  const status = field(rt.record, RT_XSTATUS);
  const was = Atomics.compareExchange(i32, status, RUNTIME_RUNNING, RUNTIME_FINALIZING);
  if (was !== RUNTIME_RUNNING) {
    throw new InterpreterError(
      `finalize: the runtime is ${was === RUNTIME_FINALIZED ? "finalized" : "finalizing"} already`,
    );
  }
  try {
    // finalize_subinterpreters: end every one that is left, running or not.
    for (const interp of rt.interpreterRecords()) if (interp !== main) endInterpreter(rt, interp, true);
    stopTheWorld(rt, 0, rt.stopTimeoutMs);
  } catch (e) {
    Atomics.store(i32, status, RUNTIME_RUNNING);
    throw e;
  }
  let removed: number[];
  rt.headLock();
  try {
    removed = removeExceptLockHeld(rt, main, cur.record);
  } finally {
    rt.headUnlock();
  }
  startTheWorld(rt, 0);
  clearAndFreeUnlinked(rt, removed);
  freeAllQueues(rt);
  runInterpreterHooks("finiInterpreter", rt.interpreterHookArgs(main));
  cur.clear();
  gilMimallocDestroy(rt, main); // GIL mode: the main interpreter's state, into its pool
  cur.deleteCurrent();
  Atomics.store(i32, status, RUNTIME_FINALIZED);
}

// ---------------------------------------------------------------------------------- dead workers

/** What `cleanupThread` did. */
export interface CleanupReport {
  /** Thread states of the dead thread that were cleared and deleted. */
  readonly threadStates: number;
  /** Arena-made tlds of the dead thread that were abandoned (its default heaps). */
  readonly tlds: number;
  /** Whether it held HEAD_LOCK or a stop-the-world pause, which were released / undone. */
  readonly releasedLocks: boolean;
}

/** `Runtime.cleanupThread(threadId)`. */
export function cleanupThread(rt: Runtime, threadId: number): CleanupReport {
  if (typeof threadId !== "number" || !Number.isInteger(threadId) || threadId <= 0) {
    throw new RangeError(`cleanupThread: threadId must be a positive integer, got ${String(threadId)}`);
  }
  if (threadId === rt.threadId) {
    throw new ThreadStateError(
      "cleanupThread: a thread cannot clean up after itself; clear and delete its states instead",
    );
  }
  const i32 = rt.i32;
  let releasedLocks = releaseDeadHolder(i32, field(rt.record, RT_XHEAD_LOCK), threadId);
  releasedLocks = endDeadRequestersPause(rt, threadId) || releasedLocks;
  const dead: { ts: number; interp: number }[] = [];
  rt.headLock();
  try {
    for (const interp of rt.interpreterRecordsLockHeld()) {
      for (let ts = rt.firstThreadStateLockHeld(interp); ts !== 0; ts = tstateNext(i32, ts)) {
        if (tstateThreadId(i32, ts) !== threadId) continue;
        Atomics.exchange(i32, tstateStateIndex(ts), SHUTTING_DOWN);
        releaseDeadHolderGilLockHeld(rt, interp, ts);
        dead.push({ ts, interp });
      }
    }
  } finally {
    rt.headUnlock();
  }
  for (const { ts, interp } of dead) reapInInterpreter(rt, ts, interp);
  const tlds = rt.arena.abandonThread(threadId);
  return { threadStates: dead.length, tlds, releasedLocks };
}

/** `Runtime.reapThreadState(record, id)`. */
export function reapThreadState(rt: Runtime, record: number, id: number): boolean {
  if (
    typeof record !== "number" ||
    !Number.isInteger(record) ||
    record <= 0 ||
    (record & 63) !== 0 ||
    record + TSTATE_SIZE > SEGMENT_SIZE
  ) {
    throw new RangeError(`reapThreadState: record must be a thread-state record offset, got ${String(record)}`);
  }
  if (typeof id !== "number" || !Number.isInteger(id) || id <= 0 || id > 0xffff_ffff) {
    throw new RangeError(`reapThreadState: id must be a thread-state id (a positive integer), got ${String(id)}`);
  }
  const i32 = rt.i32;
  rt.headLock();
  let interp = 0;
  try {
    if (tstateId(i32, record) !== id) return false;
    if (tstateThreadId(i32, record) === rt.threadId) {
      throw new ThreadStateError(
        `reapThreadState: thread state ${id} is bound to the calling thread (${rt.threadId}), which is alive; ` +
          "clear and delete it instead",
      );
    }
    interp = tstateInterp(i32, record);
    Atomics.exchange(i32, tstateStateIndex(record), SHUTTING_DOWN);
    releaseDeadHolderGilLockHeld(rt, interp, record);
  } finally {
    rt.headUnlock();
  }
  reapInInterpreter(rt, record, interp);
  return true;
}

/**
 * Release the GIL of `interp` if the dead thread state `ts` holds it. In GIL mode the holder may
 * have died inside an allocator call on the interpreter's shared mimalloc state: the state is
 * repaired (abandoned, re-initialised with the same owner) while the GIL still names the dead
 * holder, so no thread can use it half done; only then is the GIL released. Hold HEAD_LOCK: the
 * GIL word leaves `ts` only here (the holder is dead), so a second cleaner finds it released.
 */
function releaseDeadHolderGilLockHeld(rt: Runtime, interp: number, ts: number): void {
  if (Atomics.load(rt.i32, field(interp, IS_XGIL)) !== ts) return;
  gilMimallocRepairDeadHolder(rt, interp);
  releaseGilOf(rt.i32, interp, ts);
}

function reapInInterpreter(rt: Runtime, ts: number, interp: number): void {
  if ((tstateFlags(rt.i32, ts) & TSTATE_CLEARED_MASK) !== 0) {
    deleteRecord(rt, ts);
    return;
  }
  withThreadStateIn(rt, interp, () => {
    clearRecord(rt, ts);
    deleteRecord(rt, ts);
  });
}
