// Quantiles of Fisher's F distribution, for the test that tells a server whose own variance is beyond what its
// family's pool predicts. F's distribution function is the regularized incomplete beta function,
//     P(F ≤ x) = I_z(d1/2, d2/2),  z = d1·x / (d1·x + d2),
// evaluated by its continued fraction (modified Lentz), with log Γ by Lanczos' approximation (g = 7, nine terms);
// the quantile by bisection on the distribution function, to a relative 1e-9.

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0, to about 1e-13 relative. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta function at z, for z below (a + 1)/(a + b + 2). */
function betaFraction(a: number, b: number, z: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * z) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [
      (m * (b - m) * z) / ((a + 2 * m - 1) * (a + 2 * m)),
      (-(a + m) * (a + b + m) * z) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_z(a, b), for a, b > 0 and 0 ≤ z ≤ 1. */
export function incompleteBeta(a: number, b: number, z: number): number {
  if (z <= 0) return 0;
  if (z >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(z) + b * Math.log(1 - z));
  return z < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, z)) / a : 1 - (front * betaFraction(b, a, 1 - z)) / b;
}

/** P(F ≤ x) for F with d1 and d2 degrees of freedom. */
export function fCdf(x: number, d1: number, d2: number): number {
  if (x <= 0) return 0;
  return incompleteBeta(d1 / 2, d2 / 2, (d1 * x) / (d1 * x + d2));
}

/** The p quantile of F with d1 and d2 degrees of freedom (d1, d2 > 0; 0 < p < 1). */
export function fQuantile(p: number, d1: number, d2: number): number {
  let lo = 0;
  let hi = 1;
  while (fCdf(hi, d1, d2) < p && hi < 1e12) hi *= 2;
  while (hi - lo > 1e-9 * hi) {
    const mid = (lo + hi) / 2;
    if (fCdf(mid, d1, d2) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
