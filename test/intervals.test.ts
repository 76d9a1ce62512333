// Intervals and ties, on synthetic repeats with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlaps, ratioInterval, slopeInterval, type Series } from '../src/report/intervals.js';

const LOADS = [100, 250, 500, 1000];
/** A server on the line intercept + slope·l, each round's latencies scaled by that round's factor. */
const series = (slope: number, factors: number[], wiggle = (_r: number, _i: number) => 1): Series =>
  LOADS.map((load, i) => ({ load, byRound: new Map(factors.map((f, r) => [r + 1, (1 + slope * load) * f * wiggle(r, i)])) }));

test('one round: the interval is the estimate itself', () => {
  const s = slopeInterval(series(0.2, [1]))!;
  assert.ok(Math.abs(s.value - 0.2) < 1e-9);
  assert.equal(s.lo, s.value);
  assert.equal(s.hi, s.value);
});

test("the machine's drift between rounds widens a slope's interval but cancels in a ratio (rounds paired)", () => {
  const drift = [1, 1.25, 0.9];
  const a = series(0.2, drift);
  const ref = series(0.1, drift);
  const sa = slopeInterval(a)!;
  assert.ok(sa.lo < 0.2 * 0.95 && sa.hi > 0.2 * 1.15, `slope ${sa.lo}–${sa.hi} spans the rounds' drift`);
  assert.ok(sa.lo <= sa.value && sa.value <= sa.hi);
  const r = ratioInterval(a, ref)!;
  assert.ok(Math.abs(r.value - 2) < 1e-9, `ratio ${r.value}`);
  assert.ok(r.hi - r.lo < 0.01 * r.value, `paired, the drift cancels (to under 1%, against the slope's 30%): ${r.lo}–${r.hi}`);
});

test('independent scatter gives a ratio interval around the truth; servers 20% apart are told apart, 2% apart are tied', () => {
  const noise = (seed: number) => (r: number, i: number) => 1 + 0.03 * Math.sin(seed * 7.1 + r * 3.3 + i * 1.9);
  const ref = series(0.1, [1, 1, 1], noise(1));
  const fast = ratioInterval(series(0.1, [1, 1, 1], noise(2)), ref)!;
  const near = ratioInterval(series(0.102, [1, 1, 1], noise(3)), ref)!;
  const slow = ratioInterval(series(0.12, [1, 1, 1], noise(4)), ref)!;
  assert.ok(fast.lo < 1 && fast.hi > 0.97 && fast.hi < 1.06, `fast ${fast.lo}–${fast.hi}`);
  assert.ok(slow.lo > 1.1 && slow.hi < 1.3, `slow ${slow.lo}–${slow.hi}`);
  assert.equal(overlaps(fast, near), true, 'tied');
  assert.equal(overlaps(fast, slow), false, 'told apart');
});

test('a series without a positive slope has no interval and no ratio', () => {
  const flat = LOADS.map((load) => ({ load, byRound: new Map([[1, 5], [2, 5]]) }));
  assert.equal(slopeInterval(flat), null);
  assert.equal(ratioInterval(flat, series(0.1, [1, 1])), null);
  assert.equal(ratioInterval(series(0.1, [1, 1]), flat), null);
});
