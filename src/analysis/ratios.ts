// Ratios of servers' slopes, computed once for whoever reads them (the report, and the runner that adds cycles or
// rounds where the intervals are widest): the reference a run divides by; each server's ratio to it with its 95%
// interval (paired in time, cycles nested in processes, ./paired.ts; rounds paired in runs before run/4); the ratio
// of any two servers; how precisely each is placed, against the precision asked.
import type { Interval, Series } from '../core/intervals.js';
import { halfWidth, ratioInterval } from '../core/intervals.js';
import { nestedInterval, type NestedEstimate } from '../core/nested.js';
import type { Plan, Point, VisitRecord } from '../results/schema.js';
import { pairedServers } from './paired.js';
import { seriesOf, slopeOf, summarise, unthrottled, type ServerSummary } from './summary.js';

/**
 * The server every ratio of the ranking divides by: the one asked for, else lighttpd (the paper's reference),
 * else native-epoll (the floor of the C servers), else events (the TypeScript baseline), else the fastest.
 */
export function chooseRatioReference(servers: readonly ServerSummary[], asked?: string): { server: string | null; why: string } {
  const ranked = servers.filter((s) => slopeOf(s) !== null && !unthrottled(s));
  if (asked !== undefined) {
    if (ranked.some((s) => s.server === asked)) return { server: asked, why: `Ratios are to ${asked}, as asked (--reference).` };
    const fallback = chooseRatioReference(servers);
    return { server: fallback.server, why: `${asked} has no slope in this run (asked for with --reference); ${fallback.why}` };
  }
  for (const name of ['lighttpd', 'native-epoll', 'events']) {
    if (ranked.some((s) => s.server === name))
      return {
        server: name,
        why: `Ratios are to ${name}, measured in the same rounds (lighttpd when present, else native-epoll, else events).`,
      };
  }
  const first = ranked[0];
  return first
    ? { server: first.server, why: `Ratios are to ${first.server}, the fastest here (none of lighttpd, native-epoll, events was ranked).` }
    : { server: null, why: 'No server has a positive slope, so there is nothing to divide by.' };
}

/** What the data say of two servers' speeds: the slower one's slope over the faster one's, with its interval. */
export interface KnownRatio {
  faster: string;
  slower: string;
  /** The slower's slope over the faster's, rounds paired (intervals.ts); its interval lies wholly above 1. */
  times: Interval;
}

/**
 * a's slope over b's with its 95% interval: from their paired estimates against the run's reference (the paired
 * design), or over the loads and rounds both have, rounds paired (earlier runs); null when either has no slope.
 */
export function ratioBetween(a: ServerSummary, b: ServerSummary): Interval | null {
  if (a.paired && b.paired) return pairedQuotient(a.paired, b.paired);
  return slopeOf(a) !== null && slopeOf(b) !== null ? ratioInterval(seriesOf(a.loads), seriesOf(b.loads)) : null;
}

/**
 * "slower is times× faster", where the run knows it: the interval of the ratio of the two slopes, over the loads
 * and rounds both have, excludes 1; null where it holds 1 (the two are not told apart) or no ratio can be formed.
 */
export function knownRatio(a: ServerSummary, b: ServerSummary): KnownRatio | null {
  const r = ratioBetween(a, b);
  if (!r) return null;
  if (r.lo > 1) return { faster: b.server, slower: a.server, times: r };
  if (r.hi < 1) return { faster: a.server, slower: b.server, times: { value: 1 / r.value, lo: 1 / r.hi, hi: 1 / r.lo } };
  return null;
}

/** How precisely one run so far places a server against the reference. */
export interface RatioPrecision {
  server: string;
  /** Rounds in which both it and the reference have trusted points. */
  rounds: number;
  /** Its ratio to the reference with the 95% interval; null when none can be formed (no positive slope). */
  ratio: Interval | null;
  /**
   * halfWidth(ratio): 0.1 = ±10%; Infinity when the interval is unbounded or rests on one round (one process per
   * server: the spread from one process to the next, the widest part, is not known yet); null with no ratio.
   */
  halfWidth: number | null;
  /** The paired design: the estimate behind `ratio`, and its processes in order (what one more visit would add). */
  estimate?: NestedEstimate;
  processes?: string[];
}

/**
 * For the runner that adds rounds where they are needed: every server's ratio to `reference` from the points of
 * one run so far (flagged points left out, as in the report), widest interval first (unbounded first, servers
 * with no ratio last); the reference itself is not listed. Pure.
 */
export function ratioPrecision(
  points: readonly Point[],
  plan: Plan,
  reference: string,
  visits: readonly VisitRecord[] = [],
): RatioPrecision[] {
  if (plan.cycles !== undefined) return pairedPrecision(points, plan, reference, visits);
  const seriesBy = new Map<string, Series>();
  for (const s of summaries(points, plan)) seriesBy.set(s.server, seriesOf(s.loads));
  const ref = seriesBy.get(reference) ?? [];
  const refRounds = new Set(ref.flatMap((s) => [...s.byRound.keys()]));
  const out = [...seriesBy]
    .filter(([server]) => server !== reference)
    .map(([server, series]): RatioPrecision => {
      const ratio = ratioInterval(series, ref);
      const rounds = new Set(series.flatMap((s) => [...s.byRound.keys()]).filter((r) => refRounds.has(r))).size;
      return { server, rounds, ratio, halfWidth: !ratio ? null : rounds < 2 ? Infinity : halfWidth(ratio) };
    });
  return out.sort((x, y) => (y.halfWidth ?? -1) - (x.halfWidth ?? -1) || (x.server < y.server ? -1 : 1));
}

/** Every server's summary from one run's points, by slope (fastest first; no slope last, in order of first point). */
function summaries(points: readonly Point[], plan: Plan): ServerSummary[] {
  const out = [...new Set(points.map((p) => p.server))].map((server) =>
    summarise(
      server,
      points.filter((p) => p.server === server),
      plan,
    ),
  );
  return out.sort((a, b) => (slopeOf(a) ?? Infinity) - (slopeOf(b) ?? Infinity));
}

/**
 * The server a run's ratios divide by, from its points so far: the one asked for when it has a slope, else the
 * report's default (lighttpd, else native-epoll, else events, else the fastest); null when no server has a slope.
 * The runner measures it in every added round, so that the report's ratios pair with it.
 */
export function ratioReferenceOf(points: readonly Point[], plan: Plan, asked?: string): string | null {
  return chooseRatioReference(summaries(points, plan), asked).server;
}

/** Which servers' ratio intervals are as narrow as asked, which are not (how wide), which have no ratio. */
export interface PrecisionStanding {
  reached: string[];
  /** halfWidth as a share, null when unbounded (fewer than two rounds with the reference); `rounds` paired with it. */
  missed: { server: string; halfWidth: number | null; rounds: number }[];
  /** No positive slope, so no ratio to sharpen. */
  noRatio: string[];
}

/** How ratioPrecision's servers stand against `asked` (a share: 0.1 is ±10%). Pure. */
export function precisionStanding(precision: readonly RatioPrecision[], asked: number): PrecisionStanding {
  const withRatio = precision.filter((p) => p.halfWidth !== null);
  const bounded = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    reached: withRatio.filter((p) => p.halfWidth! <= asked).map((p) => p.server),
    missed: withRatio
      .filter((p) => p.halfWidth! > asked)
      .map((p) => ({ server: p.server, halfWidth: bounded(p.halfWidth!), rounds: p.rounds })),
    noRatio: precision.filter((p) => p.halfWidth === null).map((p) => p.server),
  };
}

/** The paired design's precision: each server's ratio from its visits, `rounds` counting its visits paired. */
function pairedPrecision(points: readonly Point[], plan: Plan, reference: string, visits: readonly VisitRecord[]): RatioPrecision[] {
  return pairedServers(points, visits, plan, reference)
    .filter((s) => s.server !== reference)
    .map(
      (s): RatioPrecision => ({
        server: s.server,
        rounds: s.estimate?.cycles ?? 0,
        ratio: s.ratio,
        halfWidth: s.ratio ? halfWidth(s.ratio) : null,
        ...(s.estimate ? { estimate: s.estimate, processes: s.processes } : {}),
      }),
    )
    .sort((x, y) => (y.halfWidth ?? -1) - (x.halfWidth ?? -1) || (x.server < y.server ? -1 : 1));
}

/** a's ratio to the reference over b's, from their two paired estimates (their variances added: conservative). */
function pairedQuotient(a: NonNullable<ServerSummary['paired']>, b: NonNullable<ServerSummary['paired']>): Interval | null {
  const variance = a.variance + b.variance;
  const parts = (a.variance > 0 ? a.variance ** 2 / a.df : 0) + (b.variance > 0 ? b.variance ** 2 / b.df : 0);
  const df = parts > 0 ? variance ** 2 / parts : Infinity;
  return nestedInterval({ mean: a.mean - b.mean, variance, df });
}

/**
 * The paired design's figures on the servers' summaries: each one's ratio to `reference` and its estimate, its slope
 * interval (charged for deferred work), its spread by process and by cycle. The reference's own ratio is exactly 1.
 */
export function applyPaired(
  servers: ServerSummary[],
  points: readonly Point[],
  visits: readonly VisitRecord[],
  plan: Plan,
  reference: string,
): void {
  const byServer = new Map(pairedServers(points, visits, plan, reference).map((p) => [p.server, p]));
  for (const s of servers) {
    const p = byServer.get(s.server);
    if (!p || unthrottled(s) || slopeOf(s) === null) continue;
    s.ratio = p.ratio;
    if (p.slope) {
      // The slope shown is the visits' (charged for deferred work), so is the rate it implies (Little's law).
      s.slopeCi = p.slope;
      s.impliedRps = 1000 / p.slope.value;
    }
    const e = p.estimate;
    const base = { deferredShare: p.deferredShare, idleKnown: p.idleKnown };
    s.paired =
      s.server === reference
        ? { mean: 0, variance: 0, df: Infinity, processes: 0, cycles: 0, ...base }
        : e
          ? { mean: e.mean, variance: e.variance, df: e.df, processes: e.processes, cycles: e.cycles, ...base }
          : undefined;
    if (s.paired?.deferredShare === undefined) delete s.paired?.deferredShare;
    if (e)
      s.components = {
        rounds: e.processes,
        processRsd: Math.sqrt(e.processVariance),
        pointRsd: e.cycleVariance === null ? null : Math.sqrt(e.cycleVariance),
      };
  }
}

/** How a run's ratios pair their servers, in words: in time (the paired design), or round by round (runs before run/4). */
export const pairingText = (plan: Pick<Plan, 'cycles'>): string => (plan.cycles !== undefined ? 'paired in time' : 'rounds paired');
