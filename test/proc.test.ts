// Reading processes from /proc (src/core/proc.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSeconds } from '../src/core/proc.js';

test('CPU time is read to the thread runtime, not in 10 ms ticks: 3 ms of work shows (regression: cpuS 0 on short points)', () => {
  const before = cpuSeconds(process.pid)!;
  const usageBefore = process.cpuUsage();
  const until = performance.now() + 3;
  while (performance.now() < until) {
    /* spin */
  }
  const spentS = cpuSeconds(process.pid)! - before;
  const usage = process.cpuUsage(usageBefore);
  const ownS = (usage.user + usage.system) / 1e6;
  assert.ok(
    spentS > 0.001 && spentS < ownS + 0.05,
    `read ${spentS.toFixed(4)} s for ${ownS.toFixed(4)} s of this process's CPU (getrusage)`,
  );
  assert.equal(cpuSeconds(2 ** 22 + 12345), undefined, 'a process that is gone has no CPU time');
});
