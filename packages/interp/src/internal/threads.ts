/**
 * Starting threads with a thread state, CPython's way (`threading` makes the new thread's state in
 * the parent and binds it in the child), on any platform's workers: the parent calls
 * {@link prepareThread} and passes the {@link ThreadData} to the new thread, which calls
 * {@link attachThread} first and {@link detachThread} last. If the thread dies in between (a worker
 * that exits or is terminated runs no cleanup), the parent calls {@link reapThread}: the arena
 * thread id the child wrote into the data names everything to clean up.
 */
import type { Interpreter } from "./interpreters.ts";
import { pyTypeName } from "./errors.ts";
import type { CleanupReport } from "./lifecycle.ts";
import { Runtime, type RuntimeRef } from "./runtime.ts";
import type { ThreadStateHandle } from "./tstate.ts";
import { TstateWhence } from "./tstate-layout.ts";

/** What a new thread needs (structured-cloneable). */
export interface ThreadData {
  /** The runtime to attach to. */
  readonly ref: RuntimeRef;
  /** The thread state made for the thread. */
  readonly tstate: number;
  /** Its id. */
  readonly tstateId: number;
  /** Word 0: the thread's arena thread id, written by `attachThread` (0 until then). */
  readonly slot: SharedArrayBuffer;
}

/** In the parent: make a thread state for a new thread, in `interpreter` (by default the caller's). */
export function prepareThread(runtime: Runtime, interpreter?: Interpreter | number): ThreadData {
  checkRuntime("prepareThread", runtime);
  const cur = runtime.currentThreadState();
  const interp =
    interpreter !== undefined
      ? runtime.resolveInterpreter(interpreter)
      : cur !== null
        ? cur.interp
        : runtime.mainInterpreterRecord;
  const ts = runtime.newThreadStateFor(interp, TstateWhence.THREADING, false);
  runtime.handles.delete(ts.record); // the new thread's, not this one's
  return { ref: runtime.ref, tstate: ts.record, tstateId: ts.id, slot: new SharedArrayBuffer(4) };
}

/** What {@link attachThread} gives the new thread. */
export interface AttachedThread {
  readonly runtime: Runtime;
  readonly threadState: ThreadStateHandle;
}

/** In the new thread: attach to the runtime, then bind and attach the thread state made for it. */
export function attachThread(
  data: ThreadData,
  options?: Parameters<typeof Runtime.attach>[1],
): AttachedThread {
  checkThreadData("attachThread", data);
  const runtime = Runtime.attach(data.ref, options);
  Atomics.store(new Int32Array(data.slot), 0, runtime.threadId);
  const threadState = runtime.threadState(data.tstate);
  if (threadState.id !== data.tstateId) {
    throw new Error(`attachThread: the thread state made for this thread (${data.tstateId}) is gone`);
  }
  threadState.bind();
  threadState.attach();
  return { runtime, threadState };
}

/** In the thread, last: clear and delete its thread states and detach from the arena. */
export function detachThread(runtime: Runtime): void {
  checkRuntime("detachThread", runtime);
  const cur = runtime.currentThreadState();
  if (cur !== null) {
    cur.clear();
    cur.deleteCurrent();
  }
  for (const ts of [...runtime.handles.values()]) {
    if (!ts.usable || !ts.alive) continue;
    ts.attach();
    ts.clear();
    ts.deleteCurrent();
  }
  runtime.arena.detach();
}

/**
 * In the parent, after the thread ended (normally or not): clean up whatever it left. Harmless
 * when it cleaned up itself.
 */
export function reapThread(runtime: Runtime, data: ThreadData): CleanupReport {
  checkRuntime("reapThread", runtime);
  checkThreadData("reapThread", data);
  const threadId = Atomics.load(new Int32Array(data.slot), 0);
  const report: CleanupReport =
    threadId !== 0 ? runtime.cleanupThread(threadId) : { threadStates: 0, tlds: 0, releasedLocks: false };
  const reaped = runtime.reapThreadState(data.tstate, data.tstateId);
  return reaped ? { ...report, threadStates: report.threadStates + 1 } : report;
}

function checkRuntime(fn: string, runtime: unknown): asserts runtime is Runtime {
  if (!(runtime instanceof Runtime)) {
    throw new TypeError(`${fn}: runtime must be a Runtime, got ${pyTypeName(runtime)}`);
  }
}

/** Throws unless `data` has the shape `prepareThread` gives (it may have crossed a worker boundary). */
function checkThreadData(fn: string, data: unknown): asserts data is ThreadData {
  const d = data as Partial<ThreadData> | null;
  if (
    typeof d !== "object" ||
    d === null ||
    typeof d.ref !== "object" ||
    d.ref === null ||
    typeof d.tstate !== "number" ||
    typeof d.tstateId !== "number" ||
    !(d.slot instanceof SharedArrayBuffer) ||
    d.slot.byteLength < 4
  ) {
    throw new TypeError(
      `${fn}: data must be the ThreadData prepareThread made ({ ref, tstate, tstateId, slot }), got ${pyTypeName(data)}`,
    );
  }
}
