/**
 * @ft/interp: the runtime, interpreters, thread states, stop-the-world and subinterpreters of
 * CPython's free-threaded build, on worker threads sharing one arena.
 *
 * First piece (portable core, no Node imports): the thread-state record layout with atomic
 * accessors, the attach-state machine, the interpreters API's error classes with the excinfo
 * that carries an uncaught error across, and the cross-interpreter shareability rules. The
 * runtime, interpreter table, attach/detach, stop-the-world and the Node-specific subinterpreter
 * host (`vm` contexts, workers) come later, the latter in modules of their own.
 *
 * @packageDocumentation
 */

export {
  checkInterpreterId,
  type ExcInfo,
  type ExcTypeInfo,
  ExecutionFailed,
  excinfoFromError,
  formatExcInfo,
  InterpreterError,
  InterpreterNotFoundError,
  NotShareableError,
} from "./internal/errors.ts";
export { checkShareable, isShareable } from "./internal/shareable.ts";
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
  TSTATE_ALIGN,
  TSTATE_ID_OFFSET,
  TSTATE_INTERP_ID_OFFSET,
  TSTATE_MIMALLOC_OFFSET,
  TSTATE_MIMALLOC_SHIFT,
  TSTATE_MIMALLOC_SIZE,
  TSTATE_NEXT_OFFSET,
  TSTATE_PREV_OFFSET,
  TSTATE_SIZE,
  TSTATE_THREAD_ID_OFFSET,
  TSTATE_WORDS,
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
} from "./internal/tstate-layout.ts";
