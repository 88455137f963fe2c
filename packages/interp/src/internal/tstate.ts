/**
 * The thread-state handle (a per-thread JavaScript object over a thread-state record) and the
 * fast paths that run on every attach, detach and check point. Everything that waits or decides
 * lives in `pending.ts` (`attachWait`, `handlePendingGeneric`) and `gil.ts`; the fast paths here
 * are a compare-and-swap and a few plain stores each.
 *
 * The calling thread's current thread state (CPython's `_Py_tss_tstate`) is a module variable:
 * every worker has its own module instance, so it is thread-local by construction.
 */
import { HeapTag } from "@ft/pymem";
import { pyTypeName, ThreadStateError } from "./errors.ts";
import { runThreadStateHooks, type ThreadStateHookArgs } from "./hooks.ts";
import { gilMimallocOf, MimallocThreadState, setCurrentMimallocState } from "./mimalloc-state.ts";
import { clearThreadState, deleteThreadState } from "./lifecycle.ts";
import { attachWait, detachGeneric, handlePendingGeneric, notifyStopRequest } from "./pending.ts";
import { dropGil, takeGil } from "./gil.ts";
import { interpId as interpIdOf, interpPool } from "./runtime-layout.ts";
import type { Runtime } from "./runtime.ts";
import { ThreadState, type ThreadStateName, threadStateName } from "./thread-state.ts";
import {
  PLEASE_STOP_MASK,
  TSTATE_BOUND_MASK,
  TSTATE_CLEARED_MASK,
  tstateEvalBreakerIndex,
  tstateFlags,
  tstateGcState,
  tstateId,
  tstateIdIndex,
  tstateMimallocState,
  tstateSetFlags,
  tstateSetThreadId,
  tstateState,
  tstateStateIndex,
  tstateThreadId,
  tstateWhence,
  type TstateWhence,
} from "./tstate-layout.ts";

const { DETACHED, ATTACHED } = ThreadState;

/** The calling thread's attached thread state (any runtime), or null. */
let current: ThreadStateHandle | null = null;

/** The calling thread's attached thread state, or null (CPython's `PyThreadState_GetUnchecked`). */
export function currentThreadState(): ThreadStateHandle | null {
  return current;
}

/** @internal Set by the slow paths (`pending.ts`, `lifecycle.ts`) that attach or drop a state. */
export function setCurrent(ts: ThreadStateHandle | null): void {
  current = ts;
}

/**
 * A check point: long-running attached code and allocation slow paths call it regularly (CPython
 * checks its eval breaker between bytecodes). When a stop-the-world pause waits for this thread,
 * the thread suspends here until the world restarts; in GIL mode it hands the GIL over when
 * another thread has waited long enough. Costs one `Atomics.load` when nothing is pending; does
 * nothing on a thread without an attached thread state.
 */
export function checkpoint(): void {
  const ts = current;
  if (ts !== null && Atomics.load(ts.i32, ts.breakerIndex) !== 0) handlePendingGeneric(ts);
}

/**
 * A handle on one thread-state record, in one thread. The record is the state; the handle holds
 * its offset, cached word indices, and — on the thread the state is bound to — pymem's per-thread
 * mimalloc state. Make one with `runtime.newThreadState()` (a new record) or
 * `runtime.threadState(record)` (a record another thread made, e.g. for this worker).
 */
export class ThreadStateHandle {
  /** The runtime this state belongs to (this thread's handle on it). */
  readonly runtime: Runtime;
  /** Byte offset of the record in the arena. */
  readonly record: number;
  /** The unique id (never reused). */
  readonly id: number;
  /** The interpreter's record. */
  readonly interp: number;
  /** The interpreter's id. */
  readonly interpId: number;
  /** @internal The runtime's view of the header segment. */
  readonly i32: Int32Array;
  /** @internal Word index of the attach state. */
  readonly stateIndex: number;
  /** @internal Word index of the eval breaker. */
  readonly breakerIndex: number;
  /** @internal Word index of the id (a deleted, reused record has another id). */
  readonly idIndex: number;
  /** @internal Whether attach takes the interpreter's GIL. */
  readonly gil: boolean;
  /**
   * The pymem mimalloc state this thread allocates through. Free-threaded: the state's own, once
   * bound on this thread (null after clear). GIL mode: this thread's handle on the interpreter's
   * one shared state while the state is attached (holding the GIL), null while detached.
   */
  mimalloc: MimallocThreadState | null = null;
  /** @internal Bound to this thread and not cleared. */
  usable = false;

  /** @internal Use `runtime.newThreadState()` / `runtime.threadState(record)`. */
  constructor(runtime: Runtime, record: number) {
    const i32 = runtime.i32;
    this.runtime = runtime;
    this.record = record;
    this.id = tstateId(i32, record);
    this.interp = runtime.interpOfThreadState(record);
    this.interpId = interpIdOf(i32, this.interp);
    this.i32 = i32;
    this.stateIndex = tstateStateIndex(record);
    this.breakerIndex = tstateEvalBreakerIndex(record);
    this.idIndex = tstateIdIndex(record);
    this.gil = runtime.gilMode;
  }

  /** The attach state. */
  get state(): ThreadState {
    return tstateState(this.i32, this.record);
  }

  /** The attach state's name. */
  get stateName(): ThreadStateName {
    return threadStateName(this.state);
  }

  /** The arena thread id of the bound thread (0 = unbound). */
  get threadId(): number {
    return tstateThreadId(this.i32, this.record);
  }

  /** Whether the state was bound to a thread. */
  get bound(): boolean {
    return (tstateFlags(this.i32, this.record) & TSTATE_BOUND_MASK) !== 0;
  }

  /** Whether the state was cleared (only `delete()` remains). */
  get cleared(): boolean {
    return (tstateFlags(this.i32, this.record) & TSTATE_CLEARED_MASK) !== 0;
  }

  /** Whether the record still holds this state (it was not deleted). */
  get alive(): boolean {
    return this.i32[this.idIndex] >>> 0 === this.id;
  }

  /** Whether this is the calling thread's attached thread state. */
  get isCurrent(): boolean {
    return current === this;
  }

  /** Why the state was made. */
  get whence(): TstateWhence {
    return tstateWhence(this.i32, this.record);
  }

  /** Byte offset of the collector's per-thread region. */
  get gcState(): number {
    return tstateGcState(this.record);
  }

  /**
   * Bind the state to the calling thread (CPython's `bind_tstate`): record the thread, initialise
   * pymem's per-thread mimalloc state (a tld and four heaps, bound to the interpreter's abandoned
   * pool; free-threaded runtimes only), then run the `bindThreadState` hooks.
   *
   * @throws ThreadStateError when the state is bound already, deleted, or when this thread already
   *   has a live thread state in the same interpreter (several per thread only for several interpreters).
   */
  bind(): void {
    const i32 = this.i32;
    if (!this.alive) throw new ThreadStateError(`bind: thread state ${this.id} was deleted`);
    const flags = tstateFlags(i32, this.record);
    if ((flags & TSTATE_BOUND_MASK) !== 0) {
      throw new ThreadStateError(
        `bind: thread state ${this.id} is already bound to thread ${this.threadId}; a thread state is bound once`,
      );
    }
    const other = this.runtime.liveThreadStateIn(this.interp);
    if (other !== null) {
      throw new ThreadStateError(
        `bind: thread ${this.runtime.threadId} already has thread state ${other.id} in interpreter ${this.interpId}; ` +
          "a thread has several thread states only for several interpreters",
      );
    }
    tstateSetThreadId(i32, this.record, this.runtime.threadId);
    if (!this.gil) {
      this.mimalloc = MimallocThreadState.init(
        this.runtime.arena,
        tstateMimallocState(this.record),
        interpPool(i32, this.interp),
      );
    }
    tstateSetFlags(i32, this.record, TSTATE_BOUND_MASK);
    this.usable = true;
    runThreadStateHooks("bindThreadState", this.hookArgs(true));
  }

  /**
   * Attach the state to the calling thread (CPython's `_PyThreadState_Attach`): in GIL mode take the
   * interpreter's lock; move DETACHED → ATTACHED, waiting while a stop-the-world pause holds the
   * state SUSPENDED; make it (and its mimalloc state: in GIL mode the interpreter's shared one)
   * current. A pending request is handled at once.
   *
   * @throws ThreadStateError when this thread already has an attached state (use `swap`), when the
   *   state is not bound to this thread, was cleared or deleted, or its interpreter is finalizing.
   */
  attach(): void {
    if (current !== null || !this.usable || this.i32[this.idIndex] >>> 0 !== this.id) attachRefused(this);
    const i32 = this.i32;
    if (this.gil) takeGil(this);
    if (Atomics.compareExchange(i32, this.stateIndex, DETACHED, ATTACHED) !== DETACHED) attachWait(this);
    current = this;
    if (this.gil) this.mimalloc = gilMimallocOf(this); // the GIL is held: the interpreter's state is ours
    if (this.mimalloc !== null) setCurrentMimallocState(this.mimalloc);
    if (Atomics.load(i32, this.breakerIndex) !== 0) handlePendingGeneric(this);
  }

  /**
   * Detach the state from the calling thread (CPython's `_PyThreadState_Detach`): ATTACHED →
   * DETACHED, no current state, and in GIL mode release the interpreter's lock. A detached thread
   * may not touch objects or allocate through the state's heaps.
   *
   * @throws ThreadStateError when the state is not the calling thread's attached state.
   */
  detach(): void {
    if (current !== this) detachRefused(this);
    const i32 = this.i32;
    current = null;
    if (this.mimalloc !== null) setCurrentMimallocState(null);
    if (this.gil) this.mimalloc = null; // before the GIL goes: the shared state is the next holder's
    if (Atomics.compareExchange(i32, this.stateIndex, ATTACHED, DETACHED) !== ATTACHED) detachGeneric(this);
    if ((Atomics.load(i32, this.breakerIndex) & PLEASE_STOP_MASK) !== 0) notifyStopRequest(this);
    if (this.gil) dropGil(this);
  }

  /**
   * Make `next` the calling thread's attached state (CPython's `PyThreadState_Swap`): detach the
   * current one, if any, then attach `next` (or nothing). Returns the state that was current.
   */
  static swap(next: ThreadStateHandle | null): ThreadStateHandle | null {
    if (next !== null && !(next instanceof ThreadStateHandle)) {
      throw new TypeError(`swap: next must be a ThreadStateHandle or null, got ${pyTypeName(next)}`);
    }
    const previous = current;
    if (previous !== null) previous.detach();
    if (next !== null) {
      try {
        next.attach();
      } catch (e) {
        if (previous !== null) previous.attach();
        throw e;
      }
    }
    return previous;
  }

  /**
   * Clear the state (CPython's `PyThreadState_Clear`): run the `clearThreadState` hooks (the
   * collector's per-thread free lists and refcounts), then abandon its heaps into the
   * interpreter's pool, so their objects stay visible to the collector and are reclaimed only by
   * that interpreter's threads. Works from any thread, with the rule of gh-112723: the caller must
   * be attached, to a thread state of the same interpreter. Another thread's state must not be
   * attached; it becomes SHUTTING_DOWN and can never attach again.
   *
   * @throws ThreadStateError, with nothing cleared, when the caller is detached or in another
   *   interpreter, when the state is attached by another thread, or was cleared already.
   */
  clear(): void {
    clearThreadState(this);
  }

  /**
   * Delete the state (CPython's `PyThreadState_Delete`): unlink it from its interpreter and free
   * the record. It must be cleared, and not be the calling thread's current state (use
   * `deleteCurrent`).
   */
  delete(): void {
    deleteThreadState(this, false);
  }

  /**
   * Delete the calling thread's current state (`_PyThreadState_DeleteCurrent`): it must be cleared;
   * the thread is left without a current state and, in GIL mode, releases the GIL.
   */
  deleteCurrent(): void {
    deleteThreadState(this, true);
  }

  /**
   * The heap with `tag` of the mimalloc state this thread allocates through (convenience for tests
   * and tools): the bound state's own, or in GIL mode the interpreter's shared one while attached.
   */
  heap(tag: HeapTag = HeapTag.OBJECT) {
    if (!this.alive || this.cleared) {
      // Another thread may have cleared (and deleted) the state: its heaps are abandoned.
      this.mimalloc = null;
      throw new ThreadStateError(
        `heap: thread state ${this.id} was ${this.alive ? "cleared" : "deleted"} (by this or another thread); its heaps are abandoned`,
      );
    }
    if (this.mimalloc === null) {
      throw new ThreadStateError(
        `heap: thread state ${this.id} has no mimalloc state on this thread (not bound here, cleared, or in GIL mode not attached)`,
      );
    }
    return this.mimalloc.heap(tag);
  }

  /** @internal What the thread-state hooks are told. */
  hookArgs(bound: boolean): ThreadStateHookArgs {
    return {
      arena: this.runtime.arena,
      tstate: this.record,
      id: this.id,
      interp: this.interp,
      gcState: this.gcState,
      bound,
    };
  }

  toString(): string {
    return `ThreadState(${this.id}, interpreter ${this.interpId}, ${this.alive ? this.stateName : "deleted"})`;
  }
}

function attachRefused(ts: ThreadStateHandle): never {
  if (!ts.alive) throw new ThreadStateError(`attach: thread state ${ts.id} was deleted`);
  if (current === ts) {
    throw new ThreadStateError(`attach: thread state ${ts.id} is already attached on this thread`);
  }
  if (ts.cleared)
    throw new ThreadStateError(`attach: thread state ${ts.id} was cleared; only delete() remains`);
  if (current !== null) {
    throw new ThreadStateError(
      `attach: this thread already has thread state ${current.id} attached (interpreter ${current.interpId}); ` +
        `detach it first, or use ThreadStateHandle.swap()`,
    );
  }
  const tid = ts.threadId;
  if (tid === 0) {
    throw new ThreadStateError(
      `attach: thread state ${ts.id} is not bound; call bind() on the thread that will use it`,
    );
  }
  throw new ThreadStateError(
    `attach: thread state ${ts.id} is bound to thread ${tid}, not to this thread (${ts.runtime.threadId})`,
  );
}

function detachRefused(ts: ThreadStateHandle): never {
  throw new ThreadStateError(
    current === null
      ? `detach: thread state ${ts.id} is not attached on this thread (this thread has no attached thread state)`
      : `detach: thread state ${ts.id} is not attached on this thread (thread state ${current.id} is)`,
  );
}
