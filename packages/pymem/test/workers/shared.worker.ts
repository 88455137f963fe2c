// Worker side of shared-state.test.ts: take the lock word, make this thread's handle on the shared
// state (attachShared), make it current, free the blocks the main thread sent (cross-thread frees
// of the shared heaps' blocks), allocate MEM blocks and objects of each kind through pymem, release
// the lock, report, and exit without cleanup.
import { parentPort, workerData } from "node:worker_threads";
import { Arena } from "@ft/mimalloc";
import { createPyMem, HeapTag, MimallocThreadState, setCurrentThreadState } from "../../src/index.ts";
import { heapTagOfBlock } from "../setup.ts";

interface Data {
  buffer: SharedArrayBuffer;
  words: SharedArrayBuffer;
  record: number;
  preset: string;
  toFree: number[];
  count: number;
}
const d = workerData as Data;
const arena = Arena.attach(d.buffer);
const words = new Int32Array(d.words);
const pymem = createPyMem(arena, { preset: d.preset });

while (Atomics.compareExchange(words, 0, 0, arena.threadId) !== 0) Atomics.wait(words, 0, Atomics.load(words, 0), 5);
arena.refreshViews();
const state = MimallocThreadState.attachShared(arena, d.record);
setCurrentThreadState(state);
for (const p of d.toFree) {
  if (arena.u32[p >>> 2] !== 0xabcd0000 + (p & 0xffff)) throw new Error(`main's block ${p} was overwritten`);
  pymem.free(p);
}
const header = pymem.objectDebugHeaderSize();
const mem: number[] = [];
const objects: { p: number; kind: HeapTag }[] = [];
const misplaced: string[] = [];
for (let i = 0; i < d.count; i++) {
  const p = pymem.malloc(16 + ((i * 37) % 240));
  arena.u32[p >>> 2] = 7_000_000 + i;
  mem.push(p);
  if (heapTagOfBlock(arena, state, p - (pymem.debugEnabled() ? 16 : 0)) !== HeapTag.MEM) misplaced.push(`mem ${p}`);
  const kind = ([HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE] as const)[i % 3]!;
  const op = pymem.objectMallocKind(kind, 24 + (i % 5) * 8);
  arena.u32[op >>> 2] = 8_000_000 + i;
  objects.push({ p: op, kind });
  if (heapTagOfBlock(arena, state, op - header) !== kind) misplaced.push(`object ${op} of kind ${kind}`);
}
setCurrentThreadState(null);
Atomics.store(words, 0, 0);
Atomics.notify(words, 0);
parentPort!.postMessage({ threadId: arena.threadId, mem, objects, misplaced });
