/**
 * Allocator presets chosen by name, as CPython's `PYTHONMALLOC` (`_PyMem_GetAllocatorName`,
 * `PyMemAllocatorName` in `Include/cpython/pymem.h`). The free-threaded build allocates with
 * mimalloc only, so `malloc` and `pymalloc` (and their `_debug` forms) are refused.
 *
 *   name             CPython                       RAW / MEM / OBJ            debug hooks
 *   ---------------  ----------------------------  -------------------------  -----------
 *   default          PYMEM_ALLOCATOR_DEFAULT        the default allocators      no (1)
 *   debug            PYMEM_ALLOCATOR_DEBUG          the default allocators      yes
 *   mimalloc         PYMEM_ALLOCATOR_MIMALLOC       the default allocators      no
 *   mimalloc_debug   PYMEM_ALLOCATOR_MIMALLOC_DEBUG the default allocators      yes
 *
 * (1) CPython turns the debug hooks on under `default` in a debug build (`Py_DEBUG`); ft's
 * `default` never does, so that a debug build of ft (`FT_DEBUG=1`) lays blocks out as a release
 * build does. Ask for `debug` to get them.
 *
 * The portable core does not read the environment: the Node layer passes its `process.env` to
 * {@link allocatorPresetFromEnv} and the result to `createPyMem`.
 */

/** The preset names `createPyMem` and `PyMem.setPreset` accept. */
export type AllocatorPreset = "default" | "debug" | "mimalloc" | "mimalloc_debug";

/** Every preset name, in CPython's order. */
export const ALLOCATOR_PRESETS: readonly AllocatorPreset[] = [
  "default",
  "debug",
  "mimalloc",
  "mimalloc_debug",
];

/** The environment variable that names a preset (ft's `PYTHONMALLOC`). */
export const FT_MALLOC_ENV = "FT_MALLOC";

const REFUSED = new Set(["malloc", "malloc_debug", "pymalloc", "pymalloc_debug"]);

/**
 * Validate a preset name. An empty string means `default` (CPython treats an empty `PYTHONMALLOC`
 * as unset).
 *
 * @throws RangeError for `malloc`/`pymalloc` (not in the free-threaded build) and unknown names.
 */
export function parseAllocatorPreset(name: unknown): AllocatorPreset {
  if (typeof name !== "string") {
    throw new TypeError(`allocator preset must be a string, got ${typeof name}`);
  }
  if (name === "") return "default";
  if ((ALLOCATOR_PRESETS as readonly string[]).includes(name)) return name as AllocatorPreset;
  if (REFUSED.has(name)) {
    throw new RangeError(
      `allocator preset "${name}" is not available: the free-threaded build allocates with mimalloc ` +
        "(expected default, debug, mimalloc or mimalloc_debug)",
    );
  }
  throw new RangeError(
    `unknown allocator preset ${JSON.stringify(name)}: expected default, debug, mimalloc or mimalloc_debug`,
  );
}

/** Whether the preset installs the debug hooks. */
export function presetHasDebugHooks(preset: AllocatorPreset): boolean {
  return preset === "debug" || preset === "mimalloc_debug";
}

/**
 * The preset named by `env.FT_MALLOC`, or `undefined` when it is unset or empty. The Node layer
 * calls it with `process.env`.
 *
 * @throws RangeError as {@link parseAllocatorPreset}, naming the variable.
 */
export function allocatorPresetFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): AllocatorPreset | undefined {
  if (typeof env !== "object" || env === null) {
    throw new TypeError(`allocatorPresetFromEnv: env must be an object (process.env), got ${env === null ? "null" : typeof env}`);
  }
  const value = env[FT_MALLOC_ENV];
  if (value === undefined || value === "") return undefined;
  try {
    return parseAllocatorPreset(value);
  } catch (e) {
    throw new RangeError(`${FT_MALLOC_ENV}: ${(e as Error).message}`);
  }
}
