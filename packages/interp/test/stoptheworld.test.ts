// Stop-the-world with real workers: threads looping on checkpoint() all stop and resume; a thread
// that never checks makes the request time out with a report naming it; threads that attach
// during a pause wait; a pause of one interpreter leaves the others running.
import { describe, expect, it } from "vitest";
import { StopTheWorldError, ThreadState, ThreadStateHandle } from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";
import { type Part, sleep, startPart, until } from "./support/workers.ts";

const STOP = 0;
const GO = 1;
const counter = (i: number) => 8 + i;

function busyWaitMs(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

async function stopAll(words: Int32Array, parts: Part[]): Promise<void> {
  Atomics.store(words, STOP, 1);
  for (const p of parts) expect((await p.exited).code).toBe(0);
}

describe("stop-the-world", () => {
  it("stops several workers looping on checkpoint(), shows none running, and resumes them all", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const parts = [0, 1, 2].map((index) => startPart(rt, sab, { op: "loop", index, workNs: 5000 }));
    const ids = await Promise.all(parts.map(async (p) => (await p.next<{ id: number }>("ready")).id));
    await until(() => [0, 1, 2].every((i) => Atomics.load(words, counter(i)) > 10), "the workers to loop");

    for (let round = 0; round < 5; round++) {
      rt.stopTheWorld();
      expect(rt.isWorldStopped(rt.getMain())).toBe(true);
      const states = rt.threadStateRecords().map((r) => rt.threadState(r));
      for (const id of ids) expect(states.find((s) => s.id === id)!.state).toBe(ThreadState.SUSPENDED);
      const frozen = [0, 1, 2].map((i) => Atomics.load(words, counter(i)));
      busyWaitMs(20);
      expect([0, 1, 2].map((i) => Atomics.load(words, counter(i)))).toEqual(frozen);
      rt.startTheWorld();
      expect(rt.isWorldStopped(rt.getMain())).toBe(false);
      await until(
        () => [0, 1, 2].every((i) => Atomics.load(words, counter(i)) > frozen[i]! + 2),
        "the workers to resume",
      );
    }
    await stopAll(words, parts);
  });

  it("times out on a worker that never reaches a checkpoint, names it, and resumes the others", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const looping = startPart(rt, sab, { op: "loop", index: 0, workNs: 5000 });
    const stuck = startPart(rt, sab, { op: "never-check", index: 1 });
    await looping.next("ready");
    const { id } = await stuck.next<{ id: number }>("ready");
    await until(
      () => Atomics.load(words, counter(0)) > 5 && Atomics.load(words, counter(1)) > 5,
      "the workers to run",
    );
    const stuckState = rt
      .threadStateRecords()
      .map((r) => rt.threadState(r))
      .find((s) => s.id === id)!;

    let error: unknown;
    const started = performance.now();
    try {
      rt.stopTheWorld(undefined, { timeoutMs: 150 });
    } catch (e) {
      error = e;
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(error).toBeInstanceOf(StopTheWorldError);
    const e = error as StopTheWorldError;
    expect(e.notStopped).toEqual([{ id, threadId: stuckState.threadId, interpId: 0, state: "ATTACHED" }]);
    expect(e.message).toBe(
      `stop-the-world of interpreter 0 timed out after 150 ms: thread state ${id} (thread ${stuckState.threadId}, ` +
        "interpreter 0) is still ATTACHED: it did not reach a checkpoint() (attached code must call checkpoint() regularly)",
    );
    // The pause was undone: the looping worker runs on, and a new pause can be requested.
    expect(rt.isWorldStopped()).toBe(false);
    const seen = Atomics.load(words, counter(0));
    await until(() => Atomics.load(words, counter(0)) > seen + 2, "the looping worker to resume");
    await stopAll(words, [looping, stuck]);
    rt.stopTheWorld();
    rt.startTheWorld();
  });

  it("makes a thread that attaches during a pause wait until the world restarts", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const part = startPart(rt, sab, { op: "attach-later", index: 0 });
    await part.next("ready");
    rt.stopTheWorld();
    Atomics.store(words, GO, 1);
    Atomics.notify(words, GO);
    busyWaitMs(50);
    expect(Atomics.load(words, 32)).toBe(0); // still waiting to attach
    rt.startTheWorld();
    await until(() => Atomics.load(words, 32) === 1, "the worker to attach");
    expect((await part.exited).code).toBe(0);
  });

  it("stops only the interpreter asked for; stopTheWorldAll stops every one", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const a = rt.create();
    const b = rt.create();
    const inA = startPart(rt, sab, { op: "loop", index: 0, workNs: 5000 }, a);
    const inB = startPart(rt, sab, { op: "loop", index: 1, workNs: 5000 }, b);
    await Promise.all([inA.next("ready"), inB.next("ready")]);

    rt.stopTheWorld(a);
    const frozenA = Atomics.load(words, counter(0));
    const runningB = Atomics.load(words, counter(1));
    busyWaitMs(30);
    expect(Atomics.load(words, counter(0))).toBe(frozenA);
    expect(Atomics.load(words, counter(1))).toBeGreaterThan(runningB);
    rt.startTheWorld(a);

    rt.stopTheWorldAll();
    expect(rt.isWorldStopped()).toBe(true);
    const frozen = [0, 1].map((i) => Atomics.load(words, counter(i)));
    busyWaitMs(30);
    expect([0, 1].map((i) => Atomics.load(words, counter(i)))).toEqual(frozen);
    rt.startTheWorldAll();
    await until(
      () => Atomics.load(words, counter(0)) > frozen[0]! && Atomics.load(words, counter(1)) > frozen[1]!,
      "both to resume",
    );
    await stopAll(words, [inA, inB]);
  });

  it("parks detached threads without their help and resumes them DETACHED", async () => {
    const { rt } = newRuntime();
    const ts = rt.newThreadState(rt.create());
    rt.stopTheWorldAll();
    expect(ts.state).toBe(ThreadState.SUSPENDED);
    const late = rt.newThreadState(); // made during the pause: starts SUSPENDED
    expect(late.state).toBe(ThreadState.SUSPENDED);
    rt.startTheWorldAll();
    expect(ts.state).toBe(ThreadState.DETACHED);
    expect(late.state).toBe(ThreadState.DETACHED);
    await sleep(0);
  });

  it("refuses to start a world this thread did not stop, and a second pause from the same thread", () => {
    const { rt } = newRuntime();
    expect(() => rt.startTheWorld()).toThrow(
      "startTheWorld: this thread holds no stop-the-world pause of interpreter 0",
    );
    rt.stopTheWorld();
    expect(() => rt.stopTheWorldAll()).toThrow(/already holds a stop-the-world pause/);
    rt.startTheWorld();
  });
});

describe("stop-the-world and the requester's own states", () => {
  it("refuses to attach a state of the requesting thread that its own pause parked", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const ts = rt.newThreadState(interp);
    ts.bind();
    rt.stopTheWorldAll();
    const main = rt.currentThreadState()!;
    main.detach();
    expect(() => ts.attach()).toThrow(
      /is parked by this thread's own stop-the-world pause; start the world before attaching it/,
    );
    main.attach();
    rt.startTheWorldAll();
    ThreadStateHandle.swap(ts);
    ThreadStateHandle.swap(main);
  });
});

describe("stop-the-world soak", () => {
  it("keeps every churning thread still during each of many pauses (seeded)", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const parts = [0, 1, 2].map((index) => startPart(rt, sab, { op: "churn", index, seed: 42 + index }));
    await Promise.all(parts.map((p) => p.next("ready")));
    for (let round = 0; round < 150; round++) {
      rt.stopTheWorldAll();
      const frozen = [0, 1, 2].map((i) => Atomics.load(words, counter(i)));
      for (const r of rt.threadStateRecords()) {
        const ts = rt.threadState(r);
        if (!ts.isCurrent) expect(ts.state).toBe(ThreadState.SUSPENDED);
      }
      busyWaitMs(0.2);
      expect([0, 1, 2].map((i) => Atomics.load(words, counter(i)))).toEqual(frozen);
      rt.startTheWorldAll();
      busyWaitMs(round % 3);
    }
    await stopAll(words, parts);
    expect(rt.threadStateRecords()).toEqual([rt.currentThreadState()!.record]);
  });
});
