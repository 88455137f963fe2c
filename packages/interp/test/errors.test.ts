import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  checkInterpreterId,
  type ExcInfo,
  ExecutionFailed,
  excinfoFromError,
  formatExcInfo,
  InterpreterError,
  InterpreterNotFoundError,
  NotShareableError,
} from "../src/index.ts";

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
