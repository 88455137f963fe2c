/**
 * Demo worker: attach to the arena, allocate blocks and stamp them, hand every second block to
 * the next worker through a shared slot array, free the rest, wait for everyone, then free (and
 * check) the blocks the previous worker handed over — frees from a thread that does not own
 * the page — and detach.
 */
import { workerData } from "node:worker_threads";
import { xorshift32 } from "../bench/rng.ts";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { reportDone, reportLog, reportReady, waitForStart } from "../runtime/workers.ts";

export interface SharedHeapWorkerData {
  buffer: SharedArrayBuffer;
  /** workers × perWorker slots: worker i writes row i, frees row (i - 1 + workers) % workers. */
  exchange: SharedArrayBuffer;
  sync: SharedArrayBuffer;
  index: number;
  workers: number;
  blocks: number;
  seed: number;
}

export interface SharedHeapWorkerResult {
  allocated: number;
  bytes: number;
  freedLocal: number;
  freedForeign: number;
}

const d = workerData as SharedHeapWorkerData;
const { Arena } = await loadMimalloc();
const arena = Arena.attach(d.buffer);
const u32 = () => new Uint32Array(arena.buffer);
const exchange = new Int32Array(d.exchange);
const half = d.blocks >> 1;
const stamp = (d.index + 1) * 0x01010101;
const r = xorshift32(d.seed + d.index);
let bytes = 0;
let freedLocal = 0;

for (let i = 0; i < d.blocks; i++) {
  const size = 16 + (r() % 241);
  const p = arena.malloc(size);
  if (p === 0) throw new Error(`worker ${d.index + 1}: out of memory`);
  bytes += size;
  u32()[p >>> 2] = stamp;
  if (i % 2 === 0 && i >> 1 < half) exchange[d.index * half + (i >> 1)] = p;
  else {
    arena.free(p);
    freedLocal++;
  }
}
reportLog(
  `worker ${d.index + 1}: attached, ${d.blocks.toLocaleString("en-US")} blocks allocated, ` +
    `${half.toLocaleString("en-US")} handed to worker ${((d.index + 1) % d.workers) + 1}, ${freedLocal.toLocaleString("en-US")} freed`,
);
reportReady();
waitForStart(new Int32Array(d.sync));

const from = (d.index - 1 + d.workers) % d.workers;
const foreignStamp = (from + 1) * 0x01010101;
let freedForeign = 0;
for (let i = 0; i < half; i++) {
  const p = Atomics.exchange(exchange, from * half + i, 0) >>> 0;
  if (p === 0) continue;
  if (u32()[p >>> 2] !== foreignStamp >>> 0)
    throw new Error(`worker ${d.index + 1}: block ${p} lost its stamp`);
  arena.free(p);
  freedForeign++;
}
reportLog(
  `worker ${d.index + 1}: freed ${freedForeign.toLocaleString("en-US")} blocks allocated by worker ${from + 1}, detaching`,
);
arena.detach();
reportDone({ allocated: d.blocks, bytes, freedLocal, freedForeign } satisfies SharedHeapWorkerResult);
