// What a run's closed-loop points say of each server, computed once for whoever reads them (the report, and the
// runner that adds cycles where the intervals are widest): per server and load, the repeats averaged with their
// flags; the mean serving time fitted against the offered load (the paper's Figure 2), with its interval; the flags
// that say why a line is missing or thin. Ratios between servers are ./ratios.ts. A repeat that served nothing is
// not a value: it is counted and said, never averaged in as 0.
import type { LineFit } from '../core/fit.js';
import { components, fitRounds, slopeInterval } from '../core/intervals.js';
import type { Components, Interval, Series } from '../core/intervals.js';
import { mean } from '../core/numbers.js';
import { mergeBuckets } from '../load/distribution.js';
import { errorKinds } from '../load/format.js';
import type { LatencyBuckets } from '../load/types.js';
import type { Family, Plan, Point } from '../results/schema.js';
import { CAVEAT_FLAGS, flagsOf, POINT_FLAG_KINDS, type PointFlagKind } from '../results/verdict.js';
import { paperRow } from '../servers/paper.js';

/** One server at one offered load, its ok repeats averaged. */
export interface LoadPoint {
  load: number;
  /** Repeats that served at least one request, and repeats that failed or served nothing. */
  repeats: number;
  failed: number;
  /** Means over the ok repeats. */
  measuredLoad: number;
  /** Requests in flight past their TCP handshake (src/load/types.ts connectedLoad); null for results without it. */
  connectedLoad: number | null;
  meanLatencyMs: number;
  /** Smallest and largest mean latency among the repeats, ms (equal with one repeat). */
  meanLatencyMinMs: number;
  meanLatencyMaxMs: number;
  p99Ms: number;
  /**
   * Requests/s over the repeats whose kept window had a steady part; null when none had (a point that served a
   * few requests all started at once, as `threads` at l=10): no rate was measured, which is not 0.
   */
  throughputRps: number | null;
  /** Mean of the repeats' peak server RSS under load, bytes; null when the runner sampled no metrics. */
  peakRssBytes: number | null;
  /** Means over the repeats of Jain's index and the slowest client's share (src/load/types.ts Fairness); null before load/3. */
  fairness: { jainIndex: number; slowestClientShare: number } | null;
  /** The repeats' latency distributions pooled (bucket counts added); null before load/3. */
  latencyBuckets: LatencyBuckets | null;
  /** Summed over the repeats. */
  requests: number;
  errors: number;
  /** Growth of the host's ListenOverflows + ListenDrops during the repeats. */
  listenOverflows: number;
  /** Whether a repeat at this load was flagged client-bound (its l_m under CLIENT_BOUND_SHARE · l, or the client's CPU full). */
  clientBound: boolean;
  /** Every kind of flag its repeats carried (src/results/verdict.ts). */
  flags: PointFlagKind[];
  /** Repeats with no flag: the figures above average only these when there are any, and only these enter fits. */
  trusted: number;
  /** Mean latency of each trusted repeat, by round (ms): what the intervals redraw. */
  byRound: Record<number, number>;
  /** Whether this point entered the server's fits. */
  inFit: boolean;
}

/** `imprecise`: the server's ratio interval to the reference is wider than the run's --precision asked. */
export type FlagKind = PointFlagKind | 'accept-queue' | 'stopped' | 'ended-early' | 'failed' | 'served-nothing' | 'fit' | 'imprecise';

export interface Flag {
  kind: FlagKind;
  /** One sentence for the reader. */
  text: string;
}

export interface ServerSummary {
  server: string;
  family: Family;
  /** A user's own server (family "user"): its label, as its servers file gave it. */
  label?: string;
  /** The paper row it answers, and that row's concurrency model. */
  paperRow?: string;
  paperStyle?: string;
  /** Ascending load; only loads with at least one repeat that served something. */
  loads: LoadPoint[];
  /** Loads tried where no repeat served anything (each failed, or got no response): no value, never a 0. */
  notMeasured: { load: number; why: 'failed' | 'served nothing' }[];
  /**
   * Mean serving time (ms) against load: slope in ms per client. Fitted to each load's mean over every round, a
   * load a flag left without a round filled in from that round's factor (intervals.ts), so that every load
   * averages the same processes; with every round trusted at every load, the plain per-load means.
   */
  latencyFit: LineFit | null;
  /** Little's law: a server that adds slope ms per extra client serves 1000/slope requests per second. */
  impliedRps: number | null;
  /** The slope with its 95% interval over the rounds (ms per client, intervals.ts); null without a positive slope. */
  slopeCi: Interval | null;
  /**
   * The slope over the run's reference server's, with its 95% interval: paired in time, cycles nested in processes
   * (the paired design, ./paired.ts), or rounds paired (earlier runs); null for no ratio.
   */
  ratio: Interval | null;
  /**
   * The paired design's estimate behind `ratio` (log scale: mean, its variance and degrees of freedom; processes and
   * cycles), and the CPU its server deferred past its sweeps as a share of theirs, charged to its slope.
   */
  paired?: { mean: number; variance: number; df: number; processes: number; cycles: number; deferredShare?: number; idleKnown: boolean };
  /** The spread of its trusted points by level, process (round) and point; null when it has none. */
  components: Components | null;
  /**
   * 1 = fastest: one more than the servers in the tie groups above this one's, shared by its group (src/report/ties.ts),
   * so ranks never decrease down the table. Null when not ranked.
   */
  rank: number | null;
  /** Its tie group, 1 = the fastest: a run of servers down the ranking whose ratio intervals all overlap. */
  group: number | null;
  /** The servers whose ratio interval overlaps this one's, in its group or (where overlaps chain) beyond it. */
  tiedWith: string[];
  requests: number;
  errors: number;
  flags: Flag[];
}

const loadsText = (loads: readonly number[]): string => loads.map((l) => `l=${l}`).join(', ');

/** Whether a point measured something: it ran and at least one request got a response in its kept window. */
export const served = (p: Point): boolean => p.status === 'ok' && p.result !== undefined && p.result.requests > 0;

/** "all 100 requests failed (100 timeout)": what became of a point that served nothing. */
function errorsText(p: Point): string {
  const e = p.result!.errors;
  return e.total > 0 ? `all ${p.result!.requestsCompleted} requests failed (${errorKinds(e)})` : 'no request got a response';
}

function aggregate(points: readonly Point[], plan: Plan): LoadPoint | null {
  const ok = points.filter(served);
  if (ok.length === 0) return null;
  const flagsByPoint = ok.map((p) => flagsOf(p, plan));
  const trusted = ok.filter((_, i) => flagsByPoint[i]!.every((f) => CAVEAT_FLAGS.includes(f.kind)));
  // Figures average the trusted repeats; a load with none still shows what was measured, out of the fits.
  const shown = trusted.length > 0 ? trusted : ok;
  const results = shown.map((p) => p.result!);
  const rss = shown.map((p) => p.metrics?.peakRssBytes).filter((v): v is number => typeof v === 'number');
  const means = results.map((r) => r.latencyMs.mean);
  const kinds = [...new Set(flagsByPoint.flat().map((f) => f.kind))];
  const rates = results.map((r) => r.throughputRps).filter((v) => v > 0);
  const fair = results.every((r) => r.fairness) ? results.map((r) => r.fairness!) : [];
  const buckets = results.every((r) => r.latencyBuckets) ? mergeBuckets(results.map((r) => r.latencyBuckets!)) : undefined;
  return {
    load: points[0]!.load,
    repeats: ok.length,
    failed: points.length - ok.length,
    measuredLoad: mean(results.map((r) => r.measuredLoad)),
    connectedLoad: results.every((r) => r.connectedLoad !== undefined) ? mean(results.map((r) => r.connectedLoad!)) : null,
    meanLatencyMs: mean(means),
    meanLatencyMinMs: Math.min(...means),
    meanLatencyMaxMs: Math.max(...means),
    p99Ms: mean(results.map((r) => r.latencyMs.percentiles['99'] ?? r.latencyMs.max)),
    throughputRps: rates.length > 0 ? mean(rates) : null,
    peakRssBytes: rss.length === shown.length ? mean(rss) : null,
    fairness:
      fair.length > 0
        ? { jainIndex: mean(fair.map((f) => f.jainIndex)), slowestClientShare: mean(fair.map((f) => f.slowestClientShare)) }
        : null,
    latencyBuckets: buckets ?? null,
    requests: ok.reduce((a, p) => a + p.result!.requestsCompleted, 0),
    errors: ok.reduce((a, p) => a + p.result!.errors.total, 0),
    listenOverflows: ok.reduce((a, p) => a + ((p.metrics?.listenOverflows ?? 0) + (p.metrics?.listenDrops ?? 0)), 0),
    clientBound: kinds.includes('client-bound'),
    flags: kinds,
    trusted: trusted.length,
    byRound: Object.fromEntries(trusted.map((p) => [p.round, p.result!.latencyMs.mean])),
    inFit: false,
  };
}

export function summarise(server: string, points: readonly Point[], plan: Plan): ServerSummary {
  const first = points[0]!;
  const { loads, notMeasured } = loadPoints(points, plan);
  // A flagged repeat did not measure the server at a steady state under its quota with l requests in flight:
  // it is shown, never fitted.
  const fitted = loads.filter((lp) => lp.trusted > 0);
  for (const lp of fitted) lp.inFit = true;
  const flags = [...kindFlags(points, plan), ...eventFlags(points, loads)];
  const latencyFit = fitRounds(seriesOf(loads));
  const fit = fitFlag(latencyFit, fitted.length);
  if (fit) flags.push(fit);
  const slopeCi = latencyFit && latencyFit.slope > 0 ? slopeInterval(seriesOf(loads)) : null;
  const row = paperRow(first.paperRow);
  const ran = points.filter((p) => p.status === 'ok' && p.result);
  return {
    server,
    family: first.family,
    ...(first.label !== undefined ? { label: first.label } : {}),
    ...(first.paperRow !== undefined ? { paperRow: row?.row ?? first.paperRow } : {}),
    ...(row ? { paperStyle: row.style } : {}),
    loads,
    notMeasured,
    latencyFit,
    impliedRps: latencyFit && latencyFit.slope > 0 ? 1000 / latencyFit.slope : null,
    slopeCi,
    ratio: null,
    components: components(seriesOf(loads)),
    rank: null,
    group: null,
    tiedWith: [],
    // Every point that ran, those that served nothing included: their errors are the reason.
    requests: ran.reduce((a, p) => a + p.result!.requestsCompleted, 0),
    errors: ran.reduce((a, p) => a + p.result!.errors.total, 0),
    flags,
  };
}

/** A server's points gathered by load: the loads that measured something, and why the others did not. */
function loadPoints(points: readonly Point[], plan: Plan): Pick<ServerSummary, 'loads' | 'notMeasured'> {
  const byLoad = new Map<number, Point[]>();
  for (const p of points) byLoad.set(p.load, [...(byLoad.get(p.load) ?? []), p]);
  const tried = [...byLoad.keys()].sort((a, b) => a - b);
  const loads = tried.map((l) => aggregate(byLoad.get(l)!, plan)).filter((lp): lp is LoadPoint => lp !== null);
  const notMeasured = tried
    .filter((l) => !loads.some((lp) => lp.load === l))
    .map((load) => ({ load, why: byLoad.get(load)!.some((p) => p.status === 'ok') ? ('served nothing' as const) : ('failed' as const) }));
  return { loads, notMeasured };
}

/** Each kind of point flag (src/results/verdict.ts) said once, with the loads and the first reason given. */
function kindFlags(points: readonly Point[], plan: Plan): Flag[] {
  const flags: Flag[] = [];
  for (const kind of POINT_FLAG_KINDS) {
    const hit = points.filter((p) => served(p) && flagsOf(p, plan).some((f) => f.kind === kind));
    if (hit.length === 0) continue;
    const at = [...new Set(hit.map((p) => p.load))];
    const why = flagsOf(hit[0]!, plan).find((f) => f.kind === kind)!.why;
    const fit = CAVEAT_FLAGS.includes(kind) ? 'kept in its own fit' : 'those left out of the fit';
    flags.push({
      kind,
      text: `${kind} at ${loadsText(at)} (${hit.length} of ${points.length} points; ${fit}): ${why}${hit.length > 1 ? '; ...' : ''}`,
    });
  }
  return flags;
}

/** What happened around the measurement: accept-queue overflows, points that served nothing, failed or were stopped. */
function eventFlags(points: readonly Point[], loads: readonly LoadPoint[]): Flag[] {
  const flags: Flag[] = [];
  const overflowing = loads.filter((lp) => lp.listenOverflows > 0);
  if (overflowing.length > 0) {
    const total = overflowing.reduce((a, lp) => a + lp.listenOverflows, 0);
    flags.push({
      kind: 'accept-queue',
      text: `accept-queue overflows at ${loadsText(overflowing.map((lp) => lp.load))} (${total} host-wide ListenOverflows + ListenDrops)`,
    });
  }
  const empty = points.filter((p) => p.status === 'ok' && !served(p));
  if (empty.length > 0) {
    const at = loadsText([...new Set(empty.map((p) => p.load))]);
    const text = `served nothing at ${at} (${empty.length} of ${points.length} points): ${errorsText(empty[0]!)}; not drawn, not fitted`;
    flags.push({ kind: 'served-nothing', text });
  }
  for (const p of points) {
    if (p.status === 'failed')
      flags.push({
        kind: 'failed',
        text: `failed at l=${p.load}${p.round > 1 ? ` (round ${p.round})` : ''}: ${p.reason ?? 'no reason recorded'}`,
      });
    if (p.result?.stoppedEarly)
      flags.push({ kind: 'ended-early', text: `the load run at l=${p.load} ended early: ${p.result.stoppedEarly}` });
    if (p.stopped) flags.push({ kind: 'stopped', text: `stopped after l=${p.load}: ${p.stopped}` });
  }
  return flags;
}

/** Why a server's line is missing, unranked or thin (a fit on `fittedLoads` loads); undefined when it is sound. */
function fitFlag(latencyFit: LineFit | null, fittedLoads: number): Flag | undefined {
  if (!latencyFit)
    return {
      kind: 'fit',
      text: `no fit: ${fittedLoads === 0 ? 'no load was measured without a flag' : 'fewer than two loads were measured without a flag'}`,
    };
  if (latencyFit.slope <= 0) return { kind: 'fit', text: `slope ${latencyFit.slope.toFixed(3)} ms/client is not positive: not ranked` };
  if (latencyFit.n === 2) return { kind: 'fit', text: 'fitted on 2 loads only: a line through two points, r = ±1 by construction' };
  return undefined;
}

/** A server's trusted mean latencies by load and round, for the intervals. */
export const seriesOf = (loads: readonly LoadPoint[]): Series =>
  loads
    .filter((lp) => lp.inFit)
    .map((lp) => ({ load: lp.load, byRound: new Map(Object.entries(lp.byRound).map(([r, v]) => [Number(r), v])) }));

/** A server eventbench did not start (`run --url`): its slope is its own, compared with no other's. */
export const unthrottled = (s: ServerSummary): boolean => s.flags.some((f) => f.kind === 'unthrottled');

/** The slope a server is ranked and compared by, or null when it has none that means "time per client". */
export const slopeOf = (s: ServerSummary): number | null => (s.latencyFit && s.latencyFit.slope > 0 ? s.latencyFit.slope : null);
