/**
 * Worker jobs: start one of the app's worker entries and follow a tiny message protocol.
 *
 *   worker → parent   { type: "ready" }            (optional: attached, set up, waiting to start)
 *   worker → parent   { type: "done", result }     (then the worker exits)
 *   worker → parent   { type: "log", text }        (progress for the parent to print)
 *
 * `ready` and `done` reject when the worker throws or exits before sending them, so a crashed
 * worker never leaves the parent waiting. Use {@link reportReady}/{@link reportDone} in workers.
 */
import { startWorker } from "@ft/worker";
import { parentPort, type Worker } from "node:worker_threads";
import { entryUrl } from "./paths.ts";

export interface WorkerJob<R> {
  worker: Worker;
  ready: Promise<void>;
  done: Promise<R>;
}

type Message = { type: "ready" } | { type: "done"; result: unknown } | { type: "log"; text: string };

/** Start the worker entry `name` (e.g. `"bench/alloc-mt.worker"`) with `workerData`. */
export function startJob<R>(name: string, workerData: unknown, onLog?: (text: string) => void): WorkerJob<R> {
  const worker = startWorker(entryUrl(name), { workerData });
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  let doneResolve!: (r: R) => void;
  let doneReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  const done = new Promise<R>((res, rej) => {
    doneResolve = res;
    doneReject = rej;
  });
  // A job whose `ready` nobody awaits must not raise an unhandled rejection.
  ready.catch(() => {});
  let finished = false;
  worker.on("message", (m: Message) => {
    if (m.type === "ready") readyResolve();
    else if (m.type === "log") onLog?.(m.text);
    else if (m.type === "done") {
      finished = true;
      readyResolve();
      doneResolve(m.result as R);
    }
  });
  const fail = (e: Error) => {
    readyReject(e);
    doneReject(e);
  };
  worker.on("error", (e) => fail(e instanceof Error ? e : new Error(String(e))));
  worker.on("exit", (code) => {
    if (!finished) fail(new Error(`worker ${name} exited with code ${code} before finishing`));
  });
  return { worker, ready, done };
}

/** In a worker: tell the parent this worker is set up. */
export function reportReady(): void {
  parentPort!.postMessage({ type: "ready" } satisfies Message);
}

/** In a worker: hand the result to the parent. */
export function reportDone(result: unknown): void {
  parentPort!.postMessage({ type: "done", result } satisfies Message);
}

/** In a worker: a line of progress for the parent. */
export function reportLog(text: string): void {
  parentPort!.postMessage({ type: "log", text } satisfies Message);
}

/**
 * A start barrier on an Int32Array word: workers block in {@link waitForStart} until the parent
 * calls {@link releaseStart}, so all of them leave at (nearly) the same instant.
 */
export const START_WORD = 0;

export function waitForStart(sync: Int32Array): void {
  while (Atomics.load(sync, START_WORD) === 0) Atomics.wait(sync, START_WORD, 0);
}

export function releaseStart(sync: Int32Array): void {
  Atomics.store(sync, START_WORD, 1);
  Atomics.notify(sync, START_WORD);
}
