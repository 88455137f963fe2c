// Worker side of threads.test.ts: attach the arena, initialise this thread's mimalloc state in the
// record the main thread carved, free the blocks the main thread sent (cross-thread frees),
// allocate MEM blocks and objects of each kind, report them, and exit without any cleanup.
import { parentPort, workerData } from "node:worker_threads";
import { Arena } from "@ft/mimalloc";
import { createPyMem, HeapTag, MimallocThreadState, setCurrentThreadState } from "../../src/index.ts";
import { heapTagOfBlock } from "../setup.ts";

interface Data {
  buffer: SharedArrayBuffer;
  record: number;
  pool: number;
  preset: string;
  seed: number;
  toFree: number[];
  count: number;
}
const d = workerData as Data;
const arena = Arena.attach(d.buffer);
const pymem = createPyMem(arena, { preset: d.preset });
const state = MimallocThreadState.init(arena, d.record, d.pool);
setCurrentThreadState(state);

for (const p of d.toFree) {
  arena.ensureView(p + 4);
  if (arena.u32[p >>> 2] !== 0xabcd0000 + (p & 0xffff)) throw new Error(`main's block ${p} was overwritten`);
  pymem.free(p);
}

const header = pymem.objectDebugHeaderSize();
const mem: number[] = [];
const objects: { p: number; kind: HeapTag }[] = [];
const misplaced: string[] = [];
for (let i = 0; i < d.count; i++) {
  const p = pymem.malloc(16 + ((i * 37 + d.seed) % 240));
  arena.u32[p >>> 2] = d.seed * 1_000_000 + i;
  mem.push(p);
  if (heapTagOfBlock(arena, state, p - (pymem.debugEnabled() ? 16 : 0)) !== HeapTag.MEM)
    misplaced.push(`mem ${p}`);
  const kind = ([HeapTag.OBJECT, HeapTag.GC, HeapTag.GC_PRE] as const)[i % 3]!;
  const op = pymem.objectMallocKind(kind, 24 + (i % 5) * 8);
  arena.u32[op >>> 2] = d.seed * 1_000_000 + i;
  objects.push({ p: op, kind });
  if (heapTagOfBlock(arena, state, op - header) !== kind) misplaced.push(`object ${op} of kind ${kind}`);
}
if (state.currentObjectHeap !== HeapTag.OBJECT) misplaced.push("current object heap not restored");

parentPort!.postMessage({ threadId: arena.threadId, mem, objects, misplaced });
