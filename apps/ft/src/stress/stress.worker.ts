/**
 * One thread of the stress test: mimalloc's `stress(tid)` (test/test-stress.c) against the
 * shared arena, swapping pointers with other threads through the shared `transfer` slots.
 */
import { workerData } from "node:worker_threads";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { reportDone } from "../runtime/workers.ts";
import { Pick, StressHeap } from "./items.ts";

export interface StressWorkerData {
  buffer: SharedArrayBuffer;
  transfer: SharedArrayBuffer;
  tid: number;
  scale: number;
  seed: number;
  cookie: number;
}

export interface StressWorkerResult {
  allocs: number;
  frees: number;
  swaps: number;
}

const d = workerData as StressWorkerData;
const { Arena } = await loadMimalloc();
const arena = Arena.attach(d.buffer);
const heap = new StressHeap(arena, d.cookie, d.scale > 100);
const transfer = new Int32Array(d.transfer);

const MAX_ITEM_SHIFT = 5; // 128 bytes
const MAX_ITEM_RETAINED_SHIFT = MAX_ITEM_SHIFT + 2;
const r = new Pick(Math.imul(d.tid + 1, 43) ^ d.seed);
let allocs = 100 * d.scale * ((d.tid % 8) + 1); // some threads do more
let retain = allocs >> 1;
const data: number[] = [];
const retained: number[] = [];
const result: StressWorkerResult = { allocs: 0, frees: 0, swaps: 0 };

while (allocs > 0 || retain > 0) {
  if (retain === 0 || (r.chance(50) && allocs > 0)) {
    allocs--; // 50%+ alloc
    data.push(heap.alloc(1 << (r.next() % MAX_ITEM_SHIFT), r));
  } else {
    retain--; // 25% retain
    retained.push(heap.alloc(1 << (r.next() % MAX_ITEM_RETAINED_SHIFT), r));
  }
  result.allocs++;
  if (r.chance(66) && data.length > 0) {
    // 66% free a previous allocation
    const i = r.next() % data.length;
    if (data[i] !== 0) result.frees++;
    heap.free(data[i]!);
    data[i] = 0;
  }
  if (r.chance(25) && data.length > 0) {
    // 25% exchange a local pointer with the shared transfer slots (cross-thread frees)
    const i = r.next() % data.length;
    const t = r.next() % transfer.length;
    data[i] = Atomics.exchange(transfer, t, data[i]!) >>> 0;
    result.swaps++;
  }
}
for (const p of retained) {
  heap.free(p);
  result.frees++;
}
for (const p of data) {
  if (p !== 0) result.frees++;
  heap.free(p);
}
arena.detach();
reportDone(result);
