// Finalization and dead workers: finalizing clears and deletes other threads' states from the
// finalizing thread; a terminated (or exited) worker is cleaned up from another thread and its
// heaps end in its interpreter's pool with their blocks intact; blocks of interpreter A's exited
// threads are never reclaimed by interpreter B's threads.
import { Arena } from "@ft/mimalloc";
import { describe, expect, it } from "vitest";
import { type Interpreter, type Runtime, ThreadState } from "../src/index.ts";
import { newRuntime } from "./support/runtime.ts";
import { startPart } from "./support/workers.ts";

const GO = 1;

function stamped(rt: Runtime, blocks: number[], size: number, index: number): boolean {
  rt.arena.ensureView(Math.max(...blocks) + size);
  return blocks.every((p, i) =>
    rt.arena.u8.subarray(p, p + size).every((b) => b === ((index * 31 + i) & 0xff)),
  );
}

/** A bound state of `interp` on this thread, for reclaiming from its pool. */
function claimant(rt: Runtime, interp: Interpreter) {
  const ts = rt.newThreadState(interp);
  ts.bind();
  return ts;
}

describe("dead workers", () => {
  it("cleans up a terminated worker from another thread: its heaps end in its interpreter's pool with their blocks intact", async () => {
    const { rt } = newRuntime();
    const a = rt.create();
    const sab = new SharedArrayBuffer(256);
    const part = startPart(
      rt,
      sab,
      { op: "alloc-then", index: 3, count: 3000, size: 48, after: "hang", tag: 2 },
      a,
    );
    const { blocks } = await part.next<{ blocks: number[] }>("blocks");
    expect(rt.threadStateRecords(a.record()).map((r) => rt.threadState(r).state)).toEqual([
      ThreadState.ATTACHED,
    ]);
    await part.worker.terminate();
    const { cleanup } = await part.exited;
    expect(cleanup.threadStates).toBe(1);
    expect(cleanup.tlds).toBe(1); // its arena default heap
    expect(rt.threadStateRecords(a.record())).toEqual([]);
    const stats = rt.arena.stats();
    expect(stats.segments.abandoned).toBeGreaterThanOrEqual(1);
    expect(stats.abandonedBlocks).toBe(3000);
    expect(stamped(rt, blocks, 48, 3)).toBe(true);
    rt.arena.check();

    // Only a thread state of interpreter A takes them back.
    const inMain = rt.currentThreadState()!;
    expect(rt.arena.reclaimAbandoned(inMain.mimalloc!.tld)).toBe(0);
    const inA = claimant(rt, a);
    expect(rt.arena.reclaimAbandoned(inA.mimalloc!.tld)).toBeGreaterThanOrEqual(1);
    expect(stamped(rt, blocks, 48, 3)).toBe(true);
    for (const p of blocks) rt.arena.free(p);
    rt.arena.check();
  });

  it("cleans up a worker that returned without cleaning up", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const part = startPart(rt, sab, {
      op: "alloc-then",
      index: 5,
      count: 100,
      size: 32,
      after: "exit",
      tag: 1,
    });
    const { blocks } = await part.next<{ blocks: number[] }>("blocks");
    const { code, cleanup } = await part.exited;
    expect(code).toBe(0);
    expect(cleanup.threadStates).toBe(1);
    expect(rt.threadStateRecords()).toEqual([rt.currentThreadState()!.record]);
    expect(stamped(rt, blocks, 32, 5)).toBe(true);
    expect(rt.arena.stats().abandonedBlocks).toBe(100);
  });

  it("never lets interpreter B's threads reclaim the blocks of interpreter A's exited threads (pool isolation)", async () => {
    const { rt } = newRuntime();
    const a = rt.create();
    const b = rt.create();
    const sab = new SharedArrayBuffer(256);
    const inA = startPart(
      rt,
      sab,
      { op: "alloc-then", index: 7, count: 2000, size: 64, after: "hang", tag: 2 },
      a,
    );
    const { blocks } = await inA.next<{ blocks: number[] }>("blocks");
    await inA.worker.terminate();
    await inA.exited;
    const abandoned = rt.arena.stats().segments.abandoned;
    expect(abandoned).toBeGreaterThanOrEqual(1);

    // B's thread allocates a lot with every tag (each new page first tries to reclaim from B's pool).
    const inB = startPart(
      rt,
      sab,
      { op: "alloc-then", index: 8, count: 20000, size: 64, after: "exit", tag: 2 },
      b,
    );
    const bBlocks = (await inB.next<{ blocks: number[] }>("blocks")).blocks;
    await inB.exited;
    const mine = new Set(blocks);
    expect(bBlocks.some((p) => mine.has(p))).toBe(false);
    expect(stamped(rt, blocks, 64, 7)).toBe(true);
    const fromB = claimant(rt, b);
    expect(rt.arena.reclaimAbandoned(fromB.mimalloc!.tld)).toBeGreaterThanOrEqual(1); // B's own exited thread
    expect(stamped(rt, blocks, 64, 7)).toBe(true);
    rt.arena.reclaimAbandoned(); // the default pool: neither A's nor B's
    expect(rt.arena.reclaimAbandoned(rt.currentThreadState()!.mimalloc!.tld)).toBe(0); // main's pool
    expect(stamped(rt, blocks, 64, 7)).toBe(true);
    const fromA = claimant(rt, a);
    expect(rt.arena.reclaimAbandoned(fromA.mimalloc!.tld)).toBeGreaterThanOrEqual(1);
    expect(stamped(rt, blocks, 64, 7)).toBe(true);
    rt.arena.check();
  });

  it("closing an interpreter destroys its pool: what its exited threads left is freed, other pools are untouched", async () => {
    const { rt } = newRuntime();
    const a = rt.create();
    const b = rt.create();
    const sab = new SharedArrayBuffer(256);
    const inB = startPart(rt, sab, { op: "alloc-then", index: 5, count: 500, size: 64, after: "hang", tag: 0 }, b);
    const kept = (await inB.next<{ blocks: number[] }>("blocks")).blocks;
    await inB.worker.terminate();
    await inB.exited;
    const inA = startPart(rt, sab, { op: "alloc-then", index: 6, count: 3000, size: 64, after: "hang", tag: 0 }, a);
    await inA.next<{ blocks: number[] }>("blocks");
    await inA.worker.terminate();
    await inA.exited;
    const before = rt.arena.stats();
    expect(before.segments.abandoned).toBeGreaterThanOrEqual(2);
    a.close();
    const after = rt.arena.stats();
    expect(after.segments.abandoned).toBe(before.segments.abandoned - 1);
    expect(after.abandonedBlocks).toBe(500);
    expect(stamped(rt, kept, 64, 5)).toBe(true);
    rt.arena.check();
  });

  it("undoes a pause whose requester died and releases HEAD_LOCK a dead thread held", () => {
    const { rt } = newRuntime();
    const ts = rt.newThreadState(rt.create());
    // A thread of the arena that is gone; pretend it held HEAD_LOCK and a pause.
    const gone = Arena.attach(rt.arena.buffer);
    gone.detach();
    const rtWords = rt.i32;
    const head = (rt.record >> 2) + 2;
    Atomics.store(rtWords, head, gone.threadId);
    const report = rt.cleanupThread(gone.threadId);
    expect(report.releasedLocks).toBe(true);
    expect(Atomics.load(rtWords, head)).toBe(0);
    expect(ts.state).toBe(ThreadState.DETACHED);
  });

  it("rejects bad thread ids", () => {
    const { rt } = newRuntime();
    expect(() => rt.cleanupThread(0)).toThrow(RangeError);
    expect(() => rt.cleanupThread(rt.threadId)).toThrow(/cannot clean up after itself/);
  });
});

describe("finalization", () => {
  it("clears and deletes other threads' states from the finalizing thread (their heaps go to the pool)", async () => {
    const { rt } = newRuntime();
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const part = startPart(rt, sab, {
      op: "alloc-then",
      index: 9,
      count: 500,
      size: 40,
      after: "idle",
      tag: 1,
    });
    const { blocks } = await part.next<{ blocks: number[] }>("blocks");
    expect(rt.threadStateRecords()).toHaveLength(2);
    rt.finalize();
    expect(rt.finalized).toBe(true);
    const stats = rt.arena.stats();
    expect(stats.abandonedBlocks).toBeGreaterThanOrEqual(500);
    expect(stamped(rt, blocks, 40, 9)).toBe(true);
    // The worker's state is gone: it may not run interpreter code any more.
    Atomics.store(words, GO, 1);
    Atomics.notify(words, GO);
    const refused = await part.next<{ message: string }>("refused");
    expect(refused.message).toMatch(/^attach: thread state \d+ was deleted$/);
    await part.exited;
    expect(() => rt.finalize()).toThrow(
      "finalize: call it from the thread whose attached thread state is in the main interpreter (Py_FinalizeEx)",
    );
  });

  it("closes every subinterpreter left and refuses to run twice", () => {
    const { rt } = newRuntime();
    const interps = [rt.create(), rt.create()];
    interps[0]!.exec("globalThis.x = 1");
    rt.finalize();
    expect(rt.interpreterRecords()).toHaveLength(1);
    for (const i of interps) expect(() => i.isRunning()).toThrow(/unrecognized interpreter ID/);
  });

  it("closes an interpreter with a detached thread state of another thread, clearing it from the closing thread", async () => {
    const { rt } = newRuntime();
    const a = rt.create();
    const sab = new SharedArrayBuffer(256);
    const words = new Int32Array(sab);
    const part = startPart(
      rt,
      sab,
      { op: "alloc-then", index: 4, count: 50, size: 24, after: "idle", tag: 0 },
      a,
    );
    const { blocks } = await part.next<{ blocks: number[] }>("blocks");
    a.close();
    expect(stamped(rt, blocks, 24, 4)).toBe(true);
    Atomics.store(words, GO, 1);
    Atomics.notify(words, GO);
    expect((await part.next<{ message: string }>("refused")).message).toMatch(/was deleted/);
    await part.exited;
  });
});
