/**
 * One side of `alloc-xt`: the producer mallocs OPS blocks (sizes from the seed-42 stream) into
 * the SPSC ring, the consumer pops them and frees them — every free is a cross-thread free.
 */
import { workerData } from "node:worker_threads";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { reportDone, reportReady, waitForStart } from "../runtime/workers.ts";
import { PUBLISH_EVERY, RING_HEAD, RING_SLOTS, RING_TAIL, ringPublish, ringWaitChange } from "./ring.ts";
import { REFERENCE_SEED, xorshift32 } from "./rng.ts";

export interface XtWorkerData {
  role: "producer" | "consumer";
  buffer: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  capacity: number;
  sync: SharedArrayBuffer;
  OPS: number;
}

export interface XtWorkerResult {
  ns: number;
  /** Times this side found the ring full (producer) or empty (consumer) and had to sleep. */
  sleeps: number;
  failed: number;
}

const data = workerData as XtWorkerData;
const { Arena } = await loadMimalloc();
const arena = Arena.attach(data.buffer);
const ring = new Int32Array(data.ring);
const cap = data.capacity;
const ops = data.OPS;
const stats = { sleeps: 0, failed: 0 };

function produce(): number {
  const r = xorshift32(REFERENCE_SEED);
  let tail = 0;
  let head = 0;
  let slot = 0;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const p = arena.malloc(16 + (r() % 241));
    if (p === 0) stats.failed++;
    while (tail - head >= cap) {
      ringPublish(ring, RING_TAIL, tail);
      head = ringWaitChange(ring, RING_HEAD, head, stats);
    }
    ring[RING_SLOTS + slot] = p;
    if (++slot === cap) slot = 0;
    if ((++tail & (PUBLISH_EVERY - 1)) === 0) {
      ringPublish(ring, RING_TAIL, tail);
      head = Atomics.load(ring, RING_HEAD);
    }
  }
  ringPublish(ring, RING_TAIL, tail);
  return (performance.now() - t0) * 1e6;
}

function consume(): number {
  let head = 0;
  let tail = 0;
  let slot = 0;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    while (head === tail) {
      ringPublish(ring, RING_HEAD, head);
      tail = ringWaitChange(ring, RING_TAIL, tail, stats);
    }
    arena.free(ring[RING_SLOTS + slot]!);
    if (++slot === cap) slot = 0;
    if ((++head & (PUBLISH_EVERY - 1)) === 0) {
      ringPublish(ring, RING_HEAD, head);
      tail = Atomics.load(ring, RING_TAIL);
    }
  }
  ringPublish(ring, RING_HEAD, head);
  return (performance.now() - t0) * 1e6;
}

reportReady();
waitForStart(new Int32Array(data.sync));
const ns = data.role === "producer" ? produce() : consume();
arena.detach();
reportDone({ ns, sleeps: stats.sleeps, failed: stats.failed } satisfies XtWorkerResult);
