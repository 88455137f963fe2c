/**
 * Stop-the-world, per interpreter and for the whole runtime (CPython's `stop_the_world` /
 * `start_the_world`, `Python/pystate.c`, PR #112471).
 *
 * A pause parks every thread state in its scope (one interpreter's, or every interpreter's)
 * except the requester's:
 *
 *   1. the requester takes the runtime's stop-the-world mutex (pauses are serialized runtime-wide;
 *      a waiter for it keeps calling `checkpoint()`, so two requesters cannot wait for each other),
 *      and under HEAD_LOCK marks the pause requested;
 *   2. until no thread in scope runs: under HEAD_LOCK, `parkDetachedThreads` moves each DETACHED
 *      state to SUSPENDED (so it cannot attach) and sets PLEASE_STOP in each ATTACHED one's eval
 *      breaker; then the requester sleeps on the pause's event word (bumped by every thread that
 *      suspends or detaches with PLEASE_STOP) for at most 1 ms and rescans;
 *   3. an attached thread sees PLEASE_STOP at its next `checkpoint()`, suspends itself
 *      (ATTACHED → SUSPENDED) and waits on its state word;
 *   4. `startTheWorld` moves every SUSPENDED state in scope back to DETACHED and wakes it.
 *
 * New thread states made during a pause start SUSPENDED; deleted ones leave the scan. When the
 * timeout passes first, the pause is undone (as by `startTheWorld`) and a {@link StopTheWorldError}
 * names every thread state that was still ATTACHED: JavaScript cannot be preempted, so a thread
 * that never reaches a check point cannot be stopped.
 *
 * In GIL mode both are no-ops, as in CPython's default build: the caller holds its GIL.
 */
import { StopTheWorldError, type ThreadStateReport, ThreadStateError } from "./errors.ts";
import { lockHolder, lockWord, unlockWord } from "./lock.ts";
import {
  field,
  interpId,
  interpStw,
  RT_XSTW_LOCK,
  RT_XSTW_WAITERS,
  runtimeStw,
  STW_REQUESTER,
  STW_REQUESTER_THREAD,
  STW_XEVENT,
  STW_XREQUESTED,
  STW_XWORLD_STOPPED,
} from "./runtime-layout.ts";
import type { Runtime } from "./runtime.ts";
import { ThreadState, threadStateName } from "./thread-state.ts";
import { checkpoint, currentThreadState } from "./tstate.ts";
import {
  PLEASE_STOP_MASK,
  tstateClearEvalBreakerBits,
  tstateId,
  tstateInterpId,
  tstateNext,
  tstateSetEvalBreakerBits,
  tstateStateIndex,
  tstateThreadId,
} from "./tstate-layout.ts";

const { DETACHED, ATTACHED, SUSPENDED, SHUTTING_DOWN } = ThreadState;

/** Longest sleep between rescans (ms), as CPython's `PyEvent_WaitTimed(…, 1 ms)`. */
const RESCAN_MS = 1;
/**
 * Spins on the event word before the first sleep (~8 µs): a thread at a check point answers within
 * microseconds. More spinning is slower on two cores, where it takes a core from the threads it waits for.
 */
const EVENT_SPINS = 1000;

/** The pause's scope: one interpreter's record, or 0 for every interpreter. */
export type StwScope = number;

function stwOf(rt: Runtime, scope: StwScope): number {
  return scope === 0 ? runtimeStw(rt.record) : interpStw(scope);
}

function scopeName(rt: Runtime, scope: StwScope): string {
  return scope === 0 ? "the runtime" : `interpreter ${interpId(rt.i32, scope)}`;
}

/** Call `fn` for every thread state in scope. Hold HEAD_LOCK. */
export function forEachThreadStateLockHeld(rt: Runtime, scope: StwScope, fn: (ts: number) => void): void {
  const i32 = rt.i32;
  const interps = scope === 0 ? rt.interpreterRecordsLockHeld() : [scope];
  for (const interp of interps) {
    for (let ts = rt.firstThreadStateLockHeld(interp); ts !== 0; ts = tstateNext(i32, ts)) fn(ts);
  }
}

/**
 * Stop every thread in scope but the caller (see the module comment).
 *
 * @throws StopTheWorldError when some attached thread does not reach a check point within `timeoutMs`.
 * @throws ThreadStateError when this thread already holds a pause.
 */
export function stopTheWorld(rt: Runtime, scope: StwScope, timeoutMs: number): void {
  if (rt.gilMode) return;
  const i32 = rt.i32;
  const lock = field(rt.record, RT_XSTW_LOCK);
  if (lockHolder(i32, lock) === rt.threadId) {
    throw new ThreadStateError(
      "stopTheWorld: this thread already holds a stop-the-world pause; start the world first",
    );
  }
  lockWord(i32, lock, field(rt.record, RT_XSTW_WAITERS), rt.threadId, checkpoint);
  const stw = stwOf(rt, scope);
  const me = currentThreadState();
  const requester = me !== null && me.runtime.record === rt.record ? me.record : 0;
  rt.headLock();
  i32[stw + STW_REQUESTER] = requester;
  i32[stw + STW_REQUESTER_THREAD] = rt.threadId;
  Atomics.store(i32, stw + STW_XWORLD_STOPPED, 0);
  Atomics.store(i32, stw + STW_XREQUESTED, 1);
  rt.headUnlock();

  const deadline = performance.now() + timeoutMs;
  let spins = 0;
  for (;;) {
    const seen = Atomics.load(i32, stw + STW_XEVENT);
    rt.headLock();
    const running = parkDetachedThreadsLockHeld(rt, scope, requester);
    rt.headUnlock();
    if (running === 0) break;
    const left = deadline - performance.now();
    if (left <= 0) {
      const report = runningThreadStates(rt, scope, requester);
      endPause(rt, scope);
      throw new StopTheWorldError(scopeName(rt, scope), timeoutMs, report);
    }
    // Spin a while on the event word (cheap on an idle core), then sleep.
    while (spins < EVENT_SPINS && Atomics.load(i32, stw + STW_XEVENT) === seen) spins++;
    if (spins >= EVENT_SPINS) Atomics.wait(i32, stw + STW_XEVENT, seen, Math.min(RESCAN_MS, left));
  }
  Atomics.store(i32, stw + STW_XWORLD_STOPPED, 1);
}

/**
 * Park the scope's detached thread states and ask the attached ones to stop; returns how many
 * still run (CPython's `park_detached_threads`, counting instead of keeping a countdown).
 */
function parkDetachedThreadsLockHeld(rt: Runtime, scope: StwScope, requester: number): number {
  const i32 = rt.i32;
  let running = 0;
  forEachThreadStateLockHeld(rt, scope, (ts) => {
    if (ts === requester) return;
    const index = tstateStateIndex(ts);
    let state = Atomics.load(i32, index);
    if (state === DETACHED) {
      state = Atomics.compareExchange(i32, index, DETACHED, SUSPENDED);
      if (state === DETACHED) return;
    }
    if (state === ATTACHED) {
      tstateSetEvalBreakerBits(i32, ts, PLEASE_STOP_MASK);
      running++;
    }
  });
  return running;
}

function runningThreadStates(rt: Runtime, scope: StwScope, requester: number): ThreadStateReport[] {
  const i32 = rt.i32;
  const report: ThreadStateReport[] = [];
  rt.headLock();
  forEachThreadStateLockHeld(rt, scope, (ts) => {
    const state = Atomics.load(i32, tstateStateIndex(ts));
    if (ts === requester || state === SUSPENDED || state === SHUTTING_DOWN) return;
    report.push({
      id: tstateId(i32, ts),
      threadId: tstateThreadId(i32, ts),
      interpId: tstateInterpId(i32, ts),
      state: threadStateName(state as ThreadState),
    });
  });
  rt.headUnlock();
  return report;
}

/**
 * Resume every thread state that the pause of this thread parked (CPython's `start_the_world`).
 *
 * @throws ThreadStateError when this thread holds no pause.
 */
export function startTheWorld(rt: Runtime, scope: StwScope): void {
  if (rt.gilMode) return;
  const stw = stwOf(rt, scope);
  if (
    lockHolder(rt.i32, field(rt.record, RT_XSTW_LOCK)) !== rt.threadId ||
    Atomics.load(rt.i32, stw + STW_XREQUESTED) === 0
  ) {
    throw new ThreadStateError(
      `startTheWorld: this thread holds no stop-the-world pause of ${scopeName(rt, scope)}`,
    );
  }
  endPause(rt, scope);
}

/** Undo or end the pause of `scope`: resume parked states, clear the request, release the mutex. */
function endPause(rt: Runtime, scope: StwScope): void {
  const i32 = rt.i32;
  const stw = stwOf(rt, scope);
  rt.headLock();
  try {
    resumeLockHeld(rt, scope, stw);
  } finally {
    rt.headUnlock();
  }
  unlockWord(i32, field(rt.record, RT_XSTW_LOCK), field(rt.record, RT_XSTW_WAITERS), rt.threadId);
}

function resumeLockHeld(rt: Runtime, scope: StwScope, stw: number): void {
  const i32 = rt.i32;
  Atomics.store(i32, stw + STW_XREQUESTED, 0);
  Atomics.store(i32, stw + STW_XWORLD_STOPPED, 0);
  i32[stw + STW_REQUESTER] = 0;
  i32[stw + STW_REQUESTER_THREAD] = 0;
  forEachThreadStateLockHeld(rt, scope, (ts) => {
    tstateClearEvalBreakerBits(i32, ts, PLEASE_STOP_MASK);
    const index = tstateStateIndex(ts);
    if (Atomics.compareExchange(i32, index, SUSPENDED, DETACHED) === SUSPENDED) Atomics.notify(i32, index);
  });
}

/**
 * Undo the pause of a requester that died during it (cleanup after a dead worker): resume what it
 * parked and release the mutex it held. Returns true if there was one.
 */
export function endDeadRequestersPause(rt: Runtime, deadThreadId: number): boolean {
  const i32 = rt.i32;
  const lock = field(rt.record, RT_XSTW_LOCK);
  if (lockHolder(i32, lock) !== deadThreadId) return false;
  rt.headLock();
  try {
    const scopes: StwScope[] = [0, ...rt.interpreterRecordsLockHeld()];
    for (const scope of scopes) {
      const stw = stwOf(rt, scope);
      if (Atomics.load(i32, stw + STW_XREQUESTED) !== 0 && i32[stw + STW_REQUESTER_THREAD] === deadThreadId) {
        resumeLockHeld(rt, scope, stw);
      }
    }
  } finally {
    rt.headUnlock();
  }
  if (Atomics.compareExchange(i32, lock, deadThreadId, 0) === deadThreadId) Atomics.notify(i32, lock);
  return true;
}

/** Whether the pause of `scope` has stopped every thread in it. */
export function worldStopped(rt: Runtime, scope: StwScope): boolean {
  return Atomics.load(rt.i32, stwOf(rt, scope) + STW_XWORLD_STOPPED) !== 0;
}

/** Whether a pause that covers the interpreter at `interp` is requested (the runtime's or its own). */
export function stopRequestedLockHeld(rt: Runtime, interp: number): boolean {
  return (
    Atomics.load(rt.i32, runtimeStw(rt.record) + STW_XREQUESTED) !== 0 ||
    Atomics.load(rt.i32, interpStw(interp) + STW_XREQUESTED) !== 0
  );
}

/** Bump the event of every requested pause covering `interp` (a thread state left the scan). */
export function notifyPausesLockHeld(rt: Runtime, interp: number): void {
  const i32 = rt.i32;
  for (const stw of [runtimeStw(rt.record), interpStw(interp)]) {
    if (Atomics.load(i32, stw + STW_XREQUESTED) !== 0) {
      Atomics.add(i32, stw + STW_XEVENT, 1);
      Atomics.notify(i32, stw + STW_XEVENT);
    }
  }
}
