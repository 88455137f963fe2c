import { describe, expect, it } from "vitest";
import {
  checkThreadState,
  THREAD_STATE_RULES,
  ThreadState,
  type ThreadStateEvent,
  ThreadStateTransitionError,
  threadStateName,
  transition,
} from "../src/index.ts";

const { DETACHED, ATTACHED, SUSPENDED, SHUTTING_DOWN } = ThreadState;
const STATES = [DETACHED, ATTACHED, SUSPENDED, SHUTTING_DOWN] as const;
const EVENTS: ThreadStateEvent[] = ["attach", "detach", "suspend", "park", "resume", "shutdown"];

describe("thread-state machine", () => {
  it("numbers the states as CPython's _Py_THREAD_*", () => {
    expect(ThreadState).toEqual({ DETACHED: 0, ATTACHED: 1, SUSPENDED: 2, SHUTTING_DOWN: 3 });
    expect(STATES.map(threadStateName)).toEqual(["DETACHED", "ATTACHED", "SUSPENDED", "SHUTTING_DOWN"]);
  });

  it("moves the bound thread between DETACHED and ATTACHED", () => {
    expect(transition(DETACHED, "attach")).toBe(ATTACHED);
    expect(transition(ATTACHED, "detach")).toBe(DETACHED);
  });

  it("lets an attached thread suspend itself and the stop-the-world thread park and resume a detached one", () => {
    expect(transition(ATTACHED, "suspend")).toBe(SUSPENDED);
    expect(transition(DETACHED, "park")).toBe(SUSPENDED);
    expect(transition(SUSPENDED, "resume")).toBe(DETACHED);
  });

  it("marks any live state SHUTTING_DOWN at finalization", () => {
    for (const s of [DETACHED, ATTACHED, SUSPENDED]) expect(transition(s, "shutdown")).toBe(SHUTTING_DOWN);
  });

  it("refuses to attach a thread state that is already ATTACHED, naming both states", () => {
    let error: unknown;
    try {
      transition(ATTACHED, "attach");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ThreadStateTransitionError);
    expect(error).toBeInstanceOf(Error);
    const e = error as ThreadStateTransitionError;
    expect(e.name).toBe("ThreadStateTransitionError");
    expect(e.message).toBe(
      "cannot attach a thread state that is ATTACHED: attach takes DETACHED to ATTACHED",
    );
    expect(e.from).toBe(ATTACHED);
    expect(e.event).toBe("attach");
  });

  it("tells a suspended thread to wait instead of attaching", () => {
    expect(() => transition(SUSPENDED, "attach")).toThrow(
      "cannot attach a thread state that is SUSPENDED: attach takes DETACHED to ATTACHED" +
        " (a suspended thread waits until the stop-the-world pause ends)",
    );
  });

  it("keeps SHUTTING_DOWN terminal", () => {
    for (const event of EVENTS) {
      expect(() => transition(SHUTTING_DOWN, event)).toThrow(
        /that is SHUTTING_DOWN: .* \(the interpreter is finalizing/,
      );
    }
    expect(() => transition(SHUTTING_DOWN, "shutdown")).toThrow(
      "cannot shutdown a thread state that is SHUTTING_DOWN: shutdown takes DETACHED, ATTACHED or SUSPENDED to SHUTTING_DOWN",
    );
  });

  it("allows exactly the transitions of CPython's diagram", () => {
    const allowed: string[] = [];
    for (const from of STATES) {
      for (const event of EVENTS) {
        try {
          allowed.push(`${threadStateName(from)} --${event}--> ${threadStateName(transition(from, event))}`);
        } catch (e) {
          expect(e).toBeInstanceOf(ThreadStateTransitionError);
        }
      }
    }
    expect(allowed).toEqual([
      "DETACHED --attach--> ATTACHED",
      "DETACHED --park--> SUSPENDED",
      "DETACHED --shutdown--> SHUTTING_DOWN",
      "ATTACHED --detach--> DETACHED",
      "ATTACHED --suspend--> SUSPENDED",
      "ATTACHED --shutdown--> SHUTTING_DOWN",
      "SUSPENDED --resume--> DETACHED",
      "SUSPENDED --shutdown--> SHUTTING_DOWN",
    ]);
  });

  it("says who performs each event", () => {
    const by = Object.fromEntries(EVENTS.map((e) => [e, THREAD_STATE_RULES[e].by]));
    expect(by).toEqual({
      attach: "bound thread",
      detach: "bound thread",
      suspend: "bound thread",
      park: "stop-the-world thread",
      resume: "stop-the-world thread",
      shutdown: "finalizing thread",
    });
    expect(Object.isFrozen(THREAD_STATE_RULES)).toBe(true);
  });

  it("rejects unknown events and states", () => {
    expect(() => transition(DETACHED, "wake" as ThreadStateEvent)).toThrow(
      new TypeError(
        'unknown thread-state event "wake": expected attach, detach, suspend, park, resume or shutdown',
      ),
    );
    expect(() => transition(4 as ThreadState, "attach")).toThrow(RangeError);
    expect(() => checkThreadState("0")).toThrow(TypeError);
    expect(() => checkThreadState(-1)).toThrow(
      "unknown thread state -1: expected DETACHED (0), ATTACHED (1), SUSPENDED (2) or SHUTTING_DOWN (3)",
    );
    expect(() => transition(DETACHED, "toString" as ThreadStateEvent)).toThrow(TypeError);
  });
});
