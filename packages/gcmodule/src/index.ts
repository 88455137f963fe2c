/**
 * @ft/gcmodule: the Python `gc` module's API (`collect`, `enable`/`disable`, `get_objects`,
 * `get_referrers`, `freeze`, callbacks, `garbage`, debug flags, stats) over @ft/gc's collector,
 * one module per interpreter (and thread: `callbacks` are JavaScript functions).
 *
 * ```ts
 * const gc = gcModuleFor(runtime);        // or gcModule(space) over any @ft/gc object space
 * gc.setDebug(gc.DEBUG_STATS);
 * gc.callbacks.push((phase, info) => console.log(phase, info));
 * gc.collect();                           // collected + uncollectable
 * gc.getStats();                          // [{ collections, collected, uncollectable } × 3]
 * ```
 *
 * @packageDocumentation
 */

export {
  checkDebugFlags,
  checkGeneration,
  checkObjectsGeneration,
  checkThreshold,
} from "./internal/arguments.ts";
export {
  DEBUG_COLLECTABLE,
  DEBUG_LEAK,
  DEBUG_SAVEALL,
  DEBUG_STATS,
  DEBUG_UNCOLLECTABLE,
  type Generation,
  NUM_GENERATIONS,
} from "./internal/constants.ts";
export {
  formatCollecting,
  formatCollectionDone,
  formatDebugCycle,
  formatObjectsInEachGeneration,
  formatObjectsInPermanentGeneration,
  formatUncollectableAtShutdown,
} from "./internal/debug-output.ts";
export {
  type GcCallback,
  type GcCallbackInfo,
  type GcGenerationStats,
  GcModule,
  type GcModuleOptions,
  gcModule,
  type TextSink,
} from "./internal/module.ts";
export { gcModuleFor } from "./internal/runtime.ts";
