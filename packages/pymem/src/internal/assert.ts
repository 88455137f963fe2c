/**
 * Debug assertions. Call sites guard them with the build-time flag so that release bundles drop
 * the whole statement (esbuild `define` + `--minify-syntax`):
 *
 *     if (__DEBUG__) assert(p !== 0, "p must not be NULL");
 *
 * Keep the condition and the message free of side effects and of string building.
 */

/** Thrown when a debug assertion fails: an internal invariant (named in the message) is broken. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Throw an {@link AssertionError} carrying `message` (the invariant's name) unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
