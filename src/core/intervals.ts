// Uncertainty of a server's slope, and of its ratio to a reference server, from the trusted points of one run.
// A round starts every server afresh, and a fresh process is faster or slower at every load of its round (its own
// memory layout, JIT decisions, page placement; Kalibera and Jones, "Rigorous benchmarking in reasonable time",
// 2013): the points of one round are not independent draws, the rounds are. So the unit of the interval is the
// round. Each round's points are read as the server's curve × that round's factor × each point's own factor (a
// two-level model on the log scale, whose two spreads are the `components`); the estimate is the line fitted
// (fit.ts, relative) to the per-load means over every round, a (load, round) left out for a flag filled in from
// its load's level × its round's factor, so that every load averages the same processes. The interval is a
// delete-one-round jackknife of the log of that estimate with Student's t at rounds − 1 degrees of freedom: for
// rounds alike it is close to the t interval of the rounds' own slopes, exact for normal round effects at any
// number of rounds, where a bootstrap over three rounds has ten distinct resamples and covers badly. A ratio drops the same
// round from both servers (measured minutes apart in it), so the machine's drift, which moves both alike,
// cancels. With one round there is no second process to learn from: the jackknife is over loads (t at loads − 2),
// which covers the scatter of points within the one process only.
import { fitLine, type LineFit } from './fit.js';
import { mean } from './numbers.js';

/** A server's trusted mean latencies: for each load, the value measured in each round (ms). */
export type Series = { load: number; byRound: Map<number, number> }[];

export interface Interval {
  /** The estimate from all the data. */
  value: number;
  /**
   * 95% interval; equal to value when nothing varied; 0 to Infinity when the data cannot bound it (two points, or
   * a replicate without a positive slope): tied with everything.
   */
  lo: number;
  hi: number;
}

/** The spread of a server's points around its curve, by level, each as a relative standard deviation. */
export interface Components {
  /** Rounds (fresh processes) the server was measured in. */
  rounds: number;
  /** Of one round's factor on all its points (0.09: a fresh process ±9%); null with one round, or without pointRsd. */
  processRsd: number | null;
  /** Of one point around its round's curve, within one process; null when no degree of freedom is left for it. */
  pointRsd: number | null;
}

/** The interval of an estimate made from too few points to say how far off it may be. */
const unknown = (value: number): Interval => ({ value, lo: 0, hi: Infinity });

/** Two-sided 95% quantiles of Student's t by degrees of freedom, 1 to 30 (beyond: the Cornish–Fisher expansion). */
const T975 = [
  12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281, 2.201, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098,
  2.1009, 2.093, 2.086, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

/** The 97.5th percentile of Student's t with `df` degrees of freedom (to 1e-4); Infinity below 1. */
export function t975(df: number): number {
  if (df < 1) return Infinity;
  const exact = T975[Math.floor(df) - 1];
  if (exact !== undefined) return exact;
  const z = 1.959964;
  const terms = [(z ** 3 + z) / 4, (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96, (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384];
  return z + terms.reduce((a, c, i) => a + c / df ** (i + 1), 0);
}

/** One server's points, flattened: load, round and the value measured. */
type Obs = { load: number; round: number; y: number }[];

const flatten = (series: Series): Obs => series.flatMap((s) => [...s.byRound].map(([round, y]) => ({ load: s.load, round, y })));
const distinct = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

/**
 * The two-level model on the log scale, log y = level(load) + effect(round) + point, fitted by alternating means
 * (two passes when no point is missing); the round effects average to 0.
 */
function twoLevel(obs: Obs): { level: Map<number, number>; effect: Map<number, number>; residuals: number[] } {
  const effect = new Map(distinct(obs.map((o) => o.round)).map((r) => [r, 0]));
  const level = new Map<number, number>();
  const averageInto = (into: Map<number, number>, key: (o: Obs[number]) => number, rest: (o: Obs[number]) => number) => {
    const sums = new Map<number, number[]>();
    for (const o of obs) {
      const at = sums.get(key(o));
      if (at) at.push(Math.log(o.y) - rest(o));
      else sums.set(key(o), [Math.log(o.y) - rest(o)]);
    }
    for (const [k, v] of sums) into.set(k, mean(v));
  };
  for (let pass = 0; pass < 50; pass++) {
    averageInto(
      level,
      (o) => o.load,
      (o) => effect.get(o.round)!,
    );
    const before = [...effect.values()];
    averageInto(
      effect,
      (o) => o.round,
      (o) => level.get(o.load)!,
    );
    const centre = mean([...effect.values()]);
    for (const [r, v] of effect) effect.set(r, v - centre);
    if ([...effect.values()].every((v, i) => Math.abs(v - before[i]!) < 1e-12)) break;
  }
  averageInto(
    level,
    (o) => o.load,
    (o) => effect.get(o.round)!,
  );
  return { level, effect, residuals: obs.map((o) => Math.log(o.y) - level.get(o.load)! - effect.get(o.round)!) };
}

/**
 * Each load's mean over every round of `obs`, a (load, round) left out filled in from the two-level model (its
 * load's level × its round's factor), so that every load averages the same processes; ascending load.
 */
function roundMeans(obs: Obs): { loads: number[]; meansMs: number[] } {
  const loads = distinct(obs.map((o) => o.load));
  const rounds = distinct(obs.map((o) => o.round));
  const at = new Map(obs.map((o) => [`${o.load} ${o.round}`, o.y]));
  const model = at.size < loads.length * rounds.length ? twoLevel(obs) : null;
  const value = (l: number, r: number) => at.get(`${l} ${r}`) ?? Math.exp(model!.level.get(l)! + model!.effect.get(r)!);
  return { loads, meansMs: loads.map((l) => mean(rounds.map((r) => value(l, r)))) };
}

function fitObs(obs: Obs): LineFit | null {
  const { loads, meansMs } = roundMeans(obs);
  return fitLine(loads, meansMs, { relative: true });
}

/** The line a server's trusted points give: fitted (fit.ts, relative) to its per-load means over every round. */
export const fitRounds = (series: Series): LineFit | null => fitObs(flatten(series));

/** The positive slope of the line through `obs`; null when there is none (fewer than two loads, or not rising). */
function slopeOf(obs: Obs): number | null {
  const fit = fitObs(obs);
  return fit && fit.slope > 0 ? fit.slope : null;
}

/**
 * The delete-one jackknife of log(estimate) over the rounds (over the loads with a single round), with Student's
 * t: the 95% interval around estimate(every point). `sets` are the servers' points, the same unit left out of all.
 */
function jackknife(sets: Obs[], estimate: (sets: Obs[]) => number | null): Interval | null {
  const value = estimate(sets);
  if (value === null) return null;
  const rounds = distinct(sets.flatMap((obs) => obs.map((o) => o.round)));
  const byRound = rounds.length > 1;
  const units = byRound ? rounds : distinct(sets.flatMap((obs) => obs.map((o) => o.load)));
  const df = byRound ? units.length - 1 : units.length - 2;
  if (df < 1) return unknown(value);
  const logs: number[] = [];
  for (const unit of units) {
    const v = estimate(sets.map((obs) => obs.filter((o) => (byRound ? o.round : o.load) !== unit)));
    if (v === null) return unknown(value);
    logs.push(Math.log(v));
  }
  const m = mean(logs);
  const half = t975(df) * Math.sqrt(((units.length - 1) / units.length) * logs.reduce((a, x) => a + (x - m) ** 2, 0));
  // Points exactly on a line give the same slope without any one unit but for rounding: nothing varied.
  return half <= 1e-9 ? { value, lo: value, hi: value } : { value, lo: value * Math.exp(-half), hi: value * Math.exp(half) };
}

/** The slope (ms per client) of a server with its 95% interval; null when no positive slope can be fitted. */
export function slopeInterval(series: Series): Interval | null {
  return jackknife([flatten(series)], ([obs]) => slopeOf(obs!));
}

/**
 * The ratio of a server's slope to the reference's, with its 95% interval, over the loads and rounds both have
 * (rounds paired); null when either has no positive slope there.
 */
export function ratioInterval(series: Series, reference: Series): Interval | null {
  const a = flatten(series);
  const b = flatten(reference);
  const both = (key: 'load' | 'round') => new Set(a.map((o) => o[key]).filter((k) => b.some((o) => o[key] === k)));
  const loads = both('load');
  const rounds = both('round');
  const keep = (obs: Obs) => obs.filter((o) => loads.has(o.load) && rounds.has(o.round));
  return jackknife([keep(a), keep(b)], ([x, y]) => {
    const sx = slopeOf(x!);
    const sy = slopeOf(y!);
    return sx !== null && sy !== null ? sx / sy : null;
  });
}

/**
 * The spread of a server's points by level, from the two-level model: the points' own (residual variance over
 * points − rounds − loads + 1 degrees of freedom), and the rounds' (the variance of the round effects less what
 * the points' spread puts into them: one-way random effects, method of moments, at least 0).
 */
export function components(series: Series): Components | null {
  const obs = flatten(series);
  if (obs.length === 0) return null;
  const { effect, residuals } = twoLevel(obs);
  const rounds = effect.size;
  const df = obs.length - rounds - series.filter((s) => s.byRound.size > 0).length + 1;
  const pointVar = df > 0 ? residuals.reduce((a, e) => a + e * e, 0) / df : null;
  if (pointVar === null || rounds < 2) return { rounds, processRsd: null, pointRsd: pointVar === null ? null : Math.sqrt(pointVar) };
  const effects = [...effect.values()];
  const perRound = [...effect.keys()].map((r) => obs.filter((o) => o.round === r).length);
  const between = effects.reduce((a, e) => a + e * e, 0) / (rounds - 1) - mean(perRound.map((n) => pointVar / n));
  return { rounds, processRsd: Math.sqrt(Math.max(0, between)), pointRsd: Math.sqrt(pointVar) };
}

/** Whether two intervals overlap: then neither server is shown faster than the other. */
export const overlaps = (a: Interval, b: Interval): boolean => a.lo <= b.hi && b.lo <= a.hi;

/** Half the interval's width as a share of its value (0.1: ±10%); Infinity for an unbounded interval. */
export const halfWidth = (i: Interval): number => (i.hi - i.lo) / 2 / i.value;

/**
 * The half-width an interval measured over `rounds` would shrink to over `rounds + more`, the rounds' spread
 * staying as measured: t and √rounds both move (log scale). For choosing how many rounds to add, and to whom.
 */
export function projectedHalfWidth(i: Interval, rounds: number, more: number): number {
  if (!Number.isFinite(i.hi) || i.lo <= 0 || rounds < 2) return Infinity;
  const log = Math.log(i.hi / i.lo) / 2;
  const spread = (log / t975(rounds - 1)) * Math.sqrt(rounds);
  const next = rounds + more;
  return Math.sinh((t975(next - 1) * spread) / Math.sqrt(next));
}
