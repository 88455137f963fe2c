/**
 * Renderings of {@link BenchResults}: a Markdown report (two tables: cases, target ratios, plus
 * informational ratios and notes) and a hand-written SVG bar chart of the target ratios.
 */
import type { BenchResults, CaseSummary, RatioSummary } from "./harness.ts";

/** 2_000_000 → "2M", 10_000 → "10k", 1_500 → "1.5k". */
export function compactCount(n: number): string {
  const unit = (v: number, s: string) => `${Number.isInteger(v) ? v : Number(v.toFixed(1))}${s}`;
  if (Math.abs(n) >= 1e6) return unit(n / 1e6, "M");
  if (Math.abs(n) >= 1e3) return unit(n / 1e3, "k");
  return String(n);
}

/** About four significant digits, thousands grouped: 71611.7 → "71,612", 41.03 → "41.03". */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatRatio(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : "n/a";
}

function formatParams(params: Record<string, number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${compactCount(v)}`)
    .join(" ");
}

function targetText(r: RatioSummary): string {
  return r.target ? `${r.target.op === "<=" ? "≤" : "≥"} ${r.target.value}` : "–";
}

function caseRows(c: CaseSummary): string[] {
  const params = formatParams(c.params);
  const id = c.pulledIn ? `${c.id} ⁺` : c.id;
  if (c.status !== "ok" || c.metrics[0]!.n === 0) {
    const why = c.status === "unavailable" ? "unavailable" : c.status === "error" ? "error" : "no result";
    return [`| ${id} | ${params} | ${why} | | ${c.metrics[0]!.unit} | 0 |`];
  }
  return c.metrics.map((m) => {
    const name = c.metrics.length > 1 ? `${id} · ${m.label ?? m.key}` : id;
    const range = `[${formatValue(m.min)}..${formatValue(m.max)}]`;
    return `| ${name} | ${params} | **${formatValue(m.median)}** | ${range} | ${m.unit} | ${m.n} |`;
  });
}

function ratioRow(r: RatioSummary): string {
  const range = r.n > 0 ? `[${formatRatio(r.min)}..${formatRatio(r.max)}]` : "";
  const result = r.status === "PASS" ? "PASS" : r.status === "MISS" ? "**MISS**" : r.status;
  const value = r.n > 0 ? `**${formatRatio(r.median)}**` : "n/a";
  return `| ${r.suite}: ${r.name} | ${value} | ${range} | ${targetText(r)} | ${result} | ${r.n} |`;
}

export function renderMarkdown(res: BenchResults): string {
  const env = res.environment;
  const out: string[] = [];
  out.push("# ft bench", "");
  out.push(
    `${res.startedAt.replace("T", " ").slice(0, 16)} UTC · Node ${env.node} (V8 ${env.v8}) · ${env.platform} ${env.arch} · ` +
      `${env.cpus} × ${env.cpuModel}`,
  );
  out.push(
    "",
    `${res.options.runs} round${res.options.runs === 1 ? "" : "s"}${res.options.quick ? " (--quick: fewer ops)" : ""}` +
      `${res.options.filter ? `, filter \`${res.options.filter}\`` : ""}; every case runs in its own process once per ` +
      `round, cases interleaved by round; median [min..max] over rounds; ratios are medians of per-round ratios. ` +
      `Took ${(res.durationMs / 1000).toFixed(1)} s.`,
    "",
  );
  out.push(
    "## Cases",
    "",
    "| case | params | median | [min..max] | unit | n |",
    "|---|---|---:|---|---|---:|",
  );
  for (const c of res.cases) out.push(...caseRows(c));
  const targets = res.ratios.filter((r) => r.target);
  const infos = res.ratios.filter((r) => !r.target);
  if (targets.length > 0) {
    out.push(
      "",
      "## Target ratios",
      "",
      "| ratio | median | [min..max] | target | result | n |",
      "|---|---:|---|---|---|---:|",
    );
    for (const r of targets) out.push(ratioRow(r));
  }
  if (infos.length > 0) {
    out.push(
      "",
      "## Other ratios",
      "",
      "| ratio | median | [min..max] | target | result | n |",
      "|---|---:|---|---|---|---:|",
    );
    for (const r of infos) out.push(ratioRow(r));
  }
  const notes: string[] = [];
  if (res.cases.some((c) => c.pulledIn))
    notes.push("⁺ not matched by the filter; run because a selected ratio divides by it.");
  for (const c of res.cases) if (c.note) notes.push(c.note);
  for (const c of res.cases) {
    if (c.status === "unavailable") notes.push(`${c.id} unavailable: ${c.error}`);
    else if (c.status === "error")
      notes.push(`${c.id} failed: ${(c.error ?? "").split("\n").slice(0, 3).join(" ⏎ ")}`);
  }
  if (notes.length > 0) {
    out.push("", "Notes:", "");
    for (const n of notes) out.push(`- ${n}`);
  }
  return `${out.join("\n")}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * One row per target ratio: a bar at the median, a whisker from min to max, a dashed line at
 * the target. Each row has its own scale (0 … 1.25 × the largest of median, max and target).
 */
export function renderRatiosSvg(res: BenchResults): string {
  const rows = res.ratios.filter((r) => r.target);
  const W = 760;
  const labelW = 260;
  const barW = 330;
  const rowH = 34;
  const top = 44;
  const H = top + rows.length * rowH + 28;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">ft bench: target ratios</text>`,
    `<text x="${W - 12}" y="22" text-anchor="end" fill="#555">${esc(
      `${res.options.runs} rounds${res.options.quick ? ", quick" : ""} · median, whisker min..max, dashed = target`,
    )}</text>`,
  );
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const cy = y + rowH / 2;
    const target = r.target!.value;
    const hasValue = r.n > 0;
    const scaleMax = 1.25 * Math.max(target, hasValue ? Math.max(r.median, r.max) : 0);
    const x = (v: number) => labelW + (barW * v) / scaleMax;
    const color = r.status === "PASS" ? "#2e7d32" : r.status === "MISS" ? "#c62828" : "#9e9e9e";
    if (i % 2 === 0) parts.push(`<rect x="0" y="${y}" width="${W}" height="${rowH}" fill="#f6f7f9"/>`);
    parts.push(`<text x="12" y="${cy + 4}">${esc(`${r.suite}: ${r.name}`)}</text>`);
    parts.push(`<line x1="${labelW}" y1="${y + 6}" x2="${labelW}" y2="${y + rowH - 6}" stroke="#999"/>`);
    if (hasValue) {
      parts.push(
        `<rect x="${labelW}" y="${cy - 8}" width="${Math.max(1, x(r.median) - labelW).toFixed(1)}" height="16" fill="${color}" opacity="0.85"/>`,
        `<line x1="${x(r.min).toFixed(1)}" y1="${cy}" x2="${x(r.max).toFixed(1)}" y2="${cy}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${x(r.min).toFixed(1)}" y1="${cy - 5}" x2="${x(r.min).toFixed(1)}" y2="${cy + 5}" stroke="#222"/>`,
        `<line x1="${x(r.max).toFixed(1)}" y1="${cy - 5}" x2="${x(r.max).toFixed(1)}" y2="${cy + 5}" stroke="#222"/>`,
      );
    }
    parts.push(
      `<line x1="${x(target).toFixed(1)}" y1="${y + 3}" x2="${x(target).toFixed(1)}" y2="${y + rowH - 3}" stroke="#1565c0" stroke-width="2" stroke-dasharray="4 3"/>`,
    );
    const text = hasValue
      ? `${formatRatio(r.median)}  (${targetText(r)})  ${r.status}`
      : `n/a  (${targetText(r)})`;
    parts.push(
      `<text x="${labelW + barW + 14}" y="${cy + 4}" fill="${color}" font-weight="600">${esc(text)}</text>`,
    );
  });
  parts.push(
    `<text x="12" y="${H - 10}" fill="#777">each row has its own scale from 0; generated by ft bench</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
