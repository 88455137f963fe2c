/**
 * The one place where @ft/interp meets @ft/pymem's mimalloc states.
 *
 * **Free-threaded runtimes** (CPython's `_mimalloc_thread_state` inside `_PyThreadStateImpl`): a
 * thread state embeds the `MIMALLOC_STATE_SIZE` bytes, `bind` initialises them for the calling
 * thread bound to the interpreter's abandoned pool (`tstate_mimalloc_bind`), `attach` / `detach`
 * make them the thread's current state, and `clear` abandons the heaps into the pool
 * (`_PyThreadState_ClearMimallocHeaps`), from any thread.
 *
 * **GIL mode** (CPython 3.12+'s per-interpreter obmalloc state, `interp->obmalloc`, with mimalloc in
 * place of pymalloc): each interpreter owns ONE shared state (pymem's `initShared`: a tld owned by
 * a virtual thread id and four tagged heaps) in a record of its own, made with the interpreter and
 * bound to its pool. Whichever thread holds the interpreter's GIL allocates through it: `attach`
 * (after taking the GIL) makes this thread's handle on it current, `detach` clears it before the
 * GIL is dropped. The GIL serializes every use. Every free of its blocks is a cross-thread free
 * (no thread has the virtual id), correct from any thread. A holder that died with the GIL may
 * have died inside the allocator: the thread that cleans up after it repairs the state (abandon:
 * half-done work finished, live blocks kept, pages to the pool) and re-initialises it in the same
 * record with the same owner id while the GIL still names the dead holder, then releases the GIL;
 * each thread's cached handle sees the record's generation move and attaches again.
 */
import { MimallocThreadState, MIMALLOC_STATE_SIZE, MTS_THREAD_ID } from "@ft/pymem";
import {
  field,
  interpGilMimalloc,
  interpGilMimallocOwner,
  interpPool,
  IS_GIL_MIMALLOC,
  IS_GIL_MIMALLOC_OWNER,
} from "./runtime-layout.ts";
import type { Runtime } from "./runtime.ts";
import type { ThreadStateHandle } from "./tstate.ts";

export {
  currentThreadState as currentMimallocState,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  setCurrentThreadState as setCurrentMimallocState,
} from "@ft/pymem";

/**
 * GIL mode: make the interpreter's shared state in a new record, bound to its pool, and note the
 * record and its virtual owner id in the interpreter record. Before the interpreter is listed.
 */
export function gilMimallocCreate(rt: Runtime, interp: number): void {
  const arena = rt.arena;
  const record = arena.recordAlloc(MIMALLOC_STATE_SIZE);
  if (record === 0) {
    throw new RangeError(
      "no room for an interpreter's mimalloc state: the arena's record area (its first segment) is exhausted",
    );
  }
  MimallocThreadState.initShared(arena, record, interpPool(rt.i32, interp));
  rt.i32[field(interp, IS_GIL_MIMALLOC_OWNER)] = arena.u32[(record >>> 2) + MTS_THREAD_ID]!;
  Atomics.store(rt.i32, field(interp, IS_GIL_MIMALLOC), record);
}

/**
 * GIL mode: abandon the interpreter's shared state into its pool and free its record (closing the
 * interpreter, before its pool is destroyed). The caller holds the GIL or no thread can take it.
 */
export function gilMimallocDestroy(rt: Runtime, interp: number): void {
  const record = interpGilMimalloc(rt.i32, interp);
  if (record === 0) return;
  Atomics.store(rt.i32, field(interp, IS_GIL_MIMALLOC), 0);
  MimallocThreadState.abandon(rt.arena, record);
  rt.arena.recordFree(record, MIMALLOC_STATE_SIZE);
  rt.gilMimallocHandles.delete(interp);
}

/**
 * GIL mode: repair the interpreter's shared state after its GIL holder died (it may have died
 * inside an allocator call): abandon it from this thread (half-done work finished, live blocks
 * kept, pages to the pool) and re-initialise it in the same record with the same owner id, so
 * existing blocks and objects keep their owner. Precondition: the GIL still names the dead holder
 * (nobody else can use the state), and HEAD_LOCK is held (no second cleaner).
 */
export function gilMimallocRepairDeadHolder(rt: Runtime, interp: number): void {
  const record = interpGilMimalloc(rt.i32, interp);
  if (record === 0) return;
  const arena = rt.arena;
  MimallocThreadState.abandon(arena, record);
  MimallocThreadState.initShared(arena, record, interpPool(rt.i32, interp), interpGilMimallocOwner(rt.i32, interp));
}

/**
 * GIL mode, attach (the GIL just taken): this thread's handle on the interpreter's shared state,
 * cached per interpreter and made again when the state was re-initialised (a dead holder's repair)
 * or the record now belongs to another interpreter; null when the interpreter has none (closed).
 * Refreshes the arena's views: the last holder may have grown the buffer.
 */
export function gilMimallocOf(ts: ThreadStateHandle): MimallocThreadState | null {
  const rt = ts.runtime;
  const record = interpGilMimalloc(rt.i32, ts.interp);
  if (record === 0) return null;
  rt.arena.refreshViews();
  const owner = interpGilMimallocOwner(rt.i32, ts.interp);
  const cached = rt.gilMimallocHandles.get(ts.interp);
  if (cached !== undefined && cached.owner === owner && cached.state.record === record && !cached.state.stale) {
    return cached.state;
  }
  const state = MimallocThreadState.attachShared(rt.arena, record);
  rt.gilMimallocHandles.set(ts.interp, { owner, state });
  return state;
}
