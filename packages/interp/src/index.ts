/**
 * @ft/interp: the runtime, interpreters, thread states, stop-the-world and subinterpreters of
 * CPython's free-threaded build, on worker threads sharing one arena.
 *
 * ```ts
 * const runtime = Runtime.create();          // the main interpreter and this thread's attached state
 * const interp = runtime.create();           // a subinterpreter with its own abandoned pool
 * interp.exec("throw new RangeError('too far')");
 * // ExecutionFailed: RangeError: too far
 * //
 * // Uncaught in the interpreter:
 * //
 * // RangeError: too far
 * //     at <string>:1:7
 * ```
 *
 * The core (runtime, thread states, stop-the-world, queues) uses only `SharedArrayBuffer`,
 * `Atomics` and typed arrays. The Node-specific parts — `vm` contexts for subinterpreters and
 * workers for `callInThread` / `startThread` — sit in `internal/node/`, behind the
 * `InterpreterHost` interface; this entry installs the Node host as the default.
 *
 * @packageDocumentation
 */
import { nodeHost } from "./internal/node/host.ts";
import { setDefaultInterpreterHost } from "./internal/runtime.ts";

setDefaultInterpreterHost(nodeHost);

export {
  checkInterpreterId,
  type ExcInfo,
  type ExcTypeInfo,
  ExecutionFailed,
  excinfoFromError,
  formatExcInfo,
  InterpreterError,
  InterpreterNotFoundError,
  ItemInterpreterDestroyed,
  NotShareableError,
  QueueEmpty,
  QueueError,
  QueueFull,
  QueueNotFoundError,
  StopTheWorldError,
  ThreadStateError,
  type ThreadStateReport,
  pyTypeName,
} from "./internal/errors.ts";
export type { InterpreterHookArgs, RuntimeHooks, ThreadStateHookArgs } from "./internal/hooks.ts";
export { registerRuntimeHooks } from "./internal/hooks.ts";
export type {
  CompiledScript,
  HostThread,
  InterpreterHost,
  InterpreterThreadRequest,
  InterpreterThreadResult,
  MainNamespace,
  MainOutput,
  OutputWriter,
} from "./internal/host.ts";
export { Interpreter, InterpreterThread } from "./internal/interpreters.ts";
export type { CleanupReport } from "./internal/lifecycle.ts";
export { nodeHost } from "./internal/node/host.ts";
export {
  type StartedThread,
  type StartThreadOptions,
  startThread,
  type ThreadWorkerData,
} from "./internal/node/threads.ts";
export {
  type GetOptions,
  type PutOptions,
  Queue,
  type QueueOptions,
  UNBOUND,
  UNBOUND_ERROR,
  UNBOUND_REMOVE,
  type UnboundItems,
} from "./internal/queue.ts";
export {
  INTERP_GC_OFFSET,
  INTERP_GC_SIZE,
  INTERP_SIZE,
  interpGilMimalloc,
  interpGilMimallocOwner,
  InterpWhence,
  WHENCE_NAMES,
} from "./internal/runtime-layout.ts";
export {
  Runtime,
  type RuntimeMode,
  type RuntimeOptions,
  type RuntimeRef,
  setDefaultInterpreterHost,
} from "./internal/runtime.ts";
export { checkShareable, isShareable, SHAREABLE_BRAND } from "./internal/shareable.ts";
export {
  checkThreadState,
  THREAD_STATE_COUNT,
  THREAD_STATE_RULES,
  ThreadState,
  type ThreadStateActor,
  type ThreadStateEvent,
  type ThreadStateName,
  type ThreadStateRule,
  ThreadStateTransitionError,
  threadStateName,
  transition,
} from "./internal/thread-state.ts";
export {
  type AttachedThread,
  attachThread,
  detachThread,
  prepareThread,
  reapThread,
  type ThreadData,
} from "./internal/threads.ts";
export { checkpoint, currentThreadState, ThreadStateHandle } from "./internal/tstate.ts";
export {
  GIL_DROP_REQUEST_MASK,
  PLEASE_STOP_MASK,
  TSTATE_ALIGN,
  TSTATE_BOUND_MASK,
  TSTATE_CLEARED_MASK,
  TSTATE_GC_OFFSET,
  TSTATE_GC_SIZE,
  TSTATE_ID_OFFSET,
  TSTATE_INTERP_ID_OFFSET,
  TSTATE_INTERP_OFFSET,
  TSTATE_MIMALLOC_OFFSET,
  TSTATE_MIMALLOC_SIZE,
  TSTATE_NEXT_OFFSET,
  TSTATE_PREV_OFFSET,
  TSTATE_SIZE,
  TSTATE_THREAD_ID_OFFSET,
  TSTATE_WHENCE_OFFSET,
  TSTATE_WORDS,
  TSTATE_XEVAL_BREAKER_OFFSET,
  TSTATE_XFLAGS_OFFSET,
  TSTATE_XSTATE_OFFSET,
  tstateCasState,
  tstateId,
  tstateInit,
  tstateInterpId,
  tstateIsValid,
  tstateMimallocState,
  tstateNext,
  tstatePrev,
  tstateSetNext,
  tstateSetPrev,
  tstateSetThreadId,
  tstateState,
  tstateStoreState,
  tstateThreadId,
  tstateTransition,
  TstateWhence,
} from "./internal/tstate-layout.ts";
