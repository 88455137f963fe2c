/**
 * One thread of `interp/stw`: attach with the thread state the parent made for it, then until told
 * to stop, do about `workUs` µs of work and call `checkpoint()`, counting rounds in a shared word.
 */
import { parentPort, workerData } from "node:worker_threads";
import { attachThread, checkpoint, detachThread, type ThreadWorkerData } from "@ft/interp";

export interface InterpWorkerData {
  /** Word 0: stop flag; word 1 + index: this worker's round counter. */
  sync: SharedArrayBuffer;
  index: number;
  workUs: number;
}

export interface InterpWorkerResult {
  rounds: number;
  /** Mean µs between two checkpoint() calls. */
  checkIntervalUs: number;
}

const { thread, data } = workerData as ThreadWorkerData<InterpWorkerData>;
const words = new Int32Array(data.sync);
const { runtime } = attachThread(thread);
parentPort!.postMessage({ type: "ready" });
const workMs = data.workUs / 1000;
const started = performance.now();
let rounds = 0;
let sink = 0;
while (Atomics.load(words, 0) === 0) {
  const end = performance.now() + workMs;
  while (performance.now() < end) sink++;
  checkpoint();
  rounds++;
  Atomics.store(words, 1 + data.index, rounds);
}
const elapsed = performance.now() - started;
if (sink < 0) throw new Error("unreachable: keeps the work loop");
detachThread(runtime);
parentPort!.postMessage({
  type: "done",
  result: { rounds, checkIntervalUs: (elapsed * 1000) / Math.max(1, rounds) } satisfies InterpWorkerResult,
});
