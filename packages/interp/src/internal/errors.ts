/**
 * The error classes of the interpreters API, after CPython 3.14's `concurrent.interpreters`
 * (`Lib/concurrent/interpreters/__init__.py`, `Modules/_interpretersmodule.c`,
 * `Python/crossinterp.c`), and the "excinfo" record with which an uncaught error crosses from a
 * subinterpreter back to its caller.
 *
 * An error never crosses interpreters as an object (it belongs to another realm, perhaps another
 * thread): it crosses as strings only, the display included, as CPython decided in PR #113036.
 */

/** The type of an uncaught error, as CPython's `excinfo.type` namespace. */
export interface ExcTypeInfo {
  /** `__name__`: the type's name, e.g. `"TypeError"`. */
  readonly name: string;
  /** `__qualname__`: the qualified name; the same as `name` for JavaScript classes. */
  readonly qualname: string;
  /** `__module__`: `"builtins"` for the language's own error types, `"__main__"` otherwise. */
  readonly module: string;
}

/**
 * What the caller learns about an error that was not caught in a subinterpreter: CPython's
 * `_PyXI_excinfo` as a plain record of strings (structured-cloneable, so it can cross workers).
 */
export interface ExcInfo {
  /** The error's type; `null` when the thrown value was not an error object. */
  readonly type: ExcTypeInfo | null;
  /** `str(exc)`: the error's message. */
  readonly msg: string | null;
  /** One line, `"qualname: msg"` (with `"module."` in front unless the module is builtins or __main__). */
  readonly formatted: string | null;
  /** The full display of the error as the interpreter would print it (for JavaScript: its stack). */
  readonly errdisplay: string | null;
}

/** A cross-interpreter operation failed (CPython's `InterpreterError`). */
export class InterpreterError extends Error {
  static {
    InterpreterError.prototype.name = "InterpreterError";
  }
}

/** An interpreter was not found (CPython's `InterpreterNotFoundError`). */
export class InterpreterNotFoundError extends InterpreterError {
  static {
    InterpreterNotFoundError.prototype.name = "InterpreterNotFoundError";
  }
  /** The id that was looked up. */
  readonly id: number | bigint;

  /** @param id - the unknown id; the message is CPython's `"unrecognized interpreter ID 42"`. */
  constructor(id: number | bigint) {
    super(`unrecognized interpreter ID ${id}`);
    this.id = id;
  }
}

/**
 * An uncaught error ended the code run in an interpreter (CPython's `ExecutionFailed`, raised by
 * `Interpreter.exec()` and `Interpreter.call()`).
 *
 * Its `message` (and `toString()`) is CPython's `str(exc)`:
 * `"{summary}\n\nUncaught in the interpreter:\n\n{excinfo.errdisplay}"`, so an uncaught
 * `ExecutionFailed` prints the inner error's display under the outer one, as CPython's traceback
 * does. Without an `errdisplay` it is the summary alone.
 */
export class ExecutionFailed extends InterpreterError {
  static {
    ExecutionFailed.prototype.name = "ExecutionFailed";
  }
  /** What is known about the uncaught error. */
  readonly excinfo: ExcInfo;
  /** The one-line summary, CPython's `exc.args[0]`: `excinfo.formatted`, or a fallback built from type and message. */
  readonly summary: string;

  constructor(excinfo: ExcInfo) {
    const summary = executionFailedSummary(excinfo);
    super(
      excinfo.errdisplay == null
        ? summary
        : `${summary}\n\nUncaught in the interpreter:\n\n${excinfo.errdisplay}`,
    );
    this.excinfo = excinfo;
    this.summary = summary;
  }

  /** CPython's `str(exc)`: the message, without the class-name prefix of `Error.prototype.toString`. */
  override toString(): string {
    return this.message;
  }
}

/**
 * A value cannot cross interpreters (CPython 3.14's `NotShareableError`, a `TypeError`).
 * The message is CPython's `"<value> does not support cross-interpreter data"`.
 */
export class NotShareableError extends TypeError {
  static {
    NotShareableError.prototype.name = "NotShareableError";
  }
}

/**
 * A thread-state operation was refused: attaching a state that is attached, clearing from the
 * wrong interpreter or while detached (gh-112723), using a state bound to another thread, … The
 * message names the thread state, what was wrong and what is needed; nothing was changed.
 */
export class ThreadStateError extends Error {
  static {
    ThreadStateError.prototype.name = "ThreadStateError";
  }
}

/** One thread state as a stop-the-world report shows it. */
export interface ThreadStateReport {
  /** The thread state's id. */
  readonly id: number;
  /** The arena thread id of the thread it is bound to (0 = unbound). */
  readonly threadId: number;
  /** Its interpreter's id. */
  readonly interpId: number;
  /** Its attach state when the pause gave up: `"ATTACHED"` for a thread that never reached a checkpoint. */
  readonly state: string;
}

/**
 * A stop-the-world request timed out: some attached threads did not reach a `checkpoint()`.
 * The pause was undone (every parked thread resumed) before this was thrown.
 */
export class StopTheWorldError extends InterpreterError {
  static {
    StopTheWorldError.prototype.name = "StopTheWorldError";
  }
  /** The thread states that did not stop. */
  readonly notStopped: readonly ThreadStateReport[];
  /** How long the requester waited (ms). */
  readonly timeoutMs: number;

  constructor(scope: string, timeoutMs: number, notStopped: readonly ThreadStateReport[]) {
    const who = notStopped
      .map(
        (t) => `thread state ${t.id} (thread ${t.threadId}, interpreter ${t.interpId}) is still ${t.state}`,
      )
      .join("; ");
    super(
      `stop-the-world of ${scope} timed out after ${timeoutMs} ms: ${who}: ` +
        `${notStopped.length === 1 ? "it" : "they"} did not reach a checkpoint() (attached code must call checkpoint() regularly)`,
    );
    this.notStopped = notStopped;
    this.timeoutMs = timeoutMs;
  }
}

/** A queue-related error happened (CPython's `QueueError`). */
export class QueueError extends InterpreterError {
  static {
    QueueError.prototype.name = "QueueError";
  }
}

/** A queue was not found: `"queue 3 not found"` (CPython's `QueueNotFoundError`). */
export class QueueNotFoundError extends QueueError {
  static {
    QueueNotFoundError.prototype.name = "QueueNotFoundError";
  }
}

/** `getNowait()` on an empty queue, or `get()` timed out: `"queue 3 is empty"` (CPython's `QueueEmpty`). */
export class QueueEmpty extends QueueError {
  static {
    QueueEmpty.prototype.name = "QueueEmpty";
  }
}

/** `putNowait()` on a full queue, or `put()` timed out: `"queue 3 is full"` (CPython's `QueueFull`). */
export class QueueFull extends QueueError {
  static {
    QueueFull.prototype.name = "QueueFull";
  }
}

/** The item's original interpreter was destroyed and it was put with `unbounditems: UNBOUND_ERROR`. */
export class ItemInterpreterDestroyed extends QueueError {
  static {
    ItemInterpreterDestroyed.prototype.name = "ItemInterpreterDestroyed";
  }
}

/** CPython's `ExecutionFailed.__init__` message: `formatted`, else `"name: msg"`, else the name or the message. */
function executionFailedSummary(excinfo: ExcInfo): string {
  if (excinfo.formatted) return excinfo.formatted;
  if (excinfo.type && excinfo.msg) return `${excinfo.type.name}: ${excinfo.msg}`;
  return excinfo.type?.name || excinfo.msg || "";
}

/**
 * CPython's `_PyXI_excinfo_format`: `"module.qualname: msg"`, where the module is left out for
 * `builtins` and `__main__`, `": msg"` is left out when there is no message, and the message
 * alone (or `null`) is returned when there is no type.
 */
export function formatExcInfo(type: ExcTypeInfo | null, msg: string | null): string | null {
  if (type === null) return msg;
  const prefix =
    type.module === "builtins" || type.module === "__main__"
      ? type.qualname
      : `${type.module}.${type.qualname}`;
  return msg === null ? prefix : `${prefix}: ${msg}`;
}

/** Error types that every JavaScript realm has: their module is `builtins`. */
const BUILTIN_ERROR_NAMES: ReadonlySet<string> = new Set([
  "Error",
  "AggregateError",
  "EvalError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "TypeError",
  "URIError",
]);

/** How many `cause` links {@link excinfoFromError} follows before it stops. */
const MAX_CAUSE_DEPTH = 16;

/**
 * Build the excinfo of a thrown value, as the subinterpreter side does before the error crosses:
 *
 * - `type.name` / `qualname`: the error's `name` (what JavaScript itself shows in `toString()` and
 *   in the stack), else its constructor's name; `type.module`: `"builtins"` for the standard error
 *   types, `"__main__"` for the rest;
 * - `msg`: the message; `formatted`: `"TypeError: msg"` (see {@link formatExcInfo});
 * - `errdisplay`: the stack, which V8 starts with the same `"TypeError: msg"` line, trailing newline
 *   dropped; errors in the `cause` chain come first, each followed by CPython's
 *   `"The above exception was the direct cause of the following exception:"`.
 *
 * Works on errors from other realms (a `vm` context) too: it does not rely on `instanceof`.
 * A thrown value that is not an error gets `type: null` and its string form as message.
 * Never throws: a value whose string form fails reads `"<exception str() failed>"`.
 */
export function excinfoFromError(err: unknown): ExcInfo {
  if (!isErrorLike(err)) {
    const msg = safeString(err);
    return { type: null, msg, formatted: msg, errdisplay: msg };
  }
  const type = errorType(err);
  const msg = safeString(readProperty(err, "message") ?? "");
  const formatted = formatExcInfo(type, msg);
  return { type, msg, formatted, errdisplay: errorDisplay(err, formatted ?? msg, 0) };
}

function errorType(err: object): ExcTypeInfo {
  const ownName = readProperty(err, "name");
  const ctor = readProperty(err, "constructor");
  const ctorName = typeof ctor === "function" ? ctor.name : "";
  const name = typeof ownName === "string" && ownName !== "" ? ownName : ctorName || "Error";
  return { name, qualname: name, module: BUILTIN_ERROR_NAMES.has(name) ? "builtins" : "__main__" };
}

function errorDisplay(err: object, fallback: string, depth: number): string {
  const stack = readProperty(err, "stack");
  let display = typeof stack === "string" && stack !== "" ? stack.replace(/\n+$/, "") : fallback;
  const cause = readProperty(err, "cause");
  if (depth < MAX_CAUSE_DEPTH && cause !== undefined && cause !== err && isErrorLike(cause)) {
    const inner = excinfoFromError(cause);
    const causeDisplay = errorDisplay(cause, inner.formatted ?? "", depth + 1);
    display = `${causeDisplay}\n\nThe above exception was the direct cause of the following exception:\n\n${display}`;
  }
  return display;
}

/** An Error of any realm, or an object that looks like one (string `name` and `message`). */
function isErrorLike(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  if (Object.prototype.toString.call(value) === "[object Error]") return true;
  return (
    typeof readProperty(value, "message") === "string" && typeof readProperty(value, "name") === "string"
  );
}

function readProperty(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "<exception str() failed>";
  }
}

/**
 * Validate an interpreter id as CPython's `_PyInterpreterState_ObjectToID` does.
 *
 * @throws TypeError `"interpreter ID must be an int, got str"` for a non-integer.
 * @throws RangeError `"interpreter ID must be a non-negative int, got -1"` for a negative id
 *   (CPython's ValueError), `"int too big to convert"` beyond 2^53 - 1 (CPython's OverflowError
 *   beyond INT64_MAX; ids here are safe integers).
 */
export function checkInterpreterId(value: unknown): number {
  let id: number;
  if (typeof value === "bigint") {
    if (value < 0n) throw new RangeError(`interpreter ID must be a non-negative int, got ${value}`);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("int too big to convert");
    id = Number(value);
  } else if (typeof value === "number" && Number.isInteger(value)) {
    if (value < 0) throw new RangeError(`interpreter ID must be a non-negative int, got ${value}`);
    if (!Number.isSafeInteger(value)) throw new RangeError("int too big to convert");
    id = value;
  } else {
    throw new TypeError(`interpreter ID must be an int, got ${pyTypeName(value)}`);
  }
  return id;
}

/** The Python type name of a JavaScript value, for CPython-worded type errors. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  switch (typeof value) {
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(value) ? "int" : "float";
    case "bigint":
      return "int";
    case "string":
      return "str";
    case "symbol":
      return "symbol";
    case "function":
      return "function";
    default:
      return Array.isArray(value)
        ? Object.isFrozen(value)
          ? "tuple"
          : "list"
        : constructorName(value as object);
  }
}

function constructorName(value: object): string {
  const ctor = readProperty(value, "constructor");
  if (typeof ctor !== "function" || !ctor.name) return "object";
  return ctor.name === "Object" ? "dict" : ctor.name; // a plain object plays a Python dict
}
