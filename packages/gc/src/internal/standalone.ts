/**
 * Object spaces without @ft/interp: one gc state in an arena record, each thread with its own
 * per-thread mimalloc state (pymem's `MimallocThreadState`, bound to the state's abandoned pool)
 * listed in the gc state's thread table. There is no stop-the-world: a collection must only run
 * while the other threads of the state do not touch objects (they wait, or they exited). For
 * concurrent threads, use `objectSpaceFor(runtime)` (@ft/interp's stop-the-world).
 */
import { Arena, SEGMENT_SIZE } from "@ft/mimalloc";
import {
  createPyMem,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  MTS_STATE_LIVE,
  MTS_THREAD_ID,
  MTS_XSTATE,
  mimallocStateTld,
  setCurrentThreadState,
} from "@ft/pymem";
import { pymemAllocator } from "./allocator.ts";
import { collect, GcReason } from "./collector.ts";
import {
  brcLock,
  brcUnlock,
  GC_STATE_MAGIC,
  GC_STATE_SIZE,
  GS_XMAGIC,
  GS_FREE_LISTS,
  GS_POOL,
  GS_THREAD_COUNT,
  GS_THREADS,
  GS_THREADS_MAX,
  gsField,
} from "./gc-state-layout.ts";
import { FL_NEXT, FREE_LISTS_SIZE } from "./freelists.ts";
import type { GcHost } from "./host.ts";
import { describeArg, ObjectSpace } from "./space.ts";

/** Options of {@link createStandaloneSpace} / {@link attachStandaloneSpace}. */
export interface StandaloneOptions {
  /** The arena (this thread attached); by default a new one of `maxBytes`. */
  arena?: Arena;
  /** @defaultValue 256 MiB */
  maxBytes?: number;
  /** pymem's allocator preset (`"debug"` puts the debug hooks in the chain). @defaultValue "default" */
  preset?: string;
  /** GIL mode: no stop-the-world (the host says so). @defaultValue false */
  gil?: boolean;
}

class StandaloneHost implements GcHost {
  constructor(
    readonly arena: Arena,
    readonly gcState: number,
    readonly pool: number,
    readonly gil: boolean,
  ) {}
  stopTheWorld(): void {}
  startTheWorld(): void {}
  threadHeapsWorldStopped(out: number[]): void {
    const a = this.arena;
    brcLock(a.i32, this.gcState, a.threadId);
    try {
      const u32 = a.u32;
      const countIndex = gsField(this.gcState, GS_THREAD_COUNT);
      let n = u32[countIndex];
      for (let i = 0; i < n; ) {
        const rec = u32[gsField(this.gcState, GS_THREADS + i)];
        if (Atomics.load(u32, (rec >>> 2) + MTS_XSTATE) === MTS_STATE_LIVE) {
          out.push(mimallocStateTld(rec), u32[(rec >>> 2) + MTS_THREAD_ID]);
          i++;
        } else {
          // Abandoned: its pages are in the pool now. Drop the entry (the record stays reserved).
          u32[gsField(this.gcState, GS_THREADS + i)] = u32[gsField(this.gcState, GS_THREADS + n - 1)];
          n--;
        }
      }
      u32[countIndex] = n;
    } finally {
      brcUnlock(a.i32, this.gcState);
    }
  }
  freeListRegionsWorldStopped(out: number[]): void {
    // Every attached thread's region, the exited ones' too (what they kept is freed by collections).
    const u32 = this.arena.u32;
    for (let r = u32[gsField(this.gcState, GS_FREE_LISTS)]; r !== 0; r = u32[(r >>> 2) + FL_NEXT])
      out.push(r);
  }
}

/** A new gc state (in a new arena unless given) and the calling thread's space on it. */
export function createStandaloneSpace(options: StandaloneOptions = {}): ObjectSpace {
  checkOptions("createStandaloneSpace", options);
  const arena = options.arena ?? Arena.create({ maxBytes: options.maxBytes ?? 256 << 20 });
  const gcState = arena.recordAlloc(GC_STATE_SIZE);
  if (gcState === 0) throw new Error("createStandaloneSpace: no record left for the gc state");
  arena.u32[gsField(gcState, GS_POOL)] = arena.poolNew();
  return attachSpace(arena, gcState, options);
}

/**
 * The calling thread's space on an existing gc state (a worker: `Arena.attach(buffer)` first):
 * a mimalloc thread state bound to the state's pool, made current, and listed for the collector.
 */
export function attachStandaloneSpace(
  arena: Arena,
  gcState: number,
  options: StandaloneOptions = {},
): ObjectSpace {
  checkArena("attachStandaloneSpace", arena);
  checkGcState("attachStandaloneSpace", arena, gcState);
  checkOptions("attachStandaloneSpace", options);
  return attachSpace(arena, gcState, options);
}

/** `attachStandaloneSpace` on validated arguments (`createStandaloneSpace`'s state is not initialised yet). */
function attachSpace(arena: Arena, gcState: number, options: StandaloneOptions): ObjectSpace {
  const pool = arena.u32[gsField(gcState, GS_POOL)];
  const record = arena.recordAlloc(MIMALLOC_STATE_SIZE);
  if (record === 0) throw new Error("attachStandaloneSpace: no record left for a thread state");
  const mts = MimallocThreadState.init(arena, record, pool);
  setCurrentThreadState(mts);
  const freeLists = arena.recordAlloc(FREE_LISTS_SIZE);
  if (freeLists === 0) throw new Error("attachStandaloneSpace: no record left for the free lists");
  arena.u32.fill(0, freeLists >>> 2, (freeLists + FREE_LISTS_SIZE) >>> 2);
  brcLock(arena.i32, gcState, arena.threadId);
  try {
    const countIndex = gsField(gcState, GS_THREAD_COUNT);
    const n = arena.u32[countIndex];
    if (n >= GS_THREADS_MAX)
      throw new Error(`attachStandaloneSpace: at most ${GS_THREADS_MAX} threads per gc state`);
    arena.u32[gsField(gcState, GS_THREADS + n)] = record;
    arena.u32[countIndex] = n + 1;
    arena.u32[(freeLists >>> 2) + FL_NEXT] = arena.u32[gsField(gcState, GS_FREE_LISTS)];
    arena.u32[gsField(gcState, GS_FREE_LISTS)] = freeLists;
  } finally {
    brcUnlock(arena.i32, gcState);
  }
  const pymem = createPyMem(arena, { preset: options.preset ?? "default" });
  const space = new ObjectSpace(
    arena,
    pymemAllocator(pymem),
    gcState,
    new StandaloneHost(arena, gcState, pool, options.gil === true),
  );
  space.onScheduledCollection = (s) => collect(s, 0, GcReason.HEAP);
  space.freeLists = freeLists;
  standaloneStates.set(space, mts);
  return space;
}

const standaloneStates = new WeakMap<ObjectSpace, MimallocThreadState>();

/** The pymem thread state of a standalone space (its heaps). */
export function standaloneThreadState(space: ObjectSpace): MimallocThreadState | undefined {
  return standaloneStates.get(space);
}

/**
 * Abandon the heaps of the standalone thread `threadId` of `gcState` (it exited or was
 * terminated), from any thread: its pages go to the state's pool, where the collector finds them.
 * Returns whether such a live thread was found.
 */
export function abandonStandaloneThread(arena: Arena, gcState: number, threadId: number): boolean {
  checkArena("abandonStandaloneThread", arena);
  checkGcState("abandonStandaloneThread", arena, gcState);
  if (typeof threadId !== "number" || !Number.isInteger(threadId) || threadId <= 0) {
    throw new RangeError(`abandonStandaloneThread: threadId must be a positive integer, got ${describeArg(threadId)}`);
  }
  if (threadId === arena.threadId) {
    throw new Error(
      `abandonStandaloneThread: thread ${threadId} is the calling thread, which is alive; only a thread that exited or was terminated is abandoned`,
    );
  }
  const u32 = arena.u32;
  const n = u32[gsField(gcState, GS_THREAD_COUNT)];
  for (let i = 0; i < n; i++) {
    const rec = u32[gsField(gcState, GS_THREADS + i)];
    if (
      u32[(rec >>> 2) + MTS_THREAD_ID] === threadId &&
      Atomics.load(u32, (rec >>> 2) + MTS_XSTATE) === MTS_STATE_LIVE
    ) {
      MimallocThreadState.abandon(arena, rec);
      return true;
    }
  }
  return false;
}

function checkArena(fn: string, arena: unknown): asserts arena is Arena {
  if (!(arena instanceof Arena)) throw new TypeError(`${fn}: arena must be an Arena, got ${describeArg(arena)}`);
}

/** Throws unless `gcState` is the record of a gc state that a space was made on (its magic is set). */
function checkGcState(fn: string, arena: Arena, gcState: unknown): asserts gcState is number {
  if (
    typeof gcState !== "number" ||
    !Number.isInteger(gcState) ||
    gcState <= 0 ||
    (gcState & 63) !== 0 ||
    gcState + GC_STATE_SIZE > SEGMENT_SIZE ||
    Atomics.load(arena.u32, gsField(gcState, GS_XMAGIC)) !== GC_STATE_MAGIC
  ) {
    throw new RangeError(`${fn}: gcState must be the record of a gc state (space.gcState), got ${describeArg(gcState)}`);
  }
}

function checkOptions(fn: string, options: unknown): asserts options is StandaloneOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${fn}: options must be an object, got ${describeArg(options)}`);
  }
  const arena = (options as StandaloneOptions).arena;
  if (arena !== undefined) checkArena(`${fn}: options`, arena);
}
