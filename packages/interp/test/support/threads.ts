// Run one interpreters-API operation on a new worker with a thread state (fixtures/interp.worker.ts).
import { once } from "node:events";
import { type Interpreter, type Runtime, startThread } from "../../src/index.ts";

const ENTRY = new URL("../fixtures/interp.worker.ts", import.meta.url);

export type WorkerReply = { ok: true; value: unknown } | { ok: false; error: string; name: string };

export async function inThread(
  rt: Runtime,
  data: unknown,
  interpreter?: Interpreter | number,
): Promise<WorkerReply> {
  const started = startThread(rt, ENTRY, { data, interpreter });
  const [reply] = (await once(started.worker, "message")) as [WorkerReply];
  await started.exited;
  return reply;
}
