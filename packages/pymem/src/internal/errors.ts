/**
 * The errors of @ft/pymem. Each message names the function and what was wrong.
 *
 *   error               thrown by                                    CPython
 *   ------------------  -------------------------------------------  ---------------------------------
 *   FatalMemoryError    the debug hooks: a broken block, a MEM/OBJ   `_Py_FatalErrorFunc` (abort)
 *                       call without a thread state
 *   NoThreadStateError  the default MEM/OBJ allocators called         (a crash: no thread state to
 *                       without a thread state (no debug hooks)       dereference)
 */
import type { DebugBlockFault } from "./debug-layout.ts";

/**
 * CPython's `_PyMem_DebugCheckGIL` text in the free-threaded build: a MEM or OBJ allocator was
 * called by a thread that has no attached thread state.
 */
export const NO_THREAD_STATE_MESSAGE =
  "Python memory allocator called without an active thread state. " +
  "Are you trying to call it inside of a Py_BEGIN_ALLOW_THREADS block?";

/**
 * A fault the debug hooks cannot survive, as CPython's `_Py_FatalErrorFunc(func, reason)`: a
 * broken block (bad ID, bad leading or trailing pad byte, a block already freed) or a MEM/OBJ call
 * without a thread state. The block is left as it was found (nothing is freed or refilled).
 *
 * `message` is `"<func>: <reason>"`, e.g. `"_PyMem_DebugRawFree: bad trailing pad byte"`; `report`
 * is what CPython writes to stderr before it aborts: the block's dump (when there is a block) and
 * the `Fatal Python error: <func>: <reason>` line.
 */
export class FatalMemoryError extends Error {
  override name = "FatalMemoryError";
  /** The debug function that found the fault (`_PyMem_DebugRawFree`, `_PyMem_DebugMalloc`, …). */
  readonly func: string;
  /** CPython's reason text, e.g. `bad trailing pad byte`. */
  readonly reason: string;
  /** The broken block's fault, or `null` for a fault that is not about a block (no thread state). */
  readonly fault: DebugBlockFault | null;
  /** The full stderr text: the dump (if any) and the `Fatal Python error: …` line. */
  readonly report: string;

  constructor(func: string, reason: string, fault: DebugBlockFault | null, dump = "") {
    super(`${func}: ${reason}`);
    this.func = func;
    this.reason = reason;
    this.fault = fault;
    this.report = `${dump}Fatal Python error: ${func}: ${reason}\n`;
  }
}

/**
 * The default MEM or OBJ allocator was called on a thread with no current
 * {@link MimallocThreadState} for the PyMem's arena. (With debug hooks the same call is a
 * {@link FatalMemoryError} with CPython's message.)
 */
export class NoThreadStateError extends Error {
  override name = "NoThreadStateError";
}
