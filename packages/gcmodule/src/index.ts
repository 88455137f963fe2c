/**
 * @ft/gcmodule: the Python `gc` module's API (`collect`, `enable`/`disable`, `get_objects`,
 * `get_referrers`, `freeze`, callbacks, `garbage`, debug flags, stats) over @ft/gc's collector.
 *
 * First piece: the module's constants, its argument checks with CPython's error wording, and the
 * debug output lines (DEBUG_STATS, DEBUG_COLLECTABLE, DEBUG_UNCOLLECTABLE, the shutdown warning)
 * as pure functions. The module object and its functions come with the collector.
 *
 * @packageDocumentation
 */

export { checkDebugFlags, checkGeneration, checkObjectsGeneration } from "./internal/arguments.ts";
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
