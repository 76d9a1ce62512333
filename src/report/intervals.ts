// Uncertainty of a server's slope, and of its ratio to a reference server, from the trusted points of one run.
// Each (server, load) was measured once per round, but a flagged repeat is left out, so a load may keep one value
// or three: redrawing rounds at each load would read a load with one value as certain. The bootstrap is therefore
// over residuals: the line is fitted to the per-load means as the report fits it (fit.ts, relative), every trusted
// point's deviation from it is expressed as a factor (measured ÷ fitted: the scatter of a closed loop grows with
// its latency), the factors are pooled over all loads and rounds and widened by √(n/(n−2)) for the two parameters
// fitted, and each bootstrap sample puts a factor drawn from the pool on every point, refits, and keeps the slope.
// The 2.5th and 97.5th percentiles of the refitted slopes are the interval. A ratio draws PAIRS of factors, one
// (load, round) measured on both servers at a time: the two were measured minutes apart in the same round, so the
// machine's drift, which moves both alike, cancels in the ratio instead of widening it; when it moved them apart,
// the pair carries that too.
import { seededRandom } from '../core/random.js';
import { fitLine } from '../core/fit.js';
import { mean } from '../core/numbers.js';

/** A server's trusted mean latencies: for each load, the value measured in each round (ms). */
export type Series = { load: number; byRound: Map<number, number> }[];

export interface Interval {
  /** The estimate from all the data. */
  value: number;
  /**
   * 95% bootstrap percentile interval; equal to value when nothing varied; 0 to Infinity when two points were all
   * there was (a line through two points leaves no scatter to learn from: tied with everything).
   */
  lo: number;
  hi: number;
}

/** The interval of an estimate made from too few points to say how far off it may be. */
const unknown = (value: number): Interval => ({ value, lo: 0, hi: Infinity });

export const BOOTSTRAP_SAMPLES = 2000;
/** Fixed, so that a report renders the same figures every time it is made from the same results. */
const SEED = 20_090_101;

/** One server's points, flattened: load, round and the value measured. */
type Obs = { load: number; round: number; y: number }[];

const flatten = (series: Series): Obs => series.flatMap((s) => [...s.byRound].map(([round, y]) => ({ load: s.load, round, y })));

/** The positive slope of the line through the per-load means of `obs`, and its fitted values; null otherwise. */
function fitMeans(obs: Obs, ys: readonly number[] = obs.map((o) => o.y)): { slope: number; at: (load: number) => number } | null {
  const byLoad = new Map<number, number[]>();
  obs.forEach((o, i) => {
    const at = byLoad.get(o.load);
    if (at) at.push(ys[i]!);
    else byLoad.set(o.load, [ys[i]!]);
  });
  const loads = [...byLoad.keys()];
  const fit = fitLine(loads, loads.map((l) => mean(byLoad.get(l)!)), { relative: true });
  return fit && fit.slope > 0 ? { slope: fit.slope, at: (l) => fit.intercept + fit.slope * l } : null;
}

/**
 * Each point's deviation from the fitted line as a factor (or, where the line is not above zero at every point,
 * as a difference), centred and widened by √(n/(n−2)); `apply` puts a deviation back on a fitted value.
 */
function residuals(obs: Obs, at: (load: number) => number): { of: number[]; apply: (fitted: number, r: number) => number } {
  const relative = obs.every((o) => at(o.load) > 0);
  const raw = obs.map((o) => (relative ? o.y / at(o.load) : o.y - at(o.load)));
  const centre = relative ? 1 : 0;
  const m = mean(raw);
  const widen = obs.length > 2 ? Math.sqrt(obs.length / (obs.length - 2)) : 1;
  return {
    of: raw.map((r) => centre + (r - m) * widen),
    apply: relative ? (fitted, r) => fitted * r : (fitted, r) => fitted + r,
  };
}

function percentiles(samples: number[], value: number): Interval {
  if (samples.length === 0) return { value, lo: value, hi: value };
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.max(0, Math.round(q * (samples.length - 1))))]!;
  const lo = Math.min(value, at(0.025));
  const hi = Math.max(value, at(0.975));
  // Points exactly on a line refit to the same slope but for rounding: nothing varied.
  return hi - lo <= 1e-9 * Math.abs(value) ? { value, lo: value, hi: value } : { value, lo, hi };
}

/** The slope (ms per client) of a server with its 95% interval; null when no positive slope can be fitted. */
export function slopeInterval(series: Series, samples = BOOTSTRAP_SAMPLES): Interval | null {
  const obs = flatten(series);
  const fit = fitMeans(obs);
  if (!fit) return null;
  if (obs.length <= 2) return unknown(fit.slope);
  const res = residuals(obs, fit.at);
  const random = seededRandom(SEED);
  const out: number[] = [];
  for (let b = 0; b < samples; b++) {
    const v = fitMeans(obs, obs.map((o) => res.apply(fit.at(o.load), res.of[Math.floor(random() * res.of.length)]!)));
    if (v) out.push(v.slope);
  }
  return percentiles(out, fit.slope);
}

/**
 * The ratio of a server's slope to the reference's, with its 95% interval, over the (load, round) points both
 * have; null when either has no positive slope there.
 */
export function ratioInterval(series: Series, reference: Series, samples = BOOTSTRAP_SAMPLES): Interval | null {
  const refAt = new Map(reference.map((s) => [s.load, s.byRound]));
  const a = flatten(series).filter((o) => refAt.get(o.load)?.has(o.round));
  const b = a.map((o) => ({ ...o, y: refAt.get(o.load)!.get(o.round)! }));
  const fa = fitMeans(a);
  const fb = fitMeans(b);
  if (!fa || !fb) return null;
  if (a.length <= 2) return unknown(fa.slope / fb.slope);
  const ra = residuals(a, fa.at);
  const rb = residuals(b, fb.at);
  const random = seededRandom(SEED);
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const pick = a.map(() => Math.floor(random() * a.length));
    const sa = fitMeans(a, a.map((o, i) => ra.apply(fa.at(o.load), ra.of[pick[i]!]!)));
    const sb = fitMeans(b, b.map((o, i) => rb.apply(fb.at(o.load), rb.of[pick[i]!]!)));
    if (sa && sb) out.push(sa.slope / sb.slope);
  }
  return percentiles(out, fa.slope / fb.slope);
}

/** Whether two intervals overlap: then neither server is shown faster than the other. */
export const overlaps = (a: Interval, b: Interval): boolean => a.lo <= b.hi && b.lo <= a.hi;
