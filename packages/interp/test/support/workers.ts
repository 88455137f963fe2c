// Start fixtures/tstate.worker.ts parts and follow their messages.
import type { Worker } from "node:worker_threads";
import { type Interpreter, type Runtime, type StartedThread, startThread } from "../../src/index.ts";
import type { TstateOp } from "../fixtures/tstate.worker.ts";

const ENTRY = new URL("../fixtures/tstate.worker.ts", import.meta.url);

export interface Part extends StartedThread {
  /** The next message of `type` (messages are queued until asked for). */
  next<T = Record<string, unknown>>(type: string): Promise<T>;
}

export function startPart(
  rt: Runtime,
  sab: SharedArrayBuffer,
  op: TstateOp,
  interpreter?: Interpreter | number,
): Part {
  const started = startThread(rt, ENTRY, { data: { ...op, sab }, interpreter });
  const queue: Record<string, unknown>[] = [];
  const waiting: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  let failure: Error | null = null;
  const deliver = () => {
    for (let i = 0; i < waiting.length; i++) {
      const w = waiting[i]!;
      const at = queue.findIndex((m) => m.type === w.type);
      if (at >= 0) {
        waiting.splice(i--, 1);
        w.resolve(queue.splice(at, 1)[0]!);
      }
    }
  };
  const worker: Worker = started.worker;
  worker.on("message", (m: Record<string, unknown>) => {
    queue.push(m);
    deliver();
  });
  worker.on("error", (e) => {
    failure = e;
  });
  return {
    ...started,
    next<T>(type: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (failure) reject(failure);
        waiting.push({ type, resolve: resolve as (m: Record<string, unknown>) => void });
        worker.once("exit", () =>
          setTimeout(() => reject(failure ?? new Error(`worker exited before "${type}"`)), 0),
        );
        deliver();
      });
    },
  };
}

/** Resolve after `ms` (lets workers run while the main thread's event loop is free). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until `cond()` holds, checking every few ms; throws after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}
