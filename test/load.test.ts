import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runLoad } from '../src/load/index.js';
import { parseAbOutput, parseQuantiles } from '../src/load/ab.js';
import { trimmedFigures } from '../src/load/stats.js';
import { Records } from '../src/load/records.js';
import { needs } from './helpers/optional.js';
import { loadSuite, withServer } from './helpers/load-suite.js';

// Every test of the client on real sockets, with the default transport (and net in the first): helpers/load-suite.ts.
loadSuite(undefined, ['net']);

const hasAb = (() => {
  try {
    execFileSync('ab', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('--engine ab: parses the real ApacheBench into the same schema', {
  skip: needs('ab (ApacheBench)', hasAb ? undefined : 'no ab on the PATH'),
}, async () => {
  await withServer({ kind: 'ok' }, async (url, connections) => {
    const r = await runLoad({ url, concurrency: 5, requests: 400, engine: 'ab' });
    assert.equal(r.engine, 'ab');
    assert.equal(r.requestsCompleted, 400, JSON.stringify(r.errors));
    // ab sometimes opens a few connections past -n near the end (seen: 26 extra over 30 runs of 400) and does not count them.
    assert.ok(connections() >= 400);
    assert.equal(r.documentBytes, 305);
    assert.equal(r.errors.total, 0);
    assert.ok(r.throughputRps > 0 && r.latencyMs.mean > 0);
    assert.ok(r.measuredLoad > 0 && r.measuredLoad <= 5.5);
    assert.ok(r.latencyMs.percentiles['50']! <= r.latencyMs.percentiles['99']!);
  });
  await withServer({ kind: 'status', status: 503 }, async (url) => {
    const r = await runLoad({ url, concurrency: 2, requests: 30, engine: 'ab' });
    assert.equal(r.errors.status, 30);
  });
});

test('ab output parsing: failures, non-2xx and the quantile mean', () => {
  const text = [
    'Document Length:        305 bytes',
    'Time taken for tests:   2.000 seconds',
    'Complete requests:      1000',
    'Failed requests:        7',
    '   (Connect: 1, Receive: 2, Length: 3, Exceptions: 1)',
    'Non-2xx responses:      4',
    'Total transferred:      538000 bytes',
    'Requests per second:    500.00 [#/sec] (mean)',
    'Connection Times (ms)',
    '              min  mean[+/-sd] median   max',
    'Connect:        0    1   0.5      1       3',
    'Processing:     1    9   2.0      9      20',
    'Waiting:        1    8   2.0      8      19',
    'Total:          2   10   2.1     10      21',
  ].join('\n');
  const q = parseQuantiles(
    'Percentage served,Time in ms\n' + Array.from({ length: 101 }, (_, p) => `${p},${(p / 10).toFixed(3)}`).join('\n'),
  );
  const f = parseAbOutput(text, q);
  assert.deepEqual(
    [f.errors.connect, f.errors.reset, f.errors.length, f.errors.other, f.errors.status, f.errors.total],
    [1, 2, 3, 1, 4, 11],
  );
  assert.ok(Math.abs(f.latencyMs.mean - 5) < 1e-9, 'mean of a uniform 0..10 ms distribution');
  assert.ok(Math.abs(f.latencyMs.percentiles['99.9']! - 9.99) < 1e-9);
  assert.equal(f.phasesMs.connect.mean, 1);
  assert.equal(f.throughputRps, 500);
});

test('measured load of an ideal closed loop is l, however short the run (no ramp-down bias)', () => {
  // 100 slots, each request 10 ms, each slot restarting at once: exactly 100 in flight from start to end.
  const L = 100,
    perSlot = 6,
    r = new Records(L * perSlot);
  const rows: [number, number][] = [];
  for (let s = 0; s < L; s++) for (let k = 0; k < perSlot; k++) rows.push([s * 0.1 + k * 10, s]);
  rows.sort((a, b) => a[0] - b[0]);
  for (const [start, slot] of rows) {
    const i = r.open(start, slot);
    r.connected[i] = start + 1;
    r.firstByte[i] = start + 5;
    r.end[i] = start + 10;
    r.status[i] = 200;
    r.bytes[i] = 400;
    r.body[i] = 305;
  }
  const f = trimmedFigures(r, L); // trimming l requests at each end covers the ramps of a closed loop
  assert.ok(Math.abs(f.measuredLoad - L) < 0.5, `l_m = ${f.measuredLoad}`);
  assert.ok(Math.abs(f.throughputRps - 10_000) < 100, `${f.throughputRps} req/s`);
  // Untrimmed, this loop's staggered start (slot s begins at s·0.1 ms) is real idle capacity and shows: the
  // average over the first 59.9 ms is 100 - 50·9.9/59.9.
  const all = trimmedFigures(r, 0);
  assert.ok(Math.abs(all.measuredLoad - (100 - (50 * 9.9) / 59.9)) < 0.5, `untrimmed l_m = ${all.measuredLoad}`);
});

test('a load bound by time alone has no count of its own: -t runs for its seconds, not for the default 10 000 requests', async (t) => {
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => res.end('x'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  // Far more than 10 000 requests fit in 3 s here; the count must not stop the load before its time.
  const r = await runLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 4, durationS: 3, trim: 0 });
  assert.ok(r.totalDurationS >= 2.9, `ran ${r.totalDurationS} s`);
  assert.equal(r.requestsStarted > 0, true);
});
