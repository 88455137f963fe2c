/**
 * Demo step: a subinterpreter runs code in its own isolated `__main__` (a `vm` context) on the
 * calling thread; the error it does not catch crosses back as strings only and is raised in the
 * caller as `ExecutionFailed`, whose display shows the inner error under the outer one.
 */
import type { DemoStep } from "./step.ts";

const CODE = `function parse(text) {
  return JSON.parse(text);
}
function loadConfig() {
  print("loading", source, "...");
  return parse("{ not json }");
}
loadConfig();`;

export const subinterpreterStep: DemoStep = {
  title: "A subinterpreter's uncaught error, shown in the caller",
  async run({ say }) {
    const { ExecutionFailed, Runtime } = await import("@ft/interp");
    const runtime = Runtime.create({
      maxBytes: 32 << 20,
      stdout: (text) => say(`  (printed inside) ${text.trimEnd()}`),
    });
    try {
      const interp = runtime.create();
      say(
        `main: created interpreter ${interp.id} (own globals, own abandoned pool); ` +
          `interpreters now: ${runtime.listAll().map(String).join(", ")}`,
      );
      interp.prepareMain({ source: "settings.json" });
      say('main: bound source = "settings.json" into its __main__, then interp.exec() of:');
      for (const line of CODE.split("\n")) say(`  │ ${line}`);
      try {
        interp.exec(CODE);
      } catch (e) {
        if (!(e instanceof ExecutionFailed)) throw e;
        say("main: caught ExecutionFailed; only strings crossed (excinfo):");
        say(`  type ${JSON.stringify(e.excinfo.type)}`);
        say(`  formatted ${JSON.stringify(e.excinfo.formatted)}`);
        say("main: String(error), what an uncaught one prints under its name:");
        for (const line of String(e).split("\n")) say(`  │ ${line}`);
      }
      say(`main: interpreter ${interp.id} is idle again (isRunning: ${interp.isRunning()}); closing it`);
      interp.close();
    } finally {
      runtime.finalize();
    }
    say("(a vm context isolates globals, it is not a security boundary: never run untrusted code in one)");
  },
};
