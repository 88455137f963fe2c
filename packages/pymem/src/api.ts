import type { FatalMemoryError } from "./internal/errors.ts";
import type { AllocatorPreset } from "./internal/presets.ts";

/**
 * Contracts of @ft/pymem: the allocator record that every domain holds and that hooks wrap, the
 * options of a PyMem, and the object layout the debug fills respect.
 * Only types live here; the implementation is under `src/internal/`.
 */

/**
 * An allocator of one memory domain, after CPython's `PyMemAllocatorEx`
 * (`Include/cpython/pymem.h`): a context value and four functions that receive it first.
 *
 * Pointers are byte offsets into the arena (`number`, uint32); `0` is NULL. A hook (the debug
 * hooks, a tracing hook, a test's failing allocator) is an `Allocator` whose `ctx` holds the
 * allocator it wraps, exactly as CPython's `debug_alloc_api_t` holds the wrapped `PyMemAllocatorEx`.
 *
 * @typeParam Ctx - the type of {@link Allocator.ctx}.
 */
export interface Allocator<Ctx = unknown> {
  /** User context passed as the first argument of every function (CPython's `void *ctx`). */
  readonly ctx: Ctx;
  /** Allocate `size` bytes; return the block's pointer, or 0 when out of memory. `size` 0 returns a unique non-NULL pointer. */
  malloc(ctx: Ctx, size: number): number;
  /** Allocate `nelem * elsize` zeroed bytes; return the pointer or 0 (also 0 when the product overflows). */
  calloc(ctx: Ctx, nelem: number, elsize: number): number;
  /** Resize the block at `p` (0 behaves as `malloc`) to `size` bytes; return the new pointer, or 0 leaving `p` intact. */
  realloc(ctx: Ctx, p: number, size: number): number;
  /** Free the block at `p`; freeing 0 does nothing. */
  free(ctx: Ctx, p: number): void;
}

/**
 * The one-byte API identifier that the debug hooks store in a block's header (PEP 445):
 * `'r'` for the RAW domain, `'m'` for MEM, `'o'` for OBJ. Freeing a block through another
 * domain than the one that allocated it is reported as a bad ID.
 */
export type ApiId = "r" | "m" | "o";

/** Options of `createPyMem` (`new PyMem`). */
export interface PyMemOptions {
  /**
   * The allocator preset, as `PYTHONMALLOC` (the Node layer may read it from `FT_MALLOC` with
   * `allocatorPresetFromEnv(process.env)`).
   * @defaultValue "default"
   */
  readonly preset?: AllocatorPreset | string | undefined;
  /**
   * Debug blocks carry a serial number after the trailing pad (CPython's `PYMEM_DEBUG_SERIALNO`).
   * @defaultValue false
   */
  readonly serialNumbers?: boolean;
  /**
   * Called with each {@link FatalMemoryError} before it is thrown: the Node layer can print
   * `error.report` to stderr and abort the process, as CPython's fatal error does. When it returns,
   * the error is thrown.
   * @defaultValue none: the error is only thrown
   */
  readonly onFatal?: ((error: FatalMemoryError) => void) | undefined;
}

/**
 * Where an object's header puts `ob_type` and how big the GC pre-header is: what CPython's
 * `tstate_mimalloc_bind` needs to compute each heap's `debug_offset`. The object layout belongs to
 * @ft/gc; the default is its free-threaded header.
 */
export interface ObjectLayout {
  /** `offsetof(PyObject, ob_type)`: the bytes of `ob_tid`, flags and refcounts before it. */
  readonly obTypeOffset: number;
  /** Bytes of the GC pre-header (managed weakref and dict words) of GC_PRE objects. */
  readonly preheaderSize: number;
}
