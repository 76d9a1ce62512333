// The interval of a quantity measured in cycles nested in processes, on the log scale: each process (a fresh server
// started for a round) has its own speed, and each cycle within it (a sweep of the server, seconds long) scatters
// around that speed. The estimate is the mean of the processes' means, each process counting once (so that a process
// measured in more cycles does not outweigh the others); its variance is
//     Var = σ²_process / P + σ²_cycle · Σ_g 1/n_g / P²
// for P processes of n_g cycles each. A server alone has few degrees of freedom for either part (two processes: one;
// a cycle added to one of them: one more), and Student's t at 1 df is 12.7. So both parts borrow from the other
// servers of its family (their runtime decides how much a fresh process varies, a V8 isolate's JIT and heap or a C
// binary's page placement, and how a sweep scatters): the process variance is the family's pool (each server's
// method-of-moments estimate weighted by its degrees of freedom), and the cycle variance is moderated, the server's
// own and the pool's weighted by their degrees of freedom (an empirical-Bayes shrinkage, as limma's for genes measured
// a few times each: Smyth, 2004). A server whose own variance is beyond what the pool allows, by an F test at 1%
// (a bimodal JIT, a leak, a server that varies as its family does not), keeps its own, with its own few degrees of
// freedom, and so a wide interval. The interval is Student's t at Welch–Satterthwaite degrees of freedom.
import { t975, type Interval } from './intervals.js';
import { fQuantile } from './distributions.js';
import { mean } from './numbers.js';

/** One server's values (log scale): one array per process, one value per cycle. */
export type Nested = readonly (readonly number[])[];

/** A variance with its degrees of freedom. */
export interface Pooled {
  variance: number;
  df: number;
}

/** A server's own variance beyond the pool's 99th percentile of F is its own: the test's size, 1%. */
export const OWN_ABOVE = 0.99;

/** The pools of a server's family (its other servers): its process variance, and its cycle variance. */
export interface FamilyPools {
  process: Pooled;
  cycle: Pooled;
}

export interface NestedEstimate {
  /** The mean of the processes' means (log scale). */
  mean: number;
  /** The variance of that mean, and its degrees of freedom (Welch–Satterthwaite); df 0 when it cannot be bounded. */
  variance: number;
  df: number;
  processes: number;
  cycles: number;
  /** Cycles in each process, in the order the groups were given. */
  perProcess: number[];
  /** The cycles' own variance (log scale), or null with no two cycles in one process. */
  cycleVariance: number | null;
  /** The process variance used, and where it came from: the family's pool, the server's own, or none (one process, no pool). */
  processVariance: number;
  processFrom: 'pooled' | 'own' | 'none';
  /** The cycle variance used (log scale), and where it came from: moderated with the pool, its own, the pool's alone, or none. */
  cycleVarianceUsed: number;
  cycleFrom: 'moderated' | 'own' | 'pooled' | 'none';
}

const nonEmpty = (groups: Nested) => groups.filter((g) => g.length > 0);

/** The server's cycle variance: its values' scatter around their process means, with Σ(n_g − 1) df. */
export function cycleVariance(groups: Nested): Pooled | null {
  const gs = nonEmpty(groups);
  const df = gs.reduce((a, g) => a + g.length - 1, 0);
  if (df < 1) return null;
  const ss = gs.reduce((a, g) => {
    const m = mean(g);
    return a + g.reduce((b, x) => b + (x - m) ** 2, 0);
  }, 0);
  return { variance: ss / df, df };
}

/**
 * One server's estimate of the process variance (method of moments: the variance of its process means less what its
 * cycles put into them, at the cycle variance `cycles`), unclipped, with P − 1 df; null with fewer than two processes.
 */
export function ownProcessVariance(groups: Nested, cycles: number): Pooled | null {
  const gs = nonEmpty(groups);
  if (gs.length < 2) return null;
  const means = gs.map((g) => mean(g));
  const m = mean(means);
  const between = means.reduce((a, x) => a + (x - m) ** 2, 0) / (gs.length - 1);
  return { variance: between - cycles * mean(gs.map((g) => 1 / g.length)), df: gs.length - 1 };
}

/** A df-weighted pool of variances, clipped at 0 once pooled; df 0 when there is none. */
function pooled(parts: readonly (Pooled | null)[]): Pooled {
  const own = parts.filter((p): p is Pooled => p !== null);
  const df = own.reduce((a, p) => a + p.df, 0);
  if (df === 0) return { variance: 0, df: 0 };
  return { variance: Math.max(0, own.reduce((a, p) => a + p.df * p.variance, 0) / df), df };
}

/** The cycle variance of a family: its servers' own weighted by their df. */
export const poolCycleVariance = (servers: readonly Nested[]): Pooled => pooled(servers.map((g) => cycleVariance(g)));

/**
 * The pools of a family of servers: its cycle variance, and its process variance, each server's estimate less the
 * cycle variance it would use (a server swept once a process has none of its own: the pool's is taken off).
 */
export function familyPools(servers: readonly Nested[]): FamilyPools {
  const cycle = poolCycleVariance(servers);
  const process = pooled(servers.map((g) => ownProcessVariance(g, cycleUsed(cycleVariance(g), cycle).variance)));
  return { process, cycle };
}

/** Whether a variance with df `df` is beyond what `pool` allows (F test at 1 − OWN_ABOVE). */
const beyond = (variance: number, df: number, expected: number, poolDf: number): boolean =>
  df >= 1 && poolDf >= 1 && expected >= 0 && variance > (expected > 0 ? expected * fQuantile(OWN_ABOVE, df, poolDf) : 0);

/** The cycle variance a server's estimate uses: its own moderated with the pool's, unless its own is beyond it. */
function cycleUsed(own: Pooled | null, pool: Pooled): { variance: number; df: number; from: NestedEstimate['cycleFrom'] } {
  if (own && pool.df > 0 && !beyond(own.variance, own.df, pool.variance, pool.df)) {
    return { variance: (own.df * own.variance + pool.df * pool.variance) / (own.df + pool.df), df: own.df + pool.df, from: 'moderated' };
  }
  if (own) return { ...own, from: 'own' };
  return pool.df > 0 ? { ...pool, from: 'pooled' } : { variance: 0, df: 0, from: 'none' };
}

/** The estimate and its variance for one server, from its family's pools unless its own variance is beyond them. */
export function nestedEstimate(groups: Nested, pools: FamilyPools): NestedEstimate | null {
  const gs = nonEmpty(groups);
  if (gs.length === 0) return null;
  const P = gs.length;
  const means = gs.map((g) => mean(g));
  const base = { mean: mean(means), processes: P, cycles: gs.reduce((a, g) => a + g.length, 0), perProcess: gs.map((g) => g.length) };
  const ownCycles = cycleVariance(gs);
  const cycle = cycleUsed(ownCycles, pools.cycle);
  const perCycle = mean(gs.map((g) => 1 / g.length));
  const known = { cycleVariance: ownCycles?.variance ?? null, cycleVarianceUsed: cycle.variance, cycleFrom: cycle.from };
  // The variance of its process means, against what the pools predict for them.
  const between = P > 1 ? means.reduce((a, x) => a + (x - base.mean) ** 2, 0) / (P - 1) : null;
  const expected = pools.process.variance + cycle.variance * perCycle;
  const poolDf = Math.min(pools.process.df, cycle.df || pools.process.df);
  if (between !== null && (pools.process.df === 0 || beyond(between, P - 1, expected, poolDf))) {
    // Its own processes alone: the variance of their means over P, with P − 1 df (cycles included in it).
    const processVariance = Math.max(0, between - (ownCycles?.variance ?? 0) * perCycle);
    return { ...base, ...known, variance: between / P, df: P - 1, processVariance, processFrom: 'own' };
  }
  const a = pools.process.variance / P;
  const b = (cycle.variance * perCycle) / P;
  const variance = a + b;
  const processFrom = pools.process.df > 0 ? 'pooled' : 'none';
  const rest = { ...base, ...known, processVariance: pools.process.variance, processFrom } as const;
  if (variance === 0) return { ...rest, variance: 0, df: pools.process.df > 0 || cycle.df > 0 ? Infinity : 0 };
  // Welch–Satterthwaite: each part's square over its own df.
  const parts = (a > 0 ? (a * a) / pools.process.df : 0) + (b > 0 ? (cycle.df > 0 ? (b * b) / cycle.df : Infinity) : 0);
  return { ...rest, variance, df: parts === 0 ? 0 : (variance * variance) / parts };
}

/**
 * The variance an estimate's mean would have with `counts` cycles in its processes (its own counts, one more cycle in
 * one of them, or one more process), at the process and cycle variances it used.
 */
export function varianceWith(e: NestedEstimate, counts: readonly number[]): number {
  const P = counts.length;
  return e.processVariance / P + (e.cycleVarianceUsed * counts.reduce((a, n) => a + 1 / n, 0)) / (P * P);
}

/** exp(mean ± t · √variance): the 95% interval of the quantity itself; unbounded when the estimate has no df. */
export function nestedInterval(e: Pick<NestedEstimate, 'mean' | 'variance' | 'df'>): Interval {
  const value = Math.exp(e.mean);
  if (e.variance === 0 && e.df > 0) return { value, lo: value, hi: value };
  if (!(e.df >= 1)) return { value, lo: 0, hi: Infinity };
  const half = t975(e.df) * Math.sqrt(e.variance);
  return { value, lo: value * Math.exp(-half), hi: value * Math.exp(half) };
}
