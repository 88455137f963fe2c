/**
 * The tracing hook, after CPython's `tracemalloc` (`Python/tracemalloc.c`, `Lib/tracemalloc.py`):
 * `start(nframe)` wraps the allocator of every domain in a hook — installed with `setAllocator`
 * like any user hook — that records, for each live block, its size and the JavaScript stack of the
 * call that allocated it; `takeSnapshot()` freezes the traces, and a snapshot groups them by file,
 * line or traceback and compares itself with an older one.
 *
 *   per live block (a debug tool may keep a JavaScript object per block):
 *     traces: Map<pointer, TraceRecord { size, nframe, stack (captured, formatted lazily) }>
 *   totals: current (sum of the sizes of live traces), peak (highest current since start/reset)
 *
 * As in CPython, every domain traces into tracemalloc's domain 0 (pointers are unique across
 * domains) and a block's frames are the caller's: the frames of @ft/pymem's own entry points are
 * left out. The frames of a user hook between the entry point and the tracing hook are kept.
 */
import type { Allocator } from "../api.ts";
import { type AllocatorRecord, copyAllocator } from "./allocators.ts";
import type { TracebackFrame } from "./debug-dump.ts";
import { DOMAIN_COUNT, type Domain, describe } from "./domain.ts";
import type { PyMem, TracebackSource } from "./pymem.ts";
import { captureStack, type ParsedFrame, parseStack, type StackHolder } from "./traceback.ts";

/** CPython's `MAX_NFRAME`: the most frames `start` accepts. */
export const TRACEMALLOC_MAX_NFRAME = 65535;
/** tracemalloc's domain of the blocks of the PyMem domains (`DEFAULT_DOMAIN`). */
export const TRACEMALLOC_DEFAULT_DOMAIN = 0;
/** Frames captured beyond `nframe`: the facade's entry point and one hook or helper between. */
const EXTRA_FRAMES = 2;

/** A frame as tracemalloc keeps it: `[filename, lineno]`. */
type RawFrame = readonly [string, number];

/** One live block's trace, kept until the block is freed. */
class TraceRecord implements StackHolder {
  declare stack?: string | undefined;
  constructor(
    readonly size: number,
    readonly nframe: number,
  ) {}
}

// ------------------------------------------------------------------------------------- hooks

/** The `ctx` of the tracing hook of one domain. */
export class TracingContext {
  constructor(
    readonly wrapped: AllocatorRecord,
    readonly tracer: Tracemalloc,
    readonly domain: Domain,
  ) {}
}

function traceMalloc(ctx: TracingContext, size: number): number {
  const w = ctx.wrapped;
  const p = w.malloc(w.ctx, size);
  if (p !== 0) ctx.tracer.addTrace(p, size, traceMalloc);
  return p;
}

function traceCalloc(ctx: TracingContext, nelem: number, elsize: number): number {
  const w = ctx.wrapped;
  const p = w.calloc(w.ctx, nelem, elsize);
  if (p !== 0) ctx.tracer.addTrace(p, nelem * elsize, traceCalloc);
  return p;
}

function traceRealloc(ctx: TracingContext, p: number, size: number): number {
  const w = ctx.wrapped;
  const p2 = w.realloc(w.ctx, p, size);
  if (p2 === 0) return 0; // the old block and its trace stay
  if (p !== 0 && p2 !== p) ctx.tracer.removeTrace(p);
  ctx.tracer.addTrace(p2, size, traceRealloc);
  return p2;
}

function traceFree(ctx: TracingContext, p: number): void {
  const w = ctx.wrapped;
  w.free(w.ctx, p);
  if (p !== 0) ctx.tracer.removeTrace(p);
}

// ------------------------------------------------------------------------------------ tracer

/**
 * CPython's `tracemalloc` module for one {@link PyMem}: get it as `pymem.tracemalloc`.
 *
 * ```ts
 * const tm = pymem.tracemalloc;
 * tm.start(5);                                  // trace up to 5 frames per block
 * const before = tm.takeSnapshot();
 * … allocate …
 * for (const stat of tm.takeSnapshot().compareTo(before, "lineno").slice(0, 10)) console.log(`${stat}`);
 * tm.stop();
 * ```
 */
export class Tracemalloc implements TracebackSource {
  private readonly pymem: PyMem;
  private tracing = false;
  private nframe = 1;
  private captureLimit = 1 + EXTRA_FRAMES;
  private readonly traces = new Map<number, TraceRecord>();
  private current = 0;
  private peak = 0;
  private saved: Allocator[] = [];
  /** Function names of the facade's entry points, as stack frames print them. */
  private internalNames = new Set<string>();
  /** Resolved frames by `nframe` and stack text (many blocks share a stack). */
  private readonly resolved = new Map<string, readonly RawFrame[]>();

  constructor(pymem: PyMem) {
    this.pymem = pymem;
  }

  /**
   * `tracemalloc.start(nframe=1)`: trace every domain's allocations, keeping up to `nframe` frames
   * per block. When already tracing, only the frame limit changes.
   * @throws RangeError unless `1 <= nframe <= 65535`.
   */
  start(nframe = 1): void {
    if (!Number.isInteger(nframe) || nframe < 1 || nframe > TRACEMALLOC_MAX_NFRAME) {
      throw new RangeError(
        `the number of frames must be in range [1; ${TRACEMALLOC_MAX_NFRAME}], got ${nframe}`,
      );
    }
    this.nframe = nframe;
    this.captureLimit = nframe + EXTRA_FRAMES;
    if (this.tracing) return;
    this.internalNames = entryPointNames(this.pymem);
    const pymem = this.pymem;
    this.saved = [];
    for (let d = 0; d < DOMAIN_COUNT; d++) {
      const domain = d as Domain;
      const previous = pymem.getAllocator(domain);
      this.saved.push(previous);
      const hook: Allocator<TracingContext> = {
        ctx: new TracingContext(copyAllocator("tracemalloc.start", previous), this, domain),
        malloc: traceMalloc,
        calloc: traceCalloc,
        realloc: traceRealloc,
        free: traceFree,
      };
      pymem.setAllocator(domain, hook);
    }
    this.tracing = true;
    pymem.tracebackSource = this;
  }

  /**
   * `tracemalloc.stop()`: put back the allocators `start` found and forget every trace. (As in
   * CPython, a hook installed over the tracing hook since is dropped too.)
   */
  stop(): void {
    if (!this.tracing) return;
    for (let d = 0; d < DOMAIN_COUNT; d++) this.pymem.setAllocator(d as Domain, this.saved[d]);
    this.saved = [];
    this.tracing = false;
    if (this.pymem.tracebackSource === this) this.pymem.tracebackSource = null;
    this.clearTraces();
    this.resolved.clear();
  }

  /** `tracemalloc.is_tracing()`. */
  isTracing(): boolean {
    return this.tracing;
  }

  /** `tracemalloc.get_traceback_limit()`: frames kept per block. */
  getTracebackLimit(): number {
    return this.nframe;
  }

  /** `tracemalloc.get_traced_memory()`: bytes in live traced blocks now, and at most since start or reset. */
  getTracedMemory(): { current: number; peak: number } {
    return { current: this.current, peak: this.peak };
  }

  /** `tracemalloc.reset_peak()`: the peak becomes the current size. */
  resetPeak(): void {
    this.peak = this.current;
  }

  /** `tracemalloc.clear_traces()`: forget every trace; current and peak become 0. */
  clearTraces(): void {
    this.traces.clear();
    this.current = 0;
    this.peak = 0;
  }

  /** `tracemalloc.get_object_traceback()` for a block pointer: its traceback, or `null` when not traced. */
  getTraceback(p: number): Traceback | null {
    if (typeof p !== "number" || !Number.isInteger(p) || p < 0) {
      throw new TypeError(`getTraceback: p must be a block pointer (a non-negative integer), got ${describe(p)}`);
    }
    const record = this.traces.get(p);
    return record === undefined ? null : new Traceback(this.framesOf(record));
  }

  /**
   * `tracemalloc.take_snapshot()`.
   * @throws Error when not tracing (CPython's RuntimeError).
   */
  takeSnapshot(): Snapshot {
    if (!this.tracing) {
      throw new Error("the tracemalloc module must be tracing memory allocations to take a snapshot");
    }
    const traces: RawTrace[] = [];
    for (const record of this.traces.values()) {
      traces.push({ domain: TRACEMALLOC_DEFAULT_DOMAIN, size: record.size, frames: this.framesOf(record) });
    }
    return new Snapshot(traces, this.nframe);
  }

  /** The frames of block `p`, most recent first, for a debug dump (`null`: not traced). */
  tracebackOf(p: number): readonly TracebackFrame[] | null {
    const record = this.traces.get(p);
    if (record === undefined) return null;
    return this.framesOf(record).map(([filename, lineno]) => ({ filename, lineno }));
  }

  /** Record block `p` of `size` bytes, allocated by a call that reached `hook`. */
  addTrace(p: number, size: number, hook: unknown): void {
    const record = new TraceRecord(size, this.nframe);
    captureStack(record, hook, this.captureLimit);
    const old = this.traces.get(p);
    if (old !== undefined) this.current -= old.size;
    this.traces.set(p, record);
    const current = (this.current += size);
    if (current > this.peak) this.peak = current;
  }

  /** Forget block `p` (freed). */
  removeTrace(p: number): void {
    const record = this.traces.get(p);
    if (record === undefined) return;
    this.traces.delete(p);
    this.current -= record.size;
  }

  /** The block's frames, most recent first, without the facade's; `<unknown>:0` when none is left. */
  private framesOf(record: TraceRecord): readonly RawFrame[] {
    const stack = record.stack ?? "";
    const key = `${record.nframe}\n${stack}`;
    let frames = this.resolved.get(key);
    if (frames === undefined) {
      frames = userFrames(parseStack(stack), this.internalNames, record.nframe);
      this.resolved.set(key, frames);
    }
    return frames;
  }
}

/** Drop the leading frames of the facade's entry points; keep `nframe`. */
function userFrames(
  parsed: readonly ParsedFrame[],
  internal: ReadonlySet<string>,
  nframe: number,
): RawFrame[] {
  let start = 0;
  while (start < parsed.length && internal.has(parsed[start]!.functionName)) start++;
  const frames: RawFrame[] = [];
  for (let i = start; i < parsed.length && frames.length < nframe; i++) {
    frames.push([parsed[i]!.filename, parsed[i]!.lineno]);
  }
  if (frames.length === 0) frames.push(["<unknown>", 0]);
  return frames;
}

/** `PyMem.malloc`, `PyMem.objectMallocKind`, … as V8 prints them, and the bare method names. */
function entryPointNames(pymem: PyMem): Set<string> {
  const names = new Set<string>();
  const proto = Object.getPrototypeOf(pymem) as object;
  const cls = (proto.constructor as { name?: string }).name ?? "";
  for (const method of Object.getOwnPropertyNames(proto)) {
    if (method === "constructor") continue;
    names.add(`${cls}.${method}`);
    names.add(method);
  }
  for (const hook of [traceMalloc, traceCalloc, traceRealloc, traceFree]) names.add(hook.name);
  for (const method of ["addTrace", "captureStack"]) names.add(method);
  return names;
}

// ---------------------------------------------------------------------------------- snapshots

/** A trace as a snapshot holds it: the domain, the block's size and its frames (most recent first). */
interface RawTrace {
  readonly domain: number;
  readonly size: number;
  readonly frames: readonly RawFrame[];
}

/** `tracemalloc.Frame`: a file and a line. */
export class Frame {
  constructor(
    readonly filename: string,
    readonly lineno: number,
  ) {}

  /** `"file:line"`. */
  toString(): string {
    return `${this.filename}:${this.lineno}`;
  }
}

/**
 * `tracemalloc.Traceback`: the frames of an allocation, from the oldest to the most recent (as
 * CPython's Python API orders them); its text is its first frame's.
 */
export class Traceback {
  /** Oldest first. */
  readonly frames: readonly Frame[];

  /** @param raw - frames most recent first, as the tracer records them. */
  constructor(raw: readonly RawFrame[]) {
    const frames: Frame[] = [];
    for (let i = raw.length - 1; i >= 0; i--) frames.push(new Frame(raw[i]![0], raw[i]![1]));
    this.frames = frames;
  }

  get length(): number {
    return this.frames.length;
  }

  toString(): string {
    return this.frames.length > 0 ? this.frames[0]!.toString() : "";
  }

  /**
   * `Traceback.format(limit, most_recent_first)`: `  File "name", line N` per frame. A positive
   * `limit` keeps the most recent frames, a negative one the oldest.
   */
  format(limit?: number | null, mostRecentFirst = false): string[] {
    if (limit !== undefined && limit !== null && (typeof limit !== "number" || !Number.isInteger(limit))) {
      throw new TypeError(`Traceback.format: limit must be an integer or null, got ${describe(limit)}`);
    }
    let frames = this.frames.slice();
    if (limit !== undefined && limit !== null) frames = limit > 0 ? frames.slice(-limit) : frames.slice(0, limit);
    if (mostRecentFirst) frames.reverse();
    return frames.map((f) => `  File "${f.filename}", line ${f.lineno}`);
  }
}

/** `tracemalloc.Trace`: one live block of a snapshot. */
export class Trace {
  constructor(
    readonly domain: number,
    readonly size: number,
    readonly traceback: Traceback,
  ) {}

  toString(): string {
    return `${this.traceback}: ${formatSize(this.size, false)}`;
  }
}

/** `tracemalloc.Statistic`: the blocks of one group. */
export class Statistic {
  constructor(
    readonly traceback: Traceback,
    /** Total bytes. */
    public size: number,
    /** Blocks. */
    public count: number,
  ) {}

  /** `file:line: size=1234 B, count=5, average=247 B`. */
  toString(): string {
    let text = `${this.traceback}: size=${formatSize(this.size, false)}, count=${this.count}`;
    if (this.count) text += `, average=${formatSize(this.size / this.count, false)}`;
    return text;
  }
}

/** `tracemalloc.StatisticDiff`: a group in a newer snapshot against an older one. */
export class StatisticDiff {
  constructor(
    readonly traceback: Traceback,
    readonly size: number,
    readonly sizeDiff: number,
    readonly count: number,
    readonly countDiff: number,
  ) {}

  /** `file:line: size=1234 B (+1234 B), count=5 (+5), average=247 B`. */
  toString(): string {
    let text =
      `${this.traceback}: size=${formatSize(this.size, false)} (${formatSize(this.sizeDiff, true)}), ` +
      `count=${this.count} (${this.countDiff >= 0 ? "+" : ""}${this.countDiff})`;
    if (this.count) text += `, average=${formatSize(this.size / this.count, false)}`;
    return text;
  }
}

/** What a snapshot groups by: one file (`file:0`), one line (the allocating frame), or the whole traceback. */
export type StatisticKey = "filename" | "lineno" | "traceback";

/** `tracemalloc.Filter`: traces whose frame matches a file pattern (fnmatch), and optionally a line and a domain. */
export class Filter {
  private readonly pattern: RegExp;

  constructor(
    /** Keep the traces that match (true) or those that do not (false). */
    readonly inclusive: boolean,
    readonly filenamePattern: string,
    readonly lineno: number | null = null,
    /** Match any frame of the traceback, not only the most recent. */
    readonly allFrames = false,
    readonly domain: number | null = null,
  ) {
    if (typeof filenamePattern !== "string") {
      throw new TypeError(`Filter: filenamePattern must be a string, got ${describe(filenamePattern)}`);
    }
    checkOptionalInteger("Filter", "lineno", lineno);
    checkOptionalInteger("Filter", "domain", domain);
    this.pattern = fnmatchRegExp(filenamePattern);
  }

  /** @internal Whether the filter lets the trace through. */
  match(trace: RawTrace): boolean {
    let result: boolean;
    if (this.allFrames) {
      const any = trace.frames.some(([file, line]) => this.matchFrame(file, line));
      result = any ? this.inclusive : !this.inclusive;
    } else {
      const [file, line] = trace.frames[0]!;
      result = this.matchFrame(file, line) !== !this.inclusive;
    }
    if (this.domain !== null) {
      return this.inclusive ? result && trace.domain === this.domain : result || trace.domain !== this.domain;
    }
    return result;
  }

  private matchFrame(file: string, line: number): boolean {
    return this.pattern.test(file) && (this.lineno === null || line === this.lineno);
  }
}

/** `tracemalloc.DomainFilter`: traces of one domain (or of every other one). */
export class DomainFilter {
  constructor(
    readonly inclusive: boolean,
    readonly domain: number,
  ) {
    if (typeof domain !== "number" || !Number.isInteger(domain)) {
      throw new TypeError(`DomainFilter: domain must be an integer, got ${describe(domain)}`);
    }
  }

  /** @internal */
  match(trace: RawTrace): boolean {
    return (trace.domain === this.domain) !== !this.inclusive;
  }
}

/** `tracemalloc.Snapshot`: the traces of the live blocks at one instant. */
export class Snapshot {
  private tracesCache: Trace[] | null = null;

  constructor(
    private readonly raw: readonly RawTrace[],
    /** The frame limit the traces were taken with. */
    readonly tracebackLimit: number,
  ) {}

  /** The traces, in no particular order. */
  get traces(): readonly Trace[] {
    this.tracesCache ??= this.raw.map((t) => new Trace(t.domain, t.size, new Traceback(t.frames)));
    return this.tracesCache;
  }

  /**
   * `Snapshot.filter_traces(filters)`: a snapshot of the traces that pass every exclusive filter
   * and at least one inclusive filter (when there is one).
   */
  filterTraces(filters: readonly (Filter | DomainFilter)[]): Snapshot {
    if (!Array.isArray(filters)) {
      throw new TypeError(`filterTraces: filters must be an array of Filter and DomainFilter, got ${describe(filters)}`);
    }
    filters.forEach((f, i) => {
      if (!(f instanceof Filter) && !(f instanceof DomainFilter)) {
        throw new TypeError(`filterTraces: filters[${i}] must be a Filter or a DomainFilter, got ${describe(f)}`);
      }
    });
    const include = filters.filter((f) => f.inclusive);
    const exclude = filters.filter((f) => !f.inclusive);
    const kept = this.raw.filter(
      (t) => (include.length === 0 || include.some((f) => f.match(t))) && exclude.every((f) => f.match(t)),
    );
    return new Snapshot(kept, this.tracebackLimit);
  }

  /**
   * `Snapshot.statistics(key_type, cumulative=False)`: one {@link Statistic} per group, biggest
   * first (by size, then count, then traceback). `cumulative` counts a block for every frame of
   * its traceback (only for `"filename"` and `"lineno"`).
   */
  statistics(keyType: StatisticKey, cumulative = false): Statistic[] {
    const stats = [...this.groupBy(keyType, cumulative).values()];
    return stats.sort((a, b) => compareKeys(statisticKey(b), statisticKey(a)));
  }

  /**
   * `Snapshot.compare_to(old, key_type, cumulative=False)`: one {@link StatisticDiff} per group of
   * either snapshot, biggest change first (by |size diff|, size, |count diff|, count, traceback).
   */
  compareTo(old: Snapshot, keyType: StatisticKey, cumulative = false): StatisticDiff[] {
    if (!(old instanceof Snapshot)) {
      throw new TypeError(`compareTo: old must be a Snapshot, got ${describe(old)}`);
    }
    const newGroups = this.groupBy(keyType, cumulative);
    const oldGroups = old.groupBy(keyType, cumulative);
    const diffs: StatisticDiff[] = [];
    for (const [key, stat] of newGroups) {
      const previous = oldGroups.get(key);
      if (previous !== undefined) {
        oldGroups.delete(key);
        diffs.push(
          new StatisticDiff(
            stat.traceback,
            stat.size,
            stat.size - previous.size,
            stat.count,
            stat.count - previous.count,
          ),
        );
      } else {
        diffs.push(new StatisticDiff(stat.traceback, stat.size, stat.size, stat.count, stat.count));
      }
    }
    for (const stat of oldGroups.values()) {
      diffs.push(new StatisticDiff(stat.traceback, 0, -stat.size, 0, -stat.count));
    }
    return diffs.sort((a, b) => compareKeys(diffKey(b), diffKey(a)));
  }

  private groupBy(keyType: StatisticKey, cumulative: boolean): Map<string, Statistic> {
    if (keyType !== "traceback" && keyType !== "filename" && keyType !== "lineno") {
      throw new RangeError(
        `unknown key_type: ${typeof keyType === "string" ? JSON.stringify(keyType) : describe(keyType)} (expected "filename", "lineno" or "traceback")`,
      );
    }
    if (cumulative && keyType === "traceback") {
      throw new RangeError(`cumulative mode cannot be used with key type "traceback"`);
    }
    const stats = new Map<string, Statistic>();
    const add = (frames: readonly RawFrame[], size: number): void => {
      const key = framesKey(frames);
      const stat = stats.get(key);
      if (stat !== undefined) {
        stat.size += size;
        stat.count += 1;
      } else {
        stats.set(key, new Statistic(new Traceback(frames), size, 1));
      }
    };
    for (const trace of this.raw) {
      if (!cumulative) {
        const frames =
          keyType === "traceback"
            ? trace.frames
            : keyType === "lineno"
              ? trace.frames.slice(0, 1)
              : ([[trace.frames[0]![0], 0]] as const);
        add(frames, trace.size);
      } else {
        for (const frame of trace.frames) add(keyType === "lineno" ? [frame] : [[frame[0], 0]], trace.size);
      }
    }
    return stats;
  }
}

function framesKey(frames: readonly RawFrame[]): string {
  let key = "";
  for (const [file, line] of frames) key += `${file}\u0000${line}\u0001`;
  return key;
}

type SortKey = readonly (number | Traceback)[];

function statisticKey(s: Statistic): SortKey {
  return [s.size, s.count, s.traceback];
}

function diffKey(s: StatisticDiff): SortKey {
  return [Math.abs(s.sizeDiff), s.size, Math.abs(s.countDiff), s.count, s.traceback];
}

/** Python's tuple comparison of sort keys. */
function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const c = typeof x === "number" ? x - (y as number) : compareTracebacks(x, y as Traceback);
    if (c !== 0) return c;
  }
  return 0;
}

/** Python's comparison of tracebacks: frame by frame (filename, then line), then by length. */
function compareTracebacks(a: Traceback, b: Traceback): number {
  const n = Math.min(a.frames.length, b.frames.length);
  for (let i = 0; i < n; i++) {
    const fa = a.frames[i]!;
    const fb = b.frames[i]!;
    if (fa.filename !== fb.filename) return fa.filename < fb.filename ? -1 : 1;
    if (fa.lineno !== fb.lineno) return fa.lineno - fb.lineno;
  }
  return a.frames.length - b.frames.length;
}

/**
 * tracemalloc's `_format_size`: `"123 B"`, `"12.3 KiB"`, `"1234 KiB"`, … with a sign when asked.
 */
export function formatSize(size: number, sign: boolean): string {
  if (typeof size !== "number" || !Number.isFinite(size)) {
    throw new TypeError(`formatSize: size must be a finite number, got ${describe(size)}`);
  }
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  for (const unit of units) {
    if (Math.abs(size) < 100 && unit !== "B") return `${signed(size.toFixed(1), size, sign)} ${unit}`;
    if (Math.abs(size) < 10 * 1024 || unit === "TiB") return `${signed(size.toFixed(0), size, sign)} ${unit}`;
    size /= 1024;
  }
  return `${size}`;
}

/** Throws unless `value` (the argument `name` of `fn`) is an integer or null. */
function checkOptionalInteger(fn: string, name: string, value: unknown): void {
  if (value !== null && (typeof value !== "number" || !Number.isInteger(value))) {
    throw new TypeError(`${fn}: ${name} must be an integer or null, got ${describe(value)}`);
  }
}

function signed(text: string, value: number, sign: boolean): string {
  return sign && value >= 0 && !text.startsWith("-") ? `+${text}` : text;
}

/** Python's `fnmatch` (POSIX, case-sensitive): `*`, `?`, `[seq]`, `[!seq]`. */
function fnmatchRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^]*";
    else if (c === "?") re += "[^]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, end);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
