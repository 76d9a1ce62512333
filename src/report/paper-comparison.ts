// Today against the paper, row by row: the paper's slope of each row of its Figure 2 beside ours answering it.
// Slopes of machines of different speed compare through their ratio to one reference, the same row then and now:
// lighttpd when it ran, else the fastest event server answering a row, else any server answering one.
import type { Interval } from '../core/intervals.js';
import { slopeOf, unthrottled, type ServerSummary } from '../analysis/summary.js';
import { ratioBetween } from '../analysis/ratios.js';
import { PAPER_ROWS, REFERENCE_ROW, paperRow } from '../servers/paper.js';

export interface ComparisonRow {
  row: string;
  paperSlopeMs: number;
  /** The paper's slope over the reference row's paper slope. */
  paperRatio: number | null;
  /** 1 = fastest in the paper (ties share a rank). */
  paperRank: number;
  /** Ours answering this row; undefined when none did. */
  server?: string;
  slopeMs: number | null;
  /** Our slope over our reference server's slope. */
  ratio: number | null;
  /** ... with its 95% interval (rounds paired). */
  ratioCi: Interval | null;
  /** 1 = fastest of ours in this table. */
  rankNow: number | null;
}

export interface Reference {
  /** Our server the ratios divide by, and the paper row that matches it; null when none could be chosen. */
  server: string | null;
  row: string | null;
  /** Why this reference, in one sentence. */
  why: string;
}

export function chooseReference(servers: readonly ServerSummary[]): Reference {
  // A user's server may declare a paper row; the built-in answering it stays the reference (stable sort).
  const fitted = servers
    .filter((s) => slopeOf(s) !== null && s.paperRow !== undefined && paperRow(s.paperRow) && !unthrottled(s))
    .sort((a, b) => Number(a.family === 'user') - Number(b.family === 'user'));
  const lighttpd = fitted.find((s) => s.paperRow === REFERENCE_ROW);
  if (lighttpd) return { server: lighttpd.server, row: REFERENCE_ROW, why: `Ratios are to ${REFERENCE_ROW}, then and now.` };
  const events = fitted.find((s) => s.paperStyle === 'events');
  if (events) {
    return {
      server: events.server,
      row: events.paperRow!,
      why: `${REFERENCE_ROW} is not in this run, so ratios are to the fastest event server here, ${events.server} (it answers the paper's ${events.paperRow}, so the paper's column is divided by ${events.paperRow}).`,
    };
  }
  const any = fitted[0];
  if (any) {
    return {
      server: any.server,
      row: any.paperRow!,
      why: `Neither ${REFERENCE_ROW} nor an event server answering a paper row is in this run, so ratios are to the fastest server that answers one, ${any.server} (the paper's ${any.paperRow}).`,
    };
  }
  return {
    server: null,
    row: null,
    why: 'No server of this run answers a row of the paper with a fitted slope, so there is nothing to compare.',
  };
}

/** Every row of the paper, with ours answering it (a row per server; a row none answered, once, empty). */
export function comparePaper(servers: readonly ServerSummary[], reference: Reference): ComparisonRow[] {
  const refPaper = reference.row ? (paperRow(reference.row)?.slopeMs ?? null) : null;
  const refOurs = servers.find((s) => s.server === reference.server);
  const refSlope = refOurs ? slopeOf(refOurs) : null;
  const rows: ComparisonRow[] = [];
  for (const pr of PAPER_ROWS) {
    const paperRank = 1 + PAPER_ROWS.filter((o) => o.slopeMs < pr.slopeMs).length;
    const paperRatio = refPaper ? pr.slopeMs / refPaper : null;
    const ours = servers.filter((s) => s.paperRow === pr.row && !unthrottled(s));
    if (ours.length === 0)
      rows.push({ row: pr.row, paperSlopeMs: pr.slopeMs, paperRatio, paperRank, slopeMs: null, ratio: null, ratioCi: null, rankNow: null });
    for (const s of ours) {
      const slope = slopeOf(s);
      const ratioCi = slope !== null && refOurs && refSlope ? ratioBetween(s, refOurs) : null;
      rows.push({
        row: pr.row,
        paperSlopeMs: pr.slopeMs,
        paperRatio,
        paperRank,
        server: s.server,
        slopeMs: slope,
        ratio: ratioCi?.value ?? (slope !== null && refSlope ? slope / refSlope : null),
        ratioCi,
        rankNow: null,
      });
    }
  }
  const slopes = rows.map((r) => r.slopeMs).filter((v): v is number => v !== null);
  for (const r of rows) if (r.slopeMs !== null) r.rankNow = 1 + slopes.filter((v) => v < r.slopeMs!).length;
  return rows;
}
