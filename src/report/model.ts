// The report's model: everything the figures and tables show, computed once from the stored run. Pure: the
// renderers only format it. Repeats of one (server, load) are averaged; each server's mean serving time is fitted
// against the offered load (the paper's Figure 2). A repeat that served nothing is not a value: it is counted and
// said, never averaged in as 0. Memory per connection comes from the memory experiment only (memory.json).
import { openLoopModel, type OpenLoopModel } from './open-loop.js';
import type { Environment } from '../core/environment.js';
import { MEASURED_LOAD_FLOOR } from '../load/types.js';
import type { HostSetup, Plan, RunHosts, RunInfo } from '../results/schema.js';
import { overlaps, ratioInterval } from '../core/intervals.js';
import type { Interval } from '../core/intervals.js';
import { tieGroups } from './ties.js';
import {
  applyPaired,
  chooseRatioReference,
  precisionStanding,
  ratioPrecision,
  seriesOf,
  slopeOf,
  summarise,
  unthrottled,
  type PrecisionStanding,
  type ServerSummary,
} from '../analysis/summary.js';
import { halfWidthText } from '../core/format.js';
import { PAPER_ROWS, REFERENCE_ROW, paperRow } from '../servers/paper.js';
import type { ReportInput } from './read.js';
import type { MemoryRun } from '../experiments/memory.js';

export const REPORT_SCHEMA = 'eventbench.report/1';

/** A point is client-bound when the measured load l_m falls below this share of the offered load l. */
export const CLIENT_BOUND_SHARE = MEASURED_LOAD_FLOOR;

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

export interface ReportModel {
  schema: typeof REPORT_SCHEMA;
  run: { id: string; startedAt: string; finishedAt?: string; state: 'finished' | 'interrupted' | 'in progress' };
  plan: Plan;
  host: HostSetup;
  /** The server host's environment. */
  environment: Environment;
  /** Where servers and clients ran and the path between them (run/3); absent for older runs, made on one machine. */
  hosts?: RunHosts;
  /** Ranked by slope, fastest first; servers without a fit last, in plan order. */
  servers: ServerSummary[];
  skipped: RunInfo['skipped'];
  /** The runner's warnings, in order. */
  warnings: string[];
  /** What the report itself had to skip, assume or fall back to. */
  notes: string[];
  reference: Reference;
  comparison: ComparisonRow[];
  /** The server every ratio of the ranking divides by, and why that one. */
  ratioReference: { server: string | null; why: string };
  /** The ranking's tie groups and the overlaps that chain across them (src/report/ties.ts). */
  ties: Ties;
  /** The open loop's curves and knees (src/report/open-loop.ts), for runs made with --open-loop. */
  openLoop?: OpenLoopModel;
  /** The memory experiment of this run folder (memory.json), as stored: memory per connection comes only from it. */
  memory?: MemoryRun;
  /** For a run that asked a precision (run --precision): how every ratio of this report stands against it. */
  precision?: PrecisionStanding & { asked: number; reference: string; plannedRounds: number; addedRounds: number };
  /** The run's budget, s, and by how much and why it passed it (run.json), when it asked one. */
  budget?: { budgetS: number; spentS?: number; over?: { byS: number; why: string } };
}

/** Ratios to the reference with intervals; tie groups and ranks in ranking order (see ties.ts). */
function rank(servers: ServerSummary[], reference: string | null, paired: boolean): Ties {
  const ref = servers.find((s) => s.server === reference);
  if (!ref) return { groups: [], chains: [] };
  // The paired design's ratios are set already (applyPaired); earlier runs pair rounds.
  if (!paired)
    for (const s of servers) if (slopeOf(s) !== null && !unthrottled(s)) s.ratio = ratioInterval(seriesOf(s.loads), seriesOf(ref.loads));
  // The order the table shows (buildModel sorts alike; both sorts are stable from the slope order).
  const ranked = servers.filter((s) => s.ratio !== null).sort((a, b) => a.ratio!.value - b.ratio!.value);
  for (const s of ranked) s.tiedWith = ranked.filter((o) => o !== s && overlaps(o.ratio!, s.ratio!)).map((o) => o.server);
  const ties = tieGroups(ranked.map((s) => s.ratio!));
  ranked.forEach((s, i) => {
    s.rank = ties.rank[i]!;
    s.group = ties.group[i]!;
  });
  return {
    groups: ties.members.map((m) => m.map((i) => ranked[i]!.server)),
    chains: ties.chains.map(([i, j]) => [ranked[i]!.server, ranked[j]!.server]),
  };
}

function chooseReference(servers: readonly ServerSummary[]): Reference {
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

function compare(servers: readonly ServerSummary[], reference: Reference): ComparisonRow[] {
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
      const ratioCi = slope !== null && refOurs && refSlope ? ratioInterval(seriesOf(s.loads), seriesOf(refOurs.loads)) : null;
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

export interface Ties {
  /** Servers of each tie group, fastest group first, in table order. */
  groups: string[][];
  /** Pairs of servers in different groups whose ratio intervals overlap all the same. */
  chains: [string, string][];
}

export interface ModelOptions {
  /** The server ratios divide by (`--reference`); default the run's own, else lighttpd, else native-epoll, else events. */
  reference?: string;
}

export function buildModel(stored: ReportInput, options: ModelOptions = {}): ReportModel {
  const { info: run } = stored;
  const servers = summariseAll(stored);
  // The run's own --reference, where it asked one, unless the report is asked another.
  const ratioReference = chooseRatioReference(servers, options.reference ?? run.plan.reference);
  const paired = run.plan.cycles !== undefined;
  if (paired && ratioReference.server) applyPaired(servers, stored.points, stored.visits ?? [], run.plan, ratioReference.server);
  const ties = rank(servers, ratioReference.server, paired);
  // Ranked by the paired ratio where there is one (it is what the ranks and ties are read from), then by slope.
  // Ranked servers first, so that ranks never decrease down the table; the rest by slope, then in plan order.
  servers.sort(
    (a, b) =>
      Number(a.rank === null) - Number(b.rank === null) ||
      (a.ratio && b.ratio ? a.ratio.value - b.ratio.value : slopeOrder(a) - slopeOrder(b)),
  );
  const reference = chooseReference(servers);
  const notes = reportNotes(stored, servers, reference);
  const precision = precisionOf(stored, ratioReference.server);
  flagImprecise(servers, precision);
  const state = run.interrupted ? 'interrupted' : run.finishedAt ? 'finished' : 'in progress';
  return {
    schema: REPORT_SCHEMA,
    run: { id: run.id, startedAt: run.startedAt, ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}), state },
    plan: run.plan,
    host: run.host,
    environment: run.environment,
    ...(run.hosts ? { hosts: run.hosts } : {}),
    servers,
    skipped: run.skipped,
    warnings: run.warnings,
    notes,
    reference,
    comparison: compare(servers, reference),
    ratioReference,
    ties,
    ...(stored.openPoints ? { openLoop: openLoopModel(stored.openPoints, run.plan.servers) } : {}),
    ...(stored.memory ? { memory: stored.memory } : {}),
    ...(precision ? { precision } : {}),
    ...budgetOf(run),
  };
}

/** Servers by slope; those compared with none (--url) after every slope, those without a slope last. */
const slopeOrder = (s: ServerSummary): number => (unthrottled(s) ? Number.MAX_VALUE : (slopeOf(s) ?? Infinity));

/** One summary per server, planned servers in plan order then any others the points name, sorted by slope. */
function summariseAll({ info: run, points }: ReportInput): ServerSummary[] {
  const names = [...run.plan.servers, ...points.map((p) => p.server)].filter((n, i, all) => all.indexOf(n) === i);
  const servers = names
    .map((name) => points.filter((p) => p.server === name))
    .filter((ps) => ps.length > 0)
    .map((ps) => summarise(ps[0]!.server, ps, run.plan));
  // Stable sort: servers without a slope keep plan order at the end, after those compared with none (--url).
  return servers.sort((a, b) => slopeOrder(a) - slopeOrder(b));
}

/** The stored notes, then what limits this report's reading: the paper's reference, unpinned servers, a single round. */
function reportNotes(stored: ReportInput, servers: readonly ServerSummary[], reference: Reference): string[] {
  const notes = [...stored.notes];
  if (reference.row !== REFERENCE_ROW) notes.push(reference.why);
  for (const s of servers.filter(unthrottled)) {
    notes.push(
      `${s.server} was measured at a URL eventbench did not start (--url): it was not pinned, throttled or sampled, so it is left ` +
        "out of the ranking's ratios and of the comparison with the paper; its slope is its own.",
    );
  }
  if (stored.info.plan.rounds < 2) {
    notes.push(
      'Each point was measured once (one round, one process per server): the intervals cover the scatter of points within ' +
        'that process, not the spread from one process to the next, so ties cannot be told; run with --repeat 3 or more.',
    );
  }
  return notes;
}

/** Flags each server whose ratio missed the precision the run asked (run --precision). */
function flagImprecise(servers: ServerSummary[], precision: ReportModel['precision']): void {
  for (const m of precision?.missed ?? []) {
    const text =
      `ratio to ${precision!.reference} ${halfWidthText(m.halfWidth)} after ${m.rounds} round(s) with it, wider than the ` +
      `${halfWidthText(precision!.asked)} asked (run --precision)`;
    servers.find((s) => s.server === m.server)?.flags.push({ kind: 'imprecise', text });
  }
}

/** The run's budget and what it spent, when it asked one (absent otherwise, as in older results). */
function budgetOf(run: RunInfo): Pick<ReportModel, 'budget'> {
  const { budgetS } = run.plan;
  const spent = run.spentS !== undefined ? { spentS: run.spentS } : {};
  return budgetS !== undefined ? { budget: { budgetS, ...spent, ...(run.overBudget ? { over: run.overBudget } : {}) } } : {};
}

/** How this report's ratios stand against the precision the run asked, when it asked one and has a reference. */
function precisionOf(stored: ReportInput, reference: string | null): ReportModel['precision'] {
  const { info, points } = stored;
  if (info.plan.precision === undefined || reference === null) return undefined;
  const standing = precisionStanding(ratioPrecision(points, info.plan, reference, stored.visits), info.plan.precision);
  const addedRounds = info.addedRounds?.length ?? 0;
  return { asked: info.plan.precision, reference, plannedRounds: info.plan.rounds, addedRounds, ...standing };
}
