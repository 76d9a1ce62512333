// The clock offset of another host (src/core/clock-offset.ts), estimated from synthetic round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateOffset } from '../src/core/clock-offset.js';

test('clock offset: from the probe with the shortest round trip, within half of it', () => {
  // Its clock is 1000 ms ahead of ours. Probes: one delayed 30 ms on the way out, one 40 ms on the way back, one clean.
  const trueOffset = 1000;
  const probe = (sentMs: number, outMs: number, backMs: number) => ({
    sentMs,
    theirMs: sentMs + outMs + trueOffset,
    receivedMs: sentMs + outMs + backMs,
  });
  const probes = [probe(0, 30.2, 0.2), probe(100, 0.2, 40.2), probe(200, 0.3, 0.1)];
  const o = estimateOffset(probes);
  assert.ok(Math.abs(o.rttMs - 0.4) < 1e-9);
  assert.ok(Math.abs(o.boundMs - 0.2) < 1e-12);
  assert.ok(Math.abs(o.offsetMs - trueOffset) <= o.boundMs, `offset ${o.offsetMs} within ±${o.boundMs} of ${trueOffset}`);
  assert.ok(Math.abs(o.offsetMs - (trueOffset + 0.1)) < 1e-9);
  assert.equal(o.probes, 3);
  // A single skewed probe errs by up to half its round trip, and its bound says so.
  const skewed = estimateOffset([probe(0, 30.2, 0.2)]);
  assert.ok(Math.abs(skewed.offsetMs - trueOffset) <= skewed.boundMs && skewed.boundMs > 15);
  assert.throws(() => estimateOffset([]), /no clock probe/);
  assert.throws(() => estimateOffset([{ sentMs: 5, theirMs: 0, receivedMs: 4 }]), /came back before it left/);
});
