// The tracing hook, after Lib/test/test_tracemalloc.py: traces with JavaScript frames, traced
// memory, snapshots, statistics, comparison, filters, and the traceback in debug dumps.
import { afterEach, describe, expect, it } from "vitest";
import {
  Domain,
  DomainFilter,
  FatalMemoryError,
  Filter,
  formatSize,
  type PyMem,
  setCurrentThreadState,
  TRACEMALLOC_MAX_NFRAME,
} from "../src/index.ts";
import { setup } from "./setup.ts";

afterEach(() => setCurrentThreadState(null));

const THIS_FILE = new URL(import.meta.url).pathname;

/** The line of the caller of `here()`, as a stack frame reports it. */
function here(): number {
  const line = new Error().stack!.split("\n")[2]!;
  return Number(/:(\d+):\d+\)?$/.exec(line)![1]);
}

function allocateAt(pymem: PyMem, size: number): { p: number; line: number } {
  const line = here() + 1;
  const p = pymem.malloc(size);
  return { p, line };
}

describe("tracemalloc", () => {
  it("starts, stops, and installs itself with setAllocator over every domain", () => {
    const { pymem } = setup();
    const tm = pymem.tracemalloc;
    expect(tm.isTracing()).toBe(false);
    const before = [Domain.RAW, Domain.MEM, Domain.OBJ].map((d) => pymem.getAllocator(d));
    tm.start(3);
    expect(tm.isTracing()).toBe(true);
    expect(tm.getTracebackLimit()).toBe(3);
    for (const d of [Domain.RAW, Domain.MEM, Domain.OBJ]) {
      const a = pymem.getAllocator(d);
      expect(a.malloc.name).toBe("traceMalloc");
      expect((a.ctx as { wrapped: { malloc: unknown } }).wrapped.malloc).toBe(before[d]!.malloc);
    }
    tm.start(5); // already tracing: only the limit changes
    expect(tm.getTracebackLimit()).toBe(5);
    tm.stop();
    expect(tm.isTracing()).toBe(false);
    for (const d of [Domain.RAW, Domain.MEM, Domain.OBJ]) {
      expect(pymem.getAllocator(d)).toEqual(before[d]);
    }
    expect(pymem.allocatorName()).toBe("mimalloc");
    expect(() => tm.start(0)).toThrow("the number of frames must be in range [1; 65535], got 0");
    expect(() => tm.start(TRACEMALLOC_MAX_NFRAME + 1)).toThrow(RangeError);
    expect(() => tm.takeSnapshot()).toThrow(
      "the tracemalloc module must be tracing memory allocations to take a snapshot",
    );
  });

  it("traces the current and peak size of live blocks", () => {
    const { pymem } = setup();
    const tm = pymem.tracemalloc;
    tm.start();
    const a = pymem.malloc(100);
    const b = pymem.objectMalloc(50);
    const c = pymem.rawCalloc(4, 25);
    expect(tm.getTracedMemory()).toEqual({ current: 250, peak: 250 });
    pymem.free(a);
    expect(tm.getTracedMemory()).toEqual({ current: 150, peak: 250 });
    const b2 = pymem.objectRealloc(b, 1000);
    expect(tm.getTracedMemory()).toEqual({ current: 1100, peak: 1100 });
    tm.resetPeak();
    pymem.objectFree(b2);
    expect(tm.getTracedMemory()).toEqual({ current: 100, peak: 1100 });
    tm.clearTraces();
    expect(tm.getTracedMemory()).toEqual({ current: 0, peak: 0 });
    pymem.rawFree(c); // untraced now: nothing to remove
    tm.stop();
    expect(tm.getTracedMemory()).toEqual({ current: 0, peak: 0 });
  });

  it("records the caller's file and line, not the allocator's own frames", () => {
    const { pymem } = setup();
    const tm = pymem.tracemalloc;
    tm.start(2);
    const { p, line } = allocateAt(pymem, 64);
    const tb = tm.getTraceback(p)!;
    expect(tb).not.toBeNull();
    expect(tb.length).toBe(2);
    // Oldest first: the test body called allocateAt, which called pymem.malloc.
    expect(tb.frames[1]!.filename).toBe(THIS_FILE);
    expect(tb.frames[1]!.lineno).toBe(line);
    expect(tb.frames[0]!.filename).toBe(THIS_FILE);
    expect(tb.format(undefined, true)[0]).toBe(`  File "${THIS_FILE}", line ${line}`);
    expect(tm.getTraceback(p + 8)).toBeNull();
  });

  it("groups a snapshot by line, file and traceback, biggest first", () => {
    const { pymem } = setup();
    const tm = pymem.tracemalloc;
    tm.start();
    const lineA = here() + 1;
    for (let i = 0; i < 10; i++) pymem.malloc(100);
    const lineB = here() + 1;
    for (let i = 0; i < 3; i++) pymem.objectMalloc(1000);
    const snapshot = tm.takeSnapshot();
    expect(snapshot.tracebackLimit).toBe(1);
    expect(snapshot.traces).toHaveLength(13);
    expect(snapshot.traces[0]!.domain).toBe(0);
    const byLine = snapshot.statistics("lineno");
    expect(byLine.map((s) => [s.traceback.frames[0]!.lineno, s.size, s.count])).toEqual([
      [lineB, 3000, 3],
      [lineA, 1000, 10],
    ]);
    expect(`${byLine[0]}`).toBe(`${THIS_FILE}:${lineB}: size=3000 B, count=3, average=1000 B`);
    expect(`${byLine[1]}`).toBe(`${THIS_FILE}:${lineA}: size=1000 B, count=10, average=100 B`);
    const byFile = snapshot.statistics("filename");
    expect(byFile).toHaveLength(1);
    expect(`${byFile[0]}`).toBe(`${THIS_FILE}:0: size=4000 B, count=13, average=308 B`);
    expect(snapshot.statistics("traceback")).toHaveLength(2);
    expect(snapshot.statistics("lineno", true)).toHaveLength(2);
    expect(() => snapshot.statistics("traceback", true)).toThrow(/cumulative mode cannot be used/);
    expect(() => snapshot.statistics("module" as "lineno")).toThrow('unknown key_type: "module"');
  });

  it("compares two snapshots: new, grown and vanished groups, biggest change first", () => {
    const { pymem } = setup();
    const tm = pymem.tracemalloc;
    tm.start();
    const keep: number[] = [];
    const lineA = here() + 1;
    for (let i = 0; i < 4; i++) keep.push(pymem.malloc(256));
    const lineGone = here() + 1;
    const gone = pymem.malloc(10);
    const old = tm.takeSnapshot();
    pymem.free(gone);
    const lineA2 = here() + 1;
    for (let i = 0; i < 2; i++) keep.push(pymem.malloc(256));
    const diff = tm.takeSnapshot().compareTo(old, "lineno");
    expect(
      diff.map((d) => [d.traceback.frames[0]!.lineno, d.size, d.sizeDiff, d.count, d.countDiff]),
    ).toEqual([
      [lineA2, 512, 512, 2, 2],
      [lineGone, 0, -10, 0, -1],
      [lineA, 1024, 0, 4, 0],
    ]);
    expect(`${diff[0]}`).toBe(`${THIS_FILE}:${lineA2}: size=512 B (+512 B), count=2 (+2), average=256 B`);
    expect(`${diff[1]}`).toBe(`${THIS_FILE}:${lineGone}: size=0 B (-10 B), count=0 (-1)`);
  });

  it("filters traces by file pattern, line and domain", () => {
    const { pymem } = setup();
    const tm = pymem.tracemalloc;
    tm.start();
    const line = here() + 1;
    pymem.malloc(8);
    pymem.malloc(16);
    const snapshot = tm.takeSnapshot();
    expect(snapshot.filterTraces([new Filter(true, "*tracemalloc.test.ts")]).traces).toHaveLength(2);
    expect(snapshot.filterTraces([new Filter(false, "*tracemalloc.test.ts")]).traces).toHaveLength(0);
    expect(snapshot.filterTraces([new Filter(true, "*.ts", line)]).traces.map((t) => t.size)).toEqual([8]);
    expect(snapshot.filterTraces([new Filter(true, "/nowhere/?.ts")]).traces).toHaveLength(0);
    expect(snapshot.filterTraces([new DomainFilter(false, 0)]).traces).toHaveLength(0);
    expect(snapshot.filterTraces([]).traces).toHaveLength(2);
  });

  it("formats sizes as tracemalloc's _format_size", () => {
    expect(formatSize(0, false)).toBe("0 B");
    expect(formatSize(10239, false)).toBe("10239 B");
    expect(formatSize(10240, false)).toBe("10.0 KiB");
    expect(formatSize(99 * 1024, false)).toBe("99.0 KiB");
    expect(formatSize(200 * 1024, true)).toBe("+200 KiB");
    expect(formatSize(-5, true)).toBe("-5 B");
    expect(formatSize(3 * 1024 ** 3, false)).toBe("3072 MiB");
  });

  it("shows the block's allocation traceback in a debug dump instead of the hint", () => {
    const { arena, pymem } = setup("debug");
    pymem.tracemalloc.start();
    const { p, line } = allocateAt(pymem, 16);
    arena.u8[p + 16] = 0x78;
    let error: FatalMemoryError | undefined;
    try {
      pymem.free(p);
    } catch (e) {
      error = e as FatalMemoryError;
    }
    expect(error).toBeInstanceOf(FatalMemoryError);
    expect(error!.report).toContain(
      `    Data at p: cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd\n\n` +
        "Memory block allocated at (most recent call first):\n" +
        `  File "${THIS_FILE}", line ${line}\n\n` +
        "Fatal Python error: _PyMem_DebugRawFree: bad trailing pad byte\n",
    );
    expect(pymem.debugEnabled()).toBe(true);
  });
});
