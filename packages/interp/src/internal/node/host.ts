/**
 * The Node host of subinterpreters: an interpreter's `__main__` in a thread is a `vm` context (its
 * own global object and built-ins), code is compiled with `vm.Script`, and `callInThread` starts
 * a worker (`@ft/worker`) running `interp-thread.worker.ts`.
 *
 * A `vm` context isolates globals; it is **not a security boundary** (Node's documentation: "The
 * node:vm module is not a security mechanism. Do not use it to run untrusted code"). Code in a
 * subinterpreter can reach the outer realm through any object handed to it.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import vm from "node:vm";
import { startWorker } from "@ft/worker";
import { type ExcInfo, excinfoFromError } from "../errors.ts";
import type {
  CompiledScript,
  HostThread,
  InterpreterHost,
  InterpreterThreadRequest,
  InterpreterThreadResult,
  MainNamespace,
  MainOutput,
} from "../host.ts";

/** The file names given to code run in a subinterpreter (frames from these are the interpreter's own). */
const OWN_FRAME = /<string>:|<call>:|<anonymous>/;
const FRAME = /^\s+at /;

interface NodeCompiled extends CompiledScript {
  readonly script: vm.Script;
}

class VmMain implements MainNamespace {
  readonly #context: vm.Context;
  readonly #Array: ArrayConstructor;
  readonly #freeze: (o: unknown) => unknown;

  constructor(id: number, builtins: Readonly<Record<string, unknown>>, output: MainOutput) {
    const write =
      (out: (text: string) => void) =>
      (...args: unknown[]) =>
        out(`${format(...args)}\n`);
    const console = Object.freeze({
      log: write(output.stdout),
      info: write(output.stdout),
      debug: write(output.stdout),
      warn: write(output.stderr),
      error: write(output.stderr),
    });
    this.#context = vm.createContext(
      { ...builtins, console, print: console.log },
      { name: `interpreter ${id} __main__` },
    );
    this.#Array = vm.runInContext("Array", this.#context) as ArrayConstructor;
    this.#freeze = vm.runInContext("Object.freeze", this.#context) as (o: unknown) => unknown;
  }

  bind(name: string, value: unknown): void {
    (this.#context as Record<string, unknown>)[name] = value;
  }

  run(script: CompiledScript): unknown {
    return (script as NodeCompiled).script.runInContext(this.#context, { displayErrors: false });
  }

  adopt(value: unknown): unknown {
    if (Array.isArray(value)) return this.#freeze(this.#Array.from(value, (v) => this.adopt(v)));
    if (ArrayBuffer.isView(value)) {
      const name = Object.prototype.toString.call(value).slice(8, -1);
      const Ctor = vm.runInContext(name, this.#context) as new (
        b: ArrayBufferLike,
        o: number,
        n: number,
      ) => unknown;
      const length =
        value instanceof DataView ? value.byteLength : (value as unknown as { length: number }).length;
      return new Ctor(value.buffer, value.byteOffset, length);
    }
    return value;
  }

  capture(error: unknown): ExcInfo {
    const info = excinfoFromError(error);
    return info.errdisplay === null ? info : { ...info, errdisplay: interpreterFramesOnly(info.errdisplay) };
  }

  dispose(): void {}
}

/**
 * Keep the interpreter's own frames in a display: drop the stack lines of the host (Node's `vm`
 * internals, @ft/interp, the caller), which CPython's display would not show either.
 */
export function interpreterFramesOnly(display: string): string {
  return display
    .split("\n")
    .filter((line) => !FRAME.test(line) || OWN_FRAME.test(line))
    .join("\n");
}

/** Where the interpreter-thread entry is: the `.ts` source (tests) or the built `.js` next to the bundle. */
function threadEntry(): URL {
  const here = import.meta.url;
  const candidates = here.endsWith(".ts")
    ? [new URL("./interp-thread.worker.ts", here)]
    : [new URL("./internal/node/interp-thread.worker.js", here), new URL("./interp-thread.worker.js", here)];
  for (const url of candidates) if (existsSync(fileURLToPath(url))) return url;
  throw new Error(
    `callInThread: the interpreter-thread entry was not found next to ${here} (is @ft/interp built, or run from its source?)`,
  );
}

function startThread(request: InterpreterThreadRequest): HostThread {
  const worker = startWorker(threadEntry(), { workerData: request });
  let threadId = 0;
  let report: { excinfo: ExcInfo | null } | null = null;
  let failure: Error | null = null;
  worker.on("message", (m: { type: string; threadId?: number; excinfo?: ExcInfo | null }) => {
    if (m.type === "attached") threadId = m.threadId ?? 0;
    else if (m.type === "done") report = { excinfo: m.excinfo ?? null };
  });
  worker.on("error", (e) => {
    failure = e instanceof Error ? e : new Error(String(e));
  });
  const done = new Promise<InterpreterThreadResult>((resolve) => {
    worker.once("exit", (code) => {
      if (report !== null) resolve({ threadId, excinfo: report.excinfo, died: null });
      else {
        const why = failure !== null ? `: ${failure.message}` : "";
        resolve({
          threadId,
          excinfo: failure !== null ? excinfoFromError(failure) : null,
          died: `the thread exited with code ${code} before it finished${why}`,
        });
      }
    });
  });
  return {
    done,
    async terminate() {
      await worker.terminate();
    },
  };
}

/** The Node host: `vm` contexts for `__main__`, workers for threads, process stdout / stderr. */
export const nodeHost: InterpreterHost = {
  newMain: (id, builtins, output) => new VmMain(id, builtins, output),
  compile(code, filename): NodeCompiled {
    return { filename, script: new vm.Script(code, { filename }) };
  },
  startThread,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
