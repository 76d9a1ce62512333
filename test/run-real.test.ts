import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findModel } from '../src/servers/registry.js';
import { needsModel } from './helpers/optional.js';
import type { MemoryRun, Point, RunInfo } from '../src/results/schema.js';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));

const servers = ['events', 'native-epoll'];
const epoll = findModel('native-epoll');
assert.ok(findModel('events') && epoll, 'both models are registered');

test('the real CLI: a --quick run over two fast models writes the expected JSON Lines, run.json and the report', {
  skip: await needsModel(epoll),
}, async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'eventbench-real-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  const r = spawnSync(
    process.execPath,
    [BIN, 'run', '--quick', '--servers', servers.join(','), '--loads', '1,20', '-n', '300', '--out', dir],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const points = readFileSync(join(dir, 'points.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Point);
  // One cycle of the paired design: the reference (native-epoll) measured on each side of events, each sweep's loads
  // in ascending order, one server after the other.
  assert.deepEqual(
    points.map((p) => `${p.server}@${p.load}`),
    ['native-epoll@1', 'native-epoll@20', 'events@1', 'events@20', 'native-epoll@1', 'native-epoll@20'],
  );
  for (const p of points) {
    assert.equal(p.status, 'ok', p.reason);
    assert.equal(p.result!.requestsCompleted, 300);
    assert.equal(p.result!.errors.total, 0);
    assert.ok(p.metrics!.peakRssBytes > 0 && p.metrics!.peakProcesses >= 1);
  }
  // The node wrapper of a native server is left out: one C process remains.
  const native = points.find((p) => p.server === 'native-epoll')!;
  assert.equal(native.family, 'native');
  assert.equal(native.metrics!.peakProcesses, 1);
  assert.ok(native.metrics!.peakRssBytes < 20e6, 'the C server alone, not node');
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo;
  assert.ok(info.finishedAt);
  // No quota given: the client's capacity was measured against a probe at the full core, and the quota chosen from it
  // (at most a quarter core), recorded, used and said.
  const c = info.calibration!;
  assert.ok(c.clientCapacityRps > 1000 && c.probeRpsPerCore > 1000, JSON.stringify(c));
  assert.ok(c.chosenShare >= 0.02 && c.chosenShare <= 0.25, JSON.stringify(c));
  assert.equal(info.plan.serverCpuShare, c.chosenShare);
  assert.ok(Math.abs(c.headroom - c.clientCapacityRps / (c.probeRpsPerCore * c.chosenShare)) < 1e-9);
  if (c.chosenShare > 0.02) assert.ok(c.headroom >= 2 - 1e-9, `${c.headroom}× headroom at ${c.chosenShare} core`);
  assert.match(
    r.stderr,
    /^client capacity \d+ requests\/s against \S+ at the full core, its core \d+% busy; each server's quota: .* \(\d+\.\d× headroom, \d+\.\d s\)$/m,
  );
  assert.match(r.stderr, new RegExp(`throttled to ${c.chosenShare} core`));
  assert.deepEqual(info.plan.servers, servers);
  assert.match(r.stdout, /report: .*report\.html/);
  // Both servers are rows of the printed ranking. Whether they are ranked depends on flags that two 300-request
  // points may honestly earn on a busy machine (l=1 is client-bound by nature; a short point may be not-steady):
  // ranking itself is tested on synthetic runs (report-model.test.ts).
  for (const s of servers) assert.match(r.stdout, new RegExp(`\\| (\\d+=?|—) \\| ${s} \\|`));
  assert.ok(!info.warnings.some((w) => /left \d+ process/.test(w)), info.warnings.join('\n'));
  // The memory phase ran last, by default, at --quick's levels, into the run folder.
  assert.deepEqual(
    info.phases.map((p) => p.phase),
    ['closed', 'memory'],
  );
  const memory = JSON.parse(readFileSync(join(dir, 'memory.json'), 'utf8')) as MemoryRun;
  assert.deepEqual(memory.servers.map((s) => s.server).sort(), [...servers].sort());
  assert.deepEqual(memory.levels, [0, 100, 200]);
  for (const s of memory.servers) assert.equal(s.status, 'ok', s.reason);
  assert.match(r.stderr, /memory: 8 level\(s\) to measure/);
});
