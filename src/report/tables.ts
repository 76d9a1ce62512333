// The report's tables, defined once: each cell has the text a reader sees (Markdown, HTML) and the value a
// spreadsheet wants (CSV, with units in the column names). Pure functions of the model.
import type { ReportModel, ServerSummary } from './model.js';
import type { Interval } from './intervals.js';

export interface Cell {
  text: string;
  value: string | number | boolean | null;
  /** A column only CSV has (the bounds of an interval Markdown and HTML show in one cell). */
  csvOnly?: boolean;
}

/** The cells readers see: Markdown and HTML leave out the CSV-only columns. */
export const visible = (row: readonly Cell[]): Cell[] => row.filter((c) => !c.csvOnly);

export interface Table {
  /** Short name, for `--table` ("open-loop" is in the HTML report only). */
  name: TableName | 'open-loop';
  title: string;
  /** Column headings for readers, and for CSV (with units, no spaces). */
  columns: string[];
  csvColumns: string[];
  /** Columns to right-align (numbers). */
  numeric: boolean[];
  rows: Cell[][];
}

export const TABLE_NAMES = ['ranking', 'paper', 'points'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** 12345.6 -> "12,346": grouping by hand, so output does not depend on the machine's locale. */
export function groupDigits(x: number): string {
  const sign = x < 0 ? '-' : '';
  return sign + String(Math.round(Math.abs(x))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function fixed(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** Bytes in binary units, one decimal past KiB: "512 B", "9.8 KiB", "1.5 MiB". */
export function bytesText(b: number | null): string {
  if (b === null || !Number.isFinite(b)) return '—';
  const abs = Math.abs(b);
  if (abs < 1024) return `${Math.round(b)} B`;
  if (abs < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  if (abs < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

const round = (x: number | null, digits: number): number | null =>
  x === null || !Number.isFinite(x) ? null : Number(x.toFixed(digits));
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

/** "0.231 [0.219–0.246]": an estimate with its 95% interval; "[?]" where two points left no interval to tell. */
export function intervalText(i: Interval | null, digits: number): string {
  if (!i) return '—';
  if (!Number.isFinite(i.hi)) return `${fixed(i.value, digits)} [?]`;
  return i.lo === i.hi ? fixed(i.value, digits) : `${fixed(i.value, digits)} [${fixed(i.lo, digits)}–${fixed(i.hi, digits)}]`;
}

export function rankingTable(model: ReportModel): Table {
  const ref = model.ratioReference.server ?? 'reference';
  return {
    name: 'ranking',
    title: 'Ranking: the slope of mean serving time against load (smaller is faster), with 95% intervals over the rounds ([?]: two points, no interval)',
    columns: ['#', 'server', 'model', 'slope ms/client', 'implied req/s', `÷ ${ref}`, 'tied with', 'r', 'bytes/connection', 'errors', 'flags'],
    csvColumns: ['rank', 'server', 'model', 'slope_ms_per_client', 'implied_rps', 'ratio', 'ratio_low', 'ratio_high', 'slope_low', 'slope_high', 'tied_with', 'r', 'bytes_per_connection', 'errors', 'flags'],
    numeric: [true, false, false, true, true, true, false, true, true, true, false],
    rows: model.servers.map((s) => {
      const slope = s.latencyFit?.slope ?? null;
      const share = s.requests > 0 ? s.errors / s.requests : 0;
      const cells: Cell[] = [
        { text: s.rank === null ? '—' : `${s.rank}${s.tiedWith.length > 0 ? '=' : ''}`, value: s.rank },
        { text: serverText(s), value: s.server },
        str(modelText(s)),
        { text: s.slopeCi ? intervalText(s.slopeCi, 3) : fixed(slope, 3), value: round(slope, 3) },
        num(s.impliedRps, 0, s.impliedRps === null ? '—' : groupDigits(s.impliedRps)),
        { text: intervalText(s.ratio, 2), value: round(s.ratio?.value ?? null, 3) },
        csvOnly(s.ratio?.lo ?? null, 3), csvOnly(s.ratio?.hi ?? null, 3), csvOnly(s.slopeCi?.lo ?? null, 4), csvOnly(s.slopeCi?.hi ?? null, 4),
        { text: s.tiedWith.join(', ') || '—', value: s.tiedWith.join(' ') },
        num(s.latencyFit?.r ?? null, 4),
        { text: bytesText(s.bytesPerConnection), value: round(s.bytesPerConnection, 0) },
        { text: s.errors === 0 ? '0' : `${groupDigits(s.errors)} (${(share * 100).toFixed(share < 0.001 ? 2 : 1)}%)`, value: s.errors },
        { text: flagLabels(s) || '—', value: s.flags.map((f) => f.text).join(' | ') },
      ];
      return cells;
    }),
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
    columns: ['paper row', 'paper ms/client (600 MHz)', `paper ÷ ${ref}`, 'rank then', 'ours', 'ours ms/client', `ours ÷ ${model.reference.server ?? ref} [95%]`, 'rank now'],
    csvColumns: ['paper_row', 'paper_slope_ms_per_client', 'paper_ratio', 'paper_rank', 'server', 'slope_ms_per_client', 'ratio', 'rank_now'],
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
    columns: ['server', 'load', 'repeats', 'unflagged', 'measured load', 'mean ms', 'p99 ms', 'req/s', 'peak RSS', 'errors', 'overflows', 'flags', 'in fit'],
    csvColumns: ['server', 'load', 'repeats', 'unflagged', 'measured_load', 'mean_latency_ms', 'p99_latency_ms', 'throughput_rps', 'peak_rss_bytes', 'errors', 'listen_overflows', 'flags', 'in_fit'],
    numeric: [false, true, true, true, true, true, true, true, true, true, true, false, false],
    rows: model.servers.flatMap((s) => s.loads.map((lp) => [
      str(s.server),
      { text: String(lp.load), value: lp.load },
      { text: lp.failed > 0 ? `${lp.repeats} (+${lp.failed} failed)` : String(lp.repeats), value: lp.repeats },
      { text: String(lp.trusted), value: lp.trusted },
      num(lp.measuredLoad, 1),
      num(lp.meanLatencyMs, 2),
      num(lp.p99Ms, 2),
      num(lp.throughputRps, 0, groupDigits(lp.throughputRps)),
      { text: bytesText(lp.peakRssBytes), value: lp.peakRssBytes === null ? null : Math.round(lp.peakRssBytes) },
      { text: groupDigits(lp.errors), value: lp.errors },
      { text: groupDigits(lp.listenOverflows), value: lp.listenOverflows },
      { text: lp.flags.join(', ') || '—', value: lp.flags.join(' ') },
      { text: lp.inFit ? 'yes' : 'no', value: lp.inFit },
    ])),
  };
}

export function table(model: ReportModel, name: TableName): Table {
  return name === 'ranking' ? rankingTable(model) : name === 'paper' ? paperTable(model) : pointsTable(model);
}
