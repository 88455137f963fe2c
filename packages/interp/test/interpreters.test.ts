// Ports of Lib/test/test_interpreters/test_api.py (CPython 3.14's concurrent.interpreters), named
// after the tests they port, with JavaScript in place of Python inside the interpreters.
import { describe, expect, it } from "vitest";
import {
  ExecutionFailed,
  Interpreter,
  InterpreterError,
  InterpreterNotFoundError,
  NotShareableError,
} from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";
import { inThread } from "./support/threads.ts";

/** Run `code` in `interp` and return what it printed (CPython's `_run_output`). */
function runOutput(interp: Interpreter, out: string[], code: string): string {
  out.length = 0;
  interp.exec(code);
  return out.join("");
}

function failure(fn: () => unknown): ExecutionFailed {
  try {
    fn();
  } catch (e) {
    if (e instanceof ExecutionFailed) return e;
    throw e;
  }
  throw new Error("expected ExecutionFailed");
}

describe("CreateTests", () => {
  it("test_in_main", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(interp).toBeInstanceOf(Interpreter);
    expect(rt.listAll()).toContain(interp);
  });

  it("test_in_thread", async () => {
    const { rt } = newRuntime();
    const reply = await inThread(rt, { op: "create", count: 1 });
    expect(reply.ok).toBe(true);
    const [id] = (reply as { value: number[] }).value;
    expect(rt.listAll()).toContain(rt.interpreter(id));
  });

  it("test_in_subinterpreter", () => {
    const { rt, out } = newRuntime();
    const [main] = rt.listAll();
    const interp = rt.create();
    const text = runOutput(interp, out, "const interp = interpreters.create(); print(interp.id)");
    const interp2 = rt.interpreter(Number(text));
    expect(rt.listAll()).toEqual([main, interp, interp2]);
  });

  it("test_after_destroy_all", () => {
    const { rt } = newRuntime();
    const before = new Set(rt.listAll());
    const made = [rt.create(), rt.create(), rt.create()];
    for (const interp of made) interp.close();
    const interp = rt.create();
    expect(new Set(rt.listAll())).toEqual(new Set([...before, interp]));
    // Ids are never reused.
    expect(interp.id).toBeGreaterThan(Math.max(...made.map((i) => i.id)));
  });

  it("test_after_destroy_some", () => {
    const { rt } = newRuntime();
    const before = new Set(rt.listAll());
    const interp1 = rt.create();
    const interp2 = rt.create();
    const interp3 = rt.create();
    interp1.close();
    interp2.close();
    const interp = rt.create();
    expect(new Set(rt.listAll())).toEqual(new Set([...before, interp3, interp]));
  });
});

describe("GetMainTests", () => {
  it("test_id", () => {
    expect(newRuntime().rt.getMain().id).toBe(0);
  });

  it("test_current", () => {
    const { rt } = newRuntime();
    expect(rt.getCurrent()).toBe(rt.getMain());
  });

  it("test_idempotent", () => {
    const { rt } = newRuntime();
    expect(rt.getMain()).toBe(rt.getMain());
  });
});

describe("GetCurrentTests", () => {
  it("test_main", () => {
    const { rt } = newRuntime();
    expect(rt.getCurrent()).toBe(rt.getMain());
  });

  it("test_subinterpreter", () => {
    const { rt, out } = newRuntime();
    const interp = rt.create();
    const current = rt.interpreter(Number(runOutput(interp, out, "print(interpreters.getCurrent().id)")));
    expect(current).toBe(interp);
    expect(current).not.toBe(rt.getMain());
  });

  it("test_idempotent", () => {
    const { rt, out } = newRuntime();
    expect(rt.getCurrent()).toBe(rt.getCurrent());
    const interp = rt.create();
    expect(runOutput(interp, out, "print(interpreters.getCurrent() === interpreters.getCurrent())")).toBe(
      "true\n",
    );
  });

  it("test_in_thread: a worker's current interpreter is the one its thread state belongs to", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(await inThread(rt, { op: "current" }, interp)).toEqual({ ok: true, value: interp.id });
    expect(await inThread(rt, { op: "current" })).toEqual({ ok: true, value: 0 });
  });
});

describe("ListAllTests", () => {
  it("test_initial", () => {
    expect(newRuntime().rt.listAll()).toHaveLength(1);
  });

  it("test_after_creating", () => {
    const { rt } = newRuntime();
    const main = rt.getCurrent();
    const first = rt.create();
    const second = rt.create();
    expect(rt.listAll().map((i) => i.id)).toEqual([main.id, first.id, second.id]);
  });

  it("test_after_destroying", () => {
    const { rt } = newRuntime();
    const main = rt.getCurrent();
    const first = rt.create();
    const second = rt.create();
    first.close();
    expect(rt.listAll().map((i) => i.id)).toEqual([main.id, second.id]);
  });

  it("test_idempotent", () => {
    const { rt } = newRuntime();
    const expected = [rt.getCurrent(), rt.create(), rt.create()];
    const actual = rt.listAll();
    expect(actual).toHaveLength(3);
    for (const [i, interp] of actual.entries()) expect(interp).toBe(expected[i]);
  });
});

describe("InterpreterObjectTests", () => {
  it("test_init_int", () => {
    const { rt } = newRuntime();
    const id = rt.getCurrent().id;
    expect(rt.interpreter(id).id).toBe(id);
    expect(rt.interpreter(BigInt(id)).id).toBe(id);
  });

  it("test_init_unsupported", () => {
    const { rt } = newRuntime();
    for (const id of ["0", 0.5, {}, null, "", undefined, [0]]) {
      expect(() => rt.interpreter(id), String(id)).toThrow(TypeError);
    }
    expect(() => rt.interpreter("0")).toThrow("interpreter ID must be an int, got str");
  });

  it("test_idempotent", () => {
    const { rt } = newRuntime();
    const main = rt.getMain();
    expect(rt.interpreter(main.id)).toBe(main);
  });

  it("test_init_does_not_exist", () => {
    const { rt } = newRuntime();
    expect(() => rt.interpreter(1_000_000)).toThrow(InterpreterNotFoundError);
    expect(() => rt.interpreter(1_000_000)).toThrow("unrecognized interpreter ID 1000000");
  });

  it("test_init_bad_id", () => {
    const { rt } = newRuntime();
    expect(() => rt.interpreter(-1)).toThrow(RangeError); // CPython's ValueError
  });

  it("test_id_type", () => {
    const { rt } = newRuntime();
    for (const interp of [rt.getMain(), rt.getCurrent(), rt.create()])
      expect(Number.isInteger(interp.id)).toBe(true);
  });

  it("test_id_readonly", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(() => {
      (interp as { id: number }).id = 1_000_000;
    }).toThrow(TypeError);
    expect(interp.id).not.toBe(1_000_000);
  });

  it("test_whence", () => {
    const { rt } = newRuntime();
    expect(rt.getMain().whence).toBe("runtime init");
    expect(rt.create().whence).toBe("_interpreters module");
  });

  it("test_equality", () => {
    const { rt } = newRuntime();
    const interp1 = rt.create();
    const interp2 = rt.create();
    expect(interp1).toBe(interp1);
    expect(interp1).not.toBe(interp2);
    expect(String(interp1)).toBe(`Interpreter(${interp1.id})`);
  });
});

describe("TestInterpreterIsRunning", () => {
  it("test_main", () => {
    expect(newRuntime().rt.getMain().isRunning()).toBe(true);
  });

  it("test_subinterpreter", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(interp.isRunning()).toBe(false);
    await whileRunning(interp, () => expect(interp.isRunning()).toBe(true));
    expect(interp.isRunning()).toBe(false);
  });

  it("test_finished", () => {
    const { rt, out } = newRuntime();
    const interp = rt.create();
    interp.exec("print('x')");
    expect(interp.isRunning()).toBe(false);
    expect(out.join("")).toBe("x\n");
  });

  it("test_from_subinterpreter", () => {
    const { rt, out } = newRuntime();
    const interp = rt.create();
    expect(runOutput(interp, out, `print(interpreters.get(${interp.id}).isRunning())`)).toBe("true\n");
  });

  it("test_already_destroyed", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    interp.close();
    expect(() => interp.isRunning()).toThrow(InterpreterNotFoundError);
  });
});

/**
 * Hold `interp` running in another thread (a `callInThread` that waits on a shared word) while
 * `fn` runs: CPython's `_running(interp)`.
 */
async function whileRunning(interp: Interpreter, fn: () => void | Promise<void>): Promise<void> {
  const sab = new SharedArrayBuffer(8);
  const word = new Int32Array(sab);
  const thread = interp.callInThread((buffer: SharedArrayBuffer) => {
    const w = new Int32Array(buffer);
    Atomics.store(w, 1, 1);
    Atomics.notify(w, 1);
    while (Atomics.load(w, 0) === 0) Atomics.wait(w, 0, 0, 1000);
  }, sab);
  try {
    while (Atomics.load(word, 1) === 0) await new Promise((r) => setTimeout(r, 2));
    await fn();
  } finally {
    Atomics.store(word, 0, 1);
    Atomics.notify(word, 0);
    await thread.join();
  }
  expect(thread.error).toBeNull();
}

describe("TestInterpreterClose", () => {
  it("test_basic", () => {
    const { rt } = newRuntime();
    const main = rt.getMain();
    const interp1 = rt.create();
    const interp2 = rt.create();
    const interp3 = rt.create();
    expect(rt.listAll()).toEqual([main, interp1, interp2, interp3]);
    interp2.close();
    expect(rt.listAll()).toEqual([main, interp1, interp3]);
  });

  it("test_all", () => {
    const { rt } = newRuntime();
    const before = rt.listAll();
    const made = [rt.create(), rt.create(), rt.create()];
    for (const interp of made) interp.close();
    expect(rt.listAll()).toEqual(before);
  });

  it("test_main", () => {
    const { rt } = newRuntime();
    const main = rt.getMain();
    expect(() => main.close()).toThrow(InterpreterError);
    expect(() => main.close()).toThrow(/cannot destroy unrecognized interpreter 0/);
    expect(rt.listAll()).toEqual([main]);
  });

  it("test_already_destroyed", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    interp.close();
    expect(() => interp.close()).toThrow(InterpreterNotFoundError);
  });

  it("test_from_current", () => {
    const { rt } = newRuntime();
    const main = rt.getMain();
    const interp = rt.create();
    const e = failure(() => interp.exec("interpreters.getCurrent().close()"));
    expect(e.excinfo.type?.name).toBe("InterpreterError");
    expect(e.excinfo.msg).toBe("cannot destroy the current interpreter");
    expect(rt.listAll()).toEqual([main, interp]);
  });

  it("test_from_sibling", () => {
    const { rt } = newRuntime();
    const main = rt.getMain();
    const interp1 = rt.create();
    const interp2 = rt.create();
    interp1.exec(`interpreters.get(${interp2.id}).close()`);
    expect(rt.listAll()).toEqual([main, interp1]);
  });

  it("test_from_other_thread", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(await inThread(rt, { op: "close", id: interp.id })).toEqual({ ok: true, value: undefined });
    expect(() => interp.isRunning()).toThrow(InterpreterNotFoundError);
  });

  it("test_still_running", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    await whileRunning(interp, () => {
      expect(() => interp.close()).toThrow(new InterpreterError("interpreter running"));
      expect(interp.isRunning()).toBe(true);
    });
    interp.close();
  });
});

describe("TestInterpreterPrepareMain", () => {
  it("test_empty", () => {
    const { rt } = newRuntime();
    expect(() => rt.create().prepareMain({})).toThrow(RangeError); // CPython's ValueError
  });

  it("test_dict", () => {
    const { rt, out } = newRuntime();
    const interp = rt.create();
    interp.prepareMain({ spam: 42, eggs: "ham" });
    expect(runOutput(interp, out, "print(spam, eggs)")).toBe("42 ham\n");
  });

  it("test_tuple: frozen arrays cross as this realm's own frozen arrays", () => {
    const { rt, out } = newRuntime();
    const interp = rt.create();
    interp.prepareMain({ spam: Object.freeze([1, Object.freeze(["a", 2n])]) });
    expect(
      runOutput(
        interp,
        out,
        "print(spam instanceof Array, Object.isFrozen(spam), spam[1][1] === 2n, spam.length)",
      ),
    ).toBe("true true true 2\n");
  });

  it("test_not_shareable", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(() => interp.prepareMain({ foo: "bar", spam: { spam: "eggs" } })).toThrow(NotShareableError);
    // Make sure neither was actually bound.
    expect(failure(() => interp.exec("print(foo)")).excinfo.type?.name).toBe("ReferenceError");
    expect(failure(() => interp.exec("print(spam)")).excinfo.type?.name).toBe("ReferenceError");
  });

  it("test_running", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    interp.prepareMain({ spam: true });
    await whileRunning(interp, () => {
      expect(() => interp.prepareMain({ spam: false })).toThrow(/running/);
    });
    interp.exec("if (spam !== true) throw new Error('rebound')");
  });

  it("shares a SharedArrayBuffer instead of copying it", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const sab = new SharedArrayBuffer(8);
    interp.prepareMain({ sab, view: new Int32Array(sab, 4, 1) });
    interp.exec("new Int32Array(sab)[0] = 7; view[0] = 9");
    expect([...new Int32Array(sab)]).toEqual([7, 9]);
  });
});

describe("TestInterpreterExec", () => {
  it("test_success", () => {
    const { rt, out } = newRuntime();
    const interp = rt.create();
    interp.exec('print("it worked!")');
    expect(out.join("")).toBe("it worked!\n");
  });

  it("test_failure", () => {
    const { rt } = newRuntime();
    expect(() => rt.create().exec("throw new Error()")).toThrow(ExecutionFailed);
  });

  it("test_in_thread", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    interp.prepareMain({ n: 0 });
    const reply = await inThread(rt, { op: "exec", id: interp.id, code: "globalThis.ran = true" });
    expect(reply).toEqual({ ok: true, value: undefined });
    // `__main__` is per thread: the worker's run did not touch this thread's namespace.
    interp.exec("if (typeof ran !== 'undefined') throw new Error('shared __main__')");
  });

  it("test_already_running", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    await whileRunning(interp, () => {
      expect(() => interp.exec("print('spam')")).toThrow(new InterpreterError("interpreter already running"));
    });
  });

  it("test_bad_script", () => {
    const { rt } = newRuntime();
    expect(() => rt.create().exec(10 as unknown as string)).toThrow(
      new TypeError("exec: code must be a string, got int"),
    );
  });

  it("test_main_reused: __main__ keeps its state between runs", () => {
    const { rt, out } = newRuntime();
    const interp = rt.create();
    interp.exec("var spam = 1; let eggs = 2");
    expect(runOutput(interp, out, "spam += eggs; print(spam, typeof __name__, __name__)")).toBe(
      "3 string __main__\n",
    );
  });

  it("isolates globals between interpreters", () => {
    const { rt, out } = newRuntime();
    const a = rt.create();
    const b = rt.create();
    a.exec("globalThis.spam = 'a'; Array.prototype.mine = 1");
    expect(runOutput(b, out, "print(typeof spam, [].mine)")).toBe("undefined undefined\n");
  });

  it("raises a SyntaxError in the caller, not wrapped (gh-139324)", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(() => interp.exec("1 +")).toThrow(SyntaxError);
    expect(interp.isRunning()).toBe(false);
  });

  it("leaves the caller's thread state attached and the interpreter idle after a failure", () => {
    const { rt } = newRuntime();
    const before = rt.currentThreadState();
    const interp = rt.create();
    expect(() => interp.exec("throw 1")).toThrow(ExecutionFailed);
    expect(rt.currentThreadState()).toBe(before);
    expect(interp.isRunning()).toBe(false);
    expect(rt.threadStateRecords(interp.record())).toEqual([]);
  });
});

describe("TestInterpreterCall", () => {
  it("test_call: returns the function's shareable result", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(interp.call(() => 42)).toBe(42);
    expect(interp.call((a: number, b: string) => `${b}${a}`, 1, "x")).toBe("x1");
    const t = interp.call(() => Object.freeze([1, null])) as unknown[];
    expect(t).toEqual([1, null]);
    expect(Object.isFrozen(t) && Object.getPrototypeOf(t) === Array.prototype).toBe(true);
  });

  it("test_globals: the function runs against the interpreter's __main__", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    interp.prepareMain({ spam: "eggs" });
    expect(interp.call(() => (globalThis as unknown as { __name__: string }).__name__)).toBe("__main__");
    expect(interp.call(() => (globalThis as unknown as { spam: string }).spam)).toBe("eggs");
    expect(
      interp.call(
        () =>
          (
            globalThis as unknown as { interpreters: { getCurrent(): { id: number } } }
          ).interpreters.getCurrent().id,
      ),
    ).toBe(interp.id);
  });

  it("test_closure: a closure's variables stay behind", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const value = 1;
    const e = failure(() => interp.call(() => value));
    expect(e.excinfo.type?.name).toBe("ReferenceError");
  });

  it("test_failure", () => {
    const { rt } = newRuntime();
    const e = failure(() =>
      rt.create().call(function spam() {
        throw new TypeError("eggs");
      }),
    );
    expect(e.excinfo.type).toEqual({ name: "TypeError", qualname: "TypeError", module: "builtins" });
    expect(e.excinfo.formatted).toBe("TypeError: eggs");
    expect(e.excinfo.errdisplay).toMatch(/^TypeError: eggs\n {4}at spam \(<call>:2:\d+\)$/);
  });

  it("test_not_shareable: native and bound functions, unshareable arguments", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(() => interp.call(Math.max)).toThrow(NotShareableError);
    expect(() => interp.call((() => 1).bind(null))).toThrow(NotShareableError);
    expect(() => interp.call((x: unknown) => x, { a: 1 })).toThrow(
      new NotShareableError("argument 1: <Object object> does not support cross-interpreter data"),
    );
    const method = { spam() {} }.spam;
    expect(() => interp.call(method)).toThrow(NotShareableError);
  });

  it("test_return_pickleable: results that are not shareable are copied", () => {
    const { rt } = newRuntime();
    const result = rt.create().call(() => ({ spam: [1, 2], eggs: new Map([[1, 2]]) }));
    expect(result).toEqual({ spam: [1, 2], eggs: new Map([[1, 2]]) });
    expect(result).toBeInstanceOf(Object); // this realm's object, not the interpreter's
  });

  it("test_return_unpickleable: functions and promises cannot come back", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    expect(() => interp.call(() => (x: number) => x)).toThrow(NotShareableError);
    expect(() => interp.call(async () => 1)).toThrow(/returned a Promise/);
  });

  it("test_call_in_thread", async () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const sab = new SharedArrayBuffer(4);
    const thread = interp.callInThread(
      (buffer: SharedArrayBuffer, id: number) => {
        const current = (
          globalThis as unknown as { interpreters: { getCurrent(): { id: number } } }
        ).interpreters.getCurrent();
        Atomics.store(new Int32Array(buffer), 0, current.id === id ? 1 : -1);
      },
      sab,
      interp.id,
    );
    await thread.join();
    expect(thread.error).toBeNull();
    expect(thread.died).toBeNull();
    expect(new Int32Array(sab)[0]).toBe(1);
    // The thread's thread states are gone.
    expect(rt.threadStateRecords(interp.record())).toEqual([]);
    expect(rt.threadStateRecords()).toEqual([rt.currentThreadState()!.record]);
  });

  it("test_call_in_thread_failure: reported as the thread excepthook does", async () => {
    const { rt, err } = newRuntime();
    const thread = rt.create().callInThread(() => {
      throw new RangeError("too far");
    });
    await thread.join();
    expect(thread.error).toBeInstanceOf(ExecutionFailed);
    expect(thread.error!.summary).toBe("RangeError: too far");
    expect(err.join("")).toMatch(
      /^Exception in thread Thread-\d+ \(callInThread\):\nExecutionFailed: RangeError: too far\n\nUncaught in the interpreter:\n\nRangeError: too far\n {4}at <call>:2:\d+\n$/,
    );
  });
});

describe("LowLevelTests (excinfo)", () => {
  it("test_exec_failure_excinfo", () => {
    const { rt } = newRuntime();
    const e = failure(() => rt.create().exec("throw new Error('uh-oh!')"));
    expect(e.excinfo).toEqual({
      type: { name: "Error", qualname: "Error", module: "builtins" },
      msg: "uh-oh!",
      formatted: "Error: uh-oh!",
      errdisplay: "Error: uh-oh!\n    at <string>:1:7",
    });
    expect(String(e)).toBe(
      "Error: uh-oh!\n\nUncaught in the interpreter:\n\nError: uh-oh!\n    at <string>:1:7",
    );
  });
});

describe("RunFailedTests (test__interpreters)", () => {
  const cases: [string, string, string | null, string][] = [
    ["ReferenceError (NameError)", "spam", "ReferenceError", "ReferenceError: spam is not defined"],
    [
      "TypeError (AttributeError)",
      "null.spam",
      "TypeError",
      "TypeError: Cannot read properties of null (reading 'spam')",
    ],
    ["SyntaxError at run time", "eval('1 +')", "SyntaxError", "SyntaxError: Unexpected end of input"],
    [
      "AggregateError (ExceptionGroup)",
      "throw new AggregateError([new Error('a')], 'group')",
      "AggregateError",
      "AggregateError: group",
    ],
    [
      "a user-defined error",
      "class SpamError extends Error { name = 'SpamError' }; throw new SpamError('eggs')",
      "SpamError",
      "SpamError: eggs",
    ],
    ["a thrown non-error", "throw 'oops'", null, "oops"],
  ];
  it.each(cases)("%s", (_, code, name, formatted) => {
    const { rt } = newRuntime();
    const e = failure(() => rt.create().exec(code));
    expect(e.excinfo.type?.name ?? null).toBe(name);
    expect(e.excinfo.formatted).toBe(formatted);
    if (name === "SpamError") expect(e.excinfo.type?.module).toBe("__main__");
  });
});

describe("StressTests (test_stress)", () => {
  it("test_create_many_sequential", () => {
    const { rt } = newRuntime();
    const alive = Array.from({ length: 100 }, () => rt.create());
    expect(new Set(alive.map((i) => i.id)).size).toBe(100);
    for (const interp of alive) interp.close();
    expect(rt.listAll()).toHaveLength(1);
  });

  it("test_create_many_threaded", async () => {
    const { rt } = newRuntime();
    const replies = await Promise.all(
      Array.from({ length: 4 }, () => inThread(rt, { op: "create", count: 25 })),
    );
    const ids = replies.flatMap((r) => (r as { value: number[] }).value);
    expect(new Set(ids).size).toBe(100);
    expect(
      rt
        .listAll()
        .map((i) => i.id)
        .sort((a, b) => a - b),
    ).toEqual([0, ...ids].sort((a, b) => a - b));
  });

  it("test_exec_many_sequential", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    interp.exec("var n = 0");
    for (let i = 0; i < 200; i++) interp.exec("n++");
    expect(interp.call(() => (globalThis as unknown as { n: number }).n)).toBe(200);
  });
});
