// The open loop in the report (runs made with `eventbench run --open-loop`): from open-loop.jsonl, make one curve
// per server of latency (p50, p99) against offered rate, find each server's knee, and lay the knees beside the
// closed-loop slopes. Pure once read; a run without open-loop points has no open-loop section.
//
// The knee: the highest offered rate at which the server's p99 stays under KNEE_FACTOR × its low-load p99 (the p99
// at its lowest measured rate), every lower rate staying under too. Ten times the low-load tail is far past noise
// (repeat runs differ by well under 2×) and well before the p99 of an overloaded server, which grows with the length
// of the point (a queue that never drains). Points flagged client-bound (the client fell behind its schedule) or
// with requests past --max-inflight are shown but cannot be the knee. The knee's spread is the knee each round
// finds alone (a round with none counts as 0), shown as a range beside the knee of all rounds together (the
// table is tables.ts openLoopTable).
import type { OpenPoint } from '../results/schema.js';
import { mean } from '../core/numbers.js';

export const KNEE_FACTOR = 10;

export interface OpenRatePoint {
  rateFraction: number;
  /** Offered rate, requests/s. */
  rateRps: number;
  repeats: number;
  /** Means over repeats, ms. */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  lagP99Ms: number;
  /** Responses per second. */
  throughputRps: number;
  errors: number;
  /** Why it cannot be the knee, or null. */
  flag: string | null;
}

export interface OpenServer {
  server: string;
  capacityRps: number;
  points: OpenRatePoint[];
  lowLoadP99Ms: number | null;
  /** KNEE_FACTOR × lowLoadP99Ms. */
  thresholdMs: number | null;
  /** The knee's offered rate (requests/s) and its fraction of capacity, or null when even the lowest rate is past it. */
  kneeRps: number | null;
  kneeFraction: number | null;
  kneeP99Ms: number | null;
  /** The knee's fraction found in each round alone (null where that round had none): its spread over the rounds. */
  kneeByRound: (number | null)[];
}

export interface OpenLoopModel {
  kneeFactor: number;
  servers: OpenServer[];
}

function ratePoint(ps: OpenPoint[]): OpenRatePoint | null {
  const ok = ps.filter((p) => p.status === 'ok' && p.result && p.result.requests > 0);
  if (ok.length === 0) return null;
  const rs = ok.map((p) => p.result!);
  const pct = (q: string) => mean(rs.map((r) => r.latencyMs.percentiles[q] ?? NaN));
  const notSent = rs.reduce((a, r) => a + (r.errors.inflight ?? 0), 0);
  const bound = ok.filter((p) => p.flags?.some((f) => f.kind === 'client-bound'));
  return {
    rateFraction: ps[0]!.rateFraction,
    rateRps: ps[0]!.rateRps,
    repeats: ok.length,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    p999Ms: pct('99.9'),
    lagP99Ms: mean(rs.map((r) => r.openLoop?.lagMs.percentiles['99'] ?? NaN)),
    throughputRps: mean(rs.map((r) => r.throughputRps)),
    errors: rs.reduce((a, r) => a + r.errors.total, 0),
    flag: bound.length ? 'client-bound (lag)' : notSent > 0 ? `${notSent} past --max-inflight` : null,
  };
}

/** A server's curve (one point per rate, averaging the repeats given), its low-load point and its knee. */
function curveOf(mine: readonly OpenPoint[]) {
  const fractions = [...new Set(mine.map((p) => p.rateFraction))].sort((a, b) => a - b);
  const curve = fractions.map((f) => ratePoint(mine.filter((p) => p.rateFraction === f))).filter((p): p is OpenRatePoint => p !== null);
  const low = curve.find((p) => p.flag === null) ?? null;
  const thresholdMs = low ? KNEE_FACTOR * low.p99Ms : null;
  let knee: OpenRatePoint | null = null;
  for (const p of curve) {
    if (thresholdMs === null || p.flag !== null || !(p.p99Ms <= thresholdMs)) break;
    knee = p;
  }
  return { curve, low, thresholdMs, knee };
}

export function openLoopModel(points: readonly OpenPoint[], order: readonly string[]): OpenLoopModel | undefined {
  if (points.length === 0) return undefined;
  const names = [...order, ...points.map((p) => p.server)].filter(
    (n, i, all) => all.indexOf(n) === i && points.some((p) => p.server === n),
  );
  const servers = names.map((server): OpenServer => {
    const mine = points.filter((p) => p.server === server);
    const { curve, low, thresholdMs, knee } = curveOf(mine);
    const rounds = [...new Set(mine.map((p) => p.round))].sort((a, b) => a - b);
    return {
      server,
      capacityRps: mine[0]!.capacityRps,
      points: curve,
      lowLoadP99Ms: low?.p99Ms ?? null,
      thresholdMs,
      kneeRps: knee?.rateRps ?? null,
      kneeFraction: knee?.rateFraction ?? null,
      kneeP99Ms: knee?.p99Ms ?? null,
      kneeByRound: rounds.map((r) => curveOf(mine.filter((p) => p.round === r)).knee?.rateFraction ?? null),
    };
  });
  return { kneeFactor: KNEE_FACTOR, servers };
}
