/**
 * Demo step: workers with thread states build cyclic garbage in their own heaps, then end — one
 * cleanly, one by exiting with no cleanup, one terminated while attached. Their heaps go to the
 * interpreter's abandoned pool, objects intact; one collection from the main thread finds the
 * garbage there by walking the pool's GC pages, frees it, and keeps what is still reachable.
 */
import type { GcAbandonedWorkerData, GcAbandonedWorkerResult } from "./gc-abandoned.worker.ts";
import { entryUrl } from "../runtime/paths.ts";
import { count, type DemoStep } from "./step.ts";

const ENDS = [
  ["detach", "ends cleanly (its thread state cleared: heaps abandoned into the pool)"],
  ["exit", "exits with no cleanup at all (process.exit)"],
  ["terminate", "is terminated by main while still attached"],
] as const;
const RINGS = 2_000;
const RING_SIZE = 6;

export const gcAbandonedStep: DemoStep = {
  title: "The collector frees garbage that exited workers left",
  async run({ say }) {
    const { Runtime, startThread } = await import("@ft/interp");
    const gc = await import("@ft/gc");
    const runtime = Runtime.create({ maxBytes: 256 << 20 });
    const started: { worker: { terminate(): Promise<number> }; exited: Promise<unknown> }[] = [];
    try {
      const s = gc.objectSpaceFor(runtime);
      gc.gcControl(s).enabled = false; // no automatic collection during the tour: one, by hand, below
      const root = s.newList(new Array(ENDS.length).fill(0));
      const nodeClass = s.newClass("Node", { slots: 1 });
      say(
        `main: a free-threaded runtime; ${ENDS.length} workers get thread states in interpreter 0 and ` +
          `each builds ${count(RINGS)} rings of ${RING_SIZE} objects (list → dict → instance → …), drops them, ` +
          "and keeps one ring in main's root list",
      );
      const threads = ENDS.map(([end], slot) => {
        const t = startThread(runtime, entryUrl("demo/gc-abandoned.worker"), {
          data: {
            root,
            slot,
            nodeClass,
            rings: RINGS,
            ringSize: RING_SIZE,
            end,
          } satisfies GcAbandonedWorkerData,
        });
        started.push(t);
        const result = new Promise<GcAbandonedWorkerResult>((resolve, reject) => {
          t.worker.once("message", resolve);
          t.worker.once("error", reject);
        });
        return { t, result };
      });
      const results = await Promise.all(threads.map((x) => x.result));
      for (const [i, r] of results.entries()) {
        say(
          `worker ${i + 1} (thread ${r.threadId}): ${count(r.garbage)} objects of cyclic garbage, ` +
            `${r.survivors} reachable; ${ENDS[i][1]}`,
        );
      }
      await threads[2].t.worker.terminate();
      const exits = await Promise.all(threads.map((x) => x.t.exited));
      const reaped = exits.reduce((n, e) => n + e.cleanup.threadStates, 0);
      say(`main: all gone; startThread reaped ${reaped} thread states the dead workers left`);

      const stats = runtime.arena.stats();
      say(
        `main: the arena: ${stats.segments.abandoned} segments abandoned ` +
          `(${count(stats.abandonedBlocks)} blocks in ${stats.abandonedPages} pages), ${stats.segments.owned} owned`,
      );
      const byOwner = (): Map<number, number> => {
        const m = new Map<number, number>();
        gc.visitObjects(s, (op) => {
          const tid = gc.obTid(s.arena.i32, op);
          m.set(tid, (m.get(tid) ?? 0) + 1);
        });
        return m;
      };
      const describe = (m: Map<number, number>): string => {
        const total = [...m.values()].reduce((a, b) => a + b, 0);
        const parts = [...m.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(
            ([tid, n]) =>
              `${tid === s.tid ? "main" : tid === 0 ? "unowned" : `thread ${tid} (gone)`} ${count(n)}`,
          );
        return `${count(total)} (${parts.join(", ")})`;
      };
      say(`main: tracked objects before: ${describe(byOwner())}`);

      gc.gcControl(s).debug = gc.DEBUG_STATS;
      s.stderr = (line) => say(`  ${line}`);
      let info: { collected: number; uncollectable: number } | null = null;
      s.gcCallbacks.push((phase, i) => {
        if (phase === "stop") info = i;
      });
      const t0 = process.hrtime.bigint();
      const n = gc.collect(s);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      gc.gcControl(s).debug = 0;
      say(
        `main: collect() = ${count(n)} in ${ms.toFixed(1)} ms; the "stop" callback saw ${JSON.stringify(info)}`,
      );
      say(`main: tracked objects after: ${describe(byOwner())}`);

      // What was reachable survived: each slot still holds its dict and its ring.
      const expected = results.reduce((a, r) => a + r.garbage, 0);
      let intact = 0;
      for (let i = 0; i < ENDS.length; i++) {
        const d = s.listGet(root, i);
        let op = s.dictGetStr(d, "ring");
        for (let k = 0; k < RING_SIZE; k++) {
          const kind = k % 3;
          op = kind === 0 ? s.listGet(op, 0) : kind === 1 ? s.dictGetStr(op, "next") : s.getSlot(op, 0);
        }
        if (op === s.dictGetStr(d, "ring")) intact++;
      }
      const problems = gc.validateObjects(s);
      say(
        `main: the ${intact} kept rings are intact (walked all the way round); validation: ` +
          `${problems.length === 0 ? "no problems" : problems.join("; ")}`,
      );
      if (n !== expected || intact !== ENDS.length || problems.length !== 0) {
        throw new Error(
          `gc demo: collected ${n} of ${expected}, ${intact} rings intact, ${problems.length} problems`,
        );
      }
      say(
        `main: after the pause, survivors in abandoned pages are owned by nobody (ob_tid 0, refcount merged); ` +
          "freed blocks go back to those pages, which other threads may reclaim",
      );
    } finally {
      await Promise.all(started.map((t) => t.worker.terminate().then(() => t.exited.catch(() => {}))));
      runtime.finalize();
    }
  },
};
