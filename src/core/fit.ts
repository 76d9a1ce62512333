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

/** Weighted least squares of y on x (weights w), with the weighted r. */
function weighted(xs: readonly number[], ys: readonly number[], w: readonly number[]): LineFit | null {
  const n = xs.length;
  const sw = w.reduce((a, b) => a + b, 0);
  const meanX = xs.reduce((a, x, i) => a + w[i]! * x, 0) / sw;
  const meanY = ys.reduce((a, y, i) => a + w[i]! * y, 0) / sw;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    // Centred sums: exact enough for loads in the thousands and latencies in the seconds.
    const dx = xs[i]! - meanX;
    const dy = ys[i]! - meanY;
    sxx += w[i]! * dx * dx;
    syy += w[i]! * dy * dy;
    sxy += w[i]! * dx * dy;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX, r: syy === 0 ? null : sxy / Math.sqrt(sxx * syy), n };
}

/**
 * The least-squares line through (xs[i], ys[i]); null with fewer than two distinct x (no line is defined).
 * `relative`: each point's error is taken as proportional to its y, as a closed loop's mean latency scatters
 * (about 10% at l = 100 and at l = 1000 alike, measured), so each is weighted by 1/ŷ² (ŷ from the line itself,
 * three passes from the ordinary fit). Ordinary least squares lets the largest loads alone set the slope, with the
 * largest absolute scatter; the weighted line uses every load alike and moves less from run to run. Where the
 * line is not above zero at every x, the ordinary fit is kept. r is always the ordinary Pearson r, as the paper's.
 */
export function fitLine(xs: readonly number[], ys: readonly number[], options: { relative?: boolean } = {}): LineFit | null {
  if (xs.length !== ys.length) throw new RangeError(`fitLine: ${xs.length} x values but ${ys.length} y values`);
  if (xs.length < 2) return null;
  const ordinary = weighted(
    xs,
    ys,
    xs.map(() => 1),
  );
  if (!ordinary || !options.relative) return ordinary;
  let fit = ordinary;
  for (let pass = 0; pass < 3; pass++) {
    const at = xs.map((x) => fit.intercept + fit.slope * x);
    if (at.some((y) => !(y > 0))) return ordinary;
    fit =
      weighted(
        xs,
        ys,
        at.map((y) => 1 / (y * y)),
      ) ?? ordinary;
  }
  return { ...fit, r: ordinary.r };
}
