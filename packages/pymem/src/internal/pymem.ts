/**
 * The PyMem facade: one thread's domain table (RAW, MEM, OBJ) over one arena, the `PyMem_*`,
 * `PyMem_Raw*` and `PyObject_*` entry points, get/set allocator, the debug hooks and the presets.
 *
 * Allocators are JavaScript functions, so the table is per thread: every thread that allocates
 * (the main thread, each worker) creates its own `PyMem` over its arena handle, with the same
 * preset (@ft/interp passes it along). The blocks, the heaps and the thread-state records are
 * shared through the arena.
 *
 * Fast path: an entry point loads its domain's record and calls `malloc(ctx, size)` on it; the
 * default MEM allocator reads the current state and pops its MEM heap. No closure, no allocation,
 * no optional argument on the way.
 */
import type { Arena } from "@ft/mimalloc";
import type { Allocator, PyMemOptions } from "../api.ts";
import {
  type AllocatorRecord,
  allocatorCopy,
  chainSome,
  copyAllocator,
  defaultAllocator,
  isDefaultAllocator,
  wrappedAllocator,
} from "./allocators.ts";
import type { TracebackFrame } from "./debug-dump.ts";
import {
  DebugContext,
  type DebugHost,
  debugCalloc,
  debugFree,
  debugMalloc,
  debugRawCalloc,
  debugRawFree,
  debugRawMalloc,
  debugRawRealloc,
  debugRealloc,
  isDebugMalloc,
} from "./debug-hooks.ts";
import { DEBUG_HEADER_SIZE } from "./debug-layout.ts";
import { checkDomain, DOMAIN_COUNT, Domain, describe, domainApiId } from "./domain.ts";
import type { FatalMemoryError } from "./errors.ts";
import { HeapTag } from "./heap-tags.ts";
import { type AllocatorPreset, parseAllocatorPreset, presetHasDebugHooks } from "./presets.ts";
import { checkArena, currentThreadState } from "./thread-state.ts";
import { Tracemalloc } from "./tracemalloc.ts";

/** Create the calling thread's PyMem over its arena handle. */
export function createPyMem(arena: Arena, options: PyMemOptions = {}): PyMem {
  return new PyMem(arena, options);
}

/** Where the debug hooks find a block's allocation traceback (the tracing hook, when on). */
export interface TracebackSource {
  tracebackOf(p: number): readonly TracebackFrame[] | null;
}

/**
 * One thread's memory API over an arena: CPython's `PyMem_Raw*` (RAW), `PyMem_*` (MEM) and
 * `PyObject_*` (OBJ) functions, `PyMem_GetAllocator` / `PyMem_SetAllocator`,
 * `PyMem_SetupDebugHooks`, and object allocation by heap kind. Pointers are arena byte offsets;
 * 0 is NULL.
 */
export class PyMem implements DebugHost {
  /** This thread's arena handle. */
  readonly arena: Arena;
  /** Debug blocks carry serial numbers. */
  readonly serialNumbers: boolean;
  /** The last serial number the debug hooks handed out. */
  serial = 0;

  /** The domain table. Read on every call; replaced (never mutated) by `setAllocator`. */
  private raw: AllocatorRecord;
  private mem: AllocatorRecord;
  private obj: AllocatorRecord;
  /** Per domain: the debug hooks sit somewhere in its chain. Recomputed on every change. */
  private readonly debugInChain = [false, false, false];
  private readonly onFatal: ((error: FatalMemoryError) => void) | undefined;
  private tracer: Tracemalloc | null = null;
  /** The source of allocation tracebacks for debug dumps (the tracing hook, while it traces). */
  tracebackSource: TracebackSource | null = null;
  /** An 8-byte view over the arena for the debug fills, and the arena `limit` it was made for. */
  private f64: Float64Array = new Float64Array(0);
  private f64Limit = -1;

  constructor(arena: Arena, options: PyMemOptions = {}) {
    checkArena("createPyMem", arena);
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`createPyMem: options must be an object, got ${describe(options)}`);
    }
    if (options.onFatal !== undefined && typeof options.onFatal !== "function") {
      throw new TypeError(`createPyMem: options.onFatal must be a function, got ${describe(options.onFatal)}`);
    }
    this.arena = arena;
    this.serialNumbers = options.serialNumbers === true;
    this.onFatal = options.onFatal;
    this.raw = defaultAllocator(arena, Domain.RAW);
    this.mem = defaultAllocator(arena, Domain.MEM);
    this.obj = defaultAllocator(arena, Domain.OBJ);
    this.setPreset(options.preset ?? "default");
  }

  // ------------------------------------------------------------------------------- RAW domain

  /** `PyMem_RawMalloc`: `size` bytes from the calling thread's default heap; any thread, no thread state needed. */
  rawMalloc(size: number): number {
    const a = this.raw;
    return a.malloc(a.ctx, size);
  }
  /** `PyMem_RawCalloc`: `nelem * elsize` zeroed bytes; 0 when the product overflows. */
  rawCalloc(nelem: number, elsize: number): number {
    const a = this.raw;
    return a.calloc(a.ctx, nelem, elsize);
  }
  /** `PyMem_RawRealloc`: resize (p = 0 allocates); 0 on failure leaves `p` intact. */
  rawRealloc(p: number, size: number): number {
    const a = this.raw;
    return a.realloc(a.ctx, p, size);
  }
  /** `PyMem_RawFree`; freeing 0 does nothing. */
  rawFree(p: number): void {
    const a = this.raw;
    a.free(a.ctx, p);
  }

  // ------------------------------------------------------------------------------- MEM domain

  /** `PyMem_Malloc`: from the current thread state's MEM heap. Needs a thread state. */
  malloc(size: number): number {
    const a = this.mem;
    return a.malloc(a.ctx, size);
  }
  /** `PyMem_Calloc`. */
  calloc(nelem: number, elsize: number): number {
    const a = this.mem;
    return a.calloc(a.ctx, nelem, elsize);
  }
  /** `PyMem_Realloc`. */
  realloc(p: number, size: number): number {
    const a = this.mem;
    return a.realloc(a.ctx, p, size);
  }
  /** `PyMem_Free`. */
  free(p: number): void {
    const a = this.mem;
    a.free(a.ctx, p);
  }

  // ------------------------------------------------------------------------------- OBJ domain

  /** `PyObject_Malloc`: from the current thread state's current object heap. Needs a thread state. */
  objectMalloc(size: number): number {
    const a = this.obj;
    return a.malloc(a.ctx, size);
  }
  /** `PyObject_Calloc`. */
  objectCalloc(nelem: number, elsize: number): number {
    const a = this.obj;
    return a.calloc(a.ctx, nelem, elsize);
  }
  /** `PyObject_Realloc`. */
  objectRealloc(p: number, size: number): number {
    const a = this.obj;
    return a.realloc(a.ctx, p, size);
  }
  /** `PyObject_Free`. */
  objectFree(p: number): void {
    const a = this.obj;
    a.free(a.ctx, p);
  }

  /**
   * `_PyObject_MallocWithType`: allocate an object's block from the heap of its kind — OBJECT for
   * non-GC types, GC for GC types, GC_PRE for GC types with a pre-header — by making that heap the
   * current object heap around the OBJ-domain call (so the hooks in the chain reach it too), and
   * restoring the previous one afterwards, also when a hook throws.
   */
  objectMallocKind(kind: HeapTag, size: number): number {
    const s = currentThreadState();
    if (s === null || s.arena !== this.arena) return this.objectMalloc(size); // the chain reports it
    if (kind !== HeapTag.OBJECT && kind !== HeapTag.GC && kind !== HeapTag.GC_PRE)
      badKind("objectMallocKind", kind);
    const i = s.currentObjectHeapIndex;
    const previous = s.arena.u32[i]!;
    s.arena.u32[i] = kind;
    try {
      const a = this.obj;
      return a.malloc(a.ctx, size);
    } finally {
      s.arena.u32[i] = previous;
    }
  }

  /** `objectMallocKind` for `PyObject_Calloc`. */
  objectCallocKind(kind: HeapTag, nelem: number, elsize: number): number {
    const s = currentThreadState();
    if (s === null || s.arena !== this.arena) return this.objectCalloc(nelem, elsize);
    if (kind !== HeapTag.OBJECT && kind !== HeapTag.GC && kind !== HeapTag.GC_PRE)
      badKind("objectCallocKind", kind);
    const i = s.currentObjectHeapIndex;
    const previous = s.arena.u32[i]!;
    s.arena.u32[i] = kind;
    try {
      const a = this.obj;
      return a.calloc(a.ctx, nelem, elsize);
    } finally {
      s.arena.u32[i] = previous;
    }
  }

  /** `_PyObject_ReallocWithType`: a moved block lands in the heap of `kind`. */
  objectReallocKind(kind: HeapTag, p: number, size: number): number {
    const s = currentThreadState();
    if (s === null || s.arena !== this.arena) return this.objectRealloc(p, size);
    if (kind !== HeapTag.OBJECT && kind !== HeapTag.GC && kind !== HeapTag.GC_PRE)
      badKind("objectReallocKind", kind);
    const i = s.currentObjectHeapIndex;
    const previous = s.arena.u32[i]!;
    s.arena.u32[i] = kind;
    try {
      const a = this.obj;
      return a.realloc(a.ctx, p, size);
    } finally {
      s.arena.u32[i] = previous;
    }
  }

  /**
   * `PyObject_Free` of an object of `kind`. The default allocators do not need the kind; the debug
   * hooks do, to spare the right header bytes of a GC_PRE object (its refcounts sit after the
   * pre-header). @ft/gc frees objects through it.
   */
  objectFreeKind(kind: HeapTag, p: number): void {
    const s = currentThreadState();
    if (s === null || s.arena !== this.arena) {
      this.objectFree(p);
      return;
    }
    if (kind !== HeapTag.OBJECT && kind !== HeapTag.GC && kind !== HeapTag.GC_PRE)
      badKind("objectFreeKind", kind);
    const i = s.currentObjectHeapIndex;
    const previous = s.arena.u32[i]!;
    s.arena.u32[i] = kind;
    try {
      const a = this.obj;
      a.free(a.ctx, p);
    } finally {
      s.arena.u32[i] = previous;
    }
  }

  // -------------------------------------------------------------------------------- allocators

  /**
   * `PyMem_GetAllocator`: a copy of `domain`'s allocator (its `ctx` is shared).
   * @throws as `checkDomain` for an unknown domain.
   */
  getAllocator(domain: Domain): Allocator {
    return allocatorCopy(this.record(checkDomain(domain)));
  }

  /**
   * `PyMem_SetAllocator`: make a copy of `allocator` `domain`'s allocator. A hook declares what it
   * wraps by making its `ctx` the wrapped allocator (or an object whose `wrapped` property is), as
   * the debug and tracing hooks do; `debugEnabled` follows that chain.
   * @throws as `checkDomain` for an unknown domain; TypeError for an allocator without the four functions.
   */
  setAllocator(domain: Domain, allocator: Allocator): void {
    const d = checkDomain(domain);
    const copy = copyAllocator("setAllocator", allocator);
    if (d === Domain.RAW) this.raw = copy;
    else if (d === Domain.MEM) this.mem = copy;
    else this.obj = copy;
    this.debugInChain[d] = chainSome(copy, (link) => isDebugMalloc(link.malloc));
  }

  /**
   * `PyMem_SetupDebugHooks`: wrap each domain's allocator in the debug hooks, unless they already
   * sit somewhere in its chain (CPython looks only at the outermost allocator; ft looks at the
   * whole chain, so that a hook on top does not get a second debug layer under it).
   */
  setupDebugHooks(): void {
    for (let d = 0; d < DOMAIN_COUNT; d++) {
      const domain = d as Domain;
      if (this.debugInChain[domain]) continue;
      const ctx = new DebugContext(domainApiId(domain), domain, this.record(domain), this);
      const hooks: Allocator<DebugContext> =
        domain === Domain.RAW
          ? {
              ctx,
              malloc: debugRawMalloc,
              calloc: debugRawCalloc,
              realloc: debugRawRealloc,
              free: debugRawFree,
            }
          : { ctx, malloc: debugMalloc, calloc: debugCalloc, realloc: debugRealloc, free: debugFree };
      this.setAllocator(domain, hooks);
    }
  }

  /**
   * Reset every domain to the allocators of `preset` (CPython's `_PyMem_SetupAllocators`): the
   * default allocators, with the debug hooks for `debug` and `mimalloc_debug`. Hooks installed
   * before (tracing included) are dropped; stop tracing first.
   * @throws RangeError for an unknown preset, or for `malloc`/`pymalloc`.
   */
  setPreset(preset: AllocatorPreset | string): void {
    const name = parseAllocatorPreset(preset);
    if (this.tracer?.isTracing()) {
      throw new Error("setPreset: stop tracing first (the tracing hook would be dropped from the chain)");
    }
    for (let d = 0; d < DOMAIN_COUNT; d++) {
      this.setAllocator(d as Domain, defaultAllocator(this.arena, d as Domain));
    }
    if (presetHasDebugHooks(name)) this.setupDebugHooks();
  }

  /**
   * `_PyMem_GetCurrentAllocatorName`: `"mimalloc"` when every domain has its default allocator,
   * `"mimalloc_debug"` when every domain has exactly the debug hooks over it, `null` otherwise (a
   * hook, tracing included, or a replaced allocator).
   */
  allocatorName(): "mimalloc" | "mimalloc_debug" | null {
    let plain = true;
    let debug = true;
    for (let d = 0; d < DOMAIN_COUNT; d++) {
      const a = this.record(d as Domain);
      if (!isDefaultAllocator(a, this.arena, d as Domain)) plain = false;
      const inner = isDebugMalloc(a.malloc) ? wrappedAllocator(a) : null;
      if (inner === null || !isDefaultAllocator(inner, this.arena, d as Domain)) debug = false;
    }
    return plain ? "mimalloc" : debug ? "mimalloc_debug" : null;
  }

  /**
   * `_PyMem_DebugEnabled`: whether the debug hooks sit anywhere in the chain of `domain` (also under
   * the tracing hook or a user's hook), or of any domain when `domain` is omitted. The collector
   * asks about OBJ: it is whether an object starts DEBUG_HEADER_SIZE bytes into its block.
   */
  debugEnabled(domain?: Domain): boolean {
    if (domain === undefined) return this.debugInChain[0]! || this.debugInChain[1]! || this.debugInChain[2]!;
    return this.debugInChain[checkDomain(domain)]!;
  }

  /** Bytes before an OBJ block's data: DEBUG_HEADER_SIZE with debug hooks in the OBJ chain, else 0. */
  objectDebugHeaderSize(): number {
    return this.debugInChain[Domain.OBJ] ? DEBUG_HEADER_SIZE : 0;
  }

  /** The tracing hook of this PyMem (CPython's `tracemalloc` module), created on first use. */
  get tracemalloc(): Tracemalloc {
    this.tracer ??= new Tracemalloc(this);
    return this.tracer;
  }

  // ---------------------------------------------------------------------------- DebugHost

  /** The allocation traceback of block `p` for a debug dump (see `DebugHost.tracebackOf`). */
  tracebackOf(p: number): readonly TracebackFrame[] | null | undefined {
    const source = this.tracebackSource;
    if (source === null) return undefined;
    // Tracing over the debug hooks traced `p`; under them, the block start.
    return source.tracebackOf(p) ?? source.tracebackOf(p - DEBUG_HEADER_SIZE);
  }

  /** A Float64Array over the bytes the arena's views cover now. */
  float64View(): Float64Array {
    const limit = this.arena.limit;
    if (limit !== this.f64Limit) {
      this.f64 = new Float64Array(this.arena.buffer, 0, limit >>> 3);
      this.f64Limit = limit;
    }
    return this.f64;
  }

  /** Report a fatal error through `onFatal`, then throw it. */
  fatal(error: FatalMemoryError): never {
    this.onFatal?.(error);
    throw error;
  }

  private record(domain: Domain): AllocatorRecord {
    return domain === Domain.RAW ? this.raw : domain === Domain.MEM ? this.mem : this.obj;
  }
}

function badKind(fn: string, kind: unknown): never {
  throw new RangeError(
    `${fn}: kind must be OBJECT (1), GC (2) or GC_PRE (3) (the heaps objects go to), got ${typeof kind === "number" ? kind : describe(kind)}`,
  );
}
