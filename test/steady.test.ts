// The stationarity check (src/load/steady.ts), on synthetic closed loops with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { steadiness, STEADY_TOLERANCE } from '../src/load/steady.js';
import { seededRandom } from '../src/core/random.js';

/** A closed loop at `load` on a server serving `rate(i)` requests/s at request i, with ±`noise` scatter. */
function loop(n: number, load: number, rate: (i: number) => number, noise = 0, seed = 1): { start: number[]; latency: number[] } {
  const random = seededRandom(seed);
  const start: number[] = [];
  const latency: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    const mu = rate(i) * (1 + noise * (2 * random() - 1));
    t += 1000 / mu;
    start.push(t);
    latency.push((1000 * load) / mu);
  }
  return { start, latency };
}

test('a steady server is steady, with or without the scatter a throttled server shows', () => {
  const flat = loop(6000, 100, () => 5000);
  const s = steadiness(flat.start, flat.latency, 100)!;
  assert.equal(s.steady, true);
  assert.ok(s.drift < 1e-9, `drift ${s.drift}`);
  for (let seed = 1; seed <= 20; seed++) {
    const noisy = loop(6000, 100, () => 5000, 0.3, seed);
    const r = steadiness(noisy.start, noisy.latency, 100)!;
    assert.equal(
      r.steady,
      true,
      `seed ${seed}: ±30% per-request scatter is not a trend (drift ${r.drift.toFixed(3)}, t ${r.t.toFixed(2)})`,
    );
  }
});

test('a server still warming up (its rate doubling over the window) is not steady, and says by how much', () => {
  const warming = loop(6000, 100, (i) => 2500 + (2500 * i) / 6000, 0.1);
  const s = steadiness(warming.start, warming.latency, 100)!;
  assert.equal(s.steady, false);
  assert.ok(s.throughputRps[1] > 1.5 * s.throughputRps[0], `first ${s.throughputRps[0]}, last ${s.throughputRps[1]}`);
  assert.ok(s.meanLatencyMs[1] < s.meanLatencyMs[0]);
  assert.ok(s.drift > STEADY_TOLERANCE);
  // A step half-way (V8 switching to optimised code) likewise.
  const step = loop(6000, 50, (i) => (i < 3000 ? 1200 : 3300), 0.1);
  assert.equal(steadiness(step.start, step.latency, 50)!.steady, false);
  // A drift of 5% over the window is within tolerance.
  const slight = loop(6000, 100, (i) => 5000 * (1 - (0.05 * i) / 6000));
  assert.equal(steadiness(slight.start, slight.latency, 100)!.steady, true);
});

test('a window shorter than six waves of `load` requests is not judged', () => {
  const short = loop(5000, 1000, () => 5000);
  assert.equal(steadiness(short.start, short.latency, 1000), undefined, '5 waves at l = 1000');
  const enough = loop(6000, 1000, () => 5000);
  assert.equal(steadiness(enough.start, enough.latency, 1000)!.parts, 6);
  assert.equal(steadiness(enough.start, enough.latency, 10)!.parts, 12);
  assert.equal(steadiness([1, 2, 3], [1, 1, 1], 1), undefined);
});
