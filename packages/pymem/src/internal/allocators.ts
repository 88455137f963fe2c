/**
 * The allocator records of the domain table and the default allocators over @ft/mimalloc
 * (CPython's `_PyMem_MiMalloc` family in `Objects/obmalloc.c`, free-threaded build):
 *
 *   domain  default allocator      allocates from                           needs a thread state
 *   ------  ---------------------  ---------------------------------------  --------------------
 *   RAW     rawMalloc / …          the arena's per-thread default heap      no
 *   MEM     memMalloc / …          the current state's MEM heap             yes
 *   OBJ     objMalloc / …          the current state's current object heap  yes
 *
 * Every free goes to `arena.free`, which takes a block of any heap and any thread. The default
 * functions are module functions (no closures) that get their arena from `ctx`; the MEM and OBJ
 * ones read the current state from the module variable of `thread-state.ts`. A call without a
 * current state for the arena is a {@link NoThreadStateError}, out of the fast path.
 */
import type { Arena } from "@ft/mimalloc";
import type { Allocator } from "../api.ts";
import { type Domain, describe } from "./domain.ts";
import { NoThreadStateError } from "./errors.ts";
import { currentThreadState } from "./thread-state.ts";

/**
 * One domain's allocator as the table holds it: a copy, with one shape for every allocator so
 * that the facade's calls through it stay monomorphic in shape.
 */
export class AllocatorRecord implements Allocator {
  constructor(
    readonly ctx: unknown,
    readonly malloc: (ctx: unknown, size: number) => number,
    readonly calloc: (ctx: unknown, nelem: number, elsize: number) => number,
    readonly realloc: (ctx: unknown, p: number, size: number) => number,
    readonly free: (ctx: unknown, p: number) => void,
  ) {}
}

/** Copy an allocator by value (its `ctx` is shared, as CPython copies the struct). */
export function copyAllocator(fn: string, a: Allocator): AllocatorRecord {
  if (a === null || typeof a !== "object") {
    throw new TypeError(`${fn}: the allocator must be an object { ctx, malloc, calloc, realloc, free }, got ${describe(a)}`);
  }
  for (const name of ["malloc", "calloc", "realloc", "free"] as const) {
    if (typeof a[name] !== "function") {
      throw new TypeError(`${fn}: the allocator's ${name} must be a function, got ${typeof a[name]}`);
    }
  }
  return new AllocatorRecord(
    a.ctx,
    a.malloc as AllocatorRecord["malloc"],
    a.calloc as AllocatorRecord["calloc"],
    a.realloc as AllocatorRecord["realloc"],
    a.free as AllocatorRecord["free"],
  );
}

/** A plain copy for `getAllocator`: the caller may keep, wrap or change it. */
export function allocatorCopy(a: AllocatorRecord): Allocator {
  return { ctx: a.ctx, malloc: a.malloc, calloc: a.calloc, realloc: a.realloc, free: a.free };
}

// ----------------------------------------------------------------------------- default allocators

/** The `ctx` of the default allocators: the arena handle of the PyMem's thread. */
export class DefaultAllocatorContext {
  constructor(
    readonly arena: Arena,
    readonly domain: Domain,
  ) {}
}

function rawMalloc(ctx: DefaultAllocatorContext, size: number): number {
  return ctx.arena.malloc(size);
}
function rawCalloc(ctx: DefaultAllocatorContext, nelem: number, elsize: number): number {
  return ctx.arena.calloc(nelem, elsize);
}
function rawRealloc(ctx: DefaultAllocatorContext, p: number, size: number): number {
  return ctx.arena.realloc(p, size);
}
function rawFree(ctx: DefaultAllocatorContext, p: number): void {
  ctx.arena.free(p);
}

function memMalloc(ctx: DefaultAllocatorContext, size: number): number {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyMem_Malloc");
  return s.memHeap.malloc(size);
}
function memCalloc(ctx: DefaultAllocatorContext, nelem: number, elsize: number): number {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyMem_Calloc");
  return s.memHeap.calloc(nelem, elsize);
}
function memRealloc(ctx: DefaultAllocatorContext, p: number, size: number): number {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyMem_Realloc");
  return s.memHeap.realloc(p, size);
}
function memFree(ctx: DefaultAllocatorContext, p: number): void {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyMem_Free");
  ctx.arena.free(p);
}

function objMalloc(ctx: DefaultAllocatorContext, size: number): number {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyObject_Malloc");
  return s.heaps[s.arena.u32[s.currentObjectHeapIndex]!]!.malloc(size);
}
function objCalloc(ctx: DefaultAllocatorContext, nelem: number, elsize: number): number {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyObject_Calloc");
  return s.heaps[s.arena.u32[s.currentObjectHeapIndex]!]!.calloc(nelem, elsize);
}
function objRealloc(ctx: DefaultAllocatorContext, p: number, size: number): number {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyObject_Realloc");
  return s.heaps[s.arena.u32[s.currentObjectHeapIndex]!]!.realloc(p, size);
}
function objFree(ctx: DefaultAllocatorContext, p: number): void {
  const s = currentThreadState();
  if (s === null || s.arena !== ctx.arena) noThreadState(ctx, "PyObject_Free");
  ctx.arena.free(p);
}

/** The slow path of a MEM/OBJ call without a current state for the arena. */
function noThreadState(ctx: DefaultAllocatorContext, fn: string): never {
  const s = currentThreadState();
  if (s === null) {
    throw new NoThreadStateError(
      `${fn} called without a thread state: the ${ctx.domain === 1 ? "MEM" : "OBJ"} domain allocates ` +
        "from the calling thread's mimalloc state; attach a thread state (setCurrentThreadState) first",
    );
  }
  throw new NoThreadStateError(
    `${fn} called without a thread state for this arena: the current thread state ` +
      `(record ${s.record}) belongs to another arena`,
  );
}

/** The default allocator of `domain` (CPython's `PYRAW_ALLOC` / `PYMEM_ALLOC` / `PYOBJ_ALLOC`). */
export function defaultAllocator(arena: Arena, domain: Domain): AllocatorRecord {
  const ctx = new DefaultAllocatorContext(arena, domain);
  switch (domain) {
    case 0:
      return new AllocatorRecord(
        ctx,
        rawMalloc as AllocatorRecord["malloc"],
        rawCalloc as AllocatorRecord["calloc"],
        rawRealloc as AllocatorRecord["realloc"],
        rawFree as AllocatorRecord["free"],
      );
    case 1:
      return new AllocatorRecord(
        ctx,
        memMalloc as AllocatorRecord["malloc"],
        memCalloc as AllocatorRecord["calloc"],
        memRealloc as AllocatorRecord["realloc"],
        memFree as AllocatorRecord["free"],
      );
    default:
      return new AllocatorRecord(
        ctx,
        objMalloc as AllocatorRecord["malloc"],
        objCalloc as AllocatorRecord["calloc"],
        objRealloc as AllocatorRecord["realloc"],
        objFree as AllocatorRecord["free"],
      );
  }
}

const DEFAULT_MALLOCS: readonly unknown[] = [rawMalloc, memMalloc, objMalloc];

/** Whether `a` is a default allocator of `domain` over `arena`. */
export function isDefaultAllocator(a: Allocator, arena: Arena, domain: Domain): boolean {
  return (
    a.malloc === DEFAULT_MALLOCS[domain] &&
    a.ctx instanceof DefaultAllocatorContext &&
    (a.ctx as DefaultAllocatorContext).arena === arena
  );
}

// ----------------------------------------------------------------------------------- hook chains

/** Has the four functions of an allocator (and so may be a link of a chain). */
export function isAllocatorLike(value: unknown): value is Allocator {
  if (value === null || typeof value !== "object") return false;
  const a = value as Partial<Allocator>;
  return (
    typeof a.malloc === "function" &&
    typeof a.calloc === "function" &&
    typeof a.realloc === "function" &&
    typeof a.free === "function"
  );
}

/**
 * The allocator that hook `a` declares it wraps: its `ctx` when that is an allocator (CPython's
 * idiom: the hook's context is the saved `PyMemAllocatorEx`), else `ctx.wrapped` when that is one
 * (the debug hooks and the tracing hook). `null` for an allocator that wraps nothing it declares.
 */
export function wrappedAllocator(a: Allocator): Allocator | null {
  const ctx = a.ctx as unknown;
  if (isAllocatorLike(ctx)) return ctx;
  if (ctx !== null && typeof ctx === "object") {
    const wrapped = (ctx as { wrapped?: unknown }).wrapped;
    if (isAllocatorLike(wrapped)) return wrapped;
  }
  return null;
}

/** Longest chain walked (a guard against a ctx that points back at its own hook). */
const CHAIN_MAX = 64;

/** Whether some link of the chain that starts at `a` satisfies `test`. */
export function chainSome(a: Allocator, test: (link: Allocator) => boolean): boolean {
  let link: Allocator | null = a;
  for (let depth = 0; link !== null && depth < CHAIN_MAX; depth++) {
    if (test(link)) return true;
    link = wrappedAllocator(link);
  }
  return false;
}
