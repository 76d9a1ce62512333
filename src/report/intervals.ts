// Uncertainty of a server's slope, and of its ratio to a reference server, from the repeats of one run. Each
// (server, load) was measured once per round; the bootstrap redraws, at every load, as many rounds as it has
// (with replacement), refits the line, and reads the 2.5th and 97.5th percentiles of the refitted slopes. A ratio
// redraws the SAME rounds for both servers at each load: the two were measured minutes apart in each round, so
// the machine's drift, which moves both alike, cancels in the ratio instead of widening it.
import { seededRandom } from '../core/random.js';
import { fitLine } from './fit.js';

/** A server's trusted mean latencies: for each load, the value measured in each round (ms). */
export type Series = { load: number; byRound: Map<number, number> }[];

export interface Interval {
  /** The estimate from all the data. */
  value: number;
  /** 95% bootstrap percentile interval; equal to value when nothing varied (one repeat per load). */
  lo: number;
  hi: number;
}

export const BOOTSTRAP_SAMPLES = 2000;
/** Fixed, so that a report renders the same figures every time it is made from the same results. */
const SEED = 20_090_101;

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function slope(loads: readonly number[], ys: readonly number[]): number | null {
  const fit = fitLine(loads, ys);
  return fit && fit.slope > 0 ? fit.slope : null;
}

function percentiles(samples: number[], value: number): Interval {
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.max(0, Math.round(q * (samples.length - 1))))]!;
  return { value, lo: Math.min(value, at(0.025)), hi: Math.max(value, at(0.975)) };
}

/** Redraws rounds at one load: the mean of `rounds.length` draws with replacement, by `pick`. */
function redraw(rounds: readonly number[], random: () => number): number[] {
  return rounds.map(() => rounds[Math.floor(random() * rounds.length)]!);
}

/** The slope (ms per client) of a server with its 95% interval; null when no positive slope can be fitted. */
export function slopeInterval(series: Series, samples = BOOTSTRAP_SAMPLES): Interval | null {
  const usable = series.filter((s) => s.byRound.size > 0);
  const loads = usable.map((s) => s.load);
  const value = slope(loads, usable.map((s) => mean([...s.byRound.values()])));
  if (value === null) return null;
  const random = seededRandom(SEED);
  const out: number[] = [];
  for (let b = 0; b < samples; b++) {
    const ys = usable.map((s) => {
      const rounds = [...s.byRound.keys()];
      return mean(redraw(rounds, random).map((r) => s.byRound.get(r)!));
    });
    const v = slope(loads, ys);
    if (v !== null) out.push(v);
  }
  return out.length > 0 ? percentiles(out, value) : { value, lo: value, hi: value };
}

/**
 * The ratio of a server's slope to the reference's, with its 95% interval, over the loads and rounds both have;
 * null when either has no positive slope there.
 */
export function ratioInterval(series: Series, reference: Series, samples = BOOTSTRAP_SAMPLES): Interval | null {
  const refAt = new Map(reference.map((s) => [s.load, s.byRound]));
  const common = series
    .map((s) => {
      const ref = refAt.get(s.load);
      const rounds = ref ? [...s.byRound.keys()].filter((r) => ref.has(r)) : [];
      return { load: s.load, rounds, a: s.byRound, b: ref! };
    })
    .filter((c) => c.rounds.length > 0);
  const loads = common.map((c) => c.load);
  const ratio = (pick: (c: (typeof common)[number]) => number[]): number | null => {
    const sa = slope(loads, common.map((c) => mean(pick(c).map((r) => c.a.get(r)!))));
    const sb = slope(loads, common.map((c) => mean(pick(c).map((r) => c.b.get(r)!))));
    return sa !== null && sb !== null ? sa / sb : null;
  };
  const value = ratio((c) => c.rounds);
  if (value === null) return null;
  const random = seededRandom(SEED);
  const out: number[] = [];
  for (let b = 0; b < samples; b++) {
    const draws = new Map(common.map((c) => [c.load, redraw(c.rounds, random)]));
    const v = ratio((c) => draws.get(c.load)!);
    if (v !== null) out.push(v);
  }
  return out.length > 0 ? percentiles(out, value) : { value, lo: value, hi: value };
}

/** Whether two intervals overlap: then neither server is shown faster than the other. */
export const overlaps = (a: Interval, b: Interval): boolean => a.lo <= b.hi && b.lo <= a.hi;
