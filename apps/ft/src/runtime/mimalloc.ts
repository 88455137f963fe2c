/**
 * The one place where the app loads `@ft/mimalloc`.
 *
 * The package is loaded with a dynamic `import()` on first use, so `ft --help`, `ft bench --list`
 * and the benchmark cases without ft start without it, and a missing or unbuilt package gives
 * a clear {@link MimallocUnavailableError} instead of a module link error at start-up.
 */
import type * as MimallocModule from "@ft/mimalloc";

/** The `@ft/mimalloc` module. */
export type Mimalloc = typeof MimallocModule;
/** An attached arena handle. */
export type Arena = MimallocModule.Arena;
export type ArenaStats = MimallocModule.ArenaStats;

/** Thrown when `@ft/mimalloc` cannot be loaded or does not export its API. */
export class MimallocUnavailableError extends Error {
  override name = "MimallocUnavailableError";
}

let loading: Promise<Mimalloc> | undefined;

/** Load `@ft/mimalloc` (once per thread). Rejects with {@link MimallocUnavailableError}. */
export function loadMimalloc(): Promise<Mimalloc> {
  loading ??= import("@ft/mimalloc").then(
    (m: Partial<Mimalloc>) => {
      if (typeof m.Arena?.create !== "function" || typeof m.Arena.attach !== "function") {
        throw new MimallocUnavailableError(
          "@ft/mimalloc does not export Arena.create/Arena.attach (is it built?)",
        );
      }
      return m as Mimalloc;
    },
    (err: unknown) => {
      throw new MimallocUnavailableError(`@ft/mimalloc could not be loaded: ${(err as Error).message}`);
    },
  );
  return loading;
}
