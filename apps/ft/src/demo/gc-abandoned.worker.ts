/**
 * Demo worker (step "The collector frees garbage that exited workers left"): attach to the runtime
 * with the thread state the parent made (`startThread`), build `rings` unreachable rings of
 * lists, dicts and instances — cyclic garbage that refcounting alone never frees — and one
 * survivor (a dict holding a ring) published into the parent's root list, then end as told:
 * cleanly (`detachThread`), by exiting with no cleanup, or by waiting, attached, to be terminated.
 */
import { parentPort, workerData } from "node:worker_threads";
import { attachThread, checkpoint, detachThread, type ThreadWorkerData } from "@ft/interp";
import { objectSpaceFor } from "@ft/gc";

export interface GcAbandonedWorkerData {
  root: number;
  slot: number;
  nodeClass: number;
  rings: number;
  ringSize: number;
  end: "detach" | "exit" | "terminate";
}

export interface GcAbandonedWorkerResult {
  threadId: number;
  garbage: number;
  survivors: number;
}

const { thread, data } = workerData as ThreadWorkerData<GcAbandonedWorkerData>;
const { runtime, threadState } = attachThread(thread);
runtime.arena.refreshViews();
const s = objectSpaceFor(runtime);

/** A ring of `n` objects (list → dict → instance → list …); returns a NEW reference to its first. */
function ring(n: number): number {
  const objects: number[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 3;
    objects.push(kind === 0 ? s.newList() : kind === 1 ? s.newDict() : s.newInstance(data.nodeClass));
  }
  for (let i = 0; i < n; i++) {
    const op = objects[i];
    const next = objects[(i + 1) % n];
    const kind = i % 3;
    if (kind === 0) s.listAppend(op, next);
    else if (kind === 1) s.dictSetStr(op, "next", next);
    else s.setSlot(op, 0, next);
  }
  for (let i = 1; i < n; i++) s.decref(objects[i]);
  return objects[0];
}

for (let r = 0; r < data.rings; r++) {
  if ((r & 63) === 0) checkpoint();
  s.decref(ring(data.ringSize)); // unreachable now, but every count in the ring is 1
}
// The survivor: a dict { ring } in the parent's root list (a ring of ringSize lives on with it).
const survivor = s.newDict();
const kept = ring(data.ringSize);
s.dictSetStr(survivor, "ring", kept);
s.decref(kept);
s.listSet(data.root, data.slot, survivor);
s.decref(survivor);

const result: GcAbandonedWorkerResult = {
  threadId: runtime.threadId,
  garbage: data.rings * data.ringSize,
  survivors: 1 + data.ringSize,
};
if (data.end === "terminate") {
  parentPort!.postMessage(result);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    checkpoint(); // attached until terminated: the parent's stop-the-world still reaches it
    Atomics.wait(nap, 0, 0, 1);
  }
} else if (data.end === "exit") {
  threadState.detach();
  parentPort!.postMessage(result);
  process.exit(0); // no cleanup at all
} else {
  threadState.detach();
  parentPort!.postMessage(result);
  threadState.attach();
  detachThread(runtime);
}
