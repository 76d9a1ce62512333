// Ordinary least squares of y on x, and Pearson's r: the paper's Figure 2 reads each server as a straight line,
// mean serving time = intercept + slope · load, and judges it by r (above 0.999 for every server but Apache).

export interface LineFit {
  /** dy/dx, in the units of y per unit of x. */
  slope: number;
  /** y at x = 0. */
  intercept: number;
  /** Pearson's correlation coefficient of x and y, -1..1; null when y does not vary (r is undefined then). */
  r: number | null;
  /** Points fitted. */
  n: number;
}

/** The least-squares line through (xs[i], ys[i]); null with fewer than two distinct x (no line is defined). */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit | null {
  if (xs.length !== ys.length) throw new RangeError(`fitLine: ${xs.length} x values but ${ys.length} y values`);
  const n = xs.length;
  if (n < 2) return null;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    // Centred sums: exact enough for loads in the thousands and latencies in the seconds.
    const dx = xs[i]! - meanX;
    const dy = ys[i]! - meanY;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX, r: syy === 0 ? null : sxy / Math.sqrt(sxx * syy), n };
}
