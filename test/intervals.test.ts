// Intervals and ties, on synthetic repeats with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { components, halfWidth, overlaps, projectedHalfWidth, ratioInterval, slopeInterval, t975 } from '../src/core/intervals.js';
import type { Series } from '../src/core/intervals.js';
import { seededRandom } from '../src/core/random.js';

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
  const flat = LOADS.map((load) => ({
    load,
    byRound: new Map([
      [1, 5],
      [2, 5],
    ]),
  }));
  assert.equal(slopeInterval(flat), null);
  assert.equal(ratioInterval(flat, series(0.1, [1, 1])), null);
  assert.equal(ratioInterval(series(0.1, [1, 1]), flat), null);
});

test('a load left with one trusted round is filled in from its round: a slow process missing its top load does not bend the line', () => {
  // No point noise, round 1 a process 25% slower at every load, its l = 1000 flagged and left out.
  const full = series(0.2, [1.25, 1, 1]);
  const withoutRound1 = (s: Series[number]) => ({ load: s.load, byRound: new Map([...s.byRound].filter(([r]) => r !== 1)) });
  const thinned: Series = full.map((s) => (s.load === 1000 ? withoutRound1(s) : s));
  const want = slopeInterval(full)!.value;
  const got = slopeInterval(thinned)!;
  assert.ok(Math.abs(got.value / want - 1) < 1e-9, `${got.value} vs ${want} with every point`);
  assert.ok(got.lo < want && want < got.hi, `the rounds disagree (by 25%), so there is a width: ${got.lo}–${got.hi}`);
});

test('a load with a single round: deleting that round moves the slope, and the interval widens with it', () => {
  const noise = (r: number, i: number) => 1 + 0.08 * Math.sin(5.3 * r + 2.9 * i + 1);
  const full = series(0.1, [1, 1, 1], noise);
  // Two loads lose two of their three rounds (flagged), as on a busy machine.
  const thinned: Series = full.map((s, i) => (i % 2 === 0 ? { load: s.load, byRound: new Map([[1, s.byRound.get(1)!]]) } : s));
  const a = slopeInterval(full)!;
  const b = slopeInterval(thinned)!;
  assert.ok(b.hi / b.lo > a.hi / a.lo, `wider with fewer points: ${b.lo}–${b.hi} against ${a.lo}–${a.hi}`);
  assert.ok(b.lo < 0.1 && b.hi > 0.1, `covers the true slope 0.1: ${b.lo}–${b.hi}`);
});

/** Normal deviates from a seeded generator (Box–Muller), so that the simulations are the same every time. */
function gaussian(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const RUN_LOADS = [10, 100, 250, 500, 1000];

/**
 * One simulated run of two servers (slopes 0.2 and 0.1 ms/client, 1 ms at l = 0) over `rounds` rounds: each
 * server's process in each round scales all its points by 1 + process·N(0,1); the machine's drift scales both
 * servers' points in a round alike by 1 + 5%·N(0,1); each point has its own 1 + point·N(0,1); about a tenth of
 * the points are left out, as flags leave them out.
 */
function simulatedRun(g: () => number, rounds: number, process: number, point: number): [Series, Series] {
  const drift = Array.from({ length: rounds }, () => 1 + 0.05 * g());
  const one = (slope: number): Series => {
    const factors = drift.map((d) => d * (1 + process * g()));
    return RUN_LOADS.map((load) => ({
      load,
      // |N(0,1)| < 0.125 one time in ten: that point is flagged.
      byRound: new Map(
        factors.flatMap((f, r): [number, number][] => (Math.abs(g()) < 0.125 ? [] : [[r + 1, (1 + slope * load) * f * (1 + point * g())]])),
      ),
    }));
  };
  return [one(0.2), one(0.1)];
}

/** How often, over `trials` simulated runs, the 95% intervals of the slope and of the ratio held the truth. */
function coverage(rounds: number, process: number, point: number, trials: number, seed: number): { slope: number; ratio: number } {
  const g = gaussian(seed);
  let slopeIn = 0;
  let ratioIn = 0;
  for (let t = 0; t < trials; t++) {
    const [a, ref] = simulatedRun(g, rounds, process, point);
    const s = slopeInterval(a);
    const r = ratioInterval(a, ref);
    if (s && s.lo <= 0.2 && 0.2 <= s.hi) slopeIn++;
    if (r && r.lo <= 2 && 2 <= r.hi) ratioIn++;
  }
  return { slope: slopeIn / trials, ratio: ratioIn / trials };
}

test('honest: a 10% process effect, 3% point scatter: the 95% intervals hold the truth in ≥ 90% of 400 runs, at 3 to 6 rounds', () => {
  for (const rounds of [3, 4, 5, 6]) {
    const c = coverage(rounds, 0.1, 0.03, 400, 1000 + rounds);
    assert.ok(c.slope >= 0.9 && c.ratio >= 0.9, `${rounds} rounds: slope ${c.slope}, ratio ${c.ratio}`);
    // Not absurdly wide either: a 95% interval that holds the truth 99% of the time tells less than it could.
    assert.ok(c.slope <= 0.99 && c.ratio <= 0.99, `${rounds} rounds: slope ${c.slope}, ratio ${c.ratio}`);
  }
});

test('honest without a process effect too: 10% point scatter alone, 3 rounds', () => {
  const c = coverage(3, 0, 0.1, 400, 77);
  assert.ok(c.slope >= 0.9 && c.ratio >= 0.9 && c.slope <= 0.99 && c.ratio <= 0.99, `slope ${c.slope}, ratio ${c.ratio}`);
});

test('the components: rounds exactly scaled give the process spread and no point spread; simulated ones recover both', () => {
  const factors = [1.1, 0.9, 1];
  const exact = components(series(0.2, factors))!;
  const logs = factors.map(Math.log);
  const m = logs.reduce((a, b) => a + b, 0) / 3;
  const sd = Math.sqrt(logs.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
  assert.equal(exact.rounds, 3);
  assert.ok(exact.pointRsd! < 1e-9, `${exact.pointRsd}`);
  assert.ok(Math.abs(exact.processRsd! - sd) < 1e-9, `${exact.processRsd} vs ${sd}`);
  const [many] = simulatedRun(gaussian(5), 60, 0.1, 0.03);
  const got = components(many)!;
  // The drift (5%) is part of each round's factor: the process level reads √(10² + 5²) ≈ 11%.
  assert.ok(got.processRsd! > 0.08 && got.processRsd! < 0.14, `process ${got.processRsd}`);
  assert.ok(got.pointRsd! > 0.025 && got.pointRsd! < 0.035, `point ${got.pointRsd}`);
  // One round: each load's one value is its level; nothing is left to tell either spread from.
  assert.deepEqual(components(series(0.2, [1], (_r, i) => 1 + 0.02 * (i % 2 ? 1 : -1))), { rounds: 1, processRsd: null, pointRsd: null });
});

test('precision: the half-width, and what more rounds would make of it (t and √rounds), the spread staying', () => {
  assert.ok(Math.abs(halfWidth({ value: 2, lo: 1.8, hi: 2.2 }) - 0.1) < 1e-12);
  assert.equal(halfWidth({ value: 2, lo: 0, hi: Infinity }), Infinity);
  // A log-symmetric interval from 3 rounds with a per-round spread of 0.12.
  const h = (t975(2) * 0.12) / Math.sqrt(3);
  const i = { value: 1, lo: Math.exp(-h), hi: Math.exp(h) };
  assert.ok(Math.abs(projectedHalfWidth(i, 3, 0) - halfWidth(i)) < 1e-12);
  assert.ok(Math.abs(projectedHalfWidth(i, 3, 6) - Math.sinh((t975(8) * 0.12) / 3)) < 1e-12);
  assert.ok(projectedHalfWidth(i, 3, 1) < projectedHalfWidth(i, 3, 0));
  assert.equal(projectedHalfWidth({ value: 1, lo: 0, hi: Infinity }, 3, 3), Infinity);
  // Student's t: the table, and the expansion beyond it.
  assert.equal(t975(2), 4.3027);
  assert.ok(Math.abs(t975(31) - 2.0395) < 1e-4 && Math.abs(t975(1000) - 1.9623) < 1e-4 && t975(0) === Infinity);
});

test('two points leave no scatter to learn from: no interval ([?]), tied with everything, never a zero width', () => {
  const two: Series = [
    { load: 100, byRound: new Map([[1, 11]]) },
    { load: 1000, byRound: new Map([[1, 101]]) },
  ];
  const s = slopeInterval(two)!;
  assert.ok(Math.abs(s.value - 0.1) < 1e-9);
  assert.equal(s.lo, 0);
  assert.equal(s.hi, Infinity);
  const r = ratioInterval(series(0.2, [1, 1]), two)!;
  assert.ok(Math.abs(r.value - 2) < 0.01, `${r.value}`);
  assert.equal(r.hi, Infinity, 'the ratio over the two points both have');
  assert.equal(overlaps(r, { value: 9, lo: 8, hi: 10 }), true);
});
