// Shared fixtures: an arena with checked frees, a PyMem over it, and the calling thread's
// mimalloc state in a record of its own, made current.
import { Arena, visitHeap } from "@ft/mimalloc";
import {
  type AllocatorPreset,
  createPyMem,
  HeapTag,
  MIMALLOC_STATE_SIZE,
  MimallocThreadState,
  type PyMem,
  type PyMemOptions,
  setCurrentThreadState,
} from "../src/index.ts";

export interface Fixture {
  arena: Arena;
  pymem: PyMem;
  state: MimallocThreadState;
  record: number;
}

export function setup(preset: AllocatorPreset = "default", options: PyMemOptions = {}): Fixture {
  const arena = Arena.create({ maxBytes: 64 << 20, checks: true });
  const pymem = createPyMem(arena, { ...options, preset });
  const record = arena.recordAlloc(MIMALLOC_STATE_SIZE);
  const state = MimallocThreadState.init(arena, record, arena.defaultPool);
  setCurrentThreadState(state);
  return { arena, pymem, state, record };
}

/** The tag of the heap of `state` whose visit reports the block starting at `block`, or null. */
export function heapTagOfBlock(arena: Arena, state: MimallocThreadState, block: number): HeapTag | null {
  let found: HeapTag | null = null;
  for (const tag of [HeapTag.MEM, HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE]) {
    visitHeap(arena, state.heap(tag), {
      block(b, _size, area) {
        if (b !== block) return true;
        if (area.tag !== tag) throw new Error(`page tag ${area.tag} in heap ${tag}`);
        found = tag;
        return false;
      },
    });
  }
  return found;
}
