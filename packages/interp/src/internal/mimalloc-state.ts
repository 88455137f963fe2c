/**
 * The one place where @ft/interp meets @ft/pymem's per-thread mimalloc state (CPython's
 * `_mimalloc_thread_state` inside `_PyThreadStateImpl`): a thread state embeds the
 * `MIMALLOC_STATE_SIZE` bytes, `bind` initialises them for the calling thread bound to the
 * interpreter's abandoned pool (`tstate_mimalloc_bind`), `attach` / `detach` make them the
 * thread's current state, and `clear` abandons the heaps into the pool
 * (`_PyThreadState_ClearMimallocHeaps`), from any thread.
 */
export {
  currentThreadState as currentMimallocState,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  setCurrentThreadState as setCurrentMimallocState,
} from "@ft/pymem";
