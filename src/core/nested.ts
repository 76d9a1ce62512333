// The interval of a quantity measured in cycles nested in processes, on the log scale: each process (a fresh server
// started for a round) has its own speed, and each cycle within it (a sweep of the server, seconds long) scatters
// around that speed. The estimate is the mean of the processes' means, each process counting once (so that a process
// measured in more cycles does not outweigh the others); its variance is
//     Var = σ²_process / P + Σ_g σ²_cycle / (P² n_g)
// for P processes of n_g cycles each. The cycle variance is the server's own (its cycles' scatter around their
// process's mean, Σ(n_g − 1) degrees of freedom). The process variance cannot be learnt from a server's own two or
// three processes (one or two degrees of freedom: Student's t at 1 df is 12.7), so it is pooled over the servers of
// one family (their runtime decides how much a fresh process varies: a V8 isolate's JIT and heap, or a C binary's
// page placement), each server's method-of-moments estimate weighted by its degrees of freedom. A server whose own
// processes differ far beyond that pool (its between-process variance over EXTREME times what the pool predicts: a
// bimodal JIT, a leak) keeps its own, with its own few degrees of freedom, and so a wide interval. The interval is
// Student's t at Welch–Satterthwaite degrees of freedom.
import { t975, type Interval } from './intervals.js';
import { mean } from './numbers.js';

/** One server's values (log scale): one array per process, one value per cycle. */
export type Nested = readonly (readonly number[])[];

/** A variance with its degrees of freedom. */
export interface Pooled {
  variance: number;
  df: number;
}

/**
 * A server's own processes differing by this many times more than the pool predicts keep their own variance: for
 * one degree of freedom against a pool of 10 to 30, about the 99th percentile of F (10.0 at 10, 7.6 at 30).
 */
export const EXTREME = 8;

export interface NestedEstimate {
  /** The mean of the processes' means (log scale). */
  mean: number;
  /** The variance of that mean, and its degrees of freedom (Welch–Satterthwaite); df 0 when it cannot be bounded. */
  variance: number;
  df: number;
  processes: number;
  cycles: number;
  /** The cycles' own variance (log scale), or null with no two cycles in one process. */
  cycleVariance: number | null;
  /** The process variance used, and where it came from: the family's pool, the server's own, or none (one process, no pool). */
  processVariance: number;
  processFrom: 'pooled' | 'own' | 'none';
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
 * cycles put into them), unclipped, with P − 1 df; null with fewer than two processes.
 */
export function ownProcessVariance(groups: Nested, cycles = cycleVariance(groups)): Pooled | null {
  const gs = nonEmpty(groups);
  if (gs.length < 2) return null;
  const means = gs.map((g) => mean(g));
  const m = mean(means);
  const between = means.reduce((a, x) => a + (x - m) ** 2, 0) / (gs.length - 1);
  const noise = cycles ? cycles.variance * mean(gs.map((g) => 1 / g.length)) : 0;
  return { variance: between - noise, df: gs.length - 1 };
}

/** The process variance of a family: its servers' own estimates weighted by their df, clipped at 0 once pooled. */
export function poolProcessVariance(servers: readonly Nested[]): Pooled {
  const own = servers.map((g) => ownProcessVariance(g)).filter((p): p is Pooled => p !== null);
  const df = own.reduce((a, p) => a + p.df, 0);
  if (df === 0) return { variance: 0, df: 0 };
  return { variance: Math.max(0, own.reduce((a, p) => a + p.df * p.variance, 0) / df), df };
}

/** The estimate and its variance for one server, its process variance from `pool` unless its own is extreme. */
export function nestedEstimate(groups: Nested, pool: Pooled): NestedEstimate | null {
  const gs = nonEmpty(groups);
  if (gs.length === 0) return null;
  const P = gs.length;
  const cycles = cycleVariance(gs);
  const base = { mean: mean(gs.map((g) => mean(g))), processes: P, cycles: gs.reduce((a, g) => a + g.length, 0) };
  const cycleVar = cycles?.variance ?? null;
  const perCycle = gs.reduce((a, g) => a + 1 / g.length, 0) / (P * P);
  const own = ownProcessVariance(gs, cycles);
  const expected = pool.variance + (cycleVar ?? 0) * mean(gs.map((g) => 1 / g.length));
  const extreme = own !== null && pool.df > 0 && own.variance + (cycleVar ?? 0) * mean(gs.map((g) => 1 / g.length)) > EXTREME * expected;
  if (extreme || (pool.df === 0 && own !== null)) {
    // Its own processes alone: the variance of their means over P, with P − 1 df (cycles included in it).
    const means = gs.map((g) => mean(g));
    const between = means.reduce((a, x) => a + (x - base.mean) ** 2, 0) / (P - 1);
    return {
      ...base,
      variance: between / P,
      df: P - 1,
      cycleVariance: cycleVar,
      processVariance: Math.max(0, own!.variance),
      processFrom: 'own',
    };
  }
  const a = pool.variance / P;
  const b = (cycleVar ?? 0) * perCycle;
  const variance = a + b;
  const processFrom = pool.df > 0 ? 'pooled' : 'none';
  if (variance === 0) return { ...base, variance: 0, df: Infinity, cycleVariance: cycleVar, processVariance: pool.variance, processFrom };
  // Welch–Satterthwaite: each part's square over its own df.
  const parts = (pool.df > 0 ? (a * a) / pool.df : 0) + (cycles ? (b * b) / cycles.df : b > 0 ? Infinity : 0);
  const df = parts === 0 ? 0 : (variance * variance) / parts;
  return {
    ...base,
    variance,
    df: cycles === null && pool.df === 0 ? 0 : df,
    cycleVariance: cycleVar,
    processVariance: pool.variance,
    processFrom,
  };
}

/** exp(mean ± t · √variance): the 95% interval of the quantity itself; unbounded when the estimate has no df. */
export function nestedInterval(e: NestedEstimate): Interval {
  const value = Math.exp(e.mean);
  if (e.variance === 0 && e.df > 0) return { value, lo: value, hi: value };
  if (!(e.df >= 1)) return { value, lo: 0, hi: Infinity };
  const half = t975(e.df) * Math.sqrt(e.variance);
  return { value, lo: value * Math.exp(-half), hi: value * Math.exp(half) };
}
