/**
 * One thread of `alloc-mt1` / `alloc-mt2`: attach to the shared arena (or use no allocator for
 * the harness case), fill its own W live blocks, wait at the start barrier, run the reference
 * churn with its own seed-42 stream, then free everything and detach.
 */
import { workerData } from "node:worker_threads";
import { loadMimalloc } from "../runtime/mimalloc.ts";
import { reportDone, reportReady, waitForStart } from "../runtime/workers.ts";
import { REFERENCE_SEED, xorshift32 } from "./rng.ts";
import { FloorAllocator } from "./floor.ts";
import { floorCapacity } from "./suites/alloc.ts";
import { type Allocator, churn, countNull, fillLive, freeAll, NoAllocator } from "./workload.ts";

export interface MtWorkerData {
  mode: "ft" | "harness" | "floor";
  /** The arena's buffer (mode "ft"). */
  buffer?: SharedArrayBuffer;
  /** Start barrier word (see runtime/workers.ts). */
  sync: SharedArrayBuffer;
  W: number;
  OPS: number;
}

export interface MtWorkerResult {
  ns: number;
}

const data = workerData as MtWorkerData;
const sync = new Int32Array(data.sync);

async function main(): Promise<void> {
  let a: Allocator<number>;
  let detach = () => {};
  if (data.mode === "ft") {
    const { Arena } = await loadMimalloc();
    const arena = Arena.attach(data.buffer!);
    a = arena;
    detach = () => arena.detach();
  } else if (data.mode === "floor") {
    a = new FloorAllocator(floorCapacity(data.W));
  } else {
    a = new NoAllocator();
  }
  const live = new Array<number>(data.W);
  const r = xorshift32(REFERENCE_SEED);
  fillLive(a, live, r);
  reportReady();
  waitForStart(sync);
  const ns = churn(a, live, r, data.OPS);
  const failed = countNull(live);
  if (failed > 0) throw new Error(`${failed} allocations failed (out of memory)`);
  freeAll(a, live);
  detach();
  reportDone({ ns } satisfies MtWorkerResult);
}

await main();
