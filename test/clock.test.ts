// The run's clock: the time left priced part by part, from what the same parts cost before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunClock, closedPriors } from '../src/sweep/clock.js';
import { resolvePlan } from '../src/sweep/plan.js';
import { testCatalog } from './helpers/runner.js';

test('the time left is priced by the same server in an earlier round, else by the servers measured so far', async () => {
  const { plan } = await resolvePlan({ servers: ['tiny'], loads: [10, 100], rounds: 3 }, undefined, testCatalog);
  const clock = new RunClock(closedPriors(plan));
  const prior = clock.remainingS([{ server: 'slow', steps: [10, 100], started: false }]);
  assert.ok(prior > 0, 'a prior from the plan before anything is measured');
  // Round 1: a slow server (8 s warm-up, 2 s points) and a fast one (1 s, 0.5 s).
  clock.recordSession('slow', 8);
  clock.recordPoint('slow', 10, 2);
  clock.recordPoint('slow', 100, 2);
  clock.recordSession('fast', 1);
  clock.recordPoint('fast', 10, 0.5);
  clock.recordPoint('fast', 100, 0.5);
  // Round 2 of each is priced by its own round 1, not by the average: 12 s and 2 s.
  assert.equal(clock.remainingS([{ server: 'slow', steps: [10, 100], started: false }]), 12);
  assert.equal(clock.remainingS([{ server: 'fast', steps: [10, 100], started: false }]), 2);
  assert.equal(clock.remainingS([{ server: 'fast', steps: [100], started: true }]), 0.5, 'a started sweep: only its points are left');
  // A server not seen yet: the median of those seen (4.5 s to start, 1.25 s a point)...
  assert.equal(clock.remainingS([{ server: 'new', steps: [10, 100], started: false }]), 4.5 + 2.5);
  // ... of its own family where one was seen: a C server is not priced like a JIT that warms for seconds.
  clock.recordSession('c1', 1, 'native');
  clock.recordPoint('c1', 10, 0.5);
  clock.recordPoint('c1', 100, 0.5);
  clock.recordSession('ts1', 8, 'typescript');
  assert.equal(clock.remainingS([{ server: 'c2', family: 'native', steps: [10], started: false }]), 1.5);
  // The median, so that one slow server (a process per connection) does not price every other.
  clock.recordSession('c3', 30, 'native');
  clock.recordSession('c4', 1.2, 'native');
  assert.equal(clock.remainingS([{ server: 'c5', family: 'native', steps: [], started: false }]), 1.2);
});
