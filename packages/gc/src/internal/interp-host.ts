/**
 * The collector under @ft/interp: the gc state sits in the interpreter record's collector region,
 * "stop the world" is the interpreter's stop-the-world (attached threads stop at `checkpoint()`),
 * the heaps are those of every thread state of the interpreter whose mimalloc state is live, and
 * the pool is the interpreter's abandoned pool (exited and terminated workers' pages: never
 * another interpreter's). The thread-state clear hook merges the cleared thread's refcount queue.
 *
 * GIL mode (`GilInterpHost`): the interpreter owns ONE mimalloc state, used by whichever thread
 * holds its GIL (CPython 3.12's per-interpreter obmalloc state). Holding the GIL means no other
 * thread runs object code, so there is no world to stop; the heaps are that one shared tld, and
 * every thread's objects are owned by its virtual id (the space's `tid`), so every thread holding
 * the GIL counts references with plain stores on `ob_ref_local`, like the default build's single
 * `ob_refcnt`, and `ob_ref_shared` stays 0.
 */
import {
  INTERP_GC_OFFSET,
  interpGilMimalloc,
  interpGilMimallocOwner,
  registerRuntimeHooks,
  TSTATE_GC_OFFSET,
  Runtime,
  type ThreadStateHandle,
  tstateMimallocState,
  tstateThreadId,
} from "@ft/interp";
import {
  createPyMem,
  MTS_POOL,
  MTS_STATE_LIVE,
  MTS_THREAD_ID,
  MTS_XSTATE,
  mimallocStateTld,
  type PyMem,
} from "@ft/pymem";
import { pymemAllocator } from "./allocator.ts";
import { collect, GcReason } from "./collector.ts";
import type { GcHost } from "./host.ts";
import { describeArg, ObjectSpace } from "./space.ts";

class InterpHost implements GcHost {
  readonly gil = false;
  constructor(
    readonly runtime: Runtime,
    readonly interp: number,
    readonly interpId: number,
    readonly pool: number,
  ) {}
  stopTheWorld(): void {
    this.runtime.stopTheWorld(this.interpId);
  }
  startTheWorld(): void {
    this.runtime.startTheWorld(this.interpId);
  }
  threadHeapsWorldStopped(out: number[]): void {
    const a = this.runtime.arena;
    for (const ts of this.runtime.threadStateRecords(this.interp)) {
      const mts = tstateMimallocState(ts);
      a.ensureView(mts + 64);
      if (Atomics.load(a.u32, (mts >>> 2) + MTS_XSTATE) !== MTS_STATE_LIVE) continue;
      out.push(mimallocStateTld(mts), a.u32[(mts >>> 2) + MTS_THREAD_ID]);
    }
  }
  freeListRegionsWorldStopped(out: number[]): void {
    // Each thread state's collector region holds its free lists (zeroed at creation: empty).
    for (const ts of this.runtime.threadStateRecords(this.interp)) out.push(ts + TSTATE_GC_OFFSET);
  }
}

/**
 * GIL mode: the caller holds the interpreter's GIL whenever it touches objects, so stopping the
 * world does nothing (nobody else runs object code, and finalizers run with the GIL held); the
 * heaps are the interpreter's one shared state, owned by its virtual id.
 */
class GilInterpHost implements GcHost {
  readonly gil = true;
  constructor(
    readonly runtime: Runtime,
    readonly interp: number,
    readonly pool: number,
    readonly ownerThreadId: number,
  ) {}
  stopTheWorld(): void {}
  startTheWorld(): void {}
  threadHeapsWorldStopped(out: number[]): void {
    const a = this.runtime.arena;
    const mts = interpGilMimalloc(this.runtime.i32, this.interp);
    if (mts === 0) return;
    a.ensureView(mts + 64);
    if (Atomics.load(a.u32, (mts >>> 2) + MTS_XSTATE) !== MTS_STATE_LIVE) return;
    out.push(mimallocStateTld(mts), a.u32[(mts >>> 2) + MTS_THREAD_ID]);
  }
  freeListRegionsWorldStopped(out: number[]): void {
    for (const ts of this.runtime.threadStateRecords(this.interp)) out.push(ts + TSTATE_GC_OFFSET);
  }
}

/** Options of {@link objectSpaceFor}. */
export interface InterpSpaceOptions {
  /** This thread's PyMem (share it with other users of the thread); by default one of `preset`. */
  pymem?: PyMem;
  /** pymem's allocator preset for a new PyMem. @defaultValue "default" */
  preset?: string;
}

const spaces = new WeakMap<Runtime, Map<number, ObjectSpace>>();
let hooksRegistered = false;

/**
 * The calling thread's object space in the interpreter of its current (attached) thread state of
 * `runtime`; one per thread and interpreter, made on first use.
 *
 * In GIL mode the space allocates through the interpreter's one shared mimalloc state (current
 * while this thread holds the GIL) and owns objects by the interpreter's virtual id; use it only
 * while attached.
 *
 * @throws Error when the thread has no attached thread state in `runtime`.
 */
export function objectSpaceFor(runtime: Runtime, options: InterpSpaceOptions = {}): ObjectSpace {
  if (!(runtime instanceof Runtime)) {
    throw new TypeError(`objectSpaceFor: runtime must be a Runtime, got ${describeArg(runtime)}`);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`objectSpaceFor: options must be an object, got ${describeArg(options)}`);
  }
  const ts: ThreadStateHandle | null = runtime.currentThreadState();
  if (ts === null)
    throw new Error("objectSpaceFor: the calling thread has no attached thread state in this runtime");
  let byInterp = spaces.get(runtime);
  if (byInterp === undefined) {
    byInterp = new Map();
    spaces.set(runtime, byInterp);
  }
  const known = byInterp.get(ts.interp);
  if (known !== undefined) return known;
  if (ts.mimalloc === null) {
    throw new Error(
      `objectSpaceFor: thread state ${ts.id} has no mimalloc state on this thread (it was cleared)`,
    );
  }
  registerHooksOnce();
  const a = runtime.arena;
  const pool = a.u32[(ts.mimalloc.record >>> 2) + MTS_POOL];
  const pymem = options.pymem ?? createPyMem(a, { preset: options.preset ?? "default" });
  const host: GcHost = runtime.gilMode
    ? new GilInterpHost(runtime, ts.interp, pool, interpGilMimallocOwner(runtime.i32, ts.interp))
    : new InterpHost(runtime, ts.interp, ts.interpId, pool);
  const space = new ObjectSpace(a, pymemAllocator(pymem), ts.interp + INTERP_GC_OFFSET, host);
  space.onScheduledCollection = (s) => collect(s, 0, GcReason.HEAP);
  space.freeLists = ts.record + TSTATE_GC_OFFSET;
  byInterp.set(ts.interp, space);
  threadSpaces.add(space);
  return space;
}

function registerHooksOnce(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  registerRuntimeHooks({
    bindThreadState(args) {
      // A new thread state of this thread: its collector region holds the free lists from now on.
      const gcState = args.interp + INTERP_GC_OFFSET;
      for (const space of threadSpaces) {
        if (space.gcState === gcState && space.arena.buffer === args.arena.buffer)
          space.freeLists = args.gcState;
      }
    },
    clearThreadState(args) {
      // `_PyObject_ClearFreeLists` and `_Py_brc_remove_thread`: free what the cleared thread state
      // kept on its free lists (its owner runs no more object code) and merge what other threads
      // queued for it. Without a space on this thread both stay: the free lists' blocks as dead
      // blocks in the pool, the queue for the next collection to merge.
      const tid = tstateThreadId(args.arena.i32, args.tstate);
      const gcState = args.interp + INTERP_GC_OFFSET;
      let cleared = false;
      for (const space of threadSpaces) {
        if (space.gcState !== gcState || space.arena.buffer !== args.arena.buffer) continue;
        if (space.freeLists === args.gcState) space.freeLists = 0; // this thread's own state
        if (!cleared) {
          space.clearFreeListsAt(args.gcState);
          cleared = true;
        }
        if (tid === 0) continue;
        for (const op of space.takeQueued(tid, true)) {
          if (space.explicitMerge(op, -1) === 0) space.dealloc(op);
        }
      }
    },
  });
}

/** Every space of this thread (for the hooks). */
const threadSpaces = new Set<ObjectSpace>();
