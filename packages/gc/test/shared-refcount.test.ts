import { once } from "node:events";
import { startWorker } from "@ft/worker";
import { describe, expect, it } from "vitest";
import {
  obInit,
  obRefcnt,
  obRefShared,
  obStoreRefShared,
  REF_MAYBE_WEAKREF,
  refShared,
  refSharedState,
} from "../src/index.ts";

describe("shared refcount across threads", () => {
  it("ends exact when workers add and drop shared references at once, and keeps the state bits", async () => {
    const sab = new SharedArrayBuffer(256);
    const i32 = new Int32Array(sab);
    const op = 64;
    obInit(i32, op, 1, 8);
    obStoreRefShared(i32, op, refShared(0, REF_MAYBE_WEAKREF));
    const n = 50_000;
    const workers = [3, 5, 7].map((keep) =>
      startWorker(new URL("./fixtures/shared-refs.worker.ts", import.meta.url), {
        workerData: { sab, op, n, keep },
      }),
    );
    await Promise.all(workers.map((w) => once(w, "message")));
    await Promise.all(workers.map((w) => w.terminate()));
    expect(obRefcnt(i32, op)).toBe(1 + 3 + 5 + 7); // the owner's local reference plus the kept ones
    expect(refSharedState(obRefShared(i32, op))).toBe(REF_MAYBE_WEAKREF);
  });
});
