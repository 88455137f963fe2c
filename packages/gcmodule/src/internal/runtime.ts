/**
 * The `gc` module under @ft/interp: one per thread and interpreter, over @ft/gc's
 * `objectSpaceFor(runtime)`. When an interpreter finalizes (`Runtime.finalize()` for the main
 * one, `Interpreter.close()` for the others) on a thread that made its module, the module does
 * what CPython's `finalize_modules` does for the gc: a last collection (no callbacks) and the
 * warning about uncollectable objects left in `gc.garbage` (`_PyGC_DumpShutdownStats`).
 */
import { objectSpaceFor } from "@ft/gc";
import { type Runtime, registerRuntimeHooks } from "@ft/interp";
import { checkModuleOptions, type GcModule, type GcModuleOptions, gcModule } from "./module.ts";

/** This thread's modules made by {@link gcModuleFor}, for the shutdown hook. */
const threadModules = new Set<GcModule>();
let hookRegistered = false;

/**
 * The `gc` module of the interpreter of the calling thread's current thread state in `runtime`.
 * Its output goes to `options.stderr`, else to the runtime's `stderr` option, else to the space's
 * default (`console.error`).
 *
 * @throws Error when the thread has no attached thread state in `runtime` (from @ft/gc).
 */
export function gcModuleFor(runtime: Runtime, options: GcModuleOptions = {}): GcModule {
  checkModuleOptions("gcModuleFor", options);
  const space = objectSpaceFor(runtime);
  const stderr = options.stderr ?? runtime.stderr;
  const m = gcModule(space, stderr !== undefined ? { ...options, stderr } : options);
  registerShutdownHookOnce();
  threadModules.add(m);
  return m;
}

function registerShutdownHookOnce(): void {
  if (hookRegistered) return;
  hookRegistered = true;
  registerRuntimeHooks({
    finiInterpreter(args) {
      for (const m of [...threadModules]) {
        const s = m.space;
        if (s.arena.buffer !== args.arena.buffer || s.gcState !== args.gcState) continue;
        threadModules.delete(m);
        try {
          m.shutdown();
        } catch (e) {
          // A hook must not throw (the finalization would stop half done): report it.
          s.unraisable("gc shutdown", e);
        }
      }
    },
  });
}
