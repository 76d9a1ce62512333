// The numbers every part of eventbench shares (src/core/numbers.ts): Student's t, and the interval of a ratio
// measured in several rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { geometricInterval, studentT95 } from '../src/core/numbers.js';

test("Student's t at 95%: the table's values, the normal's far out, NaN for no degrees of freedom", () => {
  assert.equal(studentT95(1), 12.706);
  assert.equal(studentT95(5), 2.571);
  assert.ok(Math.abs(studentT95(60) - 2.0) < 0.005);
  assert.ok(Math.abs(studentT95(1e6) - 1.96) < 0.001);
  assert.ok(Number.isNaN(studentT95(0)));
});

test('the geometric mean of per-round ratios with its 95% interval, symmetric in the logarithm', () => {
  const i = geometricInterval([0.5, 2])!;
  assert.ok(Math.abs(i.value - 1) < 1e-12, 'the geometric mean of ½ and 2 is 1');
  assert.ok(Math.abs(i.lo * i.hi - 1) < 1e-9, 'as far below 1 as above');
  // Five rounds around 1.2: mean of logs ± t(4) × sd / √5.
  const xs = [1.1, 1.2, 1.3, 1.15, 1.25];
  const logs = xs.map(Math.log);
  const m = logs.reduce((a, b) => a + b) / 5;
  const sd = Math.sqrt(logs.reduce((a, x) => a + (x - m) ** 2, 0) / 4);
  const five = geometricInterval(xs)!;
  assert.ok(Math.abs(five.hi - Math.exp(m + (2.776 * sd) / Math.sqrt(5))) < 1e-12);
  assert.deepEqual(geometricInterval([1.3]), { value: 1.3, lo: 0, hi: Infinity }, 'one round: no interval');
  assert.equal(geometricInterval([]), undefined);
  assert.equal(geometricInterval([0, -1, NaN]), undefined, 'only positive ratios count');
});
