// The report's model: everything the figures and tables show, computed once from the stored run. Pure: the
// renderers only format it. Repeats of one (server, load) are averaged; each server's mean serving time is fitted
// against the offered load (the paper's Figure 2), and its peak memory likewise (bytes per connection).
import { openLoopModel, type OpenLoopModel } from './open-loop.js';
import type { Environment } from '../core/environment.js';
import type { Family, HostSetup, Plan, Point, RunInfo } from '../experiment/schema.js';
import { fitLine, type LineFit } from './fit.js';
import { PAPER_ROWS, REFERENCE_ROW, paperRow } from './paper.js';
import type { StoredRun } from './read.js';

export const REPORT_SCHEMA = 'eventbench.report/1';

/** A point is client-bound when the measured load l_m falls below this share of the offered load l. */
export const CLIENT_BOUND_SHARE = 0.95;

/** One server at one offered load, its ok repeats averaged. */
export interface LoadPoint {
  load: number;
  /** Repeats measured (status ok) and failed. */
  repeats: number;
  failed: number;
  /** Means over the ok repeats. */
  measuredLoad: number;
  meanLatencyMs: number;
  /** Smallest and largest mean latency among the repeats, ms (equal with one repeat). */
  meanLatencyMinMs: number;
  meanLatencyMaxMs: number;
  p99Ms: number;
  throughputRps: number;
  /** Mean of the repeats' peak server RSS, bytes; null when the runner sampled no metrics. */
  peakRssBytes: number | null;
  /** Summed over the repeats. */
  requests: number;
  errors: number;
  /** Growth of the host's ListenOverflows + ListenDrops during the repeats. */
  listenOverflows: number;
  /** measuredLoad < CLIENT_BOUND_SHARE · load. */
  clientBound: boolean;
  /** Whether this point entered the server's fits. */
  inFit: boolean;
}

export type FlagKind = 'client-bound' | 'loadgen-verdict' | 'accept-queue' | 'stopped' | 'ended-early' | 'failed' | 'fit';

export interface Flag {
  kind: FlagKind;
  /** One sentence for the reader. */
  text: string;
}

export interface ServerSummary {
  server: string;
  family: Family;
  /** The paper row it answers, and that row's concurrency model. */
  paperRow?: string;
  paperStyle?: string;
  /** Ascending load; only loads with at least one ok repeat. */
  loads: LoadPoint[];
  /** Mean serving time (ms) against load: slope in ms per client. */
  latencyFit: LineFit | null;
  /** Little's law: a server that adds slope ms per extra client serves 1000/slope requests per second. */
  impliedRps: number | null;
  /** Peak RSS (bytes) against load: slope in bytes per connection. */
  memoryFit: LineFit | null;
  bytesPerConnection: number | null;
  requests: number;
  errors: number;
  flags: Flag[];
}

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
  environment: Environment;
  /** Ranked by slope, fastest first; servers without a fit last, in plan order. */
  servers: ServerSummary[];
  skipped: RunInfo['skipped'];
  /** The runner's warnings, in order. */
  warnings: string[];
  /** What the report itself had to skip, assume or fall back to. */
  notes: string[];
  reference: Reference;
  comparison: ComparisonRow[];
  /** The open loop's curves and knees (src/report/open-loop.ts), for runs made with --open-loop. */
  openLoop?: OpenLoopModel;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const loadsText = (loads: readonly number[]): string => loads.map((l) => `l=${l}`).join(', ');

function aggregate(points: readonly Point[]): LoadPoint | null {
  const ok = points.filter((p) => p.status === 'ok' && p.result);
  if (ok.length === 0) return null;
  const results = ok.map((p) => p.result!);
  const rss = ok.map((p) => p.metrics?.peakRssBytes).filter((v): v is number => typeof v === 'number');
  const load = points[0]!.load;
  const measuredLoad = mean(results.map((r) => r.measuredLoad));
  const means = results.map((r) => r.latencyMs.mean);
  return {
    load,
    repeats: ok.length,
    failed: points.length - ok.length,
    measuredLoad,
    meanLatencyMs: mean(means),
    meanLatencyMinMs: Math.min(...means),
    meanLatencyMaxMs: Math.max(...means),
    p99Ms: mean(results.map((r) => r.latencyMs.percentiles['99'] ?? r.latencyMs.max)),
    throughputRps: mean(results.map((r) => r.throughputRps)),
    peakRssBytes: rss.length === ok.length ? mean(rss) : null,
    requests: results.reduce((a, r) => a + r.requestsCompleted, 0),
    errors: results.reduce((a, r) => a + r.errors.total, 0),
    listenOverflows: ok.reduce((a, p) => a + (p.metrics ? p.metrics.listenOverflows + p.metrics.listenDrops : 0), 0),
    clientBound: measuredLoad < CLIENT_BOUND_SHARE * load,
    inFit: false,
  };
}

function summarise(server: string, points: readonly Point[]): ServerSummary {
  const first = points[0]!;
  const flags: Flag[] = [];
  const byLoad = new Map<number, Point[]>();
  for (const p of points) byLoad.set(p.load, [...(byLoad.get(p.load) ?? []), p]);
  const loads = [...byLoad.keys()].sort((a, b) => a - b)
    .map((l) => aggregate(byLoad.get(l)!))
    .filter((lp): lp is LoadPoint => lp !== null);

  // A client-bound point did not hold l requests in flight, so its latency understates the server's: leave it
  // out of the fit unless that leaves fewer than two loads.
  const clean = loads.filter((lp) => !lp.clientBound);
  const fitted = clean.length >= 2 ? clean : loads;
  for (const lp of fitted) lp.inFit = true;
  const bound = loads.filter((lp) => lp.clientBound).map((lp) => lp.load);
  if (bound.length > 0) {
    flags.push({ kind: 'client-bound', text: `client-bound at ${loadsText(bound)} (l_m < ${CLIENT_BOUND_SHARE}·l)${fitted === clean ? '; left out of the fit' : '; kept in the fit for want of other points'}` });
  }
  const verdicts = points.filter((p) => p.result?.verdict.clientBound && !bound.includes(p.load));
  if (verdicts.length > 0) {
    const reasons = [...new Set(verdicts.flatMap((p) => p.result!.verdict.reasons))];
    flags.push({ kind: 'loadgen-verdict', text: `the load generator may have set the pace at ${loadsText([...new Set(verdicts.map((p) => p.load))])}: ${reasons.join('; ') || 'no reason given'}` });
  }
  const overflowing = loads.filter((lp) => lp.listenOverflows > 0);
  if (overflowing.length > 0) {
    const total = overflowing.reduce((a, lp) => a + lp.listenOverflows, 0);
    flags.push({ kind: 'accept-queue', text: `accept-queue overflows at ${loadsText(overflowing.map((lp) => lp.load))} (${total} host-wide ListenOverflows + ListenDrops)` });
  }
  for (const p of points) {
    if (p.status === 'failed') flags.push({ kind: 'failed', text: `failed at l=${p.load}${p.repeat > 1 ? ` (repeat ${p.repeat})` : ''}: ${p.reason ?? 'no reason recorded'}` });
    if (p.result?.stoppedEarly) flags.push({ kind: 'ended-early', text: `the load run at l=${p.load} ended early: ${p.result.stoppedEarly}` });
    if (p.stopped) flags.push({ kind: 'stopped', text: `stopped after l=${p.load}: ${p.stopped}` });
  }

  const latencyFit = fitLine(fitted.map((lp) => lp.load), fitted.map((lp) => lp.meanLatencyMs));
  const withRss = fitted.filter((lp) => lp.peakRssBytes !== null);
  const memoryFit = fitLine(withRss.map((lp) => lp.load), withRss.map((lp) => lp.peakRssBytes!));
  if (!latencyFit) flags.push({ kind: 'fit', text: `no fit: ${loads.length === 0 ? 'no load was measured' : 'fewer than two loads were measured'}` });
  else if (latencyFit.slope <= 0) flags.push({ kind: 'fit', text: `slope ${latencyFit.slope.toFixed(3)} ms/client is not positive: not ranked` });
  else if (latencyFit.n === 2) flags.push({ kind: 'fit', text: 'fitted on 2 loads only: a line through two points, r = ±1 by construction' });
  const row = paperRow(first.paperRow);
  return {
    server,
    family: first.family,
    ...(first.paperRow !== undefined ? { paperRow: row?.row ?? first.paperRow } : {}),
    ...(row ? { paperStyle: row.style } : {}),
    loads,
    latencyFit,
    impliedRps: latencyFit && latencyFit.slope > 0 ? 1000 / latencyFit.slope : null,
    memoryFit,
    bytesPerConnection: memoryFit ? memoryFit.slope : null,
    requests: loads.reduce((a, lp) => a + lp.requests, 0),
    errors: loads.reduce((a, lp) => a + lp.errors, 0),
    flags,
  };
}

/** The slope a server is ranked and compared by, or null when it has none that means "time per client". */
export const slopeOf = (s: ServerSummary): number | null => (s.latencyFit && s.latencyFit.slope > 0 ? s.latencyFit.slope : null);

function chooseReference(servers: readonly ServerSummary[]): Reference {
  const fitted = servers.filter((s) => slopeOf(s) !== null && s.paperRow !== undefined && paperRow(s.paperRow));
  const lighttpd = fitted.find((s) => s.paperRow === REFERENCE_ROW);
  if (lighttpd) return { server: lighttpd.server, row: REFERENCE_ROW, why: `Ratios are to ${REFERENCE_ROW}, then and now.` };
  const events = fitted.find((s) => s.paperStyle === 'events');
  if (events) {
    return { server: events.server, row: events.paperRow!, why: `${REFERENCE_ROW} is not in this run, so ratios are to the fastest event server here, ${events.server} (it answers the paper's ${events.paperRow}, so the paper's column is divided by ${events.paperRow}).` };
  }
  const any = fitted[0];
  if (any) {
    return { server: any.server, row: any.paperRow!, why: `Neither ${REFERENCE_ROW} nor an event server answering a paper row is in this run, so ratios are to the fastest server that answers one, ${any.server} (the paper's ${any.paperRow}).` };
  }
  return { server: null, row: null, why: 'No server of this run answers a row of the paper with a fitted slope, so there is nothing to compare.' };
}

function compare(servers: readonly ServerSummary[], reference: Reference): ComparisonRow[] {
  const refPaper = reference.row ? paperRow(reference.row)?.slopeMs ?? null : null;
  const refOurs = servers.find((s) => s.server === reference.server);
  const refSlope = refOurs ? slopeOf(refOurs) : null;
  const rows: ComparisonRow[] = [];
  for (const pr of PAPER_ROWS) {
    const paperRank = 1 + PAPER_ROWS.filter((o) => o.slopeMs < pr.slopeMs).length;
    const paperRatio = refPaper ? pr.slopeMs / refPaper : null;
    const ours = servers.filter((s) => s.paperRow === pr.row);
    if (ours.length === 0) rows.push({ row: pr.row, paperSlopeMs: pr.slopeMs, paperRatio, paperRank, slopeMs: null, ratio: null, rankNow: null });
    for (const s of ours) {
      const slope = slopeOf(s);
      rows.push({ row: pr.row, paperSlopeMs: pr.slopeMs, paperRatio, paperRank, server: s.server, slopeMs: slope, ratio: slope !== null && refSlope ? slope / refSlope : null, rankNow: null });
    }
  }
  const slopes = rows.map((r) => r.slopeMs).filter((v): v is number => v !== null);
  for (const r of rows) if (r.slopeMs !== null) r.rankNow = 1 + slopes.filter((v) => v < r.slopeMs!).length;
  return rows;
}

export function buildModel(stored: StoredRun): ReportModel {
  const { run, points } = stored;
  const names = [...run.plan.servers, ...points.map((p) => p.server)].filter((n, i, all) => all.indexOf(n) === i);
  const servers = names
    .map((name) => points.filter((p) => p.server === name))
    .filter((ps) => ps.length > 0)
    .map((ps) => summarise(ps[0]!.server, ps));
  // Stable sort: servers without a slope keep plan order at the end.
  servers.sort((a, b) => (slopeOf(a) ?? Infinity) - (slopeOf(b) ?? Infinity));
  const reference = chooseReference(servers);
  const notes = [...stored.notes];
  if (reference.row !== REFERENCE_ROW) notes.push(reference.why);
  const state = run.interrupted ? 'interrupted' : run.finishedAt ? 'finished' : 'in progress';
  return {
    schema: REPORT_SCHEMA,
    run: { id: run.id, startedAt: run.startedAt, ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}), state },
    plan: run.plan,
    host: run.host,
    environment: run.environment,
    servers,
    skipped: run.skipped,
    warnings: run.warnings,
    notes,
    reference,
    comparison: compare(servers, reference),
    ...(stored.openPoints ? { openLoop: openLoopModel(stored.openPoints, run.plan.servers) } : {}),
  };
}
