// The progress line of a finished point says what happened: never "0 req/s" for a point that served nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointSummary } from '../src/cli/run-progress.js';
import { point } from './helpers/results.js';

test('progress lines: a rate where there is one, "too slow" and "failed" with what happened where there is not', () => {
  const ok = point({ server: 'nginx', family: 'production', load: 100, meanLatencyMs: 10 });
  assert.match(pointSummary(ok), /^9900 req\/s, mean 10\.0 ms, measured load 99\.0, errors 0$/);
  const slow = point({ server: 'processes', family: 'typescript', load: 10, meanLatencyMs: 3669.3, throughputRps: 0 });
  slow.result = { ...slow.result!, requestsCompleted: 10, totalDurationS: 3.94 };
  slow.flags = [{ kind: 'too-slow', why: 'only 10 responses in 3.9 s at l=10' }];
  assert.equal(pointSummary(slow), 'too slow: 10 responses in 3.9 s at l=10');
  const nothing = point({ server: 'threads', family: 'typescript', load: 100, meanLatencyMs: 1, servedNothing: true });
  assert.equal(pointSummary(nothing), 'failed: no response to 100 requests (100 timeout) in 10.0 s at l=100');
  const failed = point({
    server: 'processes',
    family: 'typescript',
    load: 800,
    meanLatencyMs: 1,
    failed: 'the server died (exit code 137)',
  });
  assert.equal(pointSummary(failed), 'failed: the server died (exit code 137)');
  for (const p of [slow, nothing, failed]) assert.doesNotMatch(pointSummary(p), /\b0 req\/s/);
});
