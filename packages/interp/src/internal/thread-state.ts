/**
 * The attach state of a thread state and the rules that move it, after CPython's `_Py_THREAD_*`
 * (`Include/internal/pycore_pystate.h`):
 *
 *            (bound thread)        (stop-the-world thread)
 *   [attached]       <->       [detached]       <->       [suspended]
 *     |                                                        ^
 *     +---------------------------->---------------------------+
 *                            (bound thread)
 *
 *   any of the three ---(finalizing thread)---> [shutting down]   (terminal: the thread must hang)
 *
 *   event     from                          to             performed by
 *   --------  ----------------------------  -------------  -----------------------------------------
 *   attach    DETACHED                      ATTACHED       the bound thread (_PyThreadState_Attach)
 *   detach    ATTACHED                      DETACHED       the bound thread (_PyThreadState_Detach)
 *   suspend   ATTACHED                      SUSPENDED      the bound thread, on a stop request
 *                                                          (_PyThreadState_Suspend)
 *   park      DETACHED                      SUSPENDED      the stop-the-world thread
 *                                                          (park_detached_threads)
 *   resume    SUSPENDED                     DETACHED       the stop-the-world thread (start_the_world)
 *   shutdown  DETACHED, ATTACHED, SUSPENDED SHUTTING_DOWN  the finalizing thread
 *                                                          (_PyThreadState_SetShuttingDown)
 *
 * A SUSPENDED thread never leaves that state by itself: it waits until the pause ends
 * (CPython parks in `tstate_wait_attach`). A SHUTTING_DOWN thread cannot attach again.
 */

/** The attach states of a thread state, numbered as CPython's `_Py_THREAD_*`. */
export const ThreadState = {
  /** `_Py_THREAD_DETACHED`: not running interpreter code; may not touch objects. */
  DETACHED: 0,
  /** `_Py_THREAD_ATTACHED`: running interpreter code. */
  ATTACHED: 1,
  /** `_Py_THREAD_SUSPENDED`: paused by a stop-the-world request; only the requester resumes it. */
  SUSPENDED: 2,
  /** `_Py_THREAD_SHUTTING_DOWN`: its interpreter is finalizing; the thread may only hang. */
  SHUTTING_DOWN: 3,
} as const;

/** One of {@link ThreadState}'s values. */
export type ThreadState = (typeof ThreadState)[keyof typeof ThreadState];

/** Number of attach states; valid states are `0 <= s < THREAD_STATE_COUNT`. */
export const THREAD_STATE_COUNT = 4;

const STATE_NAMES = ["DETACHED", "ATTACHED", "SUSPENDED", "SHUTTING_DOWN"] as const;

/** The name of an attach state, as in {@link ThreadState}'s keys. */
export type ThreadStateName = (typeof STATE_NAMES)[number];

/** Something that moves a thread state from one attach state to another. */
export type ThreadStateEvent = "attach" | "detach" | "suspend" | "park" | "resume" | "shutdown";

/** Who may perform an event (the labels of CPython's diagram). */
export type ThreadStateActor = "bound thread" | "stop-the-world thread" | "finalizing thread";

/** The rule of one event: the states it may start from, where it leads, and who performs it. */
export interface ThreadStateRule {
  readonly from: readonly ThreadState[];
  readonly to: ThreadState;
  readonly by: ThreadStateActor;
}

const { DETACHED, ATTACHED, SUSPENDED, SHUTTING_DOWN } = ThreadState;

/** The transition table drawn above. */
export const THREAD_STATE_RULES: Readonly<Record<ThreadStateEvent, ThreadStateRule>> = Object.freeze({
  attach: Object.freeze({ from: Object.freeze([DETACHED]), to: ATTACHED, by: "bound thread" }),
  detach: Object.freeze({ from: Object.freeze([ATTACHED]), to: DETACHED, by: "bound thread" }),
  suspend: Object.freeze({ from: Object.freeze([ATTACHED]), to: SUSPENDED, by: "bound thread" }),
  park: Object.freeze({ from: Object.freeze([DETACHED]), to: SUSPENDED, by: "stop-the-world thread" }),
  resume: Object.freeze({ from: Object.freeze([SUSPENDED]), to: DETACHED, by: "stop-the-world thread" }),
  shutdown: Object.freeze({
    from: Object.freeze([DETACHED, ATTACHED, SUSPENDED]),
    to: SHUTTING_DOWN,
    by: "finalizing thread",
  }),
} as const satisfies Record<ThreadStateEvent, ThreadStateRule>);

/** Thrown for an event that the current attach state does not allow. */
export class ThreadStateTransitionError extends Error {
  static {
    ThreadStateTransitionError.prototype.name = "ThreadStateTransitionError";
  }
  /** The state the thread state was in. */
  readonly from: ThreadState;
  /** The event that was refused. */
  readonly event: ThreadStateEvent;

  constructor(from: ThreadState, event: ThreadStateEvent) {
    super(transitionErrorMessage(from, event));
    this.from = from;
    this.event = event;
  }
}

/** `"DETACHED"`, `"ATTACHED"`, `"SUSPENDED"` or `"SHUTTING_DOWN"`. @throws as {@link checkThreadState}. */
export function threadStateName(state: ThreadState): ThreadStateName {
  return STATE_NAMES[checkThreadState(state)];
}

/**
 * Validate an attach state read from outside (a state word, a message) and return it typed.
 *
 * @throws TypeError when `value` is not an integer number.
 * @throws RangeError when it is not one of the four states.
 */
export function checkThreadState(value: unknown): ThreadState {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`thread state must be an integer, got ${typeof value} ${String(value)}`);
  }
  if (value < 0 || value >= THREAD_STATE_COUNT) {
    throw new RangeError(
      `unknown thread state ${value}: expected DETACHED (0), ATTACHED (1), SUSPENDED (2) or SHUTTING_DOWN (3)`,
    );
  }
  return value as ThreadState;
}

/**
 * The state a thread state moves to when `event` happens in state `from`.
 *
 * @throws ThreadStateTransitionError when the rules do not allow `event` from `from`; the message
 *   names both the state and the event, and what the event needs.
 * @throws TypeError for an unknown event; RangeError for a value that is not a state.
 */
export function transition(from: ThreadState, event: ThreadStateEvent): ThreadState {
  const rule = ruleOf(event);
  checkThreadState(from);
  if (!rule.from.includes(from)) throw new ThreadStateTransitionError(from, event);
  return rule.to;
}

function ruleOf(event: ThreadStateEvent): ThreadStateRule {
  if (!Object.hasOwn(THREAD_STATE_RULES, event)) {
    throw new TypeError(
      `unknown thread-state event ${typeof event === "string" ? JSON.stringify(event) : String(event)}: expected attach, detach, suspend, park, resume or shutdown`,
    );
  }
  return THREAD_STATE_RULES[event];
}

function transitionErrorMessage(from: ThreadState, event: ThreadStateEvent): string {
  const rule = THREAD_STATE_RULES[event];
  const needs = rule.from.map((s) => STATE_NAMES[s]);
  const list =
    needs.length === 1 ? needs[0] : `${needs.slice(0, -1).join(", ")} or ${needs[needs.length - 1]}`;
  let message = `cannot ${event} a thread state that is ${STATE_NAMES[from]}: ${event} takes ${list} to ${STATE_NAMES[rule.to]}`;
  if (from === SUSPENDED && event === "attach") {
    message += " (a suspended thread waits until the stop-the-world pause ends)";
  } else if (from === SHUTTING_DOWN) {
    message += " (the interpreter is finalizing: this thread may only hang)";
  }
  return message;
}
