// `eventbench run --open-loop` (src/experiments/open-loop.ts): the sweep at fractions of each server's own
// closed-loop capacity (real servers, the real client), and the report's figure and table (the knee itself:
// test/report-open-loop.test.ts).
// suite: alone (scripts/test.sh runs it by itself, after the others): the loop's rates are fractions of capacities it
// measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPEN_POINTS_FILE, type OpenPoint } from '../src/results/schema.js';
import { parseRunArgs } from '../src/cli/commands/run.js';
import { reportHtml } from '../src/report/index.js';
import { RUN_CHILD, testCatalog, testTrial } from './helpers/runner.js';
import { needs } from './helpers/optional.js';
import { runExperiment } from '../src/experiments/run.js';
import { localHosts } from '../src/host/local.js';
import { detectCgroup, readQuota } from '../src/host/throttle.js';
import { hasTaskset } from '../src/host/cpus.js';

test('--rates without --open-loop, and fractions out of range, are one line each', () => {
  assert.throws(
    () => parseRunArgs(['--rates', '0.5']),
    /^UsageError: --rates: got "0.5", belongs to the open loop; add --open-loop or drop --rates$/,
  );
  assert.throws(() => parseRunArgs(['--open-loop', '--rates', '0.5,20']), /--rates: got 20, the limit is 0.01 to 10/);
  assert.deepEqual(parseRunArgs(['--open-loop', '--rates', '0.9,0.1']).input.openLoop, [0.1, 0.9]);
});

test('run --open-loop: every server measured at fractions of its own closed-loop capacity; the report draws it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eventbench-openrun-'));
  try {
    const child = spawn(
      process.execPath,
      [
        RUN_CHILD,
        '--servers',
        'tiny',
        '--loads',
        '1,4',
        '--repeat',
        '1',
        '-t',
        '0.3',
        '--open-loop',
        '--rates',
        '0.2,0.6',
        '--out',
        dir,
        '--no-report',
        '--no-memory',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0, stderr);
    const closed = readFileSync(path.join(dir, 'points.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const capacity = Math.max(...closed.map((p) => p.result.throughputRps));
    const open = readFileSync(path.join(dir, OPEN_POINTS_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as OpenPoint);
    assert.deepEqual(
      open.map((p) => p.rateFraction),
      [0.2, 0.6],
    );
    for (const p of open) {
      assert.equal(p.status, 'ok', p.reason);
      assert.equal(p.capacityRps, capacity);
      assert.equal(p.rateRps, Math.round(p.rateFraction * capacity));
      assert.equal(p.result!.loop, 'open');
      assert.equal(p.result!.openLoop!.rateRps, p.rateRps);
    }
    assert.match(stderr, /open loop: tiny @ \d+ req\/s \(0\.2 × \d+, round 1\)/);
    const html = await reportHtml(dir);
    assert.match(html, /data-figure="fig6-open-loop"/);
    assert.match(html, /data-table="open-loop"/);
    assert.match(html, /<td[^>]*>tiny<\/td>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the open loop runs at the throttle period asked for, with the runner pinned to the client cores (regression: issue 17)', {
  skip:
    needs('a cgroup CPU quota', detectCgroup().reason) || needs('taskset (util-linux)', hasTaskset() ? undefined : 'taskset is missing'),
}, async (t) => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'eventbench-openpin-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const hosts = localHosts();
  const before = allowedList();
  const seen: { phase: string; quota?: { quotaUs: number; periodUs: number }; cpus: string }[] = [];
  const out = await runExperiment({
    input: {
      servers: ['tiny'],
      loads: [2, 4],
      rounds: 1,
      durationS: 0.3,
      serverCpus: '0',
      clientCpus: '1',
      serverCpuShare: 0.5,
      throttlePeriodMs: 20,
      openLoop: [0.3],
      memory: false,
    },
    out: path.join(base, 'r'),
    catalog: testCatalog,
    trial: testTrial,
    hosts,
    // Read while each point runs: the cgroup the server is in, and this process's own affinity (the runner's warm-ups).
    onEvent: (e) => {
      if (e.type === 'point-start')
        seen.push({
          phase: e.phase,
          cpus: allowedList(),
          ...(hosts.server.cgroupPath ? { quota: readQuota(hosts.server.cgroupPath) } : {}),
        });
    },
  });
  assert.equal(out.interrupted, false);
  assert.equal(out.openPoints.length, 1);
  const open = seen.filter((s) => s.phase === 'open');
  assert.equal(open.length, 1);
  for (const s of seen) {
    assert.deepEqual(s.quota, { quotaUs: 10_000, periodUs: 20_000 }, `${s.phase}: half a core in 20 ms periods, as asked`);
    assert.equal(s.cpus, '1', `${s.phase}: the runner is pinned to the client core`);
  }
  assert.equal(allowedList(), before, "the runner's affinity is restored after the run");
  assert.equal(hosts.server.cgroupPath, undefined, 'the cgroup is removed');
});

function allowedList(): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
}
