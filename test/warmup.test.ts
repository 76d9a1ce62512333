// The warm-up rule (src/load/warmup.ts): when the windows of a warm-up agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agreeing } from '../src/load/warmup.js';

test('warm-up windows agree when the last ones lie within the tolerance of their mean', () => {
  // A fresh `events` server as measured: a plateau before V8 optimises, then the real rate.
  const windows = [1143, 1144, 1343, 2079, 2546, 3384, 3491, 3278];
  assert.equal(agreeing(windows.slice(0, 3), 3, 0.1), false, '1143, 1144, 1343: 1343 is 12% above their mean');
  assert.equal(agreeing(windows.slice(0, 2), 2, 0.1), true, 'the plateau looks steady: hence a minimum of requests first');
  assert.equal(agreeing(windows, 3, 0.1), true);
  assert.equal(agreeing(windows.slice(0, 7), 3, 0.1), false);
  assert.equal(agreeing([5000], 3, 0.1), false, 'too few windows');
});
