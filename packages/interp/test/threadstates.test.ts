// Thread states as arena records: create, bind, attach / detach / swap, clear (gh-112723) and
// delete, in one thread and across real workers.
import { describe, expect, it } from "vitest";
import {
  ThreadState,
  ThreadStateError,
  ThreadStateHandle,
  TSTATE_MIMALLOC_OFFSET,
  TSTATE_SIZE,
  tstateIsValid,
} from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";
import { startPart } from "./support/workers.ts";

describe("thread states in one thread", () => {
  it("leaves the creating thread with a bound, attached main thread state (Py_Initialize)", () => {
    const { rt } = newRuntime();
    const ts = rt.currentThreadState()!;
    expect(ts.interpId).toBe(0);
    expect(ts.state).toBe(ThreadState.ATTACHED);
    expect(ts.threadId).toBe(rt.threadId);
    expect(ts.bound).toBe(true);
    expect(ts.mimalloc!.record).toBe(ts.record + TSTATE_MIMALLOC_OFFSET);
    expect(rt.threadStateRecords()).toEqual([ts.record]);
    expect(TSTATE_SIZE).toBeGreaterThan(4096);
  });

  it("makes a thread state as an arena record, linked to its interpreter, DETACHED and unbound", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const ts = rt.newThreadState(interp);
    expect(tstateIsValid(rt.i32, ts.record)).toBe(true);
    expect(ts.record % 64).toBe(0);
    expect(ts.interpId).toBe(interp.id);
    expect(ts.state).toBe(ThreadState.DETACHED);
    expect(ts.threadId).toBe(0);
    expect(rt.threadStateRecords(interp.record())).toEqual([ts.record]);
    const second = rt.newThreadState(interp);
    expect(second.id).toBeGreaterThan(ts.id);
    expect(rt.threadStateRecords(interp.record())).toEqual([second.record, ts.record]);
  });

  it("binds a state to the calling thread with its four tagged heaps in the interpreter's pool", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const ts = rt.newThreadState(interp);
    ts.bind();
    expect(ts.threadId).toBe(rt.threadId);
    const heaps = [0, 1, 2, 3].map((tag) => ts.heap(tag as 0 | 1 | 2 | 3));
    expect(heaps.map((h) => h.tag)).toEqual([0, 1, 2, 3]);
    const p = heaps[2]!.malloc(48);
    expect(p).toBeGreaterThan(0);
    rt.arena.free(p);
    expect(() => ts.bind()).toThrow(
      new ThreadStateError(
        `bind: thread state ${ts.id} is already bound to thread ${rt.threadId}; a thread state is bound once`,
      ),
    );
  });

  it("allows several thread states per thread only for several interpreters", () => {
    const { rt } = newRuntime();
    const again = rt.newThreadState(); // main interpreter: this thread has one there
    expect(() => again.bind()).toThrow(
      /already has thread state \d+ in interpreter 0; a thread has several thread states only for several interpreters/,
    );
    expect(again.bound).toBe(false);
    rt.newThreadState(rt.create()).bind(); // another interpreter: fine
  });

  it("attaches, detaches and swaps, making the state current", () => {
    const { rt } = newRuntime();
    const main = rt.currentThreadState()!;
    const interp = rt.create();
    const ts = rt.newThreadState(interp);
    ts.bind();
    expect(ThreadStateHandle.swap(ts)).toBe(main);
    expect(main.state).toBe(ThreadState.DETACHED);
    expect(ts.state).toBe(ThreadState.ATTACHED);
    expect(rt.getCurrent()).toBe(interp);
    ts.detach();
    expect(rt.currentThreadState()).toBeNull();
    main.attach();
    expect(rt.getCurrent().id).toBe(0);
    expect(ThreadStateHandle.swap(null)).toBe(main);
    expect(main.state).toBe(ThreadState.DETACHED);
    main.attach();
  });

  it("refuses attach and detach that break the rules, naming the state", () => {
    const { rt } = newRuntime();
    const main = rt.currentThreadState()!;
    const interp = rt.create();
    const ts = rt.newThreadState(interp);
    expect(() => main.attach()).toThrow(`attach: thread state ${main.id} is already attached on this thread`);
    expect(() => ts.attach()).toThrow(
      `attach: this thread already has thread state ${main.id} attached (interpreter 0); detach it first, or use ThreadStateHandle.swap()`,
    );
    main.detach();
    expect(() => ts.attach()).toThrow(
      `attach: thread state ${ts.id} is not bound; call bind() on the thread that will use it`,
    );
    expect(() => ts.detach()).toThrow(
      `detach: thread state ${ts.id} is not attached on this thread (this thread has no attached thread state)`,
    );
    main.attach();
    expect(ts.state).toBe(ThreadState.DETACHED);
  });

  it("refuses to clear from another interpreter or while detached, and clears nothing (gh-112723)", () => {
    const { rt } = newRuntime();
    const main = rt.currentThreadState()!;
    const interp = rt.create();
    const ts = rt.newThreadState(interp);
    ts.bind();
    const p = ts.heap(1).malloc(32);
    expect(() => ts.clear()).toThrow(
      `clear: thread state ${ts.id} belongs to interpreter ${interp.id}, but the calling thread is attached to interpreter 0; ` +
        "clear a thread state from its own interpreter (gh-112723: its objects would otherwise be freed under the wrong interpreter)",
    );
    main.detach();
    expect(() => ts.clear()).toThrow(
      /^clear: the calling thread has no attached thread state in this runtime/,
    );
    main.attach();
    expect(ts.cleared).toBe(false);
    expect(ts.state).toBe(ThreadState.DETACHED);
    expect(ts.mimalloc!.live).toBe(true);
    expect(rt.arena.stats().segments.abandoned).toBe(0);
    rt.arena.free(p);
  });

  it("clears a state from its own interpreter, abandoning its heaps into the interpreter's pool, then deletes it", () => {
    const { rt } = newRuntime();
    const interp = rt.create();
    const ts = rt.newThreadState(interp);
    ts.bind();
    const p = ts.heap(2).malloc(64);
    rt.arena.u8.fill(0x5a, p, p + 64);
    const previous = ThreadStateHandle.swap(ts);
    expect(() => ts.delete()).toThrow(
      `delete: thread state ${ts.id} must be cleared first (clear(), PyThreadState_Clear)`,
    );
    ts.clear();
    expect(ts.cleared).toBe(true);
    expect(() => ts.clear()).toThrow(`clear: thread state ${ts.id} was already cleared`);
    expect(() => ts.delete()).toThrow(
      `delete: thread state ${ts.id} is the calling thread's current state; use deleteCurrent()`,
    );
    ts.deleteCurrent();
    expect(ts.alive).toBe(false);
    expect(rt.threadStateRecords(interp.record())).toEqual([]);
    previous!.attach();
    const stats = rt.arena.stats();
    expect(stats.segments.abandoned).toBe(1);
    expect(stats.abandonedBlocks).toBe(1);
    expect(rt.arena.u8.subarray(p, p + 64).every((b) => b === 0x5a)).toBe(true);
    // Only a thread of the same interpreter reclaims it.
    const other = rt.newThreadState(rt.create());
    other.bind();
    expect(rt.arena.reclaimAbandoned(other.mimalloc!.tld)).toBe(0);
    const same = rt.newThreadState(interp);
    same.bind();
    expect(rt.arena.reclaimAbandoned(same.mimalloc!.tld)).toBe(1);
    rt.arena.free(p);
    rt.arena.check();
  });

  it("clears another thread's detached state from the same interpreter: it can never attach again", () => {
    const { rt } = newRuntime();
    const ts = rt.newThreadState(); // main interpreter, never bound
    ts.clear();
    expect(ts.state).toBe(ThreadState.SHUTTING_DOWN);
    ts.delete();
    expect(() => ts.attach()).toThrow(`attach: thread state ${ts.id} was deleted`);
  });
});

describe("thread states across workers", () => {
  /** Set the go flag that a waiting part (`waitFlag(1)`) is blocked on. */
  const release = (sab: SharedArrayBuffer) => {
    const words = new Int32Array(sab);
    Atomics.store(words, 1, 1);
    Atomics.notify(words, 1);
  };

  it("attaches, detaches and swaps between interpreters in a worker", async () => {
    const { rt } = newRuntime();
    const a = rt.create();
    const b = rt.create();
    const sab = new SharedArrayBuffer(256);
    const part = startPart(rt, sab, { op: "swap", other: b.id, rounds: 6 }, a);
    const result = await part.next<{ seen: number[]; refused: string; detachedState: string }>("result");
    // Each swap: [the current interpreter after it, the interpreter of the state swapped out].
    expect(result.seen).toEqual([b.id, a.id, a.id, b.id, b.id, a.id, a.id, b.id, b.id, a.id, a.id, b.id]);
    expect(result.refused).toMatch(/^attach: thread state \d+ is already attached on this thread/);
    expect(result.detachedState).toBe("ATTACHED");
    const { code, cleanup } = await part.exited;
    expect(code).toBe(0);
    expect(cleanup.threadStates).toBe(0); // it cleaned up itself
    expect(rt.threadStateRecords(a.record())).toEqual([]);
    expect(rt.threadStateRecords(b.record())).toEqual([]);
  });

  it("refuses a clear from the wrong interpreter and while detached, across workers, clearing nothing", async () => {
    const { rt } = newRuntime();
    const a = rt.create();
    const b = rt.create();
    const target = rt.newThreadState(b);
    const sab = new SharedArrayBuffer(256);
    const part = startPart(rt, sab, { op: "clear-other", record: target.record }, a);
    const result = await part.next<{ errors: string[]; targetCleared: boolean; targetState: string }>(
      "result",
    );
    expect(result.errors).toEqual([
      `clear: thread state ${target.id} belongs to interpreter ${b.id}, but the calling thread is attached to interpreter ${a.id}; ` +
        "clear a thread state from its own interpreter (gh-112723: its objects would otherwise be freed under the wrong interpreter)",
      `clear: the calling thread has no attached thread state in this runtime; clearing thread state ${target.id} needs the ` +
        "caller attached to a thread state of the same interpreter (gh-112723)",
    ]);
    expect(result.targetCleared).toBe(false);
    expect(result.targetState).toBe("DETACHED");
    await part.exited;
    expect(target.cleared).toBe(false);
  });

  it("leaves no handle on this thread's arena for the heaps of its detached state that another thread cleared and deleted", async () => {
    const { rt } = newRuntime();
    const x = rt.create();
    const y = rt.create();
    const ts = rt.newThreadState(x);
    ts.bind(); // this thread's arena now has handles on the state's four heaps
    const heapRecords = [0, 1, 2, 3].map((tag) => ts.heap(tag as 0 | 1 | 2 | 3).record);
    const p = ts.heap(1).malloc(64);
    expect(heapRecords.every((r) => rt.arena.heaps.has(r))).toBe(true);
    const sab = new SharedArrayBuffer(256);
    // A worker of interpreter x clears and deletes the state (it stays DETACHED here), then binds
    // a state of interpreter y in the freed record: the heap records are now the worker's.
    const part = startPart(rt, sab, { op: "clear-delete", record: ts.record, rebindIn: y.id }, x);
    try {
      const result = await part.next<{ reused: number; threadId: number }>("result");
      expect(result.reused).toBe(ts.record);
      expect(() => ts.heap(1)).toThrow(
        `heap: thread state ${ts.id} was deleted (by this or another thread); its heaps are abandoned`,
      );
      for (const r of heapRecords) {
        expect(() => rt.arena.heapOf(r)).toThrow(
          new RegExp(
            `^heapOf: heap ${r}: its tld \\d+ belongs to thread ${result.threadId}, not to this thread \\(${rt.threadId}\\); the handle is stale`,
          ),
        );
      }
      rt.arena.check(); // checks none of the worker's heaps
      expect(heapRecords.some((r) => rt.arena.heaps.has(r))).toBe(false);
    } finally {
      release(sab);
    }
    const { code } = await part.exited;
    expect(code).toBe(0);
    rt.arena.free(p); // from the interpreter's pool
    rt.arena.check();
  });

  it("checks clean after the record of its detached state, cleared and deleted by another thread, is reused for other data", async () => {
    const { rt } = newRuntime();
    const x = rt.create();
    const ts = rt.newThreadState(x);
    ts.bind();
    const heapRecords = [0, 1, 2, 3].map((tag) => ts.heap(tag as 0 | 1 | 2 | 3).record);
    const p = ts.heap(2).malloc(200);
    const sab = new SharedArrayBuffer(256);
    const part = startPart(rt, sab, { op: "clear-delete", record: ts.record, rebindIn: -1 }, x);
    try {
      await part.next("result");
      const garbage = rt.arena.recordAlloc(TSTATE_SIZE);
      expect(garbage).toBe(ts.record);
      rt.arena.u8.fill(0xa5, garbage, garbage + TSTATE_SIZE);
      expect(rt.arena.checkProblems()).toEqual([]);
      expect(heapRecords.some((r) => rt.arena.heaps.has(r))).toBe(false);
      rt.arena.recordFree(garbage, TSTATE_SIZE);
    } finally {
      release(sab);
    }
    await part.exited;
    rt.arena.free(p);
    rt.arena.check();
  });

  it("refuses to clear a state another thread has attached", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const part = startPart(rt, sab, { op: "never-check", index: 0 });
    const { id } = await part.next<{ id: number }>("ready");
    const record = rt.threadStateRecords().find((r) => rt.threadState(r).id === id)!;
    const ts = rt.threadState(record);
    expect(() => ts.clear()).toThrow(
      `clear: thread state ${id} is attached by thread ${ts.threadId}; another thread's state can be cleared only while ` +
        "it is detached (or its thread is dead: use runtime.cleanupThread)",
    );
    expect(ts.cleared).toBe(false);
    Atomics.store(new Int32Array(sab), 0, 1);
    await part.exited;
  });
});
