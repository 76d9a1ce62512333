// The throttle (src/host/throttle.ts): a cgroup CPU quota on a real process tree, written and read back, held while
// a run measures, counting the CPU of processes that ended; cgroups left by a killed runner removed.
// suite: alone (scripts/test.sh runs it by itself, after the others): it reads back the CPU a quota lets through, and
// removes a stale cgroup that any run would remove first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrateThrottle, createThrottle, detectCgroup, readQuota, removeStaleCgroups } from '../src/host/throttle.js';
import { runExperiment } from '../src/experiments/run.js';
import { readRun } from '../src/results/store.js';
import { killTree } from '../src/core/proc.js';
import { startTiny, testCatalog, testTrial } from './helpers/runner.js';
import { needs, skipped } from './helpers/optional.js';

// Tests that write cgroups are a named skip where none can be written (not root, no cpu controller).
const cgroupSkip = needs('a cgroup CPU quota', detectCgroup().reason);

test('the throttle puts a process tree under a quarter-core quota and is removed after', { skip: cgroupSkip }, async (t) => {
  const found = detectCgroup();
  const throttle = createThrottle(0.25);
  t.after(() => throttle.remove());
  assert.equal(throttle.mechanism, found.mechanism);
  assert.deepEqual(
    readQuota(throttle.path!),
    { quotaUs: 2_500, periodUs: 10_000 },
    'a 10 ms period by default: a slow CPU, not long stalls',
  );
  assert.equal(throttle.periodMs, 10);
  const slow = createThrottle(0.5, 100);
  t.after(() => slow.remove());
  assert.deepEqual(readQuota(slow.path!), { quotaUs: 50_000, periodUs: 100_000 }, 'the period asked for is written and read back');
  assert.equal(slow.periodMs, 100);
  const { p, url } = startTiny(['--child']);
  t.after(() => killTree(p.pid!, 'SIGKILL', process.pid));
  await url;
  throttle.add(p.pid!);
  const cgroupName = throttle.path!.split('/').pop()!;
  assert.match(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8'), new RegExp(cgroupName));
  p.kill('SIGTERM');
  await new Promise((r) => p.once('exit', r));
  throttle.remove();
  assert.equal(existsSync(throttle.path!), false);
});

test('a throttled run keeps the server under its quota while it is measured', { skip: cgroupSkip }, async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'eventbench-host-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const out = await runExperiment({
    input: { servers: ['tiny'], loads: [8], durationS: 0.8, serverCpuShare: 0.1, rounds: 1, throttlePeriodMs: 20, memory: false },
    out: join(base, 'r'),
    catalog: testCatalog,
    trial: testTrial,
  });
  const m = out.points[0]!.metrics!;
  assert.equal(out.info.host.throttle.share, 0.1);
  assert.equal(out.info.host.throttle.periodMs, 20, 'the period in force is recorded in run.json');
  assert.equal(readRun(out.dir).info.plan.throttlePeriodMs, 20, '... and read back with the plan');
  assert.ok(m.cpuShare > 0.02 && m.cpuShare < 0.2, `cpu share ${m.cpuShare} under a 0.1-core quota`);
});

test('a cgroup left by a runner killed with -9 is removed by the next run, which says so', { skip: cgroupSkip }, (t) => {
  const found = detectCgroup();
  let gone = 4_000_000;
  while (existsSync(`/proc/${gone}`)) gone += 1;
  const stale = join(found.root!, `eventbench-${gone}-1`);
  mkdirSync(stale);
  t.after(() => {
    try {
      rmdirSync(stale);
    } catch {
      /* removed */
    }
  });
  const said = removeStaleCgroups(found.root);
  assert.ok(
    said.some((l) => l === `removed the cgroup ${stale}, left by eventbench pid ${gone}, which is gone`),
    said.join('\n'),
  );
  assert.equal(existsSync(stale), false);
});

test("the cgroup counts the CPU of every process it ever held, exited ones included, and the periods it throttled; doctor's calibration reads the quota in force", {
  skip: cgroupSkip,
}, async (t) => {
  const throttle = createThrottle(0.5);
  t.after(() => throttle.remove());
  const before = throttle.usageS();
  const noCount = before === undefined ? 'this kernel keeps no CPU count for the group' : undefined;
  if (skipped(t, 'CPU accounting of a cgroup (cpuacct beside cpu v1, or cgroup v2)', noCount)) return;
  assert.ok(before !== undefined, 'the group counts its CPU time');
  // Three short-lived busy processes, each gone before we look: a scan of live processes would see nothing.
  for (let i = 0; i < 3; i++) {
    const p = spawn(
      process.execPath,
      ['-e', 'process.stdin.once("data", () => { const t = performance.now(); while (performance.now() - t < 150) {} process.exit(0); })'],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    throttle.add(p.pid!);
    p.stdin!.write('go\n');
    await new Promise((r) => p.once('exit', r));
  }
  const used = throttle.usageS()! - before;
  assert.ok(
    used > 0.2 && used < 2,
    `the group counted ${used.toFixed(3)} CPU s for three exited processes that spun 0.15 s each (plus their start)`,
  );
  const periods = throttle.periods()!;
  assert.ok(periods.throttled > 0 && periods.throttled <= periods.total, `throttled in ${periods.throttled} of ${periods.total} periods`);
  const got = await calibrateThrottle(0.25, 10, '0', 0.5);
  assert.ok(
    'share' in got && got.share > 0.2 && got.share < 0.3,
    `a busy loop under a quarter core in 10 ms periods got ${JSON.stringify(got)}`,
  );
});
