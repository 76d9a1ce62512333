// The ranking as a chart, in HTML and CSS (no drawing library: a few kilobytes, sharp at any width, its text the
// page's own): one row a server, grouped by concurrency model, each server's ratio to the reference as a dot with
// its 95% interval as a bar on a log scale, the reference's 1× as a line. A dot's colour is its tie group (its rank
// beside its name); a hollow dot had points flagged and left out of its fit; a server with no ratio (stopped by
// the stop rules, no fit, measured at a URL) has a row that says why. Pure: model in, HTML out.
import { pairingText } from '../analysis/ratios.js';
import type { ServerSummary } from '../analysis/summary.js';
import { ratioText, rounded } from '../core/format.js';
import { CAVEAT_FLAGS, POINT_FLAG_KINDS } from '../results/verdict.js';
import type { ConnectionKind } from '../servers/registry.js';
import { escapeHtml } from './html-page.js';
import { KIND_LABEL, kindOf } from './kinds.js';
import type { ReportModel } from './model.js';
import { serverText } from './tables.js';

/** Tie groups' colours, the fastest darkest; beyond the eighth they repeat (the rank beside the name still tells). */
const GROUP_COLOURS = ['#08306b', '#1f6fb4', '#2a9d8f', '#6a994e', '#bc8a2b', '#d1603d', '#a4343a', '#6d3c7a'];

/** A log axis from the 1-2-5 steps around every bounded value, and where a value falls on it (0 to 1, clamped). */
export interface LogAxis {
  lo: number;
  hi: number;
  ticks: number[];
  at(v: number): number;
}

const STEPS = [1, 2, 5];

/** The 1-2-5 steps from at or below `lo` to at or above `hi`. */
function steps(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++)
    for (const s of STEPS) out.push(Number((s * 10 ** e).toPrecision(3)));
  const first = out.filter((t) => t <= lo).length - 1;
  const last = out.findIndex((t) => t >= hi);
  return out.slice(first, last + 1);
}

export function logAxis(values: readonly number[]): LogAxis {
  const bounded = values.filter((v) => Number.isFinite(v) && v > 0);
  const ticks = steps(Math.min(1, ...bounded), Math.max(1, ...bounded));
  const lo = ticks[0]!;
  const hi = ticks.at(-1)!;
  const at = (v: number) => Math.min(1, Math.max(0, Math.log(v / lo) / Math.log(hi / lo)));
  return { lo, hi, ticks, at };
}

/** Point flags that leave a point out of its fit (all but the caveats, such as a server measured at a URL). */
const LEAVING: readonly string[] = POINT_FLAG_KINDS.filter((k) => !CAVEAT_FLAGS.includes(k));
const flagged = (s: ServerSummary) => s.flags.some((f) => LEAVING.includes(f.kind));

/** Why a server has no dot, in a few words. */
function noRatio(s: ServerSummary): string {
  if (s.flags.some((f) => f.kind === 'unthrottled')) return 'measured at a URL: compared with none';
  if (s.flags.some((f) => f.kind === 'stopped')) return 'stopped by the stop rules: not ranked';
  return 'no slope: not ranked';
}

const share = (x: number) => rounded(x, 4);

/** One server's row: rank and name, the dot and bar (or why none), its ratio in numbers. */
function row(s: ServerSummary, axis: LogAxis, shared: boolean, first: boolean): string {
  const start = first ? ' rc-first' : '';
  const rank = s.rank === null ? '—' : `${s.rank}${shared ? '=' : ''}`;
  const name = `<span class="rc-name${start}"><b>${rank}</b> ${escapeHtml(serverText(s))}</span>`;
  if (!s.ratio) {
    const why = `<span class="rc-plot${start}"><span class="rc-none">${escapeHtml(noRatio(s))}</span></span>`;
    return `${name}${why}<span class="rc-num${start}">—</span>`;
  }
  const { value, lo, hi } = s.ratio;
  const open = `${lo <= 0 || lo < axis.lo ? ' rc-open-lo' : ''}${!Number.isFinite(hi) || hi > axis.hi ? ' rc-open-hi' : ''}`;
  const colour = GROUP_COLOURS[((s.group ?? 1) - 1) % GROUP_COLOURS.length];
  const bar = `<i class="rc-bar${open}" style="--lo:${share(axis.at(lo > 0 ? lo : axis.lo))};--hi:${share(axis.at(Number.isFinite(hi) ? hi : axis.hi))}"></i>`;
  const dot = `<i class="rc-dot${flagged(s) ? ' rc-flagged' : ''}" style="--x:${share(axis.at(value))}"></i>`;
  const plot = `<span class="rc-plot${start}" style="--c:${colour}" data-server="${escapeHtml(s.server)}" data-group="${s.group ?? ''}">${bar}${dot}</span>`;
  return `${name}${plot}<span class="rc-num${start}">${escapeHtml(ratioText(s.ratio))}</span>`;
}

/** The servers of each concurrency model, models ordered by their fastest server, those with none ranked last. */
function byModel(model: ReportModel): { kind: ConnectionKind; servers: ServerSummary[] }[] {
  const kinds = new Map<ConnectionKind, ServerSummary[]>();
  for (const s of model.servers) {
    const kind = kindOf(s.server, model.plan, s.paperStyle);
    kinds.set(kind, [...(kinds.get(kind) ?? []), s]);
  }
  const best = (ss: ServerSummary[]) => Math.min(...ss.map((s) => s.ratio?.value ?? Infinity));
  return [...kinds].map(([kind, servers]) => ({ kind, servers })).sort((a, b) => best(a.servers) - best(b.servers));
}

/** The axis over the plot column: its 1-2-5 ticks, the ends held inside the column. */
function axisHtml(axis: LogAxis): string {
  const ticks = axis.ticks
    .map((t, i) => {
      const end = i === 0 ? ' rc-tick-first' : i === axis.ticks.length - 1 ? ' rc-tick-last' : '';
      return `<span class="rc-tick${end}" style="--x:${share(axis.at(t))}">${t}×</span>`;
    })
    .join('');
  return `<span class="rc-axis">${ticks}</span>`;
}

/** The chart, with its legend under it; empty when nothing was ranked. */
export function rankingChartHtml(model: ReportModel): string {
  const reference = model.ratioReference.server;
  if (reference === null || !model.servers.some((s) => s.ratio)) return '';
  const axis = logAxis(model.servers.flatMap((s) => (s.ratio ? [s.ratio.value, s.ratio.lo, s.ratio.hi] : [])));
  const groupSize = (g: number | null) => (g === null ? 0 : (model.ties.groups[g - 1]?.length ?? 0));
  const body = byModel(model)
    .map(({ kind, servers }) => {
      const head = `<span class="rc-kind" style="grid-row:span ${servers.length}">${escapeHtml(KIND_LABEL[kind])}</span>`;
      return head + servers.map((s, i) => row(s, axis, groupSize(s.group) > 1, i === 0)).join('');
    })
    .join('\n');
  const groups = model.ties.groups.length;
  const caption =
    `Each server's time per request over ${reference}'s (its slope's ratio, ${pairingText(model.plan)}): a dot, its 95% interval a bar, log ` +
    `scale; the line is ${reference}. Colour and rank: the tie group (${groups}; within one, every pair's intervals overlap). ` +
    'Hollow: points flagged and left out of its fit. A bar fading off an end has no bound there.';
  const style = `--one:${share(axis.at(1))}`;
  return (
    `<figure id="ranking-chart" data-chart="ranking">\n<div class="rc" style="${style}">\n<span class="rc-head">model</span>` +
    `<span class="rc-head">server</span>${axisHtml(axis)}<span class="rc-head rc-num">÷ ${escapeHtml(reference)} [95%]</span>\n${body}\n</div>\n` +
    `<figcaption>${escapeHtml(caption)}</figcaption>\n</figure>`
  );
}

/**
 * The chart's layout: a grid of model, server, plot and ratio columns (on a phone: the model as a heading row, the
 * ratio left to the table). Positions on the plot are shares of its width less a dot's, so that no dot, bar or
 * tick label ever leaves its box: a share x puts a dot's left edge at x of (width - 10 px).
 */
export const CHART_STYLE = `
.rc { display: grid; grid-template-columns: max-content max-content minmax(8rem, 1fr) max-content; column-gap: 0.75rem;
  font-size: 0.8rem; line-height: 1.15; align-items: center; }
.rc-head { font-weight: 600; color: var(--muted); align-self: end; padding-bottom: 0.2rem; }
.rc-head:nth-child(1), .rc-kind { grid-column: 1; }
.rc-head:nth-child(2), .rc-name { grid-column: 2; }
.rc-axis, .rc-plot { grid-column: 3; position: relative; }
.rc-num { grid-column: 4; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; color: var(--muted); }
.rc-kind { align-self: stretch; color: var(--muted); border-top: 1px solid var(--rule); padding-top: 0.1rem; }
.rc-name { white-space: nowrap; }
.rc-name b { display: inline-block; min-width: 2.3em; font-weight: 600; color: var(--muted); font-variant-numeric: tabular-nums; }
.rc-first { border-top: 1px solid var(--rule); }
.rc-plot { align-self: stretch; min-height: 15px; }
.rc-plot::before { content: ''; position: absolute; top: 0; bottom: 0; width: 1px; background: #8a8a90;
  left: calc((100% - 10px) * var(--one) + 4.5px); }
.rc-bar { position: absolute; top: 50%; height: 4px; margin-top: -2px; border-radius: 2px; background: var(--c); opacity: 0.45;
  left: calc((100% - 10px) * var(--lo) + 5px); width: calc((100% - 10px) * (var(--hi) - var(--lo))); }
.rc-open-hi { background: linear-gradient(to right, var(--c) 60%, transparent); }
.rc-open-lo { background: linear-gradient(to left, var(--c) 60%, transparent); }
.rc-dot { position: absolute; top: 50%; width: 10px; height: 10px; margin-top: -5px; border-radius: 50%;
  background: var(--c); border: 2px solid var(--c); left: calc((100% - 10px) * var(--x)); }
.rc-dot.rc-flagged { background: #fff; }
.rc-none { display: block; position: relative; background: #fff; font-style: italic; color: var(--muted); }
.rc-axis { height: 1.3rem; align-self: end; border-bottom: 1px solid var(--rule); }
.rc-tick { position: absolute; bottom: 0.15rem; color: var(--muted); white-space: nowrap;
  left: calc((100% - 10px) * var(--x) + 5px); transform: translateX(-50%); }
.rc-tick-first { left: 0; transform: none; }
.rc-tick-last { left: auto; right: 0; transform: none; }
@media (max-width: 40rem) {
  .rc { grid-template-columns: minmax(0, max-content) minmax(5rem, 1fr); column-gap: 0.5rem; }
  .rc-name { white-space: normal; overflow-wrap: anywhere; }
  .rc-head:nth-child(1), .rc-num { display: none; }
  .rc-kind { grid-column: 1 / -1; grid-row: auto !important; font-weight: 600; padding-top: 0.3rem; }
  .rc-head:nth-child(2), .rc-name { grid-column: 1; }
  .rc-axis, .rc-plot { grid-column: 2; }
  .rc-first { border-top: 0; }
}
`;
