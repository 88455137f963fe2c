// GIL mode: attaching takes the interpreter's lock, so only one thread state of an interpreter
// runs at a time; a waiter that waited a switch interval makes the holder hand the lock over at
// its next checkpoint(). There is no per-thread mimalloc state, and stop-the-world is a no-op.
import { describe, expect, it } from "vitest";
import { checkpoint, ThreadState } from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";
import { startPart } from "./support/workers.ts";

const GO = 1;

describe("GIL mode", () => {
  it("is chosen at creation and has no per-thread mimalloc state", () => {
    const { rt } = newRuntime({ mode: "gil" });
    expect(rt.mode).toBe("gil");
    const ts = rt.currentThreadState()!;
    expect(ts.mimalloc).toBeNull();
    expect(() => ts.heap()).toThrow(/no mimalloc state/);
    // Stop-the-world is a no-op: the caller holds the GIL.
    rt.stopTheWorld();
    rt.startTheWorld();
  });

  it("lets only one thread state of an interpreter run at a time", async () => {
    const { rt } = newRuntime({ mode: "gil" });
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    // An idle JavaScript thread still holds the GIL while it waits for events: release it.
    const main = rt.currentThreadState()!;
    main.detach();
    const parts = [0, 1].map((index) => startPart(rt, sab, { op: "gil", index, rounds: 200 }));
    await Promise.all(parts.map((p) => p.next("ready")));
    Atomics.store(words, GO, 1);
    Atomics.notify(words, GO);
    const results = await Promise.all(parts.map((p) => p.next<{ overlaps: number }>("result")));
    main.attach();
    expect(results.map((r) => r.overlaps)).toEqual([0, 0]);
    expect([Atomics.load(words, 8), Atomics.load(words, 9)]).toEqual([200, 200]);
    for (const p of parts) await p.exited;
  });

  it("makes a holder that reaches checkpoint() hand the GIL to a thread that waited a switch interval", async () => {
    const { rt } = newRuntime({ mode: "gil" });
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const main = rt.currentThreadState()!;
    main.detach();
    const part = startPart(rt, sab, { op: "gil", index: 0, rounds: 3 });
    await part.next("ready");
    main.attach();
    // This thread holds the GIL and keeps running, calling checkpoint(); the worker wants it.
    Atomics.store(words, GO, 1);
    Atomics.notify(words, GO);
    const end = performance.now() + 2000;
    while (Atomics.load(words, 8) < 3 && performance.now() < end) checkpoint();
    expect(Atomics.load(words, 8)).toBe(3);
    expect(main.state).toBe(ThreadState.ATTACHED);
    main.detach(); // let the worker finish (it attaches once more to clean up)
    await part.exited;
    main.attach();
  });

  it("runs subinterpreters under their own GIL", () => {
    const { rt, out } = newRuntime({ mode: "gil" });
    const interp = rt.create();
    interp.exec("print(interpreters.getCurrent().id)");
    expect(out.join("")).toBe(`${interp.id}\n`);
  });
});

describe("GIL mode threads", () => {
  it("releases the caller's GIL while it joins a callInThread thread", async () => {
    const { rt } = newRuntime({ mode: "gil" });
    const sab = new SharedArrayBuffer(4);
    const thread = rt.create().callInThread((b: SharedArrayBuffer) => {
      new Int32Array(b)[0] = 42;
    }, sab);
    await thread.join();
    expect(thread.error).toBeNull();
    expect(new Int32Array(sab)[0]).toBe(42);
    expect(rt.currentThreadState()!.state).toBe(ThreadState.ATTACHED);
  });
});
