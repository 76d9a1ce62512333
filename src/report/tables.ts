// The report's tables, defined once: each cell has the text a reader sees (Markdown, HTML) and the value a
// spreadsheet wants (CSV, with units in the column names). Pure functions of the model.
import type { ReportModel } from './model.js';
import type { OpenServer } from './open-loop.js';
import { VERDICT_TEXT } from './claims.js';
import type { ServerSummary } from '../analysis/summary.js';
import { bytesText, fixed, groupDigits, intervalText, percentText, rounded as round } from '../core/format.js';

export interface Cell {
  text: string;
  value: string | number | boolean | null;
  /** A column only CSV has (the bounds of an interval Markdown and HTML show in one cell). */
  csvOnly?: boolean;
}

/** The cells readers see: Markdown and HTML leave out the CSV-only columns. */
export const visible = (row: readonly Cell[]): Cell[] => row.filter((c) => !c.csvOnly);

export interface Table {
  /** Short name, for `--table` ("open-loop" and "memory" are in the HTML report only). */
  name: TableName | 'open-loop' | 'memory' | 'compare';
  title: string;
  /** Column headings for readers, and for CSV (with units, no spaces). */
  columns: string[];
  csvColumns: string[];
  /** Columns to right-align (numbers). */
  numeric: boolean[];
  rows: Cell[][];
}

export const TABLE_NAMES = ['claims', 'ranking', 'paper', 'points'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

const num = (x: number | null, digits: number, text?: string): Cell => ({ text: text ?? fixed(x, digits), value: round(x, digits) });
const csvOnly = (x: number | null, digits: number): Cell => ({ text: '', value: round(x, digits), csvOnly: true });
const str = (s: string | undefined): Cell => ({ text: s ?? '—', value: s ?? null });

/** A server's name as every table and figure shows it: a user's own server is marked as theirs. */
export function serverText(s: Pick<ServerSummary, 'server' | 'family'>): string {
  return s.family === 'user' ? `${s.server} (yours)` : s.server;
}

/** "native · ST (user threads)": the family (or a user server's label), and the paper row answered with its concurrency model. */
export function modelText(s: ServerSummary): string {
  const family = s.family === 'user' ? `yours${s.label ? `: ${s.label}` : ''}` : s.family;
  if (s.paperRow === undefined) return family;
  return `${family} · ${s.paperRow}${s.paperStyle ? ` (${s.paperStyle})` : ''}`;
}

/** Short labels of a server's flags, for a table cell: "client-bound, stopped". */
export function flagLabels(s: ServerSummary): string {
  return [...new Set(s.flags.map((f) => f.kind))].join(', ');
}

/** A server's fairness at the highest load it has one for (the ranking's column), or null. */
export function topFairness(s: ServerSummary): { load: number; jainIndex: number; slowestClientShare: number } | null {
  const top = s.loads.filter((lp) => lp.fairness !== null).at(-1);
  return top ? { load: top.load, ...top.fairness! } : null;
}

export function rankingTable(model: ReportModel): Table {
  const ref = model.ratioReference.server ?? 'reference';
  const topLoad = Math.max(...model.plan.loads);
  return {
    name: 'ranking',
    title: `Ranking: the slope of mean serving time against load (smaller is faster), with 95% intervals ${
      model.plan.cycles !== undefined ? 'from cycles paired in time, nested in processes' : 'over the rounds'
    } ([?]: two points, no interval)`,
    columns: ['#', 'server', 'model', 'slope ms/client', 'implied req/s', `÷ ${ref}`, 'r', `fairness at l=${topLoad}`, 'errors', 'flags'],
    csvColumns: [
      'rank',
      'group',
      'server',
      'model',
      'slope_ms_per_client',
      'implied_rps',
      'ratio',
      'ratio_low',
      'ratio_high',
      'slope_low',
      'slope_high',
      'tied_with',
      'r',
      'jain_index',
      'slowest_client_share',
      'fairness_load',
      'errors',
      'flags',
    ],
    numeric: [true, false, false, true, true, true, true, true, true, false],
    rows: model.servers.map((s) => {
      const slope = s.latencyFit?.slope ?? null;
      const share = s.requests > 0 ? s.errors / s.requests : 0;
      const shared = s.group !== null && (model.ties.groups[s.group - 1]?.length ?? 0) > 1;
      const cells: Cell[] = [
        { text: s.rank === null ? '—' : `${s.rank}${shared ? '=' : ''}`, value: s.rank },
        { text: '', value: s.group, csvOnly: true },
        { text: serverText(s), value: s.server },
        str(modelText(s)),
        { text: s.slopeCi ? intervalText(s.slopeCi, 3) : fixed(slope, 3), value: round(slope, 3) },
        num(s.impliedRps, 0, s.impliedRps === null ? '—' : groupDigits(s.impliedRps)),
        { text: intervalText(s.ratio, 2), value: round(s.ratio?.value ?? null, 3) },
        csvOnly(s.ratio?.lo ?? null, 3),
        csvOnly(s.ratio?.hi ?? null, 3),
        csvOnly(s.slopeCi?.lo ?? null, 4),
        csvOnly(s.slopeCi?.hi ?? null, 4),
        { text: '', value: s.tiedWith.join(' '), csvOnly: true },
        num(s.latencyFit?.r ?? null, 4),
        ...fairnessCells(s, topLoad),
        { text: s.errors === 0 ? '0' : `${groupDigits(s.errors)} (${percentText(share)})`, value: s.errors },
        { text: flagLabels(s) || '—', value: s.flags.map((f) => f.text).join(' | ') },
      ];
      return cells;
    }),
  };
}

/** Jain's index at the server's highest load (its load said when not the plan's highest), and CSV's extra columns. */
function fairnessCells(s: ServerSummary, topLoad: number): Cell[] {
  const f = topFairness(s);
  const text = f === null ? '—' : `${fixed(f.jainIndex, 3)}${f.load !== topLoad ? ` (l=${f.load})` : ''}`;
  return [{ text, value: round(f?.jainIndex ?? null, 4) }, csvOnly(f?.slowestClientShare ?? null, 3), csvOnly(f?.load ?? null, 0)];
}

/** The paper's claims, each with the paper's number, this run's and the verdict with its reason (claims.ts). */
export function claimsTable(model: ReportModel): Table {
  const ref = model.ratioReference.server;
  return {
    name: 'claims',
    title: "The paper's claims, checked against this run",
    columns: ['claim', 'the paper', `this run${ref ? ` (÷ ${ref}, 95% intervals)` : ''}`, 'verdict'],
    csvColumns: ['claim_id', 'claim', 'paper', 'this_run', 'verdict', 'why'],
    numeric: [false, false, false, false],
    rows: model.claims.map((c) => [
      { text: '', value: c.id, csvOnly: true },
      str(c.claim),
      str(c.paper),
      str(c.now),
      { text: `${VERDICT_TEXT[c.verdict]}: ${c.why}`, value: c.verdict },
      { text: '', value: c.why, csvOnly: true },
    ]),
  };
}

export function paperTable(model: ReportModel): Table {
  const ref = model.reference.row ?? 'reference';
  const shown = (name: string | undefined): Cell => {
    const s = model.servers.find((x) => x.server === name);
    return s ? { text: serverText(s), value: s.server } : str(name);
  };
  return {
    name: 'paper',
    title: `Today against the paper (ratios to ${model.reference.row ? `${ref}${model.reference.server && model.reference.server !== ref ? `, here ${model.reference.server}` : ''}` : 'no reference'})`,
    columns: [
      'paper row',
      'paper ms/client (600 MHz)',
      `paper ÷ ${ref}`,
      'rank then',
      'ours',
      'ours ms/client',
      `ours ÷ ${model.reference.server ?? ref} [95%]`,
      'rank now',
    ],
    csvColumns: [
      'paper_row',
      'paper_slope_ms_per_client',
      'paper_ratio',
      'paper_rank',
      'server',
      'slope_ms_per_client',
      'ratio',
      'rank_now',
    ],
    numeric: [false, true, true, true, false, true, true, true],
    rows: model.comparison.map((c) => [
      str(c.row),
      num(c.paperSlopeMs, 3),
      num(c.paperRatio, 2),
      { text: String(c.paperRank), value: c.paperRank },
      shown(c.server),
      num(c.slopeMs, 3),
      { text: c.ratioCi ? intervalText(c.ratioCi, 2) : fixed(c.ratio, 2), value: round(c.ratio, 2) },
      { text: c.rankNow === null ? '—' : String(c.rankNow), value: c.rankNow },
    ]),
  };
}

export function pointsTable(model: ReportModel): Table {
  return {
    name: 'points',
    title: 'Every point (unflagged repeats averaged)',
    // "in fit" is CSV's only: a point is in the fit exactly when it has an unflagged repeat.
    columns: [
      'server',
      'load',
      'repeats',
      'unflagged',
      'l_m',
      'mean ms',
      'p99 ms',
      'req/s',
      'Jain',
      'slowest client',
      'peak RSS',
      'errors',
      'overflows',
      'flags',
    ],
    csvColumns: [
      'server',
      'load',
      'repeats',
      'unflagged',
      'measured_load',
      'mean_latency_ms',
      'p99_latency_ms',
      'throughput_rps',
      'jain_index',
      'slowest_client_share',
      'peak_rss_bytes',
      'errors',
      'listen_overflows',
      'flags',
      'in_fit',
    ],
    numeric: [false, true, true, true, true, true, true, true, true, true, true, true, true, false],
    rows: model.servers.flatMap((s) =>
      s.loads.map((lp) => [
        str(s.server),
        { text: String(lp.load), value: lp.load },
        { text: lp.failed > 0 ? `${lp.repeats} (+${lp.failed} failed)` : String(lp.repeats), value: lp.repeats },
        { text: String(lp.trusted), value: lp.trusted },
        num(lp.measuredLoad, 1),
        num(lp.meanLatencyMs, 2),
        num(lp.p99Ms, 2),
        num(lp.throughputRps, 0, lp.throughputRps === null ? '—' : groupDigits(lp.throughputRps)),
        num(lp.fairness?.jainIndex ?? null, 3),
        num(lp.fairness?.slowestClientShare ?? null, 2),
        { text: bytesText(lp.peakRssBytes), value: round(lp.peakRssBytes, 0) },
        { text: groupDigits(lp.errors), value: lp.errors },
        { text: groupDigits(lp.listenOverflows), value: lp.listenOverflows },
        { text: lp.flags.join(', ') || '—', value: lp.flags.join(' ') },
        { text: '', value: lp.inFit, csvOnly: true },
      ]),
    ),
  };
}

/** "0.75 [0.50–0.90]": the knee's fraction over all rounds, with the range of the rounds' own knees. */
function kneeText(s: OpenServer): string | undefined {
  if (s.kneeFraction === null) return undefined;
  const own = s.kneeByRound.map((k) => k ?? 0);
  if (own.length < 2) return fixed(s.kneeFraction, 2);
  return `${fixed(s.kneeFraction, 2)} [${fixed(Math.min(...own), 2)}–${fixed(Math.max(...own), 2)}]`;
}

/** A number cell that keeps its full value for CSV (the other tables round it). */
const openNum = (x: number | null, digits: number, text?: string): Cell => ({
  text: x === null || !Number.isFinite(x) ? '—' : (text ?? fixed(x, digits)),
  value: x === null || !Number.isFinite(x) ? null : x,
});

/** Per server: the knee of the open loop beside the closed loop's slope and capacity. */
export function openLoopTable(model: ReportModel): Table | undefined {
  const open = model.openLoop;
  if (!open) return undefined;
  return {
    name: 'open-loop',
    title: `Open loop: the knee (highest offered rate whose p99 stays under ${open.kneeFactor}× the low-load p99), beside the closed-loop slope`,
    columns: [
      'server',
      'closed-loop slope ms/client',
      'closed-loop capacity req/s',
      'low-load p99 ms',
      'knee req/s',
      'knee × capacity [rounds]',
      'p99 at knee ms',
      'points left out',
    ],
    csvColumns: [
      'server',
      'closed_slope_ms_per_client',
      'capacity_rps',
      'low_load_p99_ms',
      'knee_rps',
      'knee_fraction',
      'knee_p99_ms',
      'flagged',
    ],
    numeric: [false, true, true, true, true, true, true, false],
    rows: open.servers.map((s) => {
      const fit = model.servers.find((c) => c.server === s.server)?.latencyFit;
      const flagged = s.points.filter((p) => p.flag !== null).map((p) => `${p.rateFraction}: ${p.flag}`);
      return [
        { text: s.server, value: s.server },
        openNum(fit ? fit.slope : null, 3),
        openNum(s.capacityRps, 0, groupDigits(s.capacityRps)),
        openNum(s.lowLoadP99Ms, 2),
        openNum(s.kneeRps, 0, s.kneeRps === null ? undefined : groupDigits(s.kneeRps)),
        openNum(s.kneeFraction, 2, kneeText(s)),
        openNum(s.kneeP99Ms, 2),
        { text: flagged.join('; ') || '—', value: flagged.join('; ') || null },
      ];
    }),
  };
}

const TABLES: Readonly<Record<TableName, (model: ReportModel) => Table>> = {
  claims: claimsTable,
  ranking: rankingTable,
  paper: paperTable,
  points: pointsTable,
};

export function table(model: ReportModel, name: TableName): Table {
  return TABLES[name](model);
}

const mdCell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function markdownTable(t: Table): string {
  const head = `| ${t.columns.map(mdCell).join(' | ')} |`;
  const rule = `|${t.numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`;
  const body = t.rows.map(
    (r) =>
      `| ${visible(r)
        .map((c) => mdCell(c.text))
        .join(' | ')} |`,
  );
  return [head, rule, ...body].join('\n');
}
