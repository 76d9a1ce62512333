// Fairness and the latency distribution, on synthetic records with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Records } from '../src/load/records.js';
import { cdf, fairness, fairnessOf, latencyBuckets, mergeBuckets } from '../src/load/distribution.js';
import { trimmedFigures } from '../src/load/stats.js';

const close = (got: number | undefined, want: number, eps = 1e-12) =>
  assert.ok(got !== undefined && Math.abs(got - want) <= eps, `got ${got}, want ${want}`);

/**
 * A closed loop of `clients` slots in which slot i completes perClient[i] requests of `ms` each, one after the other;
 * requests are recorded in start order, as the loop records them.
 */
function closedLoop(perClient: number[], ms = 2): Records {
  const starts: [number, number][] = [];
  perClient.forEach((n, slot) => {
    for (let k = 0; k < n; k++) starts.push([k * ms + slot * 1e-3, slot]);
  });
  starts.sort((a, b) => a[0] - b[0]);
  const r = new Records(Math.max(1, starts.length));
  for (const [t, slot] of starts) {
    const i = r.open(t, slot);
    r.connected[i] = t + 0.1;
    r.firstByte[i] = t + ms / 2;
    r.end[i] = t + ms;
    r.status[i] = 200;
    r.bytes[i] = 386;
    r.body[i] = 305;
  }
  return r;
}

test("Jain's index: every client served alike is 1; one client starved of n is (n-1)/n; one client served alone is 1/n", () => {
  const equal = fairnessOf([5, 5, 5, 5, 5, 5, 5, 5, 5, 5])!;
  close(equal.jainIndex, 1);
  close(equal.slowestClientShare, 1);
  assert.equal(equal.clients, 10);
  const starved = fairnessOf([5, 5, 5, 5, 5, 5, 5, 5, 5, 0])!;
  close(starved.jainIndex, 9 / 10); // (9·5)² / (10 · 9·25)
  close(starved.slowestClientShare, 0);
  const alone = fairnessOf([8, 0, 0, 0])!;
  close(alone.jainIndex, 1 / 4);
  // Hand-computed: x = 1, 2, 3: (6)² / (3 · 14) = 36/42; slowest 1 of a mean of 2.
  const uneven = fairnessOf([1, 2, 3])!;
  close(uneven.jainIndex, 36 / 42);
  close(uneven.slowestClientShare, 0.5);
  assert.equal(fairnessOf([0, 0, 0]), undefined, 'nothing served: no index');
});

test('fairness from records: a slot that served nothing counts as a starved client, and the kept window is what counts', () => {
  // Slot 3 of 4 never got a response recorded: still one of the four clients.
  const r = closedLoop([6, 6, 6, 0]);
  const all = Array.from({ length: r.length }, (_, i) => i);
  const f = fairness(r, all, 4)!;
  close(f.jainIndex, 3 / 4);
  close(f.slowestClientShare, 0);
  // Through the load generator's figures: trimmed by start order (one wave of 4 at each end here).
  const even = trimmedFigures(closedLoop([10, 10, 10, 10]), 4, 4);
  assert.equal(even.requests, 32);
  close(even.fairness!.jainIndex, 1);
  const skewed = trimmedFigures(closedLoop([10, 10, 10, 4]), 4, 4);
  // Kept: start order drops the first four (one per slot) and the last four (the last of slots 0 to 2, and slot 2's
  // ninth): per slot 8, 8, 7 and 3 requests kept.
  const kept = [8, 8, 7, 3];
  const sum = kept.reduce((a, b) => a + b, 0);
  close(skewed.fairness!.jainIndex, sum ** 2 / (4 * kept.reduce((a, b) => a + b * b, 0)));
  close(skewed.fairness!.slowestClientShare, (4 * 3) / sum);
});

test('latency buckets: 20 a decade, counts add when merged, and the CDF is exact at every edge', () => {
  const b = latencyBuckets([1, 1, 1.05, 10])!;
  assert.equal(b.perDecade, 20);
  assert.equal(b.first, 0); // 1 ms is the lower edge of bucket 0
  assert.equal(b.counts.length, 21); // up to bucket 20, which holds 10 ms
  assert.equal(b.counts[0], 3);
  assert.equal(b.counts[20], 1);
  assert.equal(
    b.counts.reduce((a, c) => a + c, 0),
    4,
  );
  const merged = mergeBuckets([b, latencyBuckets([0.5])!])!;
  assert.equal(merged.first, -7); // log10(0.5)·20 = -6.02: bucket -7
  assert.equal(
    merged.counts.reduce((a, c) => a + c, 0),
    5,
  );
  const steps = cdf(merged);
  assert.equal(steps[0]!.share, 0);
  assert.equal(steps.at(-1)!.share, 1);
  // Within 1.122 ms (bucket 0's upper edge): the 0.5 ms request and the three near 1 ms.
  const at = steps.find((s) => Math.abs(s.ms - 10 ** (1 / 20)) < 1e-9)!;
  close(at.share, 4 / 5);
  assert.ok(
    steps.every((s, i) => i === 0 || (s.ms > steps[i - 1]!.ms && s.share >= steps[i - 1]!.share)),
    'rises left to right',
  );
  assert.equal(latencyBuckets([]), undefined);
  assert.equal(mergeBuckets([b, { ...b, perDecade: 10 }]), undefined, 'different widths do not merge');
});
