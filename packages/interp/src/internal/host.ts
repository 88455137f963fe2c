/**
 * The small interface behind which subinterpreters meet the platform: where an interpreter's
 * `__main__` lives in a thread (an isolated realm: a Node `vm` context, or a browser iframe /
 * ShadowRealm), and how a new thread is started for `callInThread` (a Node worker, a Web Worker).
 * The core of @ft/interp calls only this; the Node implementation is in `node/host.ts`.
 *
 * A realm isolates globals, not code: it is **not a security boundary** (Node's `vm` docs say so).
 */
import type { ExcInfo } from "./errors.ts";
import type { RuntimeRef } from "./runtime.ts";

/** Receives text a subinterpreter writes (`console.log` / `print`). */
export type OutputWriter = (text: string) => void;

/** Where a `__main__`'s console writes. */
export interface MainOutput {
  readonly stdout: OutputWriter;
  readonly stderr: OutputWriter;
}

/** Source compiled in the caller (a syntax error is thrown there, not inside the interpreter). */
export interface CompiledScript {
  readonly filename: string;
}

/** An interpreter's `__main__` namespace in one thread: an isolated global scope. */
export interface MainNamespace {
  /** Bind `value` (a shareable value, adopted into this realm) as a global. */
  bind(name: string, value: unknown): void;
  /**
   * Run a compiled script with this namespace as its globals and return its completion value
   * (`call` compiles a function expression and gets the function back, its original closure and
   * globals left behind, as CPython uses the code object alone). Errors propagate; they belong to
   * this realm.
   */
  run(script: CompiledScript): unknown;
  /** A shareable value as this realm's own (frozen arrays and typed-array views re-made here; primitives as they are). */
  adopt(value: unknown): unknown;
  /** The excinfo of an error that escaped this realm, with the host's own stack frames left out of `errdisplay`. */
  capture(error: unknown): ExcInfo;
  /** Drop the namespace. */
  dispose(): void;
}

/** What a new interpreter thread needs (structured-cloneable). */
export interface InterpreterThreadRequest {
  /** The runtime to attach to. */
  readonly ref: RuntimeRef;
  /** A thread state made for the new thread in the calling interpreter; the thread binds it. */
  readonly tstate: number;
  /** Its id (to notice a reused record). */
  readonly tstateId: number;
  /** The interpreter to call into. */
  readonly target: number;
  /** The function's source text. */
  readonly source: string;
  /** The arguments, encoded for structured clone (see `encodeForThread`). */
  readonly args: unknown;
  /** A name for the thread, as `threading.Thread` gives one. */
  readonly name: string;
}

/** A started interpreter thread. */
export interface HostThread {
  /** Resolves when the thread has ended, with its report (or a report that it died). */
  readonly done: Promise<InterpreterThreadResult>;
  /** Stop the thread at once (Node's `worker.terminate()`). */
  terminate(): Promise<void>;
}

/** How an interpreter thread ended. */
export interface InterpreterThreadResult {
  /** The arena thread id the thread had (0 if it never attached). */
  readonly threadId: number;
  /** The excinfo of an uncaught error in the called function, or null. */
  readonly excinfo: ExcInfo | null;
  /** Set when the thread died (exited or was terminated) before it reported: the cause. */
  readonly died: string | null;
}

/** The platform: realms for `__main__` and threads for `callInThread`. */
export interface InterpreterHost {
  /**
   * A new isolated `__main__` for interpreter `id` in the calling thread, with `builtins` as
   * globals and a `console` (and `print`) that write to `output`.
   */
  newMain(id: number, builtins: Readonly<Record<string, unknown>>, output: MainOutput): MainNamespace;
  /** Compile `code` in the caller. @throws SyntaxError for invalid source. */
  compile(code: string, filename: string): CompiledScript;
  /** Start a thread that runs the interpreter-thread entry with `request`. */
  startThread(request: InterpreterThreadRequest): HostThread;
  /** The default output writers. */
  readonly stdout: OutputWriter;
  readonly stderr: OutputWriter;
}
