// Intervals and ties, on synthetic repeats with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlaps, ratioInterval, slopeInterval, type Series } from '../src/report/intervals.js';

const LOADS = [100, 250, 500, 1000];
/** A server on the line intercept + slope·l, each round's latencies scaled by that round's factor. */
const series = (slope: number, factors: number[], wiggle = (_r: number, _i: number) => 1): Series =>
  LOADS.map((load, i) => ({ load, byRound: new Map(factors.map((f, r) => [r + 1, (1 + slope * load) * f * wiggle(r, i)])) }));

test('points exactly on a line: the interval is the estimate itself', () => {
  const s = slopeInterval(series(0.2, [1]))!;
  assert.ok(Math.abs(s.value - 0.2) < 1e-9);
  assert.ok(s.hi - s.lo < 1e-9, `${s.lo}–${s.hi}`);
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

test('a load left with one trusted repeat does not read as certain: the scatter of the other points widens it', () => {
  const noise = (r: number, i: number) => 1 + 0.08 * Math.sin(5.3 * r + 2.9 * i + 1);
  const full = series(0.1, [1, 1, 1], noise);
  // Two loads lose two of their three repeats (flagged), as on a busy machine.
  const thinned: Series = full.map((s, i) => (i % 2 === 0 ? { load: s.load, byRound: new Map([[1, s.byRound.get(1)!]]) } : s));
  const s = slopeInterval(thinned)!;
  assert.ok(s.hi / s.lo > 1.05, `a width from the pooled scatter: ${s.lo}–${s.hi}`);
  assert.ok(s.lo < 0.1 && s.hi > 0.1, `covers the true slope 0.1: ${s.lo}–${s.hi}`);
});

test('honest: over 200 synthetic runs with 10% scatter, the 95% intervals of slope and ratio cover the truth ≥ 85% of the time', () => {
  let state = 12_345;
  const uniform = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const gauss = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const scattered = (slope: number): Series => LOADS.map((load) => ({ load, byRound: new Map([1, 2, 3].map((r) => [r, (2 + slope * load) * (1 + 0.1 * gauss())])) }));
  let slopeIn = 0;
  let ratioIn = 0;
  const trials = 200;
  for (let t = 0; t < trials; t++) {
    const a = scattered(0.2);
    const s = slopeInterval(a, 400)!;
    if (s.lo <= 0.2 && 0.2 <= s.hi) slopeIn++;
    const r = ratioInterval(a, scattered(0.1), 400)!;
    if (r.lo <= 2 && 2 <= r.hi) ratioIn++;
  }
  assert.ok(slopeIn / trials >= 0.85, `slope intervals covered the truth in ${slopeIn} of ${trials}`);
  assert.ok(ratioIn / trials >= 0.85, `ratio intervals covered the truth in ${ratioIn} of ${trials}`);
  assert.ok(slopeIn / trials <= 0.995 && ratioIn / trials <= 0.995, `not absurdly wide: ${slopeIn}, ${ratioIn} of ${trials}`);
});

test('two points leave no scatter to learn from: no interval ([?]), tied with everything, never a zero width', () => {
  const two: Series = [{ load: 100, byRound: new Map([[1, 11]]) }, { load: 1000, byRound: new Map([[1, 101]]) }];
  const s = slopeInterval(two)!;
  assert.ok(Math.abs(s.value - 0.1) < 1e-9);
  assert.equal(s.lo, 0);
  assert.equal(s.hi, Infinity);
  const r = ratioInterval(series(0.2, [1, 1]), two)!;
  assert.ok(Math.abs(r.value - 2) < 0.01, `${r.value}`);
  assert.equal(r.hi, Infinity, 'the ratio over the two points both have');
  assert.equal(overlaps(r, { value: 9, lo: 8, hi: 10 }), true);
});
