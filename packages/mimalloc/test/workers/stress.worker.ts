// Worker side of the multi-threaded tests. Commands come in workerData:
//   stress: mimalloc's test-stress thread body (calloc'd items with a checked pattern, 66% frees,
//           25% swaps through the shared transfer array), then exit with or without detach.
//   loop:   allocate/free/transfer forever until terminated (for the termination test).
import { parentPort, workerData } from "node:worker_threads";
import { Arena } from "../../src/index.ts";

interface Data {
  mode: "stress" | "loop";
  buffer: SharedArrayBuffer;
  transfer: SharedArrayBuffer;
  seed: number;
  scale: number;
  detach: boolean;
}
const d = workerData as Data;
const a = Arena.attach(d.buffer);
const transfer = new Int32Array(d.transfer);
const u32 = () => a.u32;
const COOKIE = 0x1ce4e5b9;

let x = d.seed >>> 0 || 1;
function rnd(): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>>= 0);
}
function chance(percent: number): boolean {
  return rnd() % 100 < percent;
}

/** mimalloc's alloc_items: zeroed, then word i = (items - i) ^ cookie. */
function allocItems(items: number): number {
  if (chance(1)) items *= 10;
  const p = a.calloc(items, 4);
  if (p === 0) throw new Error("out of memory in stress");
  const w = u32();
  for (let i = 0; i < items; i++) {
    if (w[(p >>> 2) + i] !== 0) throw new Error(`memory not zeroed at ${p}+${i}`);
    w[(p >>> 2) + i] = (items - i) ^ COOKIE;
  }
  return p;
}

/** mimalloc's free_items: check the pattern, then free (from whichever thread holds it). */
function freeItems(p: number): void {
  if (p === 0) return;
  a.ensureView(p + 4); // a block from another thread may lie past this thread's views
  a.ensureView(p + 4 * ((u32()[p >>> 2]! ^ COOKIE) >>> 0));
  const w = u32();
  const items = (w[p >>> 2]! ^ COOKIE) >>> 0;
  for (let i = 0; i < items; i++) {
    if (((w[(p >>> 2) + i]! ^ COOKIE) >>> 0) !== items - i) throw new Error(`memory corruption at ${p}+${i}`);
  }
  a.free(p);
}

function transferSwap(p: number): number {
  const slot = rnd() % transfer.length;
  return Atomics.exchange(transfer, slot, p);
}

if (d.mode === "stress") {
  let allocs = 100 * d.scale * ((d.seed % 8) + 1);
  let retain = allocs >>> 1;
  const data: number[] = [];
  const retained: number[] = [];
  while (allocs > 0 || retain > 0) {
    if (retain === 0 || (chance(50) && allocs > 0)) {
      allocs--;
      data.push(allocItems(1 << (rnd() % 5)));
    } else {
      retained.push(allocItems(1 << (rnd() % 7)));
      retain--;
    }
    if (chance(66) && data.length > 0) {
      const i = rnd() % data.length;
      freeItems(data[i]!);
      data[i] = 0;
    }
    if (chance(25) && data.length > 0) {
      const i = rnd() % data.length;
      data[i] = transferSwap(data[i]!);
    }
  }
  for (const p of retained) freeItems(p);
  for (const p of data) freeItems(p);
  const problems = a.heap.arena === a ? [] : ["handle"];
  if (d.detach) a.detach();
  parentPort!.postMessage({ threadId: a.threadId, problems });
} else {
  parentPort!.postMessage({ threadId: a.threadId });
  const mine: number[] = [];
  const heap = a.heapNew(0);
  for (;;) {
    const r = rnd() % 100;
    if (r < 45 || mine.length === 0) mine.push(allocItems(1 + (rnd() % 40)));
    else if (r < 80) freeItems(mine.splice(rnd() % mine.length, 1)[0]!);
    else if (r < 95) {
      const i = rnd() % mine.length;
      mine[i] = transferSwap(mine[i]!);
      if (mine[i] === 0) mine.splice(i, 1);
    } else {
      const p = heap.malloc(1 + (rnd() % 3000));
      heap.arena.u8.fill(0, p, p + 1);
      mine.push(0);
      mine.pop();
      a.free(p);
    }
    if (mine.length > 2000) freeItems(mine.shift()!);
  }
}
