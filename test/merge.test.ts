// Split and merge of one load over several agents, on records whose every figure is known by hand (the clock offset
// each agent's records are mapped with: test/clock-offset.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { environment } from '../src/core/environment.js';
import { UsageError } from '../src/core/errors.js';
import { verdict } from '../src/load/index.js';
import { mergeAgentLoads, splitLoad, startSpread, type AgentPart } from '../src/load/merge.js';
import { Records, decodeRecords, encodeRecords } from '../src/load/records.js';
import { trimmedFigures, resultFields } from '../src/load/stats.js';
import { LOAD_SCHEMA, type LoadResult } from '../src/load/types.js';

/** A closed loop of one slot on the agent's own clock: `count` requests of `latencyMs` back to back from `fromMs`. */
function backToBack(fromMs: number, count: number, latencyMs: number): Records {
  const r = new Records(count);
  for (let k = 0; k < count; k++) {
    const i = r.open(fromMs + k * latencyMs, 0);
    r.connected[i] = r.start[i]! + 0.1;
    r.firstByte[i] = r.start[i]! + latencyMs / 2;
    r.end[i] = r.start[i]! + latencyMs;
    r.status[i] = 200;
    r.bytes[i] = 386;
    r.body[i] = 305;
  }
  return r;
}

/** An agent's part as it would answer: its own result over its records (trim 1), its clock `offsetMs` ahead of ours. */
function part(host: string, records: Records, offsetMs: number, cpuShare = 0.2): AgentPart {
  const f = trimmedFigures(records, 1, 1);
  const result: LoadResult = {
    schema: LOAD_SCHEMA,
    engine: 'eventbench',
    url: 'http://10.208.0.10:8080/',
    mode: 'close',
    concurrency: 1,
    workers: 1,
    requestsStarted: records.length,
    ...resultFields(f),
    documentBytes: 305,
    clientCpu: { userS: cpuShare, systemS: 0, share: cpuShare },
    verdict: verdict(1, f.requests, f.measuredLoad, cpuShare, 1),
    startedAt: '2025-01-02T03:04:05.000Z',
    environment: environment(),
  };
  const clock = { offsetMs, boundMs: 0.5, rttMs: 1, probes: 8 };
  return { host, hostname: host, share: { concurrency: 1, trim: 1 }, result, records, clock };
}

test('a load split over agents adds up to exactly l, -n and --trim, and a load under the number of agents is refused', () => {
  const s = splitLoad({ concurrency: 101, requests: 1000, trim: 1000 }, 3);
  assert.deepEqual(
    s.map((x) => x.concurrency),
    [34, 34, 33],
  );
  assert.deepEqual(
    s.map((x) => x.requests),
    [334, 333, 333],
  );
  assert.deepEqual(
    s.map((x) => x.trim),
    [334, 333, 333],
  );
  assert.deepEqual(splitLoad({ concurrency: 2, trim: 0 }, 2), [
    { concurrency: 1, trim: 0 },
    { concurrency: 1, trim: 0 },
  ]);
  assert.throws(
    () => splitLoad({ concurrency: 2, trim: 10 }, 3),
    (e: Error) =>
      e instanceof UsageError &&
      e.message ===
        '--agents: got "3 agents", the limit is the load (-c 2): each agent keeps at least one request in flight; ' +
          'raise -c or list fewer agents',
  );
});

test("merged: the span every agent covers, on the runner's clock, percentiles of the merged set, l_m the sum of the agents'", () => {
  // Runner's clock: A serves 10 ms requests from 0 (30 of them), B 30 ms requests from 5 (10 of them). B's clock is
  // 500 ms ahead of ours. Each drops its first and last request: A keeps starts 10..280, B 35..245, so the span
  // both cover is 35..245, where A started 21 requests (40..240) and B 8 (35..245).
  const a = part('local', backToBack(0, 30, 10), 0);
  const b = part('ssh://b', backToBack(505, 10, 30), 500);
  const o = { url: 'http://10.208.0.10:8080/', scheduledMs: 0, scheduledAt: 'then', environment: environment() };
  const { result: r, records } = mergeAgentLoads([a, b], o);
  assert.equal(records.length, 40);
  assert.equal(records.start[1], 5, "B's first request mapped to the runner's clock, in start order");
  assert.equal(r.concurrency, 2);
  assert.equal(r.requests, 29);
  assert.equal(r.durationS, (275 - 35) / 1000, 'first kept start to last kept end');
  // Percentiles of the merged set: 21 requests of 10 ms and 8 of 30 ms (averaging the agents' p50s would say 20).
  assert.equal(r.latencyMs.percentiles['50'], 10);
  assert.equal(r.latencyMs.percentiles['66'], 10);
  assert.equal(r.latencyMs.percentiles['75'], 30);
  assert.equal(r.latencyMs.percentiles['100'], 30);
  assert.ok(Math.abs(r.latencyMs.mean - (21 * 10 + 8 * 30) / 29) < 1e-9);
  // Each agent had one request in flight all the way through 35..245: l_m 1 each, 2 merged; 29 ended inside.
  const [pa, pb] = r.agents!.parts;
  assert.ok(Math.abs(pa!.measuredLoad - 1) < 1e-9 && Math.abs(pb!.measuredLoad - 1) < 1e-9);
  assert.ok(Math.abs(r.measuredLoad - (pa!.measuredLoad + pb!.measuredLoad)) < 1e-9);
  assert.ok(Math.abs(r.throughputRps - 29 / 0.21) < 1e-6);
  assert.deepEqual([pa!.requestsKept, pb!.requestsKept], [21, 8]);
  assert.deepEqual([pa!.keptFromMs, pa!.keptToMs, pb!.keptFromMs, pb!.keptToMs], [10, 280, 35, 245]);
  assert.deepEqual([pa!.startLagMs, pb!.startLagMs], [0, 5]);
  assert.equal(r.agents!.startSpreadMs, 6, 'B started 5 ms after A, each ±0.5 ms');
  assert.equal(r.verdict.clientBound, false, r.verdict.reasons.join('; '));
  assert.equal(r.verdict.startSpread, undefined);
});

test('merged: any client-bound agent makes the load client-bound, named by its host; disjoint windows give no result', () => {
  const a = part('local', backToBack(0, 30, 10), 0);
  const b = part('ssh://b', backToBack(505, 10, 30), 500, 0.97);
  const o = { url: 'http://10.208.0.10:8080/', scheduledMs: 0, scheduledAt: 'then', environment: environment() };
  const r = mergeAgentLoads([a, b], o).result;
  assert.equal(b.result.verdict.clientBound, true);
  assert.equal(r.verdict.clientBound, true);
  assert.deepEqual(r.verdict.reasons, ['ssh://b: the client used 97% of a core (over 90%)']);
  // B's clock is said to be 1 s ahead when it was not: its requests land before A's; the windows do not meet.
  const late = part('ssh://c', backToBack(0, 10, 30), 1000);
  const none = mergeAgentLoads([a, late], o).result;
  assert.equal(none.requests, 0);
  assert.equal(none.verdict.clientBound, true);
  assert.match(none.verdict.reasons.join('; '), /kept windows do not overlap/);
});

test('start spread: flagged over 5% of the kept window, naming the host furthest from the scheduled instant', () => {
  const agents = [
    { host: 'local', startLagMs: 0.2, clockBoundMs: 0.1 },
    { host: 'ssh://b', startLagMs: 300, clockBoundMs: 0.5 },
  ];
  const s = startSpread(agents, 1000);
  assert.ok(Math.abs(s.spreadMs - 300.4) < 1e-9);
  assert.equal(s.limitMs, 50);
  assert.match(s.reason!, /ssh:\/\/b started 300\.0 ms after the scheduled instant \(clock bound ±0\.50 ms\)/);
  assert.equal(startSpread(agents, 10_000).reason, undefined, '300 ms is under 5% of a 10 s window');
  // A wide clock bound alone can make the spread: the starts agree, the clocks are not known well enough.
  const far = startSpread(
    [
      { host: 'local', startLagMs: 0, clockBoundMs: 0 },
      { host: 'ssh://far', startLagMs: 1, clockBoundMs: 40 },
    ],
    1000,
  );
  assert.match(far.reason!, /ssh:\/\/far/);
});

test('records cross the link exactly: encode, decode', () => {
  const r = backToBack(123.456, 5, 7);
  r.end[4] = NaN;
  r.error[3] = 2;
  const back = decodeRecords(JSON.parse(JSON.stringify(encodeRecords(r))));
  assert.equal(back.length, 5);
  assert.deepEqual([...back.start], [...r.start.subarray(0, 5)]);
  assert.ok(Number.isNaN(back.end[4]!));
  assert.equal(back.error[3], 2);
  assert.deepEqual([...back.slot], [0, 0, 0, 0, 0]);
});
