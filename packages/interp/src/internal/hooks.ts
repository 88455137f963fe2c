/**
 * The runtime's hooks: the one declared interface through which a package above @ft/interp (the
 * collector, @ft/gc) keeps per-interpreter and per-thread state in the records this package owns,
 * without @ft/interp importing it. Imports point down only; a need that points up goes through here.
 *
 *   hook                  when, on which thread                                   CPython
 *   --------------------  ------------------------------------------------------  -----------------------------
 *   initInterpreter       a new interpreter's record is set up, before it is      _PyGC_InitState
 *                         listed; on the creating thread
 *   finiInterpreter       the interpreter finalizes, after its other thread       _PyGC_Fini / finalize_interp_clear
 *                         states were cleared; on the finalizing thread, attached
 *                         to a thread state of that interpreter
 *   bindThreadState       a thread state is bound, on its own thread, after its   _Py_brc_init_thread, …
 *                         mimalloc state is initialised
 *   clearThreadState      a thread state is cleared, before its heaps are         _PyObject_ClearFreeLists,
 *                         abandoned; on the clearing thread, attached to the      _Py_brc_remove_thread, …
 *                         state's interpreter (the owner itself, the finalizing
 *                         thread, or the thread cleaning up after a dead worker)
 *
 * Hooks are JavaScript functions, so they are registered in every thread that needs them (a
 * module of @ft/gc registers them when it is loaded). They run in registration order and must
 * not throw: an error from a hook propagates, with the operation half done.
 */
import type { Arena } from "@ft/mimalloc";

/** What an interpreter hook is told. */
export interface InterpreterHookArgs {
  /** This thread's arena handle. */
  readonly arena: Arena;
  /** The interpreter's record (byte offset). */
  readonly interp: number;
  /** The interpreter's id. */
  readonly id: number;
  /** Byte offset of the collector's region in the record (`INTERP_GC_SIZE` bytes, zeroed at creation). */
  readonly gcState: number;
}

/** What a thread-state hook is told. */
export interface ThreadStateHookArgs {
  /** This thread's arena handle. */
  readonly arena: Arena;
  /** The thread state's record (byte offset). */
  readonly tstate: number;
  /** The thread state's id. */
  readonly id: number;
  /** Its interpreter's record. */
  readonly interp: number;
  /** Byte offset of the collector's region in the record (`TSTATE_GC_SIZE` bytes, zeroed at creation). */
  readonly gcState: number;
  /** Whether the thread state was bound (its per-thread state was initialised). */
  readonly bound: boolean;
}

/** The hooks a higher package registers; every member is optional. */
export interface RuntimeHooks {
  initInterpreter?(args: InterpreterHookArgs): void;
  finiInterpreter?(args: InterpreterHookArgs): void;
  bindThreadState?(args: ThreadStateHookArgs): void;
  clearThreadState?(args: ThreadStateHookArgs): void;
}

const registered: RuntimeHooks[] = [];

/**
 * Register hooks in the calling thread. Returns a function that unregisters them.
 *
 * @throws TypeError when a member is present but not a function.
 */
export function registerRuntimeHooks(hooks: RuntimeHooks): () => void {
  if (typeof hooks !== "object" || hooks === null) {
    throw new TypeError(`registerRuntimeHooks: hooks must be an object of hook functions, got ${hooks === null ? "null" : typeof hooks}`);
  }
  for (const key of ["initInterpreter", "finiInterpreter", "bindThreadState", "clearThreadState"] as const) {
    const fn = hooks[key];
    if (fn !== undefined && typeof fn !== "function") {
      throw new TypeError(`registerRuntimeHooks: ${key} must be a function, got ${typeof fn}`);
    }
  }
  registered.push(hooks);
  return () => {
    const i = registered.indexOf(hooks);
    if (i >= 0) registered.splice(i, 1);
  };
}

/** Run every registered `key` hook with `args`. */
export function runInterpreterHooks(
  key: "initInterpreter" | "finiInterpreter",
  args: InterpreterHookArgs,
): void {
  for (const hooks of registered) hooks[key]?.(args);
}

/** Run every registered `key` hook with `args`. */
export function runThreadStateHooks(
  key: "bindThreadState" | "clearThreadState",
  args: ThreadStateHookArgs,
): void {
  for (const hooks of registered) hooks[key]?.(args);
}
