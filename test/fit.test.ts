// The least-squares line (src/core/fit.ts): exact lines, a scattered set computed by hand, the relative weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLine } from '../src/core/fit.js';

const close = (got: number | null | undefined, want: number, eps = 1e-9) =>
  assert.ok(got !== null && got !== undefined && Math.abs(got - want) <= eps, `got ${got}, want ${want}`);

test('a known line is found exactly, with r = 1 (or -1)', () => {
  const f = fitLine([1, 2, 3, 4], [3, 5, 7, 9])!;
  close(f.slope, 2);
  close(f.intercept, 1);
  close(f.r, 1);
  assert.equal(f.n, 4);
  close(fitLine([0, 10, 20], [5, 3, 1])!.r, -1);
});

test('a scattered set gives the hand-computed slope, intercept and r', () => {
  // x̄ = 3, ȳ = 4, Sxy = 6, Sxx = 10, Syy = 6: slope 0.6, intercept 2.2, r = 6/√60.
  const f = fitLine([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])!;
  close(f.slope, 0.6);
  close(f.intercept, 2.2);
  close(f.r, 6 / Math.sqrt(60));
  close(f.r, 0.7745966692, 1e-9);
});

test('relative: errors proportional to y weigh every load alike; an exact line is found exactly; r stays ordinary', () => {
  const loads = [100, 250, 500, 1000];
  const line = (l: number) => 2 + 0.1 * l;
  const exact = fitLine(loads, loads.map(line), { relative: true })!;
  close(exact.slope, 0.1);
  close(exact.intercept, 2);
  // l = 1000 measured 10% high: ordinary least squares lets that one point pull the slope 11.7% up; weighted by
  // 1/ŷ², the three loads that agree with each other hold it to 5.6%.
  const ys = loads.map((l, i) => line(l) * [1, 1, 1, 1.1][i]!);
  const ordinary = fitLine(loads, ys)!;
  const relative = fitLine(loads, ys, { relative: true })!;
  close(ordinary.slope, 0.11174, 1e-5);
  close(relative.slope, 0.10561, 1e-5);
  assert.equal(relative.r, ordinary.r);
  // A line that is not above zero at every load keeps the ordinary fit (no weight 1/ŷ² is defined there).
  const falling = fitLine([1, 2, 3], [3, 1, -1], { relative: true })!;
  close(falling.slope, -2);
});

test('no line from fewer than two distinct loads; no r when y is flat', () => {
  assert.equal(fitLine([100], [5]), null);
  assert.equal(fitLine([100, 100], [5, 6]), null);
  assert.equal(fitLine([100, 200], [5, 5])!.r, null);
  assert.throws(() => fitLine([1, 2], [1]), RangeError);
});
