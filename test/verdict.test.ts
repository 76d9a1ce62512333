// The flags of one point (src/results/verdict.ts), on points with known figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { POINT_FLAGS, pointFlags, resultFlags } from '../src/results/verdict.js';
import { RUN_DEFAULTS } from '../src/sweep/plan.js';
import type { Plan } from '../src/results/schema.js';
import { point } from './helpers/results.js';

const plan = { ...RUN_DEFAULTS, servers: ['threads'], loads: [10] } as unknown as Plan;

test('too-slow: a point that served fewer than two waves measures no closed loop, and is not called client-bound', () => {
  // What `threads` (a V8 isolate per connection at a quarter core) did at l=10: 10 responses in 3.1 s.
  const p = point({ server: 'threads', family: 'typescript', load: 10, meanLatencyMs: 2900, measuredLoad: 4.4 });
  p.result!.requestsCompleted = 10;
  p.result!.totalDurationS = 3.06;
  p.result!.verdict = { clientBound: true, reasons: ['measured load 4.4 is below 95% of the offered 10'] };
  const flags = pointFlags(p, plan, false);
  assert.deepEqual(
    flags.map((f) => f.kind),
    ['too-slow'],
  );
  assert.match(flags[0]!.why, /only 10 responses in 3\.1 s at l=10, fewer than 2 waves of 10/);
});

test('a point of many waves is not too slow; a low measured load there is client-bound', () => {
  const ok = point({ server: 'events', family: 'typescript', load: 100, meanLatencyMs: 30 });
  assert.deepEqual(pointFlags(ok, plan, false), []);
  const low = point({ server: 'events', family: 'typescript', load: 100, meanLatencyMs: 30, measuredLoad: 80 });
  assert.deepEqual(
    pointFlags(low, plan, false).map((f) => f.kind),
    ['client-bound'],
  );
});

test('cpu-share: at a saturating load, a server that ran out of quota in under 70% of periods waited on something else', () => {
  // lighttpd in a bench:repro round: 5061 req/s against 7000-7600 in its other rounds, its share 0.219 (within 20%
  // of 0.25), throttled in 56% of its periods.
  const slow = point({ server: 'lighttpd', family: 'production', load: 100, meanLatencyMs: 19.7, peakRssBytes: 1e6 });
  slow.metrics = { ...slow.metrics!, loadCpuShare: 0.219, quotaPeriods: { total: 200, throttled: 112 } };
  const flags = pointFlags(slow, plan, true);
  assert.deepEqual(
    flags.map((f) => f.kind),
    ['cpu-share'],
  );
  assert.match(flags[0]!.why, /ran out of its quota in only 56% of its 200 periods at l=100/);
  const busy = point({ server: 'lighttpd', family: 'production', load: 100, meanLatencyMs: 13.6, peakRssBytes: 1e6 });
  busy.metrics = { ...busy.metrics!, loadCpuShare: 0.236, quotaPeriods: { total: 200, throttled: 174 } };
  assert.deepEqual(pointFlags(busy, plan, true), []);
  // Below a saturating load a server may idle between requests.
  const light = point({ server: 'lighttpd', family: 'production', load: 10, meanLatencyMs: 1.5, peakRssBytes: 1e6 });
  light.metrics = { ...light.metrics!, loadCpuShare: 0.219, quotaPeriods: { total: 200, throttled: 20 } };
  assert.deepEqual(pointFlags(light, plan, true), []);
});

test('start-spread: a point split over client hosts whose agents started too far apart, the reason naming the host', () => {
  // What src/load/merge.ts startSpread says of two agents, one 13.8 ms late, in a 0.27 s kept window.
  const spread =
    "start spread: the agents' first requests may have started 13.8 ms apart, over 5% of the kept window (13.3 ms); " +
    "ssh://10.208.0.12 started 13.8 ms after the scheduled instant (clock bound ±0.04 ms): check that host's load and its link, " +
    'or run a longer point';
  const p = point({ server: 'async', family: 'typescript', load: 10, meanLatencyMs: 10 });
  p.result!.verdict = { clientBound: false, startSpread: true, reasons: [spread] };
  assert.deepEqual(
    pointFlags(p, plan, false).map((f) => [f.kind, f.why]),
    [['start-spread', spread]],
  );
  // A client-bound agent as well: each flag keeps its own reason.
  p.result!.verdict = { clientBound: true, startSpread: true, reasons: ['ssh://10.208.0.11: the client used 95% of its core', spread] };
  assert.deepEqual(
    pointFlags(p, plan, false).map((f) => [f.kind, f.why]),
    [
      ['client-bound', 'ssh://10.208.0.11: the client used 95% of its core'],
      ['start-spread', spread],
    ],
  );
});

test("the manual's list of flags is the table's: every flag, its label and caption, and no other", () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/running.md', import.meta.url)), 'utf8');
  const section = /<!-- flags: from POINT_FLAGS in src\/results\/verdict\.ts -->\n([\s\S]*?)<!-- \/flags -->/.exec(doc);
  assert.ok(section, 'docs/running.md has the flags list between its markers');
  const listed = section[1]!.split('\n').filter((l) => l.trim() !== '');
  assert.deepEqual(
    listed,
    POINT_FLAGS.map((f) => `  - \`${f.kind}\` (${f.label}): ${f.caption}`),
  );
});

test('an open-loop result is judged by the rules that need no load: client-bound by its lag, not too slow or short of its quota', () => {
  const p = point({ server: 'events', family: 'typescript', load: 100, meanLatencyMs: 30 });
  const r = {
    ...p.result!,
    requestsCompleted: 10,
    verdict: { clientBound: true, reasons: ['the client started requests late: lag p99 4 ms'] },
  };
  const metrics = { ...p.metrics!, loadCpuShare: 0.05, quotaPeriods: { total: 200, throttled: 10 } };
  assert.deepEqual(
    resultFlags(r, metrics, undefined, plan, true).map((f) => [f.kind, f.why]),
    [['client-bound', 'the client started requests late: lag p99 4 ms']],
  );
  assert.deepEqual(
    resultFlags(r, { ...metrics, loadCpuShare: 0.4 }, undefined, plan, true).map((f) => f.kind),
    ['client-bound', 'cpu-share'],
    'a quota not enforced is one, at any rate',
  );
});
