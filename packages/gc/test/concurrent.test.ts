// Collections while real workers mutate a shared object graph (issue 8, "under concurrent
// mutation"): three workers attached to the runtime with thread states build lists, dicts, tuples
// and instances, link and unlink them and drop references, calling checkpoint() between
// operations, while the main thread collects. Each worker checks its graph against its model as
// it goes; at the end the set of live tracked objects must be exactly what the models say is
// reachable — nothing reachable freed, nothing unreachable left — with one worker ending cleanly,
// one exiting with no cleanup and one terminated while attached.
import { Runtime, type StartedThread, startThread } from "@ft/interp";
import { describe, expect, it } from "vitest";
import {
  collect,
  GS_ENABLED,
  objectSpaceFor,
  type ObjectSpace,
  validateObjects,
  visitObjects,
} from "../src/index.ts";
import type { MutatorData, MutatorReport } from "./fixtures/mutator.worker.ts";

const WORKER = new URL("./fixtures/mutator.worker.ts", import.meta.url);
const SLOTS_PER_WORKER = 8;
const POOL = 16;

/** The id of a node object (int in list/tuple item 0, dict key "id", instance slot 0), else 0. */
function nodeId(s: ObjectSpace, op: number, nodeClass: number): number {
  const tp = s.typeOf(op);
  let first = 0;
  if (tp === s.types.list) first = s.listLen(op) > 0 ? s.listGet(op, 0) : 0;
  else if (tp === s.types.tuple) first = s.tupleSize(op) > 0 ? s.tupleGet(op, 0) : 0;
  else if (tp === s.types.dict) first = s.dictGetStr(op, "id");
  else if (tp === nodeClass) first = s.getSlot(op, 0);
  return first !== 0 && s.is(first, "int") ? s.intValue(first) : 0;
}

function liveIds(s: ObjectSpace, nodeClass: number): { ids: Set<number>; others: number } {
  const objects: number[] = [];
  visitObjects(s, (op) => objects.push(op));
  const ids = new Set<number>();
  const instanceDicts = new Set<number>();
  for (const op of objects) if (s.typeOf(op) === nodeClass) instanceDicts.add(s.attrDict(op, false));
  let others = 0;
  for (const op of objects) {
    const id = nodeId(s, op, nodeClass);
    if (id !== 0) ids.add(id);
    else if (!instanceDicts.has(op)) others++; // an instance's managed __dict__ is part of it
  }
  return { ids, others };
}

describe("the collector under concurrent mutation", () => {
  for (const seed of [1, 7, 42]) {
    it(`keeps every reachable object and frees every unreachable one (seed ${seed})`, async () => {
      const runtime = Runtime.create({ maxBytes: 256 << 20 });
      const started: StartedThread[] = [];
      const workerErrors: unknown[] = [];
      try {
        const s = objectSpaceFor(runtime);
        s.gsSet(GS_ENABLED, 0); // only the main thread collects here
        const ends = ["detach", "exit", "terminate"] as const;
        const root = s.newList(new Array(ends.length * SLOTS_PER_WORKER).fill(0));
        const poolIds = Array.from({ length: POOL }, (_, i) => i + 1);
        const pool = poolIds.map((id) => {
          const n = s.newInt(id);
          const l = s.newList([n]);
          s.decref(n);
          return l;
        });
        const poolList = s.newList(pool);
        for (const l of pool) s.decref(l);
        const nodeClass = s.newClass("Node", { slots: 1 });

        const reports: MutatorReport[] = [];
        const threads = ends.map((end, w) => {
          const t = startThread(runtime, WORKER, {
            data: {
              root,
              firstSlot: w * SLOTS_PER_WORKER,
              slots: SLOTS_PER_WORKER,
              pool,
              poolIds,
              nodeClass,
              seed: seed * 1000 + w,
              steps: 5000,
              idBase: (w + 1) * 1_000_000,
              end,
            } satisfies MutatorData,
          });
          started.push(t);
          const reported = new Promise<MutatorReport>((resolve, reject) => {
            t.worker.once("message", resolve);
            t.worker.once("error", (e) => {
              workerErrors.push(e);
              reject(e);
            });
            t.worker.once("exit", (code) =>
              reject(new Error(`mutator ${w} exited (${code}) before reporting`)),
            );
          });
          reported.then((r) => reports.push(r)).catch(() => {});
          return { t, reported, end };
        });

        // Collect while they mutate (and validate the heap now and then, world stopped).
        let collections = 0;
        let freedMeanwhile = 0;
        const all = Promise.all(threads.map((x) => x.reported));
        let done = false;
        all.then(
          () => (done = true),
          () => (done = true),
        );
        while (!done) {
          freedMeanwhile += collect(s);
          collections++;
          if (collections % 8 === 0) expect(validateObjects(s)).toEqual([]);
          await new Promise((r) => setImmediate(r));
        }
        await all;
        expect(collections).toBeGreaterThan(3);

        for (const x of threads) if (x.end === "terminate") await x.t.worker.terminate();
        const exits = await Promise.all(threads.map((x) => x.t.exited));
        expect(exits.map((e) => e.cleanup.threadStates)).toEqual([0, 1, 1]); // the clean one needed none

        // The model: pool objects and whatever the workers' roots reach.
        const expected = new Set<number>(poolIds);
        for (const r of reports) for (const id of r.reachable) expected.add(id);
        const created = reports.reduce((n, r) => n + r.created, 0);
        expect(created).toBeGreaterThan(1000);
        expect(reports.every((r) => r.checks > 10)).toBe(true);

        freedMeanwhile += collect(s);
        const { ids, others } = liveIds(s, nodeClass);
        expect([...ids].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
        // root, pool list, gc.garbage, the class, its dict and its __mro__: nothing else is tracked
        expect(others).toBe(6);
        expect(freedMeanwhile).toBeGreaterThan(0);
        expect(validateObjects(s)).toEqual([]);

        // Everything dropped: the heap empties (refcounts were exact across all the threads).
        s.decref(root);
        s.decref(poolList);
        s.decref(nodeClass);
        collect(s); // the class too: its __mro__ holds it, only the cycle collector frees it
        const left = liveIds(s, 0);
        expect(left.ids.size).toBe(0);
        expect(left.others).toBe(1); // gc.garbage
      } catch (e) {
        // A worker's failed check (a reachable object freed) is the cause of what follows it.
        throw workerErrors.length > 0 ? workerErrors[0] : e;
      } finally {
        // A failed check ends its worker; reap them all before finalizing (a dead attached thread
        // would hold up the finalizing stop-the-world).
        await Promise.all(started.map((t) => t.worker.terminate().then(() => t.exited.catch(() => {}))));
        runtime.finalize();
      }
    }, 30_000);
  }
});
