// The runtime in an arena: creation, attaching, the interpreter table, the hooks a higher package
// registers, and bad input.
import { Arena } from "@ft/mimalloc";
import { MTS_POOL } from "@ft/pymem";
import { describe, expect, it } from "vitest";
import {
  INTERP_GC_OFFSET,
  INTERP_GC_SIZE,
  InterpreterError,
  registerRuntimeHooks,
  Runtime,
  type ThreadStateHookArgs,
  TSTATE_GC_SIZE,
} from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";

describe("Runtime", () => {
  it("is free-threaded by default and lives in an arena another thread can attach to", () => {
    const { rt } = newRuntime();
    expect(rt.mode).toBe("free-threaded");
    expect(rt.ref).toEqual({ buffer: rt.arena.buffer, runtime: rt.record });
    expect(structuredClone(rt.ref).runtime).toBe(rt.record);
    const other = Runtime.attach(rt.ref);
    expect(other.threadId).not.toBe(rt.threadId);
    expect(other.mainInterpreterRecord).toBe(rt.mainInterpreterRecord);
    expect(other.currentThreadState()).toBeNull();
    expect(() => other.getCurrent()).toThrow(/has no attached thread state/);
    other.arena.detach();
  });

  it("can be put in an arena the caller made", () => {
    const arena = Arena.create({ maxBytes: 32 << 20 });
    const { rt } = newRuntime({ arena });
    expect(rt.arena).toBe(arena);
  });

  it("keeps the interpreter table in creation order and never reuses an id", () => {
    const { rt } = newRuntime();
    const ids: number[] = [];
    for (let round = 0; round < 5; round++) {
      const made = [rt.create(), rt.create()];
      ids.push(...made.map((i) => i.id));
      made[0]!.close();
    }
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rt.listAll().map((i) => i.id)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(rt.interpreterRecords()).toHaveLength(6);
  });

  it("gives each interpreter its own abandoned pool", () => {
    const { rt } = newRuntime();
    const a = rt.newThreadState(rt.create());
    a.bind();
    const b = rt.newThreadState(rt.create());
    b.bind();
    const pools = new Set(
      [rt.currentThreadState()!, a, b].map((ts) => rt.arena.u32[(ts.mimalloc!.record >> 2) + MTS_POOL]),
    );
    expect(pools.size).toBe(3);
  });

  it("rejects what is not a runtime", () => {
    const { rt } = newRuntime();
    expect(() =>
      Runtime.attach({ buffer: new ArrayBuffer(8) as unknown as SharedArrayBuffer, runtime: 0 }),
    ).toThrow(TypeError);
    expect(() => Runtime.attach({ buffer: rt.arena.buffer, runtime: 64 })).toThrow(/no runtime record at 64/);
    expect(() => Runtime.create({ mode: "nogil" as "gil" })).toThrow(TypeError);
    expect(() => rt.stopTheWorld(undefined, { timeoutMs: -1 })).toThrow(RangeError);
    expect(() => rt.threadState(12345)).toThrow(/no thread state at 12345/);
  });

  it("cannot be finalized twice, nor attached to once finalized", () => {
    const { rt } = newRuntime();
    const ref = rt.ref;
    rt.finalize();
    expect(() => Runtime.attach(ref)).toThrow(
      new InterpreterError("Runtime.attach: the runtime was finalized"),
    );
  });
});

describe("hooks", () => {
  it("lets a higher package keep per-interpreter and per-thread state in the records", () => {
    const calls: string[] = [];
    const unregister = registerRuntimeHooks({
      initInterpreter: ({ id, gcState, arena }) => {
        calls.push(`init ${id}`);
        arena.u32[gcState >> 2] = 1000 + id; // the collector's region
      },
      finiInterpreter: ({ id }) => calls.push(`fini ${id}`),
      bindThreadState: ({ id }) => calls.push(`bind ${id}`),
      clearThreadState: (args: ThreadStateHookArgs) => calls.push(`clear ${args.id} bound=${args.bound}`),
    });
    try {
      const { rt } = newRuntime();
      const main = rt.currentThreadState()!;
      const interp = rt.create();
      expect(rt.arena.u32[(interp.record() + INTERP_GC_OFFSET) >> 2]).toBe(1000 + interp.id);
      interp.exec("1");
      interp.close();
      rt.finalize();
      expect(calls).toEqual([
        "init 0",
        `bind ${main.id}`,
        `init ${interp.id}`,
        `bind ${main.id + 1}`, // exec's temporary state
        `clear ${main.id + 1} bound=true`,
        `bind ${main.id + 2}`, // close's finalizing state
        `fini ${interp.id}`,
        `clear ${main.id + 2} bound=true`,
        "fini 0",
        `clear ${main.id} bound=true`,
      ]);
      expect(INTERP_GC_SIZE).toBeGreaterThanOrEqual(512);
      expect(TSTATE_GC_SIZE).toBe(192);
    } finally {
      unregister();
    }
  });

  it("rejects hooks that are not functions", () => {
    expect(() => registerRuntimeHooks({ initInterpreter: 1 as unknown as () => void })).toThrow(TypeError);
  });
});
