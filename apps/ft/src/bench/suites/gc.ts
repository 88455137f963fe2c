/**
 * `gc`: one full collection of @ft/gc against the machine's CPython (`python3`) in the same run,
 * on the same graphs: (1) `live`: 1,000,000 tracked empty lists in one list, nothing to free;
 * (2) `cycles`: 100,000 unreachable rings of 10 lists; (3) `finalizers`: as (2) with one object per
 * ring (9 lists + an instance of a class with a finalizer). Reported: ns per object of the timed
 * `gc.collect()` / `collect(space)`. The CPython cases spawn `python3 -c` with an inline script
 * (automatic collection disabled while building); without `python3` they are "unavailable".
 *
 * Both sides first build and collect the same shape at a tenth of the size, twice (for `live`,
 * two passes over the same heap): the timed collection is one of a running program, with V8's
 * optimised code for the collector in place (the first collections tier up and re-optimise it).
 * The first, cold collection of ft is kept as information (`coldNs`, ns per object).
 */
import { spawnSync } from "node:child_process";
import { MimallocUnavailableError } from "../../runtime/mimalloc.ts";
import type { BenchCase, CaseOptions, CaseParams, CaseResult, MetricDef, RatioDef, Suite } from "../types.ts";

const NS: readonly MetricDef[] = [{ key: "ns", unit: "ns/object", better: "lower" }];
type Shape = "live" | "cycles" | "finalizers";
const RING = 10;

function sizeFor(shape: Shape, o: CaseOptions): number {
  if (shape === "live") return o.quick ? 100_000 : 1_000_000;
  return o.quick ? 10_000 : 100_000;
}

async function runFt(shape: Shape, n: number): Promise<CaseResult> {
  const gc = await import("@ft/gc");
  const s = gc.createStandaloneSpace({ maxBytes: 2 ** 31 });
  gc.gcControl(s).enabled = false;
  gc.registerTypeBehaviour("F", { finalize() {} });
  let objects: number;
  let keep = 0;
  let coldNs = 0;
  if (shape === "live") {
    keep = s.newList();
    for (let i = 0; i < n; i++) {
      const l = s.newList();
      s.listAppend(keep, l);
      s.decref(l);
    }
    objects = n + 1;
  } else {
    const F = s.newClass("F", { finalize: true, slots: 1 });
    const warmUp = Math.max(1, Math.floor(n / 10));
    for (let round = 0; round < 2; round++) {
      buildRings(s, F, shape, warmUp);
      const t0 = process.hrtime.bigint();
      gc.collect(s);
      if (round === 0) coldNs = Number(process.hrtime.bigint() - t0) / (warmUp * RING);
    }
    buildRings(s, F, shape, n);
    objects = n * RING;
  }
  if (shape === "live") for (let round = 0; round < 2; round++) gc.collect(s); // warm-up passes, nothing to free
  const result = await timeFt(gc, s, objects, keep);
  if (coldNs !== 0) result.info = { ...result.info, coldNs: Math.round(coldNs * 10) / 10 };
  return result;
}

/** `n` unreachable rings of RING objects (the last one an instance of F for `finalizers`). */
function buildRings(
  s: InstanceType<typeof import("@ft/gc").ObjectSpace>,
  F: number,
  shape: Shape,
  n: number,
): void {
  for (let c = 0; c < n; c++) {
    const first = s.newList();
    let prev = first;
    for (let i = 1; i < RING - 1; i++) {
      const next = s.newList();
      s.listAppend(prev, next);
      if (prev !== first) s.decref(prev);
      prev = next;
    }
    const last = shape === "finalizers" ? s.newInstance(F) : s.newList();
    s.listAppend(prev, last);
    if (prev !== first) s.decref(prev);
    if (shape === "finalizers") s.setSlot(last, 0, first);
    else s.listAppend(last, first);
    s.decref(last);
    s.decref(first);
  }
}

async function timeFt(
  gc: typeof import("@ft/gc"),
  s: InstanceType<typeof gc.ObjectSpace>,
  objects: number,
  _keep: number,
): Promise<CaseResult> {
  const t0 = process.hrtime.bigint();
  const collected = gc.collect(s);
  const ns = Number(process.hrtime.bigint() - t0);
  return { metrics: { ns: ns / objects }, info: { objects, collected, totalMs: ns / 1e6 } };
}

const PY = String.raw`
import gc, sys, time, json
shape, n = sys.argv[1], int(sys.argv[2])
gc.disable(); gc.collect()
class F:
    __slots__ = ("next", "__weakref__")
    def __del__(self): pass
def rings(count):
    for _ in range(count):
        first = []; prev = first
        for _ in range(8):
            nxt = []; prev.append(nxt); prev = nxt
        if shape == "finalizers":
            last = F(); last.next = first
        else:
            last = [first]
        prev.append(last)
keep = None
if shape == "live":
    keep = [[] for _ in range(n)]
    gc.collect(); gc.collect()  # the same warm-up as ft's
    objects = n + 1
else:
    for _ in range(2): rings(max(1, n // 10)); gc.collect()  # the same warm-up as ft's
    rings(n)
    objects = n * 10
t0 = time.perf_counter_ns(); c = gc.collect(); t1 = time.perf_counter_ns()
print(json.dumps({"ns": t1 - t0, "objects": objects, "collected": c, "version": sys.version.split()[0]}))
`;

function runPython(shape: Shape, n: number): CaseResult {
  const r = spawnSync("python3", ["-c", PY, shape, String(n)], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.error !== undefined)
    throw new MimallocUnavailableError(`python3 is not available: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
    ns: number;
    objects: number;
    collected: number;
    version: string;
  };
  return {
    metrics: { ns: out.ns / out.objects },
    info: { objects: out.objects, collected: out.collected, python: out.version, totalMs: out.ns / 1e6 },
  };
}

function gcCase(shape: Shape, side: "ft" | "cpython"): BenchCase {
  const what = {
    live: "1M live tracked lists in one list",
    cycles: "100k unreachable 10-object rings",
    finalizers: "100k rings, one finalizer each",
  }[shape];
  return {
    name: `${side}-${shape}`,
    description: `${side === "ft" ? "@ft/gc collect()" : "CPython gc.collect()"}: ${what}`,
    metrics: NS,
    params: (o): CaseParams => ({ n: sizeFor(shape, o) }),
    async run(p) {
      return side === "ft" ? runFt(shape, p.n!) : runPython(shape, p.n!);
    },
  };
}

const SHAPES: readonly Shape[] = ["live", "cycles", "finalizers"];

export const gcSuite: Suite = {
  name: "gc",
  description:
    "one full collection, ns per object: @ft/gc vs CPython's gc.collect() (python3) in the same run",
  cases: SHAPES.flatMap((shape) => [gcCase(shape, "ft"), gcCase(shape, "cpython")]),
  ratios: SHAPES.map(
    (shape): RatioDef => ({
      name: `ft/cpython ${shape}`,
      description: `ns per object of one collection, ft ÷ CPython (${shape})`,
      num: `gc/ft-${shape}`,
      den: `gc/cpython-${shape}`,
      target: { op: "<=", value: 1.0 },
    }),
  ),
};
