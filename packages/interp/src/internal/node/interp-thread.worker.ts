/**
 * The thread `callInThread` starts (CPython's `threading.Thread(target=interp._call, …)`): attach to
 * the runtime, bind and attach the thread state the caller made for this thread (in the calling
 * interpreter), call the function in the target interpreter, then clear and delete the thread
 * state, detach from the arena, and report. If this thread dies first, the caller cleans up.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ExcInfo } from "../errors.ts";
import type { InterpreterThreadRequest } from "../host.ts";
import { decodeFromThread, excinfoOf } from "../interpreters.ts";
import { Runtime, setDefaultInterpreterHost } from "../runtime.ts";
import { nodeHost } from "./host.ts";

setDefaultInterpreterHost(nodeHost);

const request = workerData as InterpreterThreadRequest;
const rt = Runtime.attach(request.ref);
parentPort!.postMessage({ type: "attached", threadId: rt.threadId });

const ts = rt.threadState(request.tstate);
if (ts.id !== request.tstateId) {
  throw new Error(`interpreter thread: the thread state made for it (${request.tstateId}) is gone`);
}
ts.bind();
ts.attach();
let excinfo: ExcInfo | null = null;
try {
  rt.interpreter(request.target).callSource(request.source, decodeFromThread(rt, request.args) as unknown[]);
} catch (e) {
  excinfo = excinfoOf(e);
}
ts.clear();
ts.deleteCurrent();
rt.arena.detach();
parentPort!.postMessage({ type: "done", excinfo });
