/**
 * `__DEBUG__` is replaced by esbuild's `define` in built bundles (`FT_DEBUG=1` keeps assertions,
 * the default release build sets it to `false` and `--minify-syntax` drops every `if (__DEBUG__)`).
 * From source (vitest, tsx workers) it is a global set to `true` by the test setup / worker bootstrap.
 */
declare const __DEBUG__: boolean;
