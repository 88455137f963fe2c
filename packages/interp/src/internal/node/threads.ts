/**
 * Node workers with a thread state: `startThread` makes the new thread's state, starts the worker
 * with `{ thread, data }` as its `workerData`, and when the worker exits — normally, by an uncaught
 * error, or terminated — cleans up whatever it left from the calling thread (`reapThread`): its
 * thread states are cleared (their heaps go to their interpreters' pools, blocks intact) and
 * deleted, and its arena heaps are abandoned. In the worker:
 *
 *     const { runtime, threadState } = attachThread(workerData.thread);
 *     … // allocate, checkpoint(), …
 *     detachThread(runtime);
 */
import type { Worker, WorkerOptions } from "node:worker_threads";
import { startWorker } from "@ft/worker";
import type { Interpreter } from "../interpreters.ts";
import type { CleanupReport } from "../lifecycle.ts";
import type { Runtime } from "../runtime.ts";
import { prepareThread, reapThread, type ThreadData } from "../threads.ts";

/** Options of {@link startThread}. */
export interface StartThreadOptions extends Omit<WorkerOptions, "workerData"> {
  /** The interpreter the thread's state belongs to; by default the calling thread's. */
  interpreter?: Interpreter | number;
  /** Passed to the worker as `workerData.data`. */
  data?: unknown;
}

/** The worker's `workerData`. */
export interface ThreadWorkerData<D = unknown> {
  readonly thread: ThreadData;
  readonly data: D;
}

/** A started thread. */
export interface StartedThread {
  readonly worker: Worker;
  readonly thread: ThreadData;
  /** Resolves when the worker has exited and what it left was cleaned up. */
  readonly exited: Promise<{ readonly code: number; readonly cleanup: CleanupReport }>;
}

/** Start a worker (a `.ts` source or built `.js` entry) with a thread state of `runtime`. */
export function startThread(
  runtime: Runtime,
  entry: URL | string,
  options: StartThreadOptions = {},
): StartedThread {
  const { interpreter, data, ...workerOptions } = options;
  const thread = prepareThread(runtime, interpreter);
  const worker = startWorker(entry, {
    ...workerOptions,
    workerData: { thread, data } satisfies ThreadWorkerData,
  });
  const exited = new Promise<{ code: number; cleanup: CleanupReport }>((resolve, reject) => {
    worker.once("exit", (code) => {
      try {
        resolve({ code, cleanup: reapThread(runtime, thread) });
      } catch (e) {
        reject(e);
      }
    });
  });
  return { worker, thread, exited };
}
