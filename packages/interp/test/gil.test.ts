// GIL mode: attaching takes the interpreter's lock, so only one thread state of an interpreter
// runs at a time; a waiter that waited a switch interval makes the holder hand the lock over at
// its next checkpoint(). There is no per-thread mimalloc state: each interpreter owns one shared
// state (CPython 3.12's per-interpreter obmalloc state) that the GIL holder allocates through.
// Stop-the-world is a no-op.
import { SEGMENT_SIZE } from "@ft/mimalloc";
import { currentThreadState as currentPymemState, MimallocThreadState } from "@ft/pymem";
import { describe, expect, it } from "vitest";
import { checkpoint, interpGilMimalloc, interpGilMimallocOwner, type Runtime, ThreadState } from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";
import { sleep, startPart } from "./support/workers.ts";

/** The owner id of the segment holding block `p` (@ft/mimalloc's segment word 0). */
function segmentOwner(rt: Runtime, p: number): number {
  const segment = p - 1 - ((p - 1) % SEGMENT_SIZE);
  rt.arena.ensureView(segment + 4);
  return Atomics.load(rt.arena.u32, segment >>> 2);
}

/** Check a block the tstate worker made (word 0 = size, then a pattern from byte 8). */
function checkWorkerBlock(rt: Runtime, p: number): void {
  const a = rt.arena;
  a.ensureView(p + 8);
  const size = a.u32[p >>> 2]!;
  a.ensureView(p + size);
  for (let i = 8; i < size; i += 5) if (a.u8[p + i] !== ((p >>> 3) & 0xff)) throw new Error(`block ${p} corrupted at +${i}`);
}

const SLOTS = 256;

const GO = 1;

describe("GIL mode", () => {
  it("is chosen at creation; stop-the-world is a no-op", () => {
    const { rt } = newRuntime({ mode: "gil" });
    expect(rt.mode).toBe("gil");
    // Stop-the-world is a no-op: the caller holds the GIL.
    rt.stopTheWorld();
    rt.startTheWorld();
  });

  it("gives each interpreter one mimalloc state, used by the thread that holds its GIL", () => {
    const { rt } = newRuntime({ mode: "gil" });
    const ts = rt.currentThreadState()!;
    const main = rt.mainInterpreterRecord;
    const record = interpGilMimalloc(rt.i32, main);
    const owner = interpGilMimallocOwner(rt.i32, main);
    expect(record).not.toBe(0);
    expect(owner).not.toBe(rt.threadId); // a virtual id: no thread has it
    // Attached: the thread state's mimalloc is this thread's handle on the interpreter's state.
    expect(ts.mimalloc).not.toBeNull();
    expect(ts.mimalloc!.shared).toBe(true);
    expect(ts.mimalloc!.record).toBe(record);
    expect(currentPymemState()).toBe(ts.mimalloc);
    const p = ts.heap().malloc(100);
    expect(segmentOwner(rt, p)).toBe(owner);
    expect(rt.arena.tagOf(p)).toBe(1);
    rt.arena.free(p); // a cross-thread free, even by the holder: no thread owns the page
    // Detached: no state, no heaps (the next GIL holder's).
    const handle = ts.mimalloc;
    ts.detach();
    expect(ts.mimalloc).toBeNull();
    expect(currentPymemState()).toBeNull();
    expect(() => ts.heap()).toThrow(/in GIL mode not attached/);
    ts.attach();
    expect(ts.mimalloc).toBe(handle); // cached per thread and interpreter
    // A subinterpreter has its own, bound to its own pool, and freed when it closes.
    const sub = rt.create();
    const subRecord = interpGilMimalloc(rt.i32, sub.record());
    expect(subRecord).not.toBe(0);
    expect(subRecord).not.toBe(record);
    expect(interpGilMimallocOwner(rt.i32, sub.record())).not.toBe(owner);
    const subTs = rt.ensureThreadState(sub);
    expect(subTs.mimalloc!.record).toBe(subRecord);
    const q = subTs.heap(2).malloc(64);
    expect(segmentOwner(rt, q)).toBe(interpGilMimallocOwner(rt.i32, sub.record()));
    rt.ensureThreadState(rt.getMain());
    expect(currentPymemState()!.record).toBe(record);
    sub.close();
    expect(() => MimallocThreadState.attachShared(rt.arena, subRecord)).toThrow(); // record freed
    rt.arena.check();
  });

  it("lets two workers take turns allocating and freeing through the interpreter's heaps", async () => {
    const { rt } = newRuntime({ mode: "gil" });
    const sab = new SharedArrayBuffer(4 * (SLOTS + 512));
    const words = new Int32Array(sab);
    const main = rt.currentThreadState()!;
    const owner = interpGilMimallocOwner(rt.i32, main.interp);
    main.detach();
    const ROUNDS = 20;
    const parts = [0, 1].map((index) => startPart(rt, sab, { op: "gil-alloc", index, rounds: ROUNDS, batch: 200 }));
    await Promise.all(parts.map((p) => p.next("ready")));
    const results = await Promise.all(parts.map((p) => p.next<{ othersFreed: number; owner: number }>("result")));
    for (const p of parts) await p.exited;
    main.attach();
    // Each turn after the first freed the 100 blocks the other worker left.
    expect(results[0]!.othersFreed + results[1]!.othersFreed).toBe((2 * ROUNDS - 1) * 100);
    expect(results.map((r) => r.owner)).toEqual([owner, owner]);
    rt.arena.check();
    for (let s = SLOTS; s < words.length; s++) {
      const p = words[s]!;
      if (p === 0) continue;
      checkWorkerBlock(rt, p);
      expect(segmentOwner(rt, p)).toBe(owner);
      rt.arena.free(p);
    }
    for (const tag of [0, 1, 2, 3] as const) main.heap(tag).collect(true);
    rt.arena.check();
  });

  it("repairs the interpreter's state when a worker dies holding the GIL inside the allocator", async () => {
    const { rt } = newRuntime({ mode: "gil" });
    const sab = new SharedArrayBuffer(4 * (SLOTS + 512));
    const words = new Int32Array(sab);
    const main = rt.currentThreadState()!;
    const owner = interpGilMimallocOwner(rt.i32, main.interp);
    const record = interpGilMimalloc(rt.i32, main.interp);
    const generation = () => rt.arena.u32[(record >>> 2) + 4]!;
    for (let round = 0; round < 4; round++) {
      main.detach();
      const before = generation();
      const part = startPart(rt, sab, { op: "gil-hang", index: round % 2 });
      await part.next("ready");
      // Wait until the worker is allocating (a loaded machine may be slow to schedule it), then
      // a little more, so that the kill lands somewhere inside its allocation loop.
      const progress = () => Atomics.load(words, 8 + (round % 2));
      for (let waited = 0; progress() === 0 && waited < 10_000; waited += 5) await sleep(5);
      expect(progress()).toBeGreaterThan(0);
      await sleep(5 + ((round * 13) % 25));
      await part.worker.terminate();
      const { cleanup } = await part.exited;
      expect(cleanup.threadStates).toBe(1);
      // Repaired (abandoned, re-initialised in place with the same owner) before the GIL was released.
      expect(generation()).toBe(before + 1);
      expect(interpGilMimalloc(rt.i32, main.interp)).toBe(record);
      expect(interpGilMimallocOwner(rt.i32, main.interp)).toBe(owner);
      rt.arena.check();
      main.attach();
      expect(main.mimalloc!.stale).toBe(false);
      // The dead worker's blocks are intact; allocate and free through the repaired state.
      for (let s = SLOTS; s < words.length; s++) {
        const p = words[s]!;
        if (p === 0) continue;
        checkWorkerBlock(rt, p);
        if (s % 2 === round % 2) {
          rt.arena.free(p);
          words[s] = 0;
        }
      }
      const mine = Array.from({ length: 2000 }, (_, i) => {
        const p = main.heap((i % 4) as 0 | 1 | 2 | 3).malloc(24 + (i % 200));
        expect(segmentOwner(rt, p)).toBe(owner);
        return p;
      });
      for (const p of mine) rt.arena.free(p);
      rt.arena.check();
    }
    for (let s = SLOTS; s < words.length; s++) if (words[s] !== 0) rt.arena.free(words[s]!);
    rt.arena.reclaimAbandoned(main.mimalloc!.tld);
    for (const tag of [0, 1, 2, 3] as const) main.heap(tag).collect(true);
    rt.arena.check();
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
