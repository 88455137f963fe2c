import { startWorker } from "@ft/worker";
import { describe, expect, it } from "vitest";
import {
  THREAD_STATE_COUNT,
  ThreadState,
  ThreadStateTransitionError,
  TSTATE_ALIGN,
  TSTATE_ID_OFFSET,
  TSTATE_INTERP_ID_OFFSET,
  TSTATE_GC_OFFSET,
  TSTATE_GC_SIZE,
  TSTATE_INTERP_OFFSET,
  TSTATE_MIMALLOC_OFFSET,
  TSTATE_MIMALLOC_SIZE,
  TSTATE_WHENCE_OFFSET,
  TSTATE_XEVAL_BREAKER_OFFSET,
  TSTATE_XFLAGS_OFFSET,
  TSTATE_NEXT_OFFSET,
  TSTATE_PREV_OFFSET,
  TSTATE_SIZE,
  TSTATE_THREAD_ID_OFFSET,
  TSTATE_WORDS,
  TSTATE_XSTATE_OFFSET,
  tstateCasState,
  tstateId,
  tstateInit,
  tstateInterpId,
  tstateIsValid,
  tstateMimallocState,
  tstateNext,
  tstatePrev,
  tstateSetNext,
  tstateSetPrev,
  tstateSetThreadId,
  tstateState,
  tstateStoreState,
  tstateThreadId,
  tstateTransition,
} from "../src/index.ts";

const arena = (bytes = 16384) => new Int32Array(new SharedArrayBuffer(bytes));

describe("thread-state record layout", () => {
  it("packs the words without gaps and reserves aligned collector and mimalloc regions (the #error checks)", () => {
    const offsets = [
      TSTATE_INTERP_ID_OFFSET,
      TSTATE_ID_OFFSET,
      TSTATE_THREAD_ID_OFFSET,
      TSTATE_XSTATE_OFFSET,
      TSTATE_NEXT_OFFSET,
      TSTATE_PREV_OFFSET,
      TSTATE_INTERP_OFFSET,
      TSTATE_XEVAL_BREAKER_OFFSET,
      TSTATE_XFLAGS_OFFSET,
      TSTATE_WHENCE_OFFSET,
    ];
    expect(offsets).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    expect(TSTATE_ALIGN).toBe(64);
    expect(TSTATE_GC_OFFSET).toBe(64);
    expect(TSTATE_GC_OFFSET + TSTATE_GC_SIZE).toBe(TSTATE_MIMALLOC_OFFSET);
    expect(TSTATE_MIMALLOC_OFFSET % TSTATE_ALIGN).toBe(0); // MimallocThreadState.init needs 64-aligned
    expect(TSTATE_MIMALLOC_SIZE % TSTATE_ALIGN).toBe(0);
    expect(TSTATE_SIZE).toBe(TSTATE_MIMALLOC_OFFSET + TSTATE_MIMALLOC_SIZE);
    expect(TSTATE_SIZE).toBeGreaterThan(4096); // a tld and four heap records
    expect(TSTATE_SIZE).toBeLessThanOrEqual(8192); // one arena record
    expect(TSTATE_WORDS * 4).toBe(TSTATE_SIZE);
    expect(THREAD_STATE_COUNT).toBe(4);
  });

  it("initialises a record DETACHED, unbound and unlinked, with its ids, and clears the reserved region", () => {
    const i32 = arena();
    i32.fill(-1);
    const ts = 64;
    i32.fill(-1);
    tstateInit(i32, ts, 7, 3);
    expect(tstateId(i32, ts)).toBe(7);
    expect(tstateInterpId(i32, ts)).toBe(3);
    expect(tstateThreadId(i32, ts)).toBe(0);
    expect(tstateState(i32, ts)).toBe(ThreadState.DETACHED);
    expect(tstateNext(i32, ts)).toBe(0);
    expect(tstatePrev(i32, ts)).toBe(0);
    const mi = tstateMimallocState(ts);
    expect(mi).toBe(ts + 256);
    expect(i32.subarray(mi >> 2, (mi + TSTATE_MIMALLOC_SIZE) >> 2).every((w) => w === 0)).toBe(true);
    // The words around the record are untouched.
    expect(i32[(ts >> 2) - 1]).toBe(-1);
    expect(i32[(ts + TSTATE_SIZE) >> 2]).toBe(-1);
    expect(tstateIsValid(i32, ts)).toBe(true);
  });

  it("writes each field at its named offset", () => {
    const i32 = arena();
    const ts = 64;
    tstateInit(i32, ts, 0xfffffffe, 0);
    tstateSetThreadId(i32, ts, 0x80000001);
    tstateStoreState(i32, ts, ThreadState.SUSPENDED);
    tstateSetNext(i32, ts, 0x1000);
    tstateSetPrev(i32, ts, 0x2000);
    const w = ts >> 2;
    expect(i32[w + (TSTATE_ID_OFFSET >> 2)] >>> 0).toBe(0xfffffffe);
    expect(i32[w + (TSTATE_THREAD_ID_OFFSET >> 2)] >>> 0).toBe(0x80000001);
    expect(i32[w + (TSTATE_XSTATE_OFFSET >> 2)]).toBe(ThreadState.SUSPENDED);
    expect(i32[w + (TSTATE_NEXT_OFFSET >> 2)]).toBe(0x1000);
    expect(i32[w + (TSTATE_PREV_OFFSET >> 2)]).toBe(0x2000);
    // Unsigned fields read back unsigned.
    expect(tstateId(i32, ts)).toBe(0xfffffffe);
    expect(tstateThreadId(i32, ts)).toBe(0x80000001);
  });

  it("applies events through the state machine and leaves the state alone when one is refused", () => {
    const i32 = arena();
    const ts = 64;
    tstateInit(i32, ts, 1, 0);
    expect(tstateTransition(i32, ts, "attach")).toBe(ThreadState.ATTACHED);
    expect(() => tstateTransition(i32, ts, "attach")).toThrow(ThreadStateTransitionError);
    expect(tstateState(i32, ts)).toBe(ThreadState.ATTACHED);
    expect(tstateTransition(i32, ts, "suspend")).toBe(ThreadState.SUSPENDED);
    expect(tstateTransition(i32, ts, "resume")).toBe(ThreadState.DETACHED);
    expect(tstateTransition(i32, ts, "shutdown")).toBe(ThreadState.SHUTTING_DOWN);
    expect(() => tstateTransition(i32, ts, "attach")).toThrow(/may only hang/);
  });

  it("lets the stop-the-world thread park only a detached state", () => {
    const i32 = arena();
    const ts = 64;
    tstateInit(i32, ts, 1, 0);
    tstateTransition(i32, ts, "attach");
    // park_detached_threads: CAS DETACHED -> SUSPENDED fails on an attached thread.
    expect(tstateCasState(i32, ts, ThreadState.DETACHED, ThreadState.SUSPENDED)).toBe(false);
    tstateTransition(i32, ts, "detach");
    expect(tstateCasState(i32, ts, ThreadState.DETACHED, ThreadState.SUSPENDED)).toBe(true);
    expect(tstateState(i32, ts)).toBe(ThreadState.SUSPENDED);
  });

  it("validates records: NULL, misaligned, out of the arena, unknown state, self links", () => {
    const i32 = arena(16384);
    const ts = 64;
    tstateInit(i32, ts, 1, 0);
    expect(tstateIsValid(i32, ts)).toBe(true);
    expect(tstateIsValid(i32, 0)).toBe(false);
    expect(tstateIsValid(i32, 96)).toBe(false);
    expect(tstateIsValid(i32, 16384 - 64)).toBe(false);
    i32[(ts + TSTATE_NEXT_OFFSET) >> 2] = ts;
    expect(tstateIsValid(i32, ts)).toBe(false);
    i32[(ts + TSTATE_NEXT_OFFSET) >> 2] = 0;
    i32[(ts + TSTATE_XSTATE_OFFSET) >> 2] = 9;
    expect(tstateIsValid(i32, ts)).toBe(false);
    i32[(ts + TSTATE_XSTATE_OFFSET) >> 2] = 0;
    i32[(ts + TSTATE_ID_OFFSET) >> 2] = 0;
    expect(tstateIsValid(i32, ts)).toBe(false);
  });

  it("guards its preconditions in debug builds", () => {
    const i32 = arena(16384);
    expect(() => tstateInit(i32, 0, 1, 0)).toThrow("thread-state pointer must not be NULL");
    expect(() => tstateInit(i32, 72, 1, 0)).toThrow("thread-state record must be 64-aligned");
    expect(() => tstateInit(i32, 16384 - 64, 1, 0)).toThrow("thread-state record must lie inside the arena");
    expect(() => tstateInit(i32, 64, 0, 0)).toThrow("thread-state id must be a nonzero uint32");
    tstateInit(i32, 64, 1, 0);
    expect(() => tstateSetNext(i32, 64, 64)).toThrow("a thread state must not link to itself");
  });

  it("keeps the rules when a worker attaches and detaches while the main thread parks and resumes", async () => {
    const sab = new SharedArrayBuffer(16384);
    const i32 = new Int32Array(sab);
    const ts = 128;
    tstateInit(i32, ts, 1, 0);
    const rounds = 20_000;
    const worker = startWorker(new URL("./fixtures/attach-detach.worker.ts", import.meta.url), {
      workerData: { sab, ts, rounds },
    });
    let finished = false;
    let failure: unknown;
    worker.once("message", () => {
      finished = true;
    });
    worker.once("error", (e) => {
      failure = e;
      finished = true;
    });
    let parks = 0;
    while (!finished) {
      if (tstateCasState(i32, ts, ThreadState.DETACHED, ThreadState.SUSPENDED)) {
        parks++;
        // Only the stop-the-world thread moves a suspended state: it must still be suspended here.
        expect(tstateState(i32, ts)).toBe(ThreadState.SUSPENDED);
        tstateTransition(i32, ts, "resume");
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (failure) throw failure;
    await worker.terminate();
    expect(tstateState(i32, ts)).toBe(ThreadState.DETACHED);
    expect(tstateIsValid(i32, ts)).toBe(true);
    expect(parks).toBeGreaterThan(0);
  });
});
