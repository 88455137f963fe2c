/**
 * The benchmark registry's contracts. A suite is a name, its cases and the ratios (with
 * targets) computed from them; adding a suite means writing one module under `suites/` and
 * listing it in `suites/index.ts`.
 *
 * A case runs in its own child process (`case.ts`), once per round; the harness interleaves the
 * cases of every selected suite by round and takes medians over rounds. A ratio is computed per
 * round from values measured in that same round, then its median is taken (§0 of the anchors).
 */

/** Options that shape a case's parameters. */
export interface CaseOptions {
  /** A short smoke run: fewer ops. */
  quick: boolean;
  /** Override the number of timed ops of workload cases. */
  ops?: number | undefined;
}

/** Plain numeric parameters, shown in the report (`W=10k OPS=2M`) and passed to the case process. */
export type CaseParams = Record<string, number>;

export interface MetricDef {
  key: string;
  /** Shown after the case id when a case reports more than one metric. */
  label?: string;
  unit: string;
  better: "lower" | "higher";
}

export interface CaseResult {
  /** One number per declared metric key. */
  metrics: Record<string, number>;
  /** Extra diagnostics shown in the JSON output (waits, per-thread times, stats…). */
  info?: Record<string, number | string | boolean>;
}

export interface BenchCase {
  /** Unique within the suite; the case id is `suite/name`. */
  name: string;
  description: string;
  /** The first metric is the case's primary one (used by ratio references without `:metric`). */
  metrics: readonly MetricDef[];
  /** A note printed under the results table (e.g. why this case runs fewer ops). */
  note?: string;
  /** The result is deterministic: one run is enough, whatever `--runs` says. */
  once?: boolean;
  params(options: CaseOptions): CaseParams;
  /** Runs in the case process. */
  run(params: CaseParams): Promise<CaseResult>;
}

/** A ratio `num / den` (or a single metric when `den` is absent), each `caseId[:metric]`. */
export interface RatioDef {
  name: string;
  description: string;
  num: string;
  den?: string;
  /** Omitted for an informational ratio (no PASS/MISS). */
  target?: { op: "<=" | ">="; value: number };
}

export interface Suite {
  name: string;
  description: string;
  cases: readonly BenchCase[];
  ratios: readonly RatioDef[];
}

/** Parameter helpers: `ops(2_000_000, 200_000, options)`. */
export function opsFor(full: number, quick: number, options: CaseOptions): number {
  return options.ops ?? (options.quick ? quick : full);
}
