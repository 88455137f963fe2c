/**
 * Subinterpreters, after CPython 3.14's `concurrent.interpreters` (`Lib/concurrent/interpreters`,
 * `Modules/_interpretersmodule.c`, `Python/crossinterp.c`).
 *
 * Running code in an interpreter (`exec`, `call`, `prepareMain`) is a session on the calling
 * thread, as CPython's `_run_in_interpreter`: switch to a thread state of the interpreter (the
 * current one if it is already there, else a new one bound to this thread), claim the
 * interpreter's `__main__` ("interpreter already running" when another session holds it), run in
 * the interpreter's `__main__` namespace of this thread (an isolated realm from the host), then
 * release, delete the temporary thread state and switch back. An uncaught error crosses back as
 * strings only (`ExcInfo`) and is raised in the caller as `ExecutionFailed`.
 *
 * `__main__` is per thread: a realm belongs to one thread's JavaScript engine, so a worker running
 * the interpreter (`callInThread`) has its own `__main__`. The interpreter's shared state (its
 * thread states, pool, queues, running flag) is in the arena and seen by every thread.
 */
import {
  checkInterpreterId,
  type ExcInfo,
  ExecutionFailed,
  excinfoFromError,
  InterpreterError,
  InterpreterNotFoundError,
  NotShareableError,
  pyTypeName,
  ThreadStateError,
} from "./errors.ts";
import type {
  CompiledScript,
  HostThread,
  InterpreterHost,
  InterpreterThreadResult,
  MainNamespace,
} from "./host.ts";
import { endInterpreter } from "./lifecycle.ts";
import { Queue, UNBOUND, UNBOUND_ERROR, UNBOUND_REMOVE } from "./queue.ts";
import {
  INTERP_DEAD_MASK,
  INTERP_READY_MASK,
  interpClaimRunningMain,
  interpFlags,
  interpId,
  interpReleaseRunningMain,
  interpRunningMain,
  interpWhence,
  InterpWhence,
  WHENCE_NAMES,
} from "./runtime-layout.ts";
import type { Runtime } from "./runtime.ts";
import { checkShareable, isShareable } from "./shareable.ts";
import { ThreadStateHandle } from "./tstate.ts";
import { TstateWhence } from "./tstate-layout.ts";

/**
 * One interpreter (CPython's `concurrent.interpreters.Interpreter`). There is one object per id
 * in each thread (`runtime.interpreter(id)` returns it); the interpreter itself lives in the arena.
 */
export class Interpreter {
  /** The runtime (this thread's handle). */
  readonly runtime: Runtime;
  readonly #id: number;
  readonly #whence: InterpWhence;

  /** @internal Use `runtime.interpreter(id)`, `runtime.create()`, … */
  constructor(runtime: Runtime, id: number, whence: InterpWhence) {
    this.runtime = runtime;
    this.#id = id;
    this.#whence = whence;
  }

  /** The unique id (never reused); the main interpreter is 0. Read-only. */
  get id(): number {
    return this.#id;
  }

  /** Where the interpreter came from: `"runtime init"` (main), `"_interpreters module"` (`create()`), … */
  get whence(): string {
    return WHENCE_NAMES[this.#whence] ?? "unknown";
  }

  /** @internal The interpreter's record. @throws InterpreterNotFoundError once it is gone. */
  record(): number {
    const interp = this.runtime.findInterpreterRecord(this.id);
    if (interp === 0) throw new InterpreterNotFoundError(this.id);
    return interp;
  }

  /**
   * Whether the interpreter is running `__main__` in some thread (CPython's `is_running`). The main
   * interpreter always is.
   *
   * @throws InterpreterNotFoundError when it was closed.
   */
  isRunning(): boolean {
    const interp = this.record();
    return this.id === 0 || interpRunningMain(this.runtime.i32, interp) !== 0;
  }

  /**
   * Finalize and destroy the interpreter (CPython's `close`), from any thread of another
   * interpreter: its remaining thread states are cleared (their heaps go to its pool) and deleted.
   *
   * @throws InterpreterError for the main interpreter, the current one ("cannot destroy the current
   *   interpreter") and a running one ("interpreter running"); InterpreterNotFoundError when closed already.
   */
  close(): void {
    const rt = this.runtime;
    const interp = resolveInterp(this, "destroy", true, false);
    const cur = rt.currentThreadState();
    if (cur !== null && cur.interp === interp)
      throw new InterpreterError("cannot destroy the current interpreter");
    endInterpreter(rt, interp, false);
    const main = rt.mains.get(this.id) as MainNamespace | undefined;
    main?.dispose();
    rt.mains.delete(this.id);
    rt.interpreterObjects.delete(this.id);
  }

  /**
   * Bind shareable values into the interpreter's `__main__` (in this thread), as globals
   * (CPython's `prepare_main`).
   *
   * @throws NotShareableError when a value cannot cross (nothing is bound then); RangeError for an
   *   empty namespace; InterpreterError when the interpreter is running.
   */
  prepareMain(ns: Readonly<Record<string, unknown>>): void {
    if (typeof ns !== "object" || ns === null || Array.isArray(ns)) {
      throw new TypeError(
        `prepareMain: the namespace must be an object of name → value, got ${pyTypeName(ns)}`,
      );
    }
    const entries = Object.entries(ns);
    if (entries.length === 0) {
      throw new RangeError(
        "prepareMain: the namespace must not be empty (CPython: arg 2 must be a non-empty dict)",
      );
    }
    for (const [name, value] of entries) {
      try {
        checkShareable(value);
      } catch (e) {
        throw new NotShareableError(`prepareMain: ${name}: ${(e as Error).message}`);
      }
    }
    const interp = resolveInterp(this, "update __main__ for", true, true);
    const out = runInInterpreter(this.runtime, interp, entries, () => undefined);
    if (out.excinfo !== null) throw new ExecutionFailed(out.excinfo);
  }

  /**
   * Run JavaScript source in the interpreter's `__main__` on the calling thread (CPython's `exec`),
   * with its globals as the script's globals. Blocks until done. Returns nothing.
   *
   * @throws ExecutionFailed when the code throws: its `excinfo` carries the error's type, message
   *   and display, and its string form is `"{formatted}\n\nUncaught in the interpreter:\n\n{errdisplay}"`.
   * @throws SyntaxError (in the caller, not wrapped) when the source does not compile.
   * @throws InterpreterError "interpreter already running" when another session runs it.
   */
  exec(code: string): void {
    if (typeof code !== "string") throw new TypeError(`exec: code must be a string, got ${pyTypeName(code)}`);
    const interp = resolveInterp(this, "exec code for", true, true);
    const script = requireHost(this.runtime).compile(code, "<string>");
    const out = runInInterpreter(this.runtime, interp, null, (main) => main.run(script));
    if (out.excinfo !== null) throw new ExecutionFailed(out.excinfo);
  }

  /**
   * Call `fn` in the interpreter on the calling thread (CPython's `call`). The function crosses as
   * its source text, re-evaluated in the interpreter's `__main__`: its closure and globals stay
   * behind (free names resolve against `__main__`). Arguments must be shareable; the result is
   * returned when shareable, else copied (structured clone, CPython's pickle fallback).
   *
   * @throws ExecutionFailed when `fn` throws; NotShareableError for a native or bound function, an
   *   argument that cannot cross, or a result that can be neither shared nor copied.
   */
  call(fn: (...args: never[]) => unknown, ...args: unknown[]): unknown {
    const source = functionSource(fn);
    checkArguments(args);
    return this.callSource(source, args);
  }

  /** @internal `call` with the function's source text (the interpreter-thread entry uses it). */
  callSource(source: string, args: readonly unknown[]): unknown {
    const rt = this.runtime;
    const interp = resolveInterp(this, "make a call in", true, true);
    const script = compileFunction(rt, source);
    const out = runInInterpreter(rt, interp, null, (main) => {
      const fn = main.run(script) as (...a: unknown[]) => unknown;
      return fn(...args.map((a) => main.adopt(a)));
    });
    if (out.excinfo !== null) throw new ExecutionFailed(out.excinfo);
    return exportResult(out.result);
  }

  /**
   * Call `fn` in the interpreter on a new thread (a worker; CPython's `call_in_thread`). The new
   * thread gets a thread state of the calling interpreter, then calls into this one. The return
   * value is discarded; an uncaught error is reported as `threading`'s excepthook does (to stderr)
   * and kept on the returned thread's `error`.
   */
  callInThread(fn: (...args: never[]) => unknown, ...args: unknown[]): InterpreterThread {
    const rt = this.runtime;
    const source = functionSource(fn);
    checkArguments(args);
    resolveInterp(this, "make a call in", true, true);
    compileFunction(rt, source);
    const host = requireHost(rt);
    const cur = rt.currentThreadState();
    const callerInterp = cur !== null ? cur.interp : rt.mainInterpreterRecord;
    const ts = rt.newThreadStateFor(callerInterp, TstateWhence.THREADING, false);
    rt.handles.delete(ts.record); // the new thread's, not this thread's
    const name = `Thread-${++threadCounter} (callInThread)`;
    const thread = host.startThread({
      ref: rt.ref,
      tstate: ts.record,
      tstateId: ts.id,
      target: this.id,
      source,
      args: encodeForThread(args),
      name,
    });
    return new InterpreterThread(rt, name, thread, ts.record, ts.id);
  }

  toString(): string {
    return `Interpreter(${this.id})`;
  }
}

let threadCounter = 0;

/**
 * A thread started by `callInThread` (CPython returns a `threading.Thread`). Its thread state is
 * cleaned up when it ends, even when it died without cleaning up itself.
 */
export class InterpreterThread {
  /** The thread's name, as `threading` names it. */
  readonly name: string;
  /** The uncaught error of the called function (an `ExecutionFailed`), once the thread has ended. */
  error: ExecutionFailed | null = null;
  /** Set when the thread died (exited or was terminated) without reporting: why. */
  died: string | null = null;
  readonly #rt: Runtime;
  readonly #thread: HostThread;
  readonly #ended: Promise<void>;

  /** @internal */
  constructor(rt: Runtime, name: string, thread: HostThread, tstate: number, tstateId: number) {
    this.name = name;
    this.#rt = rt;
    this.#thread = thread;
    this.#ended = thread.done.then((result: InterpreterThreadResult) => {
      if (result.died !== null) {
        this.died = result.died;
        if (result.threadId !== 0) rt.cleanupThread(result.threadId);
        rt.reapThreadState(tstate, tstateId);
      }
      if (result.excinfo !== null) {
        this.error = new ExecutionFailed(result.excinfo);
        const write = rt.stderr ?? requireHost(rt).stderr;
        write(`Exception in thread ${this.name}:\n${this.error.name}: ${this.error.message}\n`);
      }
    });
  }

  /**
   * Resolves when the thread has ended and, if it died, has been cleaned up after. In GIL mode the
   * calling thread's state is detached meanwhile (CPython's `join` releases the GIL), so that the
   * new thread can take the GIL; it is attached again before this resolves.
   */
  async join(): Promise<void> {
    const cur = this.#rt.gilMode ? this.#rt.currentThreadState() : null;
    if (cur === null) return this.#ended;
    cur.detach();
    try {
      await this.#ended;
    } finally {
      cur.attach();
    }
  }

  /** Stop the thread at once; its thread states are cleaned up from the calling thread. */
  async terminate(): Promise<void> {
    await this.#thread.terminate();
    await this.#ended;
  }
}

// ---------------------------------------------------------------------------------- module functions

/** `runtime.create()`. */
export function createInterpreter(rt: Runtime): Interpreter {
  const interp = rt.newInterpreterRecord(InterpWhence.STDLIB);
  return objectFor(rt, interpId(rt.i32, interp), InterpWhence.STDLIB);
}

/** `runtime.listAll()`. */
export function listAllInterpreters(rt: Runtime): Interpreter[] {
  const i32 = rt.i32;
  const out: Interpreter[] = [];
  for (const interp of rt.interpreterRecords()) {
    const flags = interpFlags(i32, interp);
    if ((flags & INTERP_READY_MASK) === 0 || (flags & INTERP_DEAD_MASK) !== 0) continue;
    out.push(objectFor(rt, interpId(i32, interp), interpWhence(i32, interp)));
  }
  return out;
}

/** `runtime.getCurrent()`. */
export function getCurrentInterpreter(rt: Runtime): Interpreter {
  const cur = rt.currentThreadState();
  if (cur === null) {
    throw new ThreadStateError(
      "getCurrent: the calling thread has no attached thread state in this runtime (bind and attach one first)",
    );
  }
  return objectFor(rt, cur.interpId, interpWhence(rt.i32, cur.interp));
}

/** `runtime.getMain()`. */
export function getMainInterpreter(rt: Runtime): Interpreter {
  return objectFor(rt, 0, InterpWhence.RUNTIME);
}

/** `runtime.interpreter(id)`. */
export function interpreterById(rt: Runtime, id: unknown): Interpreter {
  const n = checkInterpreterId(id);
  const interp = rt.findInterpreterRecord(n);
  if (interp === 0) throw new InterpreterNotFoundError(n);
  return objectFor(rt, n, interpWhence(rt.i32, interp));
}

function objectFor(rt: Runtime, id: number, whence: InterpWhence): Interpreter {
  let obj = rt.interpreterObjects.get(id);
  if (obj === undefined) {
    obj = new Interpreter(rt, id, whence);
    rt.interpreterObjects.set(id, obj);
  }
  return obj;
}

// ---------------------------------------------------------------------------------- sessions

/**
 * CPython's `resolve_interp`: look the interpreter up; with `reqready`, refuse one that is not
 * ready; with `restricted`, refuse one not made by `create()`.
 */
function resolveInterp(self: Interpreter, op: string, restricted: boolean, reqready: boolean): number {
  const interp = self.record();
  const i32 = self.runtime.i32;
  if (reqready && (interpFlags(i32, interp) & INTERP_READY_MASK) === 0) {
    throw new InterpreterError(`cannot ${op} interpreter ${self.id} (not ready)`);
  }
  if (restricted && interpWhence(i32, interp) !== InterpWhence.STDLIB) {
    const hint = self.id === 0 ? " (the main interpreter: only interpreters made by create() qualify)" : "";
    throw new InterpreterError(`cannot ${op} unrecognized interpreter ${self.id}${hint}`);
  }
  return interp;
}

function requireHost(rt: Runtime): InterpreterHost {
  if (rt.host === null) {
    throw new InterpreterError(
      "no interpreter host: subinterpreters need one to run code (RuntimeOptions.host; the package entry installs the Node host)",
    );
  }
  return rt.host;
}

/** What a session produced. */
interface SessionResult {
  readonly result: unknown;
  readonly excinfo: ExcInfo | null;
}

/**
 * Enter `interp` on the calling thread, bind `shared` into its `__main__`, run `body`, and exit
 * (CPython's `_PyXI_Enter` / `_PyXI_Exit`). An error `body` throws comes back as excinfo.
 */
function runInInterpreter(
  rt: Runtime,
  interp: number,
  shared: readonly (readonly [string, unknown])[] | null,
  body: (main: MainNamespace) => unknown,
): SessionResult {
  const host = requireHost(rt);
  const i32 = rt.i32;
  // Switch to a thread state of the interpreter.
  let ts = rt.currentThreadState();
  let previous: ThreadStateHandle | null = null;
  let temporary = false;
  const switched = ts === null || ts.interp !== interp;
  if (switched) {
    ts = rt.liveThreadStateIn(interp);
    if (ts === null) {
      ts = rt.newThreadStateFor(interp, TstateWhence.EXEC, false);
      ts.bind();
      temporary = true;
    }
    previous = ThreadStateHandle.swap(ts);
  }
  const me = ts as ThreadStateHandle;
  try {
    if (!interpClaimRunningMain(i32, interp, me.id))
      throw new InterpreterError("interpreter already running");
    try {
      const main = mainFor(rt, host, me.interpId);
      if (shared !== null) for (const [name, value] of shared) main.bind(name, main.adopt(value));
      try {
        return { result: body(main), excinfo: null };
      } catch (e) {
        return { result: undefined, excinfo: main.capture(e) };
      }
    } finally {
      interpReleaseRunningMain(i32, interp, me.id);
    }
  } finally {
    if (switched) {
      if (temporary) {
        me.clear();
        me.deleteCurrent();
      } else {
        me.detach();
      }
      if (previous !== null) previous.attach();
    }
  }
}

/** This thread's `__main__` of interpreter `id`, made on first use. */
function mainFor(rt: Runtime, host: InterpreterHost, id: number): MainNamespace {
  let main = rt.mains.get(id) as MainNamespace | undefined;
  if (main === undefined) {
    main = host.newMain(id, builtinsFor(rt), {
      stdout: rt.stdout ?? host.stdout,
      stderr: rt.stderr ?? host.stderr,
    });
    rt.mains.set(id, main);
  }
  return main;
}

/** The `interpreters` module as code inside an interpreter sees it (functions of the outer realm). */
function builtinsFor(rt: Runtime): Record<string, unknown> {
  const interpreters = Object.freeze({
    create: () => rt.create(),
    listAll: () => rt.listAll(),
    getCurrent: () => rt.getCurrent(),
    getMain: () => rt.getMain(),
    get: (id: unknown) => rt.interpreter(id),
    createQueue: (maxsize?: number) => rt.createQueue(maxsize),
    queue: (id: unknown) => rt.queue(id),
    isShareable,
    UNBOUND,
    UNBOUND_ERROR,
    UNBOUND_REMOVE,
  });
  return { __name__: "__main__", interpreters };
}

// ---------------------------------------------------------------------------------- values crossing

const NATIVE_SOURCE = /\{\s*\[native code\]\s*\}\s*$/;

/** The source text of `fn`, refusing what has none. */
function functionSource(fn: unknown): string {
  if (typeof fn !== "function") throw new TypeError(`expected a function, got ${pyTypeName(fn)}`);
  const source = Function.prototype.toString.call(fn);
  if (NATIVE_SOURCE.test(source)) {
    throw new NotShareableError(
      `<function ${fn.name || "(anonymous)"}> does not support cross-interpreter data (a native or bound function has no source to run in another interpreter)`,
    );
  }
  return source;
}

/** Compile a function's source as an expression in the caller; a method shorthand does not compile. */
function compileFunction(rt: Runtime, source: string): CompiledScript {
  try {
    return requireHost(rt).compile(`(${source}\n)`, "<call>");
  } catch (e) {
    if ((e as Error)?.name === "SyntaxError") {
      throw new NotShareableError(
        `a function whose source is not a function expression (${source.slice(0, 40)}…) does not support cross-interpreter data`,
      );
    }
    throw e;
  }
}

function checkArguments(args: readonly unknown[]): void {
  args.forEach((arg, i) => {
    try {
      checkShareable(arg);
    } catch (e) {
      throw new NotShareableError(`argument ${i + 1}: ${(e as Error).message}`);
    }
  });
}

/** The result of `call` as the caller's own value: shareable values re-made here, others copied. */
function exportResult(value: unknown): unknown {
  if (isShareable(value)) return adoptHere(value);
  if (isThenable(value)) {
    throw new NotShareableError(
      "call: the function returned a Promise, which does not support cross-interpreter data (call synchronous functions)",
    );
  }
  try {
    return structuredClone(value);
  } catch (e) {
    throw new NotShareableError(
      `the result does not support cross-interpreter data and cannot be copied: ${(e as Error).message}`,
    );
  }
}

function isThenable(value: unknown): boolean {
  try {
    return (
      typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
    );
  } catch {
    return false;
  }
}

/** A shareable value as this realm's own: frozen arrays re-made (recursively); the rest as it is. */
export function adoptHere(value: unknown): unknown {
  if (Array.isArray(value)) return Object.freeze(Array.from(value, adoptHere));
  return value;
}

const TUPLE_KEY = "ft:tuple";
const QUEUE_KEY = "ft:queue";

/** Shareable arguments for structured clone to a new thread (clone loses frozenness and queue objects). */
export function encodeForThread(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = Array.from(value, encodeForThread);
    return Object.isFrozen(value) ? { [TUPLE_KEY]: items } : items;
  }
  if (value instanceof Queue) return { [QUEUE_KEY]: value.id };
  return value;
}

/** Undo {@link encodeForThread} in the new thread. */
export function decodeFromThread(rt: Runtime, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeFromThread(rt, v));
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value)) {
    const record = value as Record<string, unknown>;
    if (TUPLE_KEY in record)
      return Object.freeze((record[TUPLE_KEY] as unknown[]).map((v) => decodeFromThread(rt, v)));
    if (QUEUE_KEY in record) return rt.queue(record[QUEUE_KEY]);
  }
  return value;
}

/** The excinfo of an error that did not come through a session (the interpreter-thread entry). */
export function excinfoOf(error: unknown): ExcInfo {
  return error instanceof ExecutionFailed ? error.excinfo : excinfoFromError(error);
}
