/**
 * `interp`: the costs of @ft/interp's thread-state machinery (issue targets).
 *
 * - `stw`: stop-the-world round trip (stopTheWorld + startTheWorld) on the main thread while two
 *   workers are attached and call `checkpoint()` after every ~5 µs of work; before each round the
 *   requester waits until both workers run again, so every pause has to stop running threads.
 * - `stw-detached`: the same with the two workers' states detached (parked without their help).
 * - `attach`: one attach + detach pair of an attached thread state, free-threaded mode.
 */
import type { BenchCase, CaseParams, CaseResult, Suite } from "../types.ts";
import { opsFor } from "../types.ts";
import type { InterpWorkerData, InterpWorkerResult } from "../interp.worker.ts";
import { entryUrl } from "../../runtime/paths.ts";
import { median } from "../stats.ts";

const WORK_US = 5;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function stwRoundTrips(p: CaseParams, attached: boolean): Promise<CaseResult> {
  const { Runtime, startThread } = await import("@ft/interp");
  const runtime = Runtime.create({ maxBytes: 64 << 20, stopTimeoutMs: 10_000 });
  const sync = new SharedArrayBuffer(64);
  const words = new Int32Array(sync);
  const workers = attached
    ? [0, 1].map((index) => {
        const t = startThread(runtime, entryUrl("bench/interp.worker"), {
          data: { sync, index, workUs: WORK_US } satisfies InterpWorkerData,
        });
        const ready = new Promise<void>((resolve, reject) => {
          t.worker.on("message", (m: { type: string }) => m.type === "ready" && resolve());
          t.worker.once("error", reject);
        });
        const done = new Promise<InterpWorkerResult>((resolve, reject) => {
          t.worker.on(
            "message",
            (m: { type: string; result?: InterpWorkerResult }) => m.type === "done" && resolve(m.result!),
          );
          t.worker.once("error", reject);
        });
        return { t, ready, done };
      })
    : [];
  if (!attached) for (let i = 0; i < 2; i++) runtime.newThreadState(); // detached, in the main interpreter
  try {
    await Promise.all(workers.map((w) => w.ready));
    const progress = () => [1, 2].map((i) => Atomics.load(words, i));
    const samples: number[] = [];
    for (let round = 0; round < p.ROUNDS!; round++) {
      if (attached) {
        // Wait until both workers are attached and looping again (sleeping, so as not to take
        // a core from them: three threads share two cores on the reference machine).
        const seen = progress();
        const deadline = performance.now() + 1000;
        while (progress().some((v, i) => v === seen[i]) && performance.now() < deadline) {
          Atomics.wait(words, 15, 0, 0.02);
        }
      }
      const t0 = performance.now();
      runtime.stopTheWorld(); // the main interpreter's threads, as the collector asks
      runtime.startTheWorld();
      samples.push((performance.now() - t0) * 1000);
    }
    Atomics.store(words, 0, 1);
    const results = await Promise.all(workers.map((w) => w.done));
    await Promise.all(workers.map((w) => w.t.exited));
    const info: CaseResult["info"] = { p90Us: percentile(samples, 0.9), maxUs: Math.max(...samples) };
    results.forEach((r, i) => {
      info[`worker${i}MeanUsBetweenChecks`] = r.checkIntervalUs; // pauses and descheduling included
    });
    return { metrics: { us: median(samples), p90: percentile(samples, 0.9) }, info };
  } finally {
    Atomics.store(words, 0, 1);
    await Promise.all(workers.map((w) => w.t.worker.terminate()));
  }
}

const stw: BenchCase = {
  name: "stw",
  description: `stop + start the world, 2 workers attached calling checkpoint() every ~${WORK_US} µs of work`,
  metrics: [
    { key: "us", unit: "µs median", better: "lower" },
    { key: "p90", label: "p90", unit: "µs", better: "lower" },
  ],
  params: (o) => ({ ROUNDS: opsFor(2000, 200, o), workUs: WORK_US }),
  run: (p) => stwRoundTrips(p, true),
};

const stwDetached: BenchCase = {
  name: "stw-detached",
  description: "stop + start the world with 2 detached thread states (parked by the requester alone)",
  metrics: [
    { key: "us", unit: "µs median", better: "lower" },
    { key: "p90", label: "p90", unit: "µs", better: "lower" },
  ],
  params: (o) => ({ ROUNDS: opsFor(20_000, 2000, o) }),
  run: (p) => stwRoundTrips(p, false),
};

const attach: BenchCase = {
  name: "attach",
  description: "detach + attach of the calling thread's state (free-threaded, the fast paths)",
  metrics: [{ key: "ns", unit: "ns/pair", better: "lower" }],
  params: (o) => ({ OPS: opsFor(5_000_000, 500_000, o) }),
  async run(p) {
    const { Runtime } = await import("@ft/interp");
    const runtime = Runtime.create({ maxBytes: 32 << 20 });
    const ts = runtime.currentThreadState()!;
    for (let i = 0; i < 100_000; i++) {
      ts.detach();
      ts.attach();
    }
    const t0 = performance.now();
    for (let i = 0; i < p.OPS!; i++) {
      ts.detach();
      ts.attach();
    }
    const ns = ((performance.now() - t0) * 1e6) / p.OPS!;
    runtime.finalize();
    return { metrics: { ns } };
  },
};

export const interpSuite: Suite = {
  name: "interp",
  description: "thread states: stop-the-world round trip and attach/detach (@ft/interp)",
  cases: [stw, stwDetached, attach],
  ratios: [
    {
      name: "stop-the-world round trip",
      description: "median µs of stop + start with 2 attached workers checking every ≤ 10 µs",
      num: "interp/stw",
      target: { op: "<=", value: 200 },
    },
    {
      name: "attach + detach",
      description: "ns per attach + detach pair, free-threaded",
      num: "interp/attach",
      target: { op: "<=", value: 1000 },
    },
  ],
};
