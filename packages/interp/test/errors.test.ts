import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  attachThread,
  checkInterpreterId,
  detachThread,
  type ExcInfo,
  ExecutionFailed,
  excinfoFromError,
  formatExcInfo,
  InterpreterError,
  InterpreterNotFoundError,
  NotShareableError,
  prepareThread,
  Runtime,
  reapThread,
  registerRuntimeHooks,
  ThreadState,
  ThreadStateHandle,
  transition,
} from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";

const RUNTIME_ERROR: ExcInfo = {
  type: { name: "RuntimeError", qualname: "RuntimeError", module: "builtins" },
  msg: "uh-oh!",
  formatted: "RuntimeError: uh-oh!",
  errdisplay: 'Traceback (most recent call last):\n  File "<string>", line 1\nRuntimeError: uh-oh!',
};

describe("interpreter errors", () => {
  it("words a missing interpreter as CPython does", () => {
    const e = new InterpreterNotFoundError(42);
    expect(e.message).toBe("unrecognized interpreter ID 42");
    expect(e.id).toBe(42);
    expect(e.name).toBe("InterpreterNotFoundError");
    expect(e).toBeInstanceOf(InterpreterError);
    expect(e).toBeInstanceOf(Error);
    expect(String(e)).toBe("InterpreterNotFoundError: unrecognized interpreter ID 42");
  });

  it("makes NotShareableError a TypeError, as in CPython 3.14", () => {
    const e = new NotShareableError("x");
    expect(e).toBeInstanceOf(TypeError);
    expect(e.name).toBe("NotShareableError");
  });

  it("names the classes in their stacks", () => {
    expect(new InterpreterError("boom").stack).toMatch(/^InterpreterError: boom\n/);
  });
});

describe("ExecutionFailed", () => {
  it("reads as CPython's str(): formatted, a blank line, the banner, a blank line, the display", () => {
    const e = new ExecutionFailed(RUNTIME_ERROR);
    expect(String(e)).toBe(
      "RuntimeError: uh-oh!\n\nUncaught in the interpreter:\n\n" +
        'Traceback (most recent call last):\n  File "<string>", line 1\nRuntimeError: uh-oh!',
    );
    expect(e.message).toBe(String(e));
    expect(e.summary).toBe("RuntimeError: uh-oh!");
    expect(e.excinfo).toBe(RUNTIME_ERROR);
    expect(e).toBeInstanceOf(InterpreterError);
    expect(e.name).toBe("ExecutionFailed");
  });

  it("shows the inner display under the outer error when uncaught, like test_display_preserved_exception", () => {
    const e = new ExecutionFailed(RUNTIME_ERROR);
    expect(e.stack).toMatch(
      /^ExecutionFailed: RuntimeError: uh-oh!\n\nUncaught in the interpreter:\n\nTraceback/,
    );
  });

  it("falls back to 'name: msg', then to the name or the message, when nothing was formatted", () => {
    const base = { errdisplay: null };
    const type = { name: "ValueError", qualname: "ValueError", module: "builtins" };
    expect(new ExecutionFailed({ ...base, type, msg: "bad", formatted: null }).message).toBe(
      "ValueError: bad",
    );
    expect(new ExecutionFailed({ ...base, type, msg: "", formatted: "" }).message).toBe("ValueError");
    expect(new ExecutionFailed({ ...base, type: null, msg: "just text", formatted: null }).message).toBe(
      "just text",
    );
  });

  it("is the summary alone when there is no display", () => {
    expect(String(new ExecutionFailed({ ...RUNTIME_ERROR, errdisplay: null }))).toBe("RuntimeError: uh-oh!");
  });
});

describe("excinfo", () => {
  it("formats 'qualname: msg' and keeps the module only outside builtins and __main__", () => {
    const t = (module: string) => ({ name: "SpamError", qualname: "Outer.SpamError", module });
    expect(formatExcInfo(t("builtins"), "m")).toBe("Outer.SpamError: m");
    expect(formatExcInfo(t("__main__"), "m")).toBe("Outer.SpamError: m");
    expect(formatExcInfo(t("spam"), "m")).toBe("spam.Outer.SpamError: m");
    expect(formatExcInfo(t("spam"), null)).toBe("spam.Outer.SpamError");
    expect(formatExcInfo(t("builtins"), "")).toBe("Outer.SpamError: ");
    expect(formatExcInfo(null, "m")).toBe("m");
    expect(formatExcInfo(null, null)).toBeNull();
  });

  it("builds the excinfo of a JavaScript error from its name, message and stack", () => {
    const err = new TypeError("msg");
    const info = excinfoFromError(err);
    expect(info).toEqual({
      type: { name: "TypeError", qualname: "TypeError", module: "builtins" },
      msg: "msg",
      formatted: "TypeError: msg",
      errdisplay: err.stack,
    });
    expect(info.errdisplay).toMatch(/^TypeError: msg\n {4}at /);
  });

  it("puts user-defined errors in __main__", () => {
    class SpamError extends Error {
      override name = "SpamError";
    }
    const info = excinfoFromError(new SpamError("eggs"));
    expect(info.type).toEqual({ name: "SpamError", qualname: "SpamError", module: "__main__" });
    expect(info.formatted).toBe("SpamError: eggs");
  });

  it("recognises errors thrown in another realm (a vm context)", () => {
    let thrown: unknown;
    try {
      runInNewContext("null.x");
    } catch (e) {
      thrown = e;
    }
    expect(thrown instanceof Error).toBe(false);
    const info = excinfoFromError(thrown);
    expect(info.type?.name).toBe("TypeError");
    expect(info.formatted).toMatch(/^TypeError: Cannot read properties of null/);
    // Node may put the source line and a caret above the stack of an error thrown by vm code.
    expect(info.errdisplay).toContain(
      "TypeError: Cannot read properties of null (reading 'x')\n    at evalmachine",
    );
  });

  it("shows the cause first, as Python's chained display does", () => {
    const cause = new RangeError("inner");
    const err = new Error("outer", { cause });
    const display = excinfoFromError(err).errdisplay!;
    const sep = "\n\nThe above exception was the direct cause of the following exception:\n\n";
    expect(display).toBe(`${cause.stack}${sep}${err.stack}`);
  });

  it("takes a thrown non-error as a message without a type", () => {
    expect(excinfoFromError("oops")).toEqual({
      type: null,
      msg: "oops",
      formatted: "oops",
      errdisplay: "oops",
    });
    const unprintable = {
      toString: () => {
        throw new Error("no");
      },
    };
    expect(excinfoFromError(unprintable).msg).toBe("<exception str() failed>");
  });

  it("is plain data that crosses workers by structured clone", () => {
    const info = excinfoFromError(new SyntaxError("bad token"));
    expect(structuredClone(info)).toEqual(info);
  });

  it("round-trips through ExecutionFailed to the caller's display", () => {
    const err = new RangeError("too far");
    const failed = new ExecutionFailed(excinfoFromError(err));
    expect(failed.message).toBe(`RangeError: too far\n\nUncaught in the interpreter:\n\n${err.stack}`);
  });
});

describe("interpreter ids", () => {
  it("accepts non-negative integers", () => {
    expect(checkInterpreterId(0)).toBe(0);
    expect(checkInterpreterId(12n)).toBe(12);
  });

  it("rejects what CPython's _PyInterpreterState_ObjectToID rejects, in its words", () => {
    expect(() => checkInterpreterId("1")).toThrow(new TypeError("interpreter ID must be an int, got str"));
    expect(() => checkInterpreterId(1.5)).toThrow(new TypeError("interpreter ID must be an int, got float"));
    expect(() => checkInterpreterId(null)).toThrow(
      new TypeError("interpreter ID must be an int, got NoneType"),
    );
    expect(() => checkInterpreterId(-1)).toThrow(
      new RangeError("interpreter ID must be a non-negative int, got -1"),
    );
    expect(() => checkInterpreterId(-1n)).toThrow(RangeError);
    expect(() => checkInterpreterId(2 ** 60)).toThrow(new RangeError("int too big to convert"));
  });
});

describe("bad arguments of the runtime", () => {
  /** The runtime still works: a pause begins and ends, a thread state is made and deleted. */
  function stillWorks(rt: Runtime): void {
    rt.stopTheWorld();
    expect(rt.isWorldStopped(rt.getMain())).toBe(true);
    rt.startTheWorld();
    const ts = rt.newThreadState();
    expect(rt.threadStateRecords()).toContain(ts.record); // HEAD_LOCK is free
    rt.arena.check();
  }

  it("rejects an object that is not an Interpreter with a TypeError, holding no lock or pause afterwards", () => {
    const { rt } = newRuntime();
    const fake = { record: () => 64, id: 7 };
    expect(() => rt.stopTheWorld(fake as never)).toThrow(
      new TypeError("interpreter must be an Interpreter or an interpreter ID, got dict"),
    );
    expect(() => rt.newThreadState(fake as never)).toThrow(TypeError);
    expect(() => rt.isWorldStopped(fake as never)).toThrow(TypeError);
    expect(() => prepareThread(rt, fake as never)).toThrow(TypeError);
    stillWorks(rt);
  });

  it("rejects an Interpreter of another runtime, and accepts one of the same runtime through another handle", () => {
    const { rt: other } = newRuntime();
    const foreign = other.create();
    const { rt } = newRuntime(); // this thread's current state is now rt's
    const before = rt.threadStateRecords().length;
    expect(() => rt.newThreadState(foreign)).toThrow(`interpreter ${foreign.id} belongs to another runtime`);
    expect(() => rt.stopTheWorld(foreign)).toThrow(InterpreterError);
    expect(rt.threadStateRecords()).toHaveLength(before);
    stillWorks(rt);
    const sub = rt.create();
    const again = Runtime.attach(rt.ref);
    const ts = rt.newThreadState(again.interpreter(sub.id));
    expect(rt.threadStateRecords(sub.record())).toContain(ts.record);
    again.arena.detach();
  });

  it("newThreadState rejects a whence that is not a TstateWhence", () => {
    const { rt } = newRuntime();
    const before = rt.threadStateRecords().length;
    expect(() => rt.newThreadState(undefined, 99 as never)).toThrow(
      new RangeError("newThreadState: whence must be a TstateWhence (0 … 5), got 99"),
    );
    expect(() => rt.newThreadState(undefined, "capi" as never)).toThrow(
      /whence must be a TstateWhence .* got str/,
    );
    expect(rt.threadStateRecords()).toHaveLength(before);
  });

  it("Runtime.create and Runtime.attach reject options that are not an object, an arena that is not one, writers that are not functions", () => {
    const { rt } = newRuntime();
    const current = rt.currentThreadState();
    expect(() => Runtime.create(null as never)).toThrow(
      new TypeError("Runtime.create: options must be an object, got NoneType"),
    );
    expect(() => Runtime.create({ arena: 5 as never })).toThrow(
      new TypeError("Runtime.create: options.arena must be an Arena, got int"),
    );
    expect(() => Runtime.create({ stdout: "out" as never })).toThrow(
      /options.stdout must be a function, got str/,
    );
    expect(() => Runtime.create({ host: 5 as never })).toThrow(/options.host must be an InterpreterHost/);
    expect(() => Runtime.attach(rt.ref, null as never)).toThrow(
      "Runtime.attach: options must be an object, got NoneType",
    );
    expect(rt.currentThreadState()).toBe(current); // nothing was made or swapped
  });

  it("reapThreadState rejects a bad record or id, and refuses the calling thread's own live state", () => {
    const { rt } = newRuntime();
    const ts = rt.currentThreadState()!;
    for (const bad of [Number.NaN, -64, 1.5, "64", undefined, 2 ** 32]) {
      expect(() => rt.reapThreadState(bad as number, ts.id)).toThrow(
        /^reapThreadState: record must be a thread-state record offset, got/,
      );
    }
    expect(() => rt.reapThreadState(ts.record, undefined as never)).toThrow(
      new RangeError("reapThreadState: id must be a thread-state id (a positive integer), got undefined"),
    );
    expect(() => rt.reapThreadState(ts.record, ts.id)).toThrow(
      /is bound to the calling thread .* which is alive/,
    );
    expect(ts.alive).toBe(true);
    expect(ts.isCurrent).toBe(true);
    ts.heap().malloc(16);
    stillWorks(rt);
  });

  it("a finalized runtime refuses to make interpreters, thread states and queues, and to stop the world", () => {
    const { rt } = newRuntime();
    rt.finalize();
    for (const [fn, call] of [
      ["create", () => rt.create()],
      ["newThreadState", () => rt.newThreadState()],
      ["ensureThreadState", () => rt.ensureThreadState()],
      ["createQueue", () => rt.createQueue()],
      ["stopTheWorld", () => rt.stopTheWorld()],
      ["stopTheWorldAll", () => rt.stopTheWorldAll()],
    ] as const) {
      expect(call).toThrow(new InterpreterError(`${fn}: the runtime was finalized`));
    }
    expect(rt.currentThreadState()).toBeNull();
  });

  it("ThreadStateHandle.swap rejects what is not a thread state and keeps the current one attached", () => {
    const { rt } = newRuntime();
    const ts = rt.currentThreadState()!;
    expect(() => ThreadStateHandle.swap(undefined as never)).toThrow(
      new TypeError("swap: next must be a ThreadStateHandle or null, got NoneType"),
    );
    expect(() => ThreadStateHandle.swap({ attach() {} } as never)).toThrow(/got dict/);
    expect(rt.currentThreadState()).toBe(ts);
    expect(ts.isCurrent).toBe(true);
  });

  it("stopTheWorld, Queue.put and Queue.get reject options that are not an object", () => {
    const { rt } = newRuntime();
    const q = rt.createQueue();
    expect(() => rt.stopTheWorld(undefined, null as never)).toThrow(
      new TypeError("stopTheWorld: options must be an object, got NoneType"),
    );
    expect(() => rt.stopTheWorldAll(5 as never)).toThrow(
      "stopTheWorldAll: options must be an object, got int",
    );
    expect(() => q.put(1, null as never)).toThrow(
      new TypeError("put: options must be an object, got NoneType"),
    );
    expect(() => q.get(null as never)).toThrow(new TypeError("get: options must be an object, got NoneType"));
    expect(q.qsize()).toBe(0);
    stillWorks(rt);
  });

  it("registerRuntimeHooks and the thread helpers reject what is not hooks, a runtime or thread data", () => {
    const { rt } = newRuntime();
    expect(() => registerRuntimeHooks(undefined as never)).toThrow(
      new TypeError("registerRuntimeHooks: hooks must be an object of hook functions, got undefined"),
    );
    expect(() => prepareThread(null as never)).toThrow(
      new TypeError("prepareThread: runtime must be a Runtime, got NoneType"),
    );
    expect(() => detachThread({} as never)).toThrow("detachThread: runtime must be a Runtime, got dict");
    expect(() => reapThread(rt, { slot: 5 } as never)).toThrow(
      /^reapThread: data must be the ThreadData prepareThread made/,
    );
    expect(() => attachThread(undefined as never)).toThrow(/^attachThread: data must be the ThreadData/);
    expect(rt.currentThreadState()?.isCurrent).toBe(true);
    stillWorks(rt);
  });

  it("names an unknown thread-state event as it was given", () => {
    expect(() => transition(ThreadState.DETACHED, Number.NaN as never)).toThrow(
      "unknown thread-state event NaN: expected attach, detach, suspend, park, resume or shutdown",
    );
  });
});
