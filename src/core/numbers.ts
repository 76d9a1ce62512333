// The two averages every part of eventbench takes of a list of numbers, and the interval of a ratio measured in
// several rounds.

/** The arithmetic mean; NaN for an empty list. */
export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The median (the mean of the two middle values for an even count); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Two-sided 95% quantiles of Student's t for 1 to 30 degrees of freedom. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The two-sided 95% quantile of Student's t with `df` degrees of freedom (past 30, within 0.1% of the exact value). */
export function studentT95(df: number): number {
  if (!(df >= 1)) return NaN;
  return df <= 30 ? T95[Math.floor(df) - 1]! : 1.96 + (T95[29]! - 1.96) * (30 / df);
}

/**
 * The geometric mean of positive ratios (one per round, say) with its 95% interval: Student's t on their logarithms,
 * so that 2× and ½× are equally far from 1. One ratio has no interval (lo 0, hi Infinity); undefined for none.
 */
export function geometricInterval(ratios: readonly number[]): { value: number; lo: number; hi: number } | undefined {
  const logs = ratios.filter((r) => r > 0 && Number.isFinite(r)).map(Math.log);
  if (logs.length === 0) return undefined;
  const m = mean(logs);
  if (logs.length === 1) return { value: Math.exp(m), lo: 0, hi: Infinity };
  const sd = Math.sqrt(logs.reduce((a, x) => a + (x - m) ** 2, 0) / (logs.length - 1));
  const half = (studentT95(logs.length - 1) * sd) / Math.sqrt(logs.length);
  return { value: Math.exp(m), lo: Math.exp(m - half), hi: Math.exp(m + half) };
}
