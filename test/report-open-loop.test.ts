// The open loop's report (src/report/open-loop.ts): the knee of each server and its spread over rounds, on
// synthetic points with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPEN_POINT_SCHEMA, type OpenPoint } from '../src/results/schema.js';
import { openLoopModel, KNEE_FACTOR } from '../src/report/open-loop.js';
import type { LoadResult } from '../src/load/types.js';

function openPoint(server: string, rateFraction: number, p99Ms: number, flagged = false, repeat = 1): OpenPoint {
  const result = {
    requests: 100,
    throughputRps: 100 * rateFraction,
    errors: { total: 0 },
    latencyMs: { percentiles: { '50': p99Ms / 2, '99': p99Ms, '99.9': p99Ms * 1.5 } },
    openLoop: { lagMs: { percentiles: { '99': 0.1 } } },
  } as unknown as LoadResult;
  return {
    schema: OPEN_POINT_SCHEMA,
    server,
    family: 'typescript',
    rateFraction,
    capacityRps: 1000,
    rateRps: 1000 * rateFraction,
    round: repeat,
    status: 'ok',
    startedAt: '2025-01-01T00:00:00Z',
    result,
    flags: flagged ? [{ kind: 'client-bound', why: 'lag' }] : [],
  };
}

test('the knee: the highest rate whose p99 stays under 10× the low-load p99, every lower rate under it too', () => {
  assert.equal(KNEE_FACTOR, 10);
  const m = openLoopModel(
    [
      ...[
        [0.1, 1],
        [0.5, 1.5],
        [0.9, 9],
        [1.1, 30],
        [1.2, 5],
      ].map(([f, p]) => openPoint('a', f!, p!)),
      openPoint('b', 0.1, 2),
      openPoint('b', 0.5, 2, true),
      openPoint('b', 0.9, 3),
    ],
    ['a', 'b'],
  )!;
  const [a, b] = m.servers;
  assert.equal(a!.lowLoadP99Ms, 1);
  assert.equal(a!.kneeRps, 900, 'past 1.1 (30 ms > 10 ms) the knee is passed, whatever 1.2 shows');
  assert.equal(a!.kneeFraction, 0.9);
  assert.equal(b!.kneeRps, 100, 'a flagged point cannot be the knee and ends the search');
  assert.equal(openLoopModel([], []), undefined);
});

test("the knee's spread: each round's own knee, beside the knee of all rounds together", () => {
  const m = openLoopModel(
    [
      ...[
        [0.1, 1],
        [0.5, 2],
        [0.9, 8],
      ].map(([f, p]) => openPoint('a', f!, p!, false, 1)),
      ...[
        [0.1, 1],
        [0.5, 2],
        [0.9, 14],
      ].map(([f, p]) => openPoint('a', f!, p!, false, 2)),
    ],
    ['a'],
  )!;
  const a = m.servers[0]!;
  assert.deepEqual(a.kneeByRound, [0.9, 0.5], 'round 2 passed 10 ms at 0.9');
  assert.equal(a.kneeFraction, 0.5, 'together: p99 11 ms at 0.9, past 10× the low-load 1 ms');
});
