/**
 * The benchmark harness (performance-anchors §0): every selected case runs in its own child
 * process, once per round; rounds interleave all cases, so outside load hits every case about
 * equally. A case's value is the median over rounds, shown as median [min..max]; a ratio is
 * computed per round from the two values measured in that round, and its median is reported.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { entryUrl, FROM_SOURCE } from "../runtime/paths.ts";
import type { CaseMessage } from "./case.ts";
import { spread, type Spread } from "./stats.ts";
import { allCases, type RegisteredCase, SUITES } from "./suites/index.ts";
import type { CaseOptions, CaseParams, MetricDef, RatioDef, Suite } from "./types.ts";

export interface BenchOptions extends CaseOptions {
  /** Rounds: each case runs once per round (cases marked `once` only in the first). */
  runs: number;
  /** Only cases whose id contains this substring (plus the cases their ratios divide by). */
  filter?: string | undefined;
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  /** 1-based position among all runs of this bench. */
  index: number;
  total: number;
  id: string;
  round: number;
  runs: number;
  phase: "start" | "done";
  /** Primary metric, when done and successful. */
  value?: number;
  unit?: string;
  error?: string;
}

export interface MetricSummary extends Spread {
  key: string;
  label?: string;
  unit: string;
  better: "lower" | "higher";
  samples: number[];
}

export interface CaseSummary {
  id: string;
  suite: string;
  name: string;
  description: string;
  params: CaseParams;
  note?: string;
  once: boolean;
  /** Added only because a selected ratio divides by it. */
  pulledIn: boolean;
  status: "ok" | "unavailable" | "error";
  error?: string;
  metrics: MetricSummary[];
  /** The `info` of each successful run, in round order. */
  info: Record<string, number | string | boolean>[];
}

export type RatioStatus = "PASS" | "MISS" | "info" | "n/a";

export interface RatioSummary extends Spread {
  suite: string;
  name: string;
  description: string;
  num: string;
  den?: string;
  target?: { op: "<=" | ">="; value: number };
  samples: number[];
  status: RatioStatus;
}

export interface BenchResults {
  tool: "ft bench";
  startedAt: string;
  durationMs: number;
  environment: { node: string; v8: string; platform: string; arch: string; cpus: number; cpuModel: string };
  options: { runs: number; quick: boolean; ops: number | null; filter: string | null };
  cases: CaseSummary[];
  ratios: RatioSummary[];
}

/** `caseId[:metric]` → [caseId, metric key or undefined]. */
export function parseRef(ref: string): [string, string | undefined] {
  const i = ref.indexOf(":");
  return i < 0 ? [ref, undefined] : [ref.slice(0, i), ref.slice(i + 1)];
}

interface Selection {
  cases: { reg: RegisteredCase; pulledIn: boolean }[];
  ratios: { suite: Suite; ratio: RatioDef }[];
}

/** The cases matching `filter`, the ratios whose numerator is among them, and their operands. */
export function selectCases(filter: string | undefined, suites: readonly Suite[] = SUITES): Selection {
  const every = allCases(suites);
  const chosen = new Set(every.filter((c) => !filter || c.id.includes(filter)).map((c) => c.id));
  const ratios = suites.flatMap((suite) => suite.ratios.map((ratio) => ({ suite, ratio })));
  const selectedRatios = ratios.filter(({ ratio }) => chosen.has(parseRef(ratio.num)[0]));
  const pulled = new Set<string>();
  for (const { ratio } of selectedRatios) {
    const den = ratio.den ? parseRef(ratio.den)[0] : undefined;
    if (den && !chosen.has(den)) pulled.add(den);
  }
  return {
    cases: every
      .filter((c) => chosen.has(c.id) || pulled.has(c.id))
      .map((reg) => ({ reg, pulledIn: pulled.has(reg.id) })),
    ratios: selectedRatios,
  };
}

const OUTPUT_TAIL = 4000;

/** Run one case in a fresh process; never rejects. */
export function forkCase(id: string, params: CaseParams): Promise<CaseMessage> {
  return new Promise((resolve) => {
    let output = "";
    let message: CaseMessage | undefined;
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-OUTPUT_TAIL);
    };
    const child = fork(fileURLToPath(entryUrl("bench/case")), [id, JSON.stringify(params)], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      // From source the child needs the parent's loader (tsx); a built case runs bare.
      execArgv: FROM_SOURCE ? process.execArgv : [],
    });
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("message", (m) => {
      message = m as CaseMessage;
    });
    child.on("error", (e) =>
      resolve({ ok: false, error: `could not start the case process: ${e.message}`, unavailable: false }),
    );
    child.on("close", (code, signal) => {
      if (message) resolve(message);
      else {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        resolve({
          ok: false,
          error: `case process ${how} without a result\n${output.trim()}`,
          unavailable: false,
        });
      }
    });
  });
}

interface CaseState {
  reg: RegisteredCase;
  pulledIn: boolean;
  params: CaseParams;
  status: CaseSummary["status"];
  error?: string;
  /** Per round (index = round - 1): metric values, or undefined when the run failed/was skipped. */
  rounds: (Record<string, number> | undefined)[];
  info: Record<string, number | string | boolean>[];
}

export async function runBench(
  options: BenchOptions,
  suites: readonly Suite[] = SUITES,
): Promise<BenchResults> {
  const started = Date.now();
  const runs = Math.max(1, Math.floor(options.runs));
  const selection = selectCases(options.filter, suites);
  const states: CaseState[] = selection.cases.map(({ reg, pulledIn }) => ({
    reg,
    pulledIn,
    params: reg.case.params(options),
    status: "ok",
    rounds: [],
    info: [],
  }));
  const total = states.reduce((n, s) => n + (s.reg.case.once ? 1 : runs), 0);
  let index = 0;
  for (let round = 1; round <= runs; round++) {
    for (const s of states) {
      if (s.reg.case.once && round > 1) continue;
      index++;
      if (s.status !== "ok") continue; // failed before: do not fork it again
      const base = { index, total, id: s.reg.id, round, runs: s.reg.case.once ? 1 : runs };
      options.onProgress?.({ ...base, phase: "start" });
      const m = await forkCase(s.reg.id, s.params);
      if (m.ok) {
        s.rounds[round - 1] = m.result.metrics;
        if (m.result.info) s.info.push(m.result.info);
        const primary = s.reg.case.metrics[0]!;
        options.onProgress?.({
          ...base,
          phase: "done",
          value: m.result.metrics[primary.key],
          unit: primary.unit,
        });
      } else {
        s.status = m.unavailable ? "unavailable" : "error";
        s.error = m.error;
        options.onProgress?.({ ...base, phase: "done", error: m.error.split("\n")[0] });
      }
    }
  }

  const cases = states.map((s): CaseSummary => {
    const metrics = s.reg.case.metrics.map((def: MetricDef): MetricSummary => {
      const samples = s.rounds.flatMap((r) => (r && Number.isFinite(r[def.key]) ? [r[def.key]!] : []));
      return {
        key: def.key,
        ...(def.label ? { label: def.label } : {}),
        unit: def.unit,
        better: def.better,
        samples,
        ...spread(samples),
      };
    });
    return {
      id: s.reg.id,
      suite: s.reg.suite.name,
      name: s.reg.case.name,
      description: s.reg.case.description,
      params: s.params,
      ...(s.reg.case.note ? { note: s.reg.case.note } : {}),
      once: s.reg.case.once === true,
      pulledIn: s.pulledIn,
      status: s.status,
      ...(s.error ? { error: s.error } : {}),
      metrics,
      info: s.info,
    };
  });

  const byId = new Map(states.map((s) => [s.reg.id, s]));
  /** The value of `ref` in `round` (a `once` case's single value stands for every round). */
  const valueAt = (ref: string, round: number): number | undefined => {
    const [id, key] = parseRef(ref);
    const s = byId.get(id);
    if (!s) return undefined;
    const r = s.reg.case.once ? s.rounds[0] : s.rounds[round];
    const v = r?.[key ?? s.reg.case.metrics[0]!.key];
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  const ratios = selection.ratios.map(({ suite, ratio }): RatioSummary => {
    const samples: number[] = [];
    // A ratio of deterministic (`once`) cases only has one sample, not one per round.
    const refs = [ratio.num, ...(ratio.den ? [ratio.den] : [])];
    const onceOnly = refs.every((ref) => byId.get(parseRef(ref)[0])?.reg.case.once === true);
    for (let round = 0; round < (onceOnly ? 1 : runs); round++) {
      const num = valueAt(ratio.num, round);
      const den = ratio.den ? valueAt(ratio.den, round) : 1;
      if (num !== undefined && den !== undefined && den !== 0) samples.push(num / den);
    }
    const sp = spread(samples);
    let status: RatioStatus = "info";
    if (sp.n === 0) status = "n/a";
    else if (ratio.target) {
      const ok = ratio.target.op === "<=" ? sp.median <= ratio.target.value : sp.median >= ratio.target.value;
      status = ok ? "PASS" : "MISS";
    }
    return {
      suite: suite.name,
      name: ratio.name,
      description: ratio.description,
      num: ratio.num,
      ...(ratio.den ? { den: ratio.den } : {}),
      ...(ratio.target ? { target: ratio.target } : {}),
      samples,
      ...sp,
      status,
    };
  });

  const os = await import("node:os");
  const cpus = os.cpus();
  return {
    tool: "ft bench",
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    environment: {
      node: process.version,
      v8: process.versions.v8,
      platform: process.platform,
      arch: process.arch,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? "unknown",
    },
    options: { runs, quick: options.quick, ops: options.ops ?? null, filter: options.filter ?? null },
    cases,
    ratios,
  };
}
