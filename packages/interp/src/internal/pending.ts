/**
 * The slow paths of attach, detach and `checkpoint()`: waiting while a stop-the-world pause holds
 * a thread state SUSPENDED, suspending at a stop request, and handing the GIL over.
 *
 * A thread asked to stop (its PLEASE_STOP bit set by the requester) suspends itself the way
 * CPython's `_PyThreadState_Suspend` does: under HEAD_LOCK it finds the pause that is requested
 * (the runtime's, else its interpreter's) and moves ATTACHED → SUSPENDED, or ATTACHED → DETACHED
 * when the pause was already undone; then it bumps the pause's event word so the requester
 * rescans, and waits in `attachWait` until the requester resumes it (SUSPENDED → DETACHED).
 */
import { ThreadStateError } from "./errors.ts";
import { dropGil, yieldGil } from "./gil.ts";
import { setCurrentMimallocState } from "./mimalloc-state.ts";
import { field, interpStw, RT_XSTW_LOCK, runtimeStw, STW_XEVENT, STW_XREQUESTED } from "./runtime-layout.ts";
import { ThreadState } from "./thread-state.ts";
import { setCurrent, type ThreadStateHandle } from "./tstate.ts";
import { GIL_DROP_REQUEST_MASK, PLEASE_STOP_MASK, tstateClearEvalBreakerBits } from "./tstate-layout.ts";

const { DETACHED, ATTACHED, SUSPENDED, SHUTTING_DOWN } = ThreadState;

/** Longest single sleep while suspended (ms): the loop re-checks, so a lost wake-up costs at most this. */
const SUSPENDED_SLEEP_MS = 100;

/**
 * Attach's slow path: the state was not DETACHED. Wait while it is SUSPENDED (a pause is on), then
 * take it DETACHED → ATTACHED. CPython's `tstate_wait_attach`.
 *
 * @throws ThreadStateError for SHUTTING_DOWN (the interpreter is finalizing, or the state was
 *   cleared by another thread) and for a state some other thread holds ATTACHED.
 */
export function attachWait(ts: ThreadStateHandle): void {
  const i32 = ts.i32;
  for (;;) {
    const state = Atomics.load(i32, ts.stateIndex);
    if (state === DETACHED) {
      if (Atomics.compareExchange(i32, ts.stateIndex, DETACHED, ATTACHED) === DETACHED) return;
    } else if (state === SUSPENDED) {
      if (Atomics.load(i32, field(ts.runtime.record, RT_XSTW_LOCK)) === ts.runtime.threadId) {
        if (ts.gil) dropGil(ts);
        throw new ThreadStateError(
          `attach: thread state ${ts.id} is parked by this thread's own stop-the-world pause; ` +
            "start the world before attaching it (it would wait for itself)",
        );
      }
      Atomics.wait(i32, ts.stateIndex, SUSPENDED, SUSPENDED_SLEEP_MS);
    } else if (state === SHUTTING_DOWN) {
      ts.usable = false;
      if (ts.gil) dropGil(ts);
      throw new ThreadStateError(
        `attach: thread state ${ts.id} is SHUTTING_DOWN: its interpreter (${ts.interpId}) is finalizing or the state ` +
          "was cleared by another thread; this thread may not run interpreter code any more",
      );
    } else {
      if (ts.gil) dropGil(ts);
      throw new ThreadStateError(
        `attach: thread state ${ts.id} is ATTACHED by another thread (it is bound to thread ${ts.threadId})`,
      );
    }
  }
}

/** Detach's slow path: the state was not ATTACHED (a finalizing thread made it SHUTTING_DOWN). */
export function detachGeneric(ts: ThreadStateHandle): void {
  const state = Atomics.load(ts.i32, ts.stateIndex);
  if (state === SHUTTING_DOWN) {
    ts.usable = false;
    return;
  }
  throw new ThreadStateError(
    `detach: thread state ${ts.id} is ${ThreadStateNames[state] ?? state}, not ATTACHED: the state word was changed behind its owner`,
  );
}

const ThreadStateNames = ["DETACHED", "ATTACHED", "SUSPENDED", "SHUTTING_DOWN"];

/**
 * A thread detached while a stop request was pending for it: bump the requested pauses' events so
 * the requester parks the state now rather than at its next rescan.
 */
export function notifyStopRequest(ts: ThreadStateHandle): void {
  tstateClearEvalBreakerBits(ts.i32, ts.record, PLEASE_STOP_MASK);
  bumpEvent(ts.i32, runtimeStw(ts.runtime.record));
  bumpEvent(ts.i32, interpStw(ts.interp));
}

function bumpEvent(i32: Int32Array, stw: number): void {
  if (Atomics.load(i32, stw + STW_XREQUESTED) === 0) return;
  Atomics.add(i32, stw + STW_XEVENT, 1);
  Atomics.notify(i32, stw + STW_XEVENT);
}

/**
 * `checkpoint()`'s slow path (CPython's `_Py_HandlePending`): something is set in the eval breaker
 * of the calling thread's attached state `ts`.
 */
export function handlePendingGeneric(ts: ThreadStateHandle): void {
  const bits = Atomics.load(ts.i32, ts.breakerIndex);
  if ((bits & PLEASE_STOP_MASK) !== 0) {
    tstateClearEvalBreakerBits(ts.i32, ts.record, PLEASE_STOP_MASK);
    suspendForStop(ts);
  }
  if ((bits & GIL_DROP_REQUEST_MASK) !== 0) {
    tstateClearEvalBreakerBits(ts.i32, ts.record, GIL_DROP_REQUEST_MASK);
    if (ts.gil) yieldGil(ts);
  }
}

/**
 * Suspend the calling thread's attached state for a pause, then wait until it is resumed and
 * attach again (CPython's `_PyThreadState_Suspend` followed by `_PyThreadState_Attach`). The state
 * stays the thread's current one: nothing else runs on this thread meanwhile.
 */
function suspendForStop(ts: ThreadStateHandle): void {
  const rt = ts.runtime;
  const i32 = ts.i32;
  let stw = -1;
  rt.headLock();
  try {
    if (Atomics.load(i32, runtimeStw(rt.record) + STW_XREQUESTED) !== 0) stw = runtimeStw(rt.record);
    else if (Atomics.load(i32, interpStw(ts.interp) + STW_XREQUESTED) !== 0) stw = interpStw(ts.interp);
    // Only the bound thread moves an ATTACHED state, so these exchanges cannot fail but to SHUTTING_DOWN.
    Atomics.compareExchange(i32, ts.stateIndex, ATTACHED, stw < 0 ? DETACHED : SUSPENDED);
    if (stw >= 0) Atomics.add(i32, stw + STW_XEVENT, 1);
  } finally {
    rt.headUnlock();
  }
  if (stw >= 0) Atomics.notify(i32, stw + STW_XEVENT);
  try {
    attachWait(ts);
  } catch (e) {
    setCurrent(null);
    setCurrentMimallocState(null);
    if (ts.gil) ts.mimalloc = null;
    throw e;
  }
}
