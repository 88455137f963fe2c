/**
 * The runtime handle (CPython's `_PyRuntime`, one per arena): a per-thread JavaScript object over
 * the runtime record. `Runtime.create` makes the records, the main interpreter (id 0) and the
 * creating thread's main thread state (bound and attached, as `Py_Initialize` leaves it); a
 * worker that receives `runtime.ref` calls `Runtime.attach(ref)` and then makes or binds a thread
 * state. HEAD_LOCK (a lock word in the runtime record) guards the interpreter table and every
 * interpreter's thread list.
 */
import { Arena, SEGMENT_SIZE } from "@ft/mimalloc";
import { InterpreterError, pyTypeName, ThreadStateError } from "./errors.ts";
import { type InterpreterHookArgs, runInterpreterHooks } from "./hooks.ts";
import type { InterpreterHost, OutputWriter } from "./host.ts";
import {
  createInterpreter,
  getCurrentInterpreter,
  getMainInterpreter,
  Interpreter,
  interpreterById,
  listAllInterpreters,
} from "./interpreters.ts";
import { cleanupThread, type CleanupReport, finalizeRuntime, reapThreadState } from "./lifecycle.ts";
import { lockWord, unlockWord } from "./lock.ts";
import { gilMimallocCreate, gilMimallocDestroy, type MimallocThreadState } from "./mimalloc-state.ts";
import { createQueue, type Queue, type QueueOptions, queueById } from "./queue.ts";
import {
  field,
  INTERP_DEAD_MASK,
  INTERP_FINALIZING_MASK,
  INTERP_READY_MASK,
  INTERP_SIZE,
  interpFlags,
  interpGcState,
  interpId,
  interpSetFlags,
  interpSetThreads,
  interpThreads,
  InterpWhence,
  IS_ID,
  IS_POOL,
  IS_WHENCE,
  RT_FLAGS,
  RT_INTERP_TABLE,
  RT_MAGIC,
  RT_MAIN_INTERP,
  RT_XHEAD_LOCK,
  RT_XHEAD_WAITERS,
  RT_XNEXT_INTERP_ID,
  RT_XNEXT_TSTATE_ID,
  RT_XSTATUS,
  RUNTIME_FINALIZED,
  RUNTIME_GIL_MODE_MASK,
  RUNTIME_MAGIC,
  RUNTIME_SIZE,
  TABLE_CAPACITY,
  TABLE_COUNT,
  TABLE_ENTRIES,
  TABLE_SIZE,
} from "./runtime-layout.ts";
import {
  type StwScope,
  startTheWorld,
  stopRequestedLockHeld,
  stopTheWorld,
  worldStopped,
} from "./stoptheworld.ts";
import { ThreadState } from "./thread-state.ts";
import { currentThreadState, ThreadStateHandle } from "./tstate.ts";
import {
  TSTATE_SIZE,
  tstateInit,
  tstateInterp,
  tstateIsValid,
  tstateNext,
  tstatePrev,
  tstateSetNext,
  tstateSetPrev,
  tstateStoreState,
  TstateWhence,
} from "./tstate-layout.ts";

/** How a runtime runs its threads. */
export type RuntimeMode = "free-threaded" | "gil";

/** What a worker needs to attach to a runtime: structured-cloneable, post it to the worker. */
export interface RuntimeRef {
  /** The arena's buffer. */
  readonly buffer: SharedArrayBuffer;
  /** The runtime record's byte offset. */
  readonly runtime: number;
}

/** Options of {@link Runtime.create} (and, for the per-thread ones, {@link Runtime.attach}). */
export interface RuntimeOptions {
  /**
   * Free-threaded (threads run at once; stop-the-world for the collector) or GIL mode (attach takes
   * the interpreter's lock; no per-thread mimalloc state: each interpreter has one, used by the
   * GIL holder, as CPython 3.12's per-interpreter obmalloc state). Chosen at creation.
   * @defaultValue "free-threaded"
   */
  mode?: RuntimeMode;
  /** An arena created by this thread to put the runtime in; by default a new one. */
  arena?: Arena;
  /** `Arena.create`'s `maxBytes` for a new arena. @defaultValue 256 MiB */
  maxBytes?: number;
  /** `Arena.create`'s `checks` for a new arena. @defaultValue false */
  checks?: boolean;
  /** How long a stop-the-world request waits for attached threads (ms). @defaultValue 5000 */
  stopTimeoutMs?: number;
  /** Where subinterpreters run code (per thread); by default the Node host (`vm` contexts, workers). */
  host?: InterpreterHost;
  /** Where a subinterpreter's `console.log` / `print` output goes. @defaultValue the host's standard output */
  stdout?: OutputWriter;
  /** Where a subinterpreter's `console.error` output and uncaught thread errors go. @defaultValue standard error */
  stderr?: OutputWriter;
}

let defaultHost: InterpreterHost | null = null;

/** Set the host that runtimes use when `RuntimeOptions.host` is not given (the package entry sets the Node host). */
export function setDefaultInterpreterHost(host: InterpreterHost | null): void {
  defaultHost = host;
}

const DEFAULT_STOP_TIMEOUT_MS = 5000;

export class Runtime {
  /** This thread's handle on the arena. */
  readonly arena: Arena;
  /** The runtime record. */
  readonly record: number;
  /**
   * An int32 view over the arena's header segment, where every record of the runtime lives
   * (records never move, so the view is never re-created).
   */
  readonly i32: Int32Array;
  /** GIL mode (see {@link RuntimeOptions.mode}). */
  readonly gilMode: boolean;
  /** This thread's arena thread id. */
  readonly threadId: number;
  /** Default timeout of stop-the-world requests (ms). */
  readonly stopTimeoutMs: number;
  /** @internal Subinterpreter host and output. */
  readonly host: InterpreterHost | null;
  /** @internal */
  readonly stdout: OutputWriter | undefined;
  /** @internal */
  readonly stderr: OutputWriter | undefined;
  /** @internal This thread's thread-state handles, by record. */
  readonly handles = new Map<number, ThreadStateHandle>();
  /** @internal This thread's interpreter objects, one per id (CPython's `_known`). */
  readonly interpreterObjects = new Map<number, Interpreter>();
  /** @internal This thread's queue objects, one per id. */
  readonly queueObjects = new Map<number, Queue>();
  /** @internal This thread's `__main__` namespaces, by interpreter id. */
  readonly mains = new Map<number, unknown>();
  /**
   * @internal GIL mode: this thread's handles on the interpreters' shared mimalloc states, by
   * interpreter record, with the owner id they were made for (see `gilMimallocOf`).
   */
  readonly gilMimallocHandles = new Map<number, { owner: number; state: MimallocThreadState }>();

  private constructor(arena: Arena, record: number, options: RuntimeOptions) {
    this.arena = arena;
    this.record = record;
    this.i32 = new Int32Array(arena.buffer, 0, SEGMENT_SIZE >> 2);
    this.gilMode = (this.i32[field(record, RT_FLAGS)] & RUNTIME_GIL_MODE_MASK) !== 0;
    this.threadId = arena.threadId;
    this.stopTimeoutMs = checkTimeout("stopTimeoutMs", options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    this.host = options.host ?? defaultHost;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
  }

  /**
   * Create a runtime in a new arena (or `options.arena`): the runtime record, the interpreter
   * table, the main interpreter (id 0, with its own abandoned pool) and the calling thread's main
   * thread state, bound and attached. A thread state of another runtime attached on this thread
   * is detached first.
   */
  static create(options: RuntimeOptions = {}): Runtime {
    checkRuntimeOptions("Runtime.create", options);
    const mode = options.mode ?? "free-threaded";
    if (mode !== "free-threaded" && mode !== "gil") {
      throw new TypeError(
        `Runtime.create: mode must be "free-threaded" or "gil", got ${JSON.stringify(mode)}`,
      );
    }
    const arena =
      options.arena ?? Arena.create({ maxBytes: options.maxBytes ?? 256 << 20, checks: options.checks });
    const record = allocRecord(arena, RUNTIME_SIZE, "the runtime");
    const table = allocRecord(arena, TABLE_SIZE, "the interpreter table");
    const i32 = new Int32Array(arena.buffer, 0, SEGMENT_SIZE >> 2);
    i32[field(record, RT_FLAGS)] = mode === "gil" ? RUNTIME_GIL_MODE_MASK : 0;
    i32[field(record, RT_XNEXT_TSTATE_ID)] = 1;
    i32[field(record, RT_INTERP_TABLE)] = table;
    const rt = new Runtime(arena, record, options);
    const main = rt.newInterpreterRecord(InterpWhence.RUNTIME);
    i32[field(record, RT_MAIN_INTERP)] = main;
    Atomics.store(i32, field(record, RT_MAGIC), RUNTIME_MAGIC);
    const ts = rt.newThreadStateFor(main, TstateWhence.INIT, false);
    ts.bind();
    ThreadStateHandle.swap(ts);
    return rt;
  }

  /**
   * Attach the calling thread (a worker) to the runtime `ref` names. The thread has no thread
   * state yet: bind one made for it (`threadState(record).bind()`), or make one
   * (`ensureThreadState()`).
   *
   * @throws TypeError when `ref` does not name a runtime.
   */
  static attach(
    ref: RuntimeRef,
    options: Omit<RuntimeOptions, "mode" | "maxBytes" | "checks"> = {},
  ): Runtime {
    if (typeof ref !== "object" || ref === null || !(ref.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError(`Runtime.attach: ref must be a runtime's \`ref\` ({ buffer, runtime }), got ${pyTypeName(ref)}`);
    }
    checkRuntimeOptions("Runtime.attach", options);
    if (options.arena !== undefined && options.arena.buffer !== ref.buffer) {
      throw new TypeError("Runtime.attach: options.arena is not attached to ref.buffer");
    }
    const arena = options.arena ?? Arena.attach(ref.buffer);
    const record = ref.runtime;
    const i32 = new Int32Array(arena.buffer, 0, SEGMENT_SIZE >> 2);
    if (
      !Number.isInteger(record) ||
      record <= 0 ||
      (record & 63) !== 0 ||
      record >= SEGMENT_SIZE ||
      Atomics.load(i32, field(record, RT_MAGIC)) !== RUNTIME_MAGIC
    ) {
      throw new TypeError(`Runtime.attach: no runtime record at ${String(record)} in this arena`);
    }
    if (Atomics.load(i32, field(record, RT_XSTATUS)) === RUNTIME_FINALIZED) {
      throw new InterpreterError("Runtime.attach: the runtime was finalized");
    }
    return new Runtime(arena, record, options);
  }

  /** What a worker needs to attach (post it to the worker). */
  get ref(): RuntimeRef {
    return { buffer: this.arena.buffer, runtime: this.record };
  }

  /** The runtime's mode. */
  get mode(): RuntimeMode {
    return this.gilMode ? "gil" : "free-threaded";
  }

  /** Whether `finalize()` has run. */
  get finalized(): boolean {
    return Atomics.load(this.i32, field(this.record, RT_XSTATUS)) === RUNTIME_FINALIZED;
  }

  /** Throws InterpreterError naming `fn` once `finalize()` has run: nothing may be made or stopped. */
  private checkNotFinalized(fn: string): void {
    if (this.finalized) throw new InterpreterError(`${fn}: the runtime was finalized`);
  }

  // ------------------------------------------------------------------------------ HEAD_LOCK

  /** Take HEAD_LOCK (CPython's `HEAD_LOCK(runtime)`). Critical sections are short and never wait. */
  headLock(): void {
    lockWord(
      this.i32,
      field(this.record, RT_XHEAD_LOCK),
      field(this.record, RT_XHEAD_WAITERS),
      this.threadId,
    );
  }

  /** Release HEAD_LOCK. */
  headUnlock(): void {
    unlockWord(
      this.i32,
      field(this.record, RT_XHEAD_LOCK),
      field(this.record, RT_XHEAD_WAITERS),
      this.threadId,
    );
  }

  // ------------------------------------------------------------------------------ interpreter records

  /** The main interpreter's record. */
  get mainInterpreterRecord(): number {
    return this.i32[field(this.record, RT_MAIN_INTERP)] >>> 0;
  }

  /** @internal The interpreter records in creation order. Hold HEAD_LOCK. */
  interpreterRecordsLockHeld(): number[] {
    const i32 = this.i32;
    const table = i32[field(this.record, RT_INTERP_TABLE)];
    const count = i32[(table >> 2) + TABLE_COUNT];
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = i32[(table >> 2) + TABLE_ENTRIES + i] >>> 0;
    return out;
  }

  /** The interpreter records in creation order (a snapshot). */
  interpreterRecords(): number[] {
    this.headLock();
    try {
      return this.interpreterRecordsLockHeld();
    } finally {
      this.headUnlock();
    }
  }

  /** The record of the live interpreter with `id`, or 0. */
  findInterpreterRecord(id: number): number {
    for (const interp of this.interpreterRecords()) {
      if (interpId(this.i32, interp) === id && (interpFlags(this.i32, interp) & INTERP_DEAD_MASK) === 0)
        return interp;
    }
    return 0;
  }

  /**
   * @internal Make an interpreter record (CPython's `_PyInterpreterState_New` + init): a new id,
   * its own abandoned pool (and, in GIL mode, its one mimalloc state bound to that pool), the
   * `initInterpreter` hooks, then READY.
   */
  newInterpreterRecord(whence: InterpWhence): number {
    const arena = this.arena;
    const i32 = this.i32;
    const interp = allocRecord(arena, INTERP_SIZE, "an interpreter");
    const pool = arena.poolNew();
    i32[field(interp, IS_POOL)] = pool;
    i32[field(interp, IS_WHENCE)] = whence;
    if (this.gilMode) gilMimallocCreate(this, interp);
    const table = i32[field(this.record, RT_INTERP_TABLE)];
    let id: number;
    this.headLock();
    try {
      const count = i32[(table >> 2) + TABLE_COUNT];
      if (count >= TABLE_CAPACITY) {
        gilMimallocDestroy(this, interp);
        arena.poolDestroy(pool);
        arena.recordFree(interp, INTERP_SIZE);
        throw new InterpreterError(
          `interpreter creation failed: the interpreter table is full (${TABLE_CAPACITY} interpreters exist)`,
        );
      }
      id = Atomics.add(i32, field(this.record, RT_XNEXT_INTERP_ID), 1);
      i32[field(interp, IS_ID)] = id;
      i32[(table >> 2) + TABLE_ENTRIES + count] = interp;
      i32[(table >> 2) + TABLE_COUNT] = count + 1;
    } finally {
      this.headUnlock();
    }
    runInterpreterHooks("initInterpreter", this.interpreterHookArgs(interp));
    interpSetFlags(i32, interp, INTERP_READY_MASK);
    return interp;
  }

  /** @internal Remove an interpreter from the table and mark it DEAD. Hold HEAD_LOCK. */
  removeInterpreterLockHeld(interp: number): void {
    const i32 = this.i32;
    const table = i32[field(this.record, RT_INTERP_TABLE)] >> 2;
    const count = i32[table + TABLE_COUNT];
    let at = -1;
    for (let i = 0; i < count; i++) if (i32[table + TABLE_ENTRIES + i] >>> 0 === interp) at = i;
    if (at < 0) return;
    i32.copyWithin(table + TABLE_ENTRIES + at, table + TABLE_ENTRIES + at + 1, table + TABLE_ENTRIES + count);
    i32[table + TABLE_ENTRIES + count - 1] = 0;
    i32[table + TABLE_COUNT] = count - 1;
    interpSetFlags(i32, interp, INTERP_DEAD_MASK);
  }

  /** @internal What the interpreter hooks are told. */
  interpreterHookArgs(interp: number): InterpreterHookArgs {
    return { arena: this.arena, interp, id: interpId(this.i32, interp), gcState: interpGcState(interp) };
  }

  // ------------------------------------------------------------------------------ thread lists

  /** @internal First thread state of `interp`'s list. Hold HEAD_LOCK. */
  firstThreadStateLockHeld(interp: number): number {
    return interpThreads(this.i32, interp);
  }

  /** The thread-state records of `interp` (a snapshot, newest first). */
  threadStateRecords(interp: number = this.mainInterpreterRecord): number[] {
    const out: number[] = [];
    this.headLock();
    try {
      for (let ts = interpThreads(this.i32, interp); ts !== 0; ts = tstateNext(this.i32, ts)) out.push(ts);
    } finally {
      this.headUnlock();
    }
    return out;
  }

  /** @internal Push `ts` onto `interp`'s list. Hold HEAD_LOCK. */
  linkThreadStateLockHeld(interp: number, ts: number): void {
    const i32 = this.i32;
    const head = interpThreads(i32, interp);
    tstateSetPrev(i32, ts, 0);
    tstateSetNext(i32, ts, head);
    if (head !== 0) tstateSetPrev(i32, head, ts);
    interpSetThreads(i32, interp, ts);
  }

  /** @internal Unlink `ts` from `interp`'s list. Hold HEAD_LOCK. */
  unlinkThreadStateLockHeld(interp: number, ts: number): void {
    const i32 = this.i32;
    const next = tstateNext(i32, ts);
    const prev = tstatePrev(i32, ts);
    if (prev !== 0) tstateSetNext(i32, prev, next);
    else if (interpThreads(i32, interp) === ts) interpSetThreads(i32, interp, next);
    if (next !== 0) tstateSetPrev(i32, next, prev);
    tstateSetNext(i32, ts, 0);
    tstateSetPrev(i32, ts, 0);
  }

  /** @internal The interpreter record of a thread-state record. */
  interpOfThreadState(record: number): number {
    return tstateInterp(this.i32, record);
  }

  // ------------------------------------------------------------------------------ thread states

  /**
   * Make a thread state for an interpreter (CPython's `_PyThreadState_New`): a new record linked
   * onto the interpreter's list, DETACHED (SUSPENDED while a pause covering it is on), not bound.
   * Bind it on the thread that will use it. Several per thread only for several interpreters.
   *
   * @param interpreter - an `Interpreter`, an interpreter id, or (default) the main interpreter.
   * @throws InterpreterNotFoundError / InterpreterError for an unknown or finalizing interpreter.
   */
  newThreadState(
    interpreter?: Interpreter | number,
    whence: TstateWhence = TstateWhence.CAPI,
  ): ThreadStateHandle {
    this.checkNotFinalized("newThreadState");
    const interp =
      interpreter === undefined ? this.mainInterpreterRecord : this.resolveInterpreter(interpreter);
    if (typeof whence !== "number" || !TSTATE_WHENCES.includes(whence)) {
      throw new RangeError(
        `newThreadState: whence must be a TstateWhence (0 … ${TSTATE_WHENCES.length - 1}), got ${typeof whence === "number" ? whence : pyTypeName(whence)}`,
      );
    }
    return this.newThreadStateFor(interp, whence, false);
  }

  /** @internal Make a thread state for the interpreter record `interp`; `finalizing` allows one during finalization. */
  newThreadStateFor(interp: number, whence: TstateWhence, finalizing: boolean): ThreadStateHandle {
    const i32 = this.i32;
    const record = allocRecord(this.arena, TSTATE_SIZE, "a thread state");
    const id = Atomics.add(i32, field(this.record, RT_XNEXT_TSTATE_ID), 1);
    tstateInit(i32, record, id, interpId(i32, interp), interp, whence);
    this.headLock();
    try {
      const flags = interpFlags(i32, interp);
      if ((flags & INTERP_DEAD_MASK) !== 0 || ((flags & INTERP_FINALIZING_MASK) !== 0 && !finalizing)) {
        this.arena.recordFree(record, TSTATE_SIZE);
        throw new InterpreterError(
          `cannot make a thread state for interpreter ${interpId(i32, interp)}: it is finalizing`,
        );
      }
      if (stopRequestedLockHeld(this, interp)) tstateStoreState(i32, record, ThreadState.SUSPENDED);
      this.linkThreadStateLockHeld(interp, record);
    } finally {
      this.headUnlock();
    }
    const handle = new ThreadStateHandle(this, record);
    this.handles.set(record, handle);
    return handle;
  }

  /**
   * A handle on an existing thread-state record, e.g. one the parent made for this worker
   * (CPython's `threading` makes the state in the parent and binds it in the new thread).
   *
   * @throws ThreadStateError when `record` holds no thread state.
   */
  threadState(record: number): ThreadStateHandle {
    const known = this.handles.get(record);
    if (known?.alive) return known;
    if (
      !Number.isInteger(record) ||
      record <= 0 ||
      record >= SEGMENT_SIZE ||
      (record & 63) !== 0 ||
      !tstateIsValid(this.i32, record) ||
      this.interpOfThreadState(record) === 0
    ) {
      throw new ThreadStateError(`threadState: no thread state at ${String(record)}`);
    }
    const handle = new ThreadStateHandle(this, record);
    this.handles.set(record, handle);
    return handle;
  }

  /** This thread's attached thread state in this runtime, or null. */
  currentThreadState(): ThreadStateHandle | null {
    const ts = currentThreadState();
    return ts !== null && ts.runtime === this ? ts : null;
  }

  /**
   * Make sure the calling thread has an attached thread state in this runtime (CPython's
   * `PyGILState_Ensure`): the current one, else a bound detached one of this thread in the
   * interpreter, attached, else a new one made, bound and attached.
   */
  ensureThreadState(interpreter?: Interpreter | number): ThreadStateHandle {
    this.checkNotFinalized("ensureThreadState");
    const interp =
      interpreter === undefined ? this.mainInterpreterRecord : this.resolveInterpreter(interpreter);
    const cur = this.currentThreadState();
    if (cur !== null && cur.interp === interp) return cur;
    let ts = this.liveThreadStateIn(interp);
    if (ts === null) {
      ts = this.newThreadStateFor(interp, TstateWhence.CAPI, false);
      ts.bind();
    }
    ThreadStateHandle.swap(ts);
    return ts;
  }

  /** @internal A live thread state bound to this thread in `interp`, or null. */
  liveThreadStateIn(interp: number): ThreadStateHandle | null {
    for (const ts of this.handles.values()) {
      if (ts.usable && ts.interp === interp && ts.alive) return ts;
    }
    return null;
  }

  // ------------------------------------------------------------------------------ stop-the-world

  /**
   * Stop every thread of an interpreter but the caller (CPython's `_PyEval_StopTheWorld`): detached
   * threads are parked, attached ones stop at their next `checkpoint()`. Returns when none of them
   * runs; end the pause with `startTheWorld` (same interpreter). A no-op in GIL mode.
   *
   * @param interpreter - an `Interpreter` or id; by default the calling thread's current interpreter.
   * @throws StopTheWorldError naming the threads that did not stop within the timeout (the pause is undone).
   */
  stopTheWorld(interpreter?: Interpreter | number, options: { timeoutMs?: number } = {}): void {
    checkOptionsObject("stopTheWorld", options);
    this.checkNotFinalized("stopTheWorld");
    stopTheWorld(
      this,
      this.scopeOf(interpreter),
      checkTimeout("timeoutMs", options.timeoutMs ?? this.stopTimeoutMs),
    );
  }

  /** End the pause `stopTheWorld(interpreter)` began: every parked thread may attach again. */
  startTheWorld(interpreter?: Interpreter | number): void {
    startTheWorld(this, this.scopeOf(interpreter));
  }

  /** Stop every thread of every interpreter but the caller (CPython's `_PyEval_StopTheWorldAll`). */
  stopTheWorldAll(options: { timeoutMs?: number } = {}): void {
    checkOptionsObject("stopTheWorldAll", options);
    this.checkNotFinalized("stopTheWorldAll");
    stopTheWorld(this, 0, checkTimeout("timeoutMs", options.timeoutMs ?? this.stopTimeoutMs));
  }

  /** End the pause `stopTheWorldAll` began. */
  startTheWorldAll(): void {
    startTheWorld(this, 0);
  }

  /** Whether a pause of the interpreter (or, without argument, of the whole runtime) has stopped every thread. */
  isWorldStopped(interpreter?: Interpreter | number): boolean {
    return worldStopped(this, interpreter === undefined ? 0 : this.resolveInterpreter(interpreter));
  }

  private scopeOf(interpreter: Interpreter | number | undefined): StwScope {
    if (interpreter !== undefined) return this.resolveInterpreter(interpreter);
    const cur = this.currentThreadState();
    return cur !== null ? cur.interp : this.mainInterpreterRecord;
  }

  // ------------------------------------------------------------------------------ lifecycle

  /**
   * Finalize the runtime (CPython's `Py_FinalizeEx`), from the thread that holds the main
   * interpreter's attached thread state: close every subinterpreter, stop the world, mark every
   * other thread state SHUTTING_DOWN, restart the world, then clear (abandoning their heaps into
   * their interpreter's pool) and delete them from this thread, and finally the calling thread's
   * own state. The arena stays readable; nothing may attach afterwards.
   */
  finalize(): void {
    finalizeRuntime(this);
  }

  /**
   * Clean up after a worker that exited or was terminated (it ran no cleanup of its own): every
   * thread state bound to arena thread `threadId` is marked SHUTTING_DOWN, cleared from this thread
   * in its interpreter (its heaps go to the interpreter's pool with their blocks intact) and
   * deleted; locks it held are released, a pause it requested is undone, and its arena default
   * heaps are abandoned. Precondition: that thread runs no more code of this runtime.
   */
  cleanupThread(threadId: number): CleanupReport {
    return cleanupThread(this, threadId);
  }

  /**
   * Remove a thread state whose thread died before binding it (or any state of a dead thread),
   * given its record and id. Does nothing when the record no longer holds that state.
   */
  reapThreadState(record: number, id: number): boolean {
    return reapThreadState(this, record, id);
  }

  // ------------------------------------------------------------------------------ subinterpreters (concurrent.interpreters)

  /** A new, idle interpreter (CPython's `interpreters.create()`), with its own abandoned pool. */
  create(): Interpreter {
    this.checkNotFinalized("create");
    return createInterpreter(this);
  }

  /** Every interpreter, in creation order (`interpreters.list_all()`). */
  listAll(): Interpreter[] {
    return listAllInterpreters(this);
  }

  /** The interpreter of the calling thread's current thread state (`interpreters.get_current()`). */
  getCurrent(): Interpreter {
    return getCurrentInterpreter(this);
  }

  /** The main interpreter, id 0 (`interpreters.get_main()`). */
  getMain(): Interpreter {
    return getMainInterpreter(this);
  }

  /**
   * The interpreter with `id` (CPython's `Interpreter(id)`): one object per id in each thread.
   *
   * @throws TypeError for an id that is not an integer; RangeError for a negative one;
   *   InterpreterNotFoundError for an unknown one.
   */
  interpreter(id: unknown): Interpreter {
    return interpreterById(this, id);
  }

  /** A new cross-interpreter queue of shareable values (`interpreters.create_queue()`). */
  createQueue(maxsize = 0, options: QueueOptions = {}): Queue {
    this.checkNotFinalized("createQueue");
    return createQueue(this, maxsize, options);
  }

  /** The queue with `id` (`Queue(id)`); queues cross interpreters and workers by id. */
  queue(id: unknown): Queue {
    return queueById(this, id);
  }

  /**
   * @internal The interpreter record an `Interpreter` or id names.
   * @throws TypeError for an object that is not an `Interpreter`; InterpreterError for an
   *   `Interpreter` of another runtime; as `interpreter(id)` for a bad id.
   */
  resolveInterpreter(interpreter: Interpreter | number): number {
    if (typeof interpreter === "object" && interpreter !== null) {
      if (!(interpreter instanceof Interpreter)) {
        throw new TypeError(`interpreter must be an Interpreter or an interpreter ID, got ${pyTypeName(interpreter)}`);
      }
      const owner = interpreter.runtime;
      if (owner === this) return interpreter.record();
      if (owner.arena.buffer !== this.arena.buffer || owner.record !== this.record) {
        throw new InterpreterError(`interpreter ${interpreter.id} belongs to another runtime`);
      }
      return this.interpreter(interpreter.id).record(); // the same runtime through another handle
    }
    return this.interpreter(interpreter).record();
  }
}

const TSTATE_WHENCES: readonly number[] = Object.values(TstateWhence);

/** Throws a TypeError naming `fn`'s `options` unless it is an object. */
function checkOptionsObject(fn: string, options: unknown): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${fn}: options must be an object, got ${pyTypeName(options)}`);
  }
}

/** Throws unless `options` is an options object whose arena, host and writers are what they say. */
function checkRuntimeOptions(fn: string, options: unknown): asserts options is RuntimeOptions {
  checkOptionsObject(fn, options);
  const o = options as RuntimeOptions;
  if (o.arena !== undefined && !(o.arena instanceof Arena)) {
    throw new TypeError(`${fn}: options.arena must be an Arena, got ${pyTypeName(o.arena)}`);
  }
  if (o.host !== undefined && (typeof o.host !== "object" || o.host === null)) {
    throw new TypeError(`${fn}: options.host must be an InterpreterHost, got ${pyTypeName(o.host)}`);
  }
  for (const name of ["stdout", "stderr"] as const) {
    if (o[name] !== undefined && typeof o[name] !== "function") {
      throw new TypeError(`${fn}: options.${name} must be a function, got ${pyTypeName(o[name])}`);
    }
  }
}

function allocRecord(arena: Arena, size: number, what: string): number {
  const record = arena.recordAlloc(size);
  if (record === 0) {
    throw new RangeError(`no room for ${what}: the arena's record area (its first segment) is exhausted`);
  }
  return record;
}

function checkTimeout(name: string, ms: unknown): number {
  if (typeof ms !== "number" || !(ms >= 0) || ms === Number.POSITIVE_INFINITY) {
    throw new RangeError(`${name} must be a finite number of milliseconds >= 0, got ${String(ms)}`);
  }
  return ms;
}
