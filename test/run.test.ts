import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/experiments/run.js';
import { readRun } from '../src/results/store.js';
import { killTree } from '../src/core/proc.js';
import { detectCgroup } from '../src/host/throttle.js';
import { cycleOrder } from '../src/sweep/plan.js';
import { POINT_SCHEMA, RUN_SCHEMA, type Point } from '../src/results/schema.js';
import { testCatalog, testTrial, RUN_CHILD, SERVE_SCRIPT, processesRunning } from './helpers/runner.js';
import { runInfo } from './helpers/results.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'eventbench-run-'));
const lines = (dir: string) =>
  readFileSync(join(dir, 'points.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Point);
const ourCgroups = () => {
  const root = detectCgroup().root;
  return root ? readdirSync(root).filter((n) => n.startsWith(`eventbench-${process.pid}-`)) : [];
};

test('a quick run over two servers writes one JSON line per point and run.json, and leaves nothing behind', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  const out = await runExperiment({
    input: { servers: ['tiny', 'tiny-tree'], loads: [1, 4], requests: 60, quick: true, cycles: 2, memory: false },
    out: dir,
    catalog: testCatalog,
    trial: testTrial,
  });
  assert.equal(out.interrupted, false);
  const points = lines(dir);
  // --quick, with two cycles: one round of two cycles; tiny, the reference (the first server, lacking lighttpd, native-epoll, events),
  // before and after tiny-tree in each, its sweep between the cycles run once.
  assert.deepEqual(
    points.map((p) => `${p.server}@${p.load}/${p.cycle}`),
    [
      'tiny@1/1',
      'tiny@4/1',
      'tiny-tree@1/1',
      'tiny-tree@4/1',
      'tiny@1/1',
      'tiny@4/1',
      'tiny-tree@1/2',
      'tiny-tree@4/2',
      'tiny@1/2',
      'tiny@4/2',
    ],
  );
  assert.deepEqual(
    points.map((p) => p.visit),
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
  );
  const visits = readRun(dir).visits!;
  assert.deepEqual(
    visits.map((v) => (v.kind === 'visit' ? `${v.server}#${v.visit}` : v.kind)),
    ['tiny#1', 'tiny-tree#2', 'tiny#3', 'tiny-tree#4', 'tiny#5', 'round-end'],
  );
  for (const v of visits) if (v.kind === 'visit') assert.ok(v.endMs > v.startMs && v.requests >= 120, JSON.stringify(v));
  for (const p of points) {
    assert.equal(p.schema, POINT_SCHEMA);
    assert.equal(p.status, 'ok', p.reason);
    assert.equal(p.result!.requestsCompleted, 60);
    assert.equal(p.result!.trim, p.load, 'each point trims its own ramp: min(trim, load)');
    assert.ok(p.metrics!.peakRssBytes > 10e6, 'a node server has megabytes resident');
    assert.ok(p.metrics!.cpuS > 0);
    assert.ok(p.metrics!.backlog.effective >= 1);
  }
  // The tree is sampled whole: the server with a child counts two processes.
  assert.equal(points.find((p) => p.server === 'tiny')!.metrics!.peakProcesses, 1);
  assert.equal(points.find((p) => p.server === 'tiny-tree')!.metrics!.peakProcesses, 2);
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(info.schema, RUN_SCHEMA);
  assert.ok(info.finishedAt);
  assert.deepEqual(info.plan.loads, [1, 4]);
  assert.equal(info.plan.serverCpus, '0');
  assert.ok(['cgroup-v1', 'cgroup-v2', 'none'].includes(info.host.throttle.mechanism));
  assert.ok(info.environment.kernel);
  assert.deepEqual(await processesRunning(SERVE_SCRIPT), []);
  assert.deepEqual(ourCgroups(), [], 'the cgroup is removed');
});

test('a server that crashes mid-point is a failed point, and the run goes on', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  await runExperiment({
    input: {
      servers: ['crashy', 'tiny'],
      loads: [2, 3, 5],
      requests: 200,
      serverCpuShare: 0,
      rounds: 2,
      cycles: 2,
      reference: 'tiny',
      memory: false,
    },
    out: dir,
    catalog: testCatalog,
    trial: testTrial,
  });
  const points = lines(dir);
  const crashy = points.filter((p) => p.server === 'crashy');
  assert.equal(crashy[0]!.status, 'failed');
  assert.match(crashy[0]!.reason!, /server exited \(code 3\) during the measurement/);
  // A failure ends its sweep; its next sweep starts the server afresh; two failures in a row retire it for good.
  assert.deepEqual(
    crashy.map((p) => `${p.load}#${p.round}/${p.cycle}`),
    ['2#1/1', '2#1/2'],
  );
  assert.match(crashy[1]!.stopped!, /2 failed points in a row/);
  // The reference: before and after crashy in each cycle of round 1, then alone (no sweep beside it twice).
  const tiny = points.filter((p) => p.server === 'tiny');
  assert.ok(tiny.every((p) => p.status === 'ok'));
  assert.deepEqual([...new Set(tiny.map((p) => p.visit))].length, 4, 'round 1: 3 sweeps; round 2: 1');
  assert.deepEqual(await processesRunning(SERVE_SCRIPT), []);
});

test('a server too slow at its lowest load for a point to hold two waves is retired from that round and every later one', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  await runExperiment({
    input: {
      servers: ['sluggish', 'tiny'],
      loads: [4, 8],
      durationS: 0.3,
      serverCpuShare: 0,
      rounds: 2,
      cycles: 2,
      reference: 'tiny',
      memory: false,
    },
    out: dir,
    catalog: testCatalog,
    trial: testTrial,
  });
  const points = lines(dir);
  const sluggish = points.filter((p) => p.server === 'sluggish');
  // Three requests in 0.3 s at l=4: fewer than two waves of 4, so no closed loop; the later rounds would only repeat it.
  assert.deepEqual(
    sluggish.map((p) => `${p.load}#${p.round}`),
    ['4#1'],
  );
  assert.ok(
    sluggish[0]!.flags!.some((f) => f.kind === 'too-slow'),
    JSON.stringify(sluggish[0]!.flags),
  );
  assert.equal(sluggish[0]!.retired, true);
  assert.match(sluggish[0]!.stopped!, /too slow at its lowest load \(load 4\).*nor in later rounds; longer points \(--duration\)/);
  // The reference alone is swept once a round after sluggish is gone: a second sweep would pair with nothing.
  assert.deepEqual(
    points.filter((p) => p.server === 'tiny').map((p) => `${p.load}#${p.round}`),
    ['4#1', '8#1', '4#1', '8#1', '4#2', '8#2'],
  );
  assert.deepEqual(await processesRunning(SERVE_SCRIPT), []);
});

test('SIGINT stops the run with no server left, keeps finished points, and --resume completes it', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  const args = [
    '--servers',
    'tiny-tree,tiny',
    '--loads',
    '1,2,3',
    '--repeat',
    '1',
    '-t',
    '0.6',
    '-n',
    '100000',
    '--out',
    dir,
    '--no-report',
    '--no-memory',
  ];
  const child = spawn(process.execPath, [RUN_CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => killTree(child.pid!, 'SIGKILL', process.pid));
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  // Interrupt once the first point is on disk, in the middle of a later one.
  const deadline = Date.now() + 20_000;
  while (!(existsSync(join(dir, 'points.jsonl')) && readFileSync(join(dir, 'points.jsonl'), 'utf8').length > 0)) {
    assert.ok(Date.now() < deadline, `no point after 20 s: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 130, err);
  assert.match(err, /resume with `eventbench run --resume/);
  assert.deepEqual(await processesRunning(SERVE_SCRIPT), [], 'no server process is left');
  const kept = readRun(dir);
  assert.equal(kept.info.interrupted, true);
  assert.ok(kept.points.length >= 1 && kept.points.length < 6, `kept ${kept.points.length}`);

  const resumed = spawn(process.execPath, [RUN_CHILD, '--resume', dir, '--no-report'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  resumed.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const code2 = await new Promise<number | null>((r) => resumed.on('exit', (c) => r(c)));
  assert.equal(code2, 0, out);
  const all = lines(dir);
  // One round of two cycles: tiny-tree (the reference, the first server) before and after tiny in each, its sweep
  // between the cycles run once; a sweep cut short by the interrupt is not taken up again, the rest is measured once.
  const done = new Set(all.map((p) => `${p.server}@${p.load}#${p.visit}`));
  assert.equal(done.size, all.length, 'no point measured twice');
  for (const server of ['tiny', 'tiny-tree'])
    for (const load of [1, 2, 3]) assert.ok(all.some((p) => p.server === server && p.load === load && p.session === 2));
  assert.ok(all.every((p) => p.status === 'ok'));
  assert.ok(all.some((p) => p.session === 1) && all.some((p) => p.session === 2), 'the resume measured in processes of its own');
  assert.equal(readRun(dir).info.interrupted, undefined);
  assert.match(out, /tiny/);
  assert.deepEqual(await processesRunning(SERVE_SCRIPT), []);
});

test('a torn last line (a run killed mid-write) is cut off on resume; another schema is refused', (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const info = runInfo(['a'], [1]);
  writeFileSync(join(base, 'run.json'), JSON.stringify(info));
  writeFileSync(join(base, 'points.jsonl'), JSON.stringify({ schema: POINT_SCHEMA, server: 'a', load: 1 }) + '\n{"schema":"eventb');
  const r = readRun(base);
  assert.equal(r.points.length, 1);
  assert.match(r.notes.join('\n'), /torn last line/);
  assert.ok(readFileSync(join(base, 'points.jsonl'), 'utf8').endsWith('}\n'));

  const old = join(base, 'old');
  mkdirSync(old);
  writeFileSync(join(old, 'run.json'), JSON.stringify({ ...info, schema: 'eventbench.run/0' }));
  const reads = 'this eventbench reads "eventbench.run/4" and "eventbench.run/3" and "eventbench.run/2" and "eventbench.run/1"';
  assert.throws(
    () => readRun(old),
    (e: Error & { code?: string }) => e.code === 'EB_RESULTS' && e.message.includes(`run.json: schema is "eventbench.run/0", ${reads}`),
  );
  assert.throws(() => readRun(join(base, 'nothing')), { code: 'EB_USAGE', message: /--resume: got ".*nothing", no such folder/ });
});

test('a point where every request timed out is recorded, printed, and retires the server (regression: null figures)', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  const child = spawn(
    process.execPath,
    [
      RUN_CHILD,
      '--servers',
      'stall,tiny',
      '--reference',
      'tiny',
      '--loads',
      '2,4',
      '--repeat',
      '1',
      '--seed',
      '1',
      '-n',
      '6',
      '--latency-cap',
      '0.3',
      '--out',
      dir,
      '--no-report',
      '--no-memory',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => killTree(child.pid!, 'SIGKILL', process.pid));
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 0, err);
  assert.match(
    err,
    /stall @ 2 \(round 1, cycle 1\): failed: no response to 6 requests \(6 timeout\) in [\d.]+ s at l=2; stopped: errors were 100\.0% of requests/,
  );
  assert.doesNotMatch(err, /\b0 req\/s/, 'a point that served nothing has no rate, not 0');
  assert.deepEqual(
    lines(dir)
      .map((p) => `${p.server}@${p.load}`)
      .sort(),
    ['stall@2', 'tiny@2', 'tiny@2', 'tiny@4', 'tiny@4'],
    'the reference before and after stall, then nothing: stall is retired and the reference pairs with nothing else',
  );
});

test('cycles: each sweeps every server once in its seeded order, the reference between every 4 others, each at every load in ascending order', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  const servers = ['tiny', 'tiny-tree', 'busy'];
  const input = {
    servers,
    loads: [1, 3],
    requests: 60,
    serverCpuShare: 0,
    rounds: 2,
    cycles: 2,
    referenceEvery: 1,
    seed: 7,
    memory: false,
  };
  const out = await runExperiment({ input, out: dir, catalog: testCatalog, trial: testTrial });
  const points = lines(dir);
  assert.equal(out.info.plan.seed, 7);
  for (const round of [1, 2]) {
    for (const cycle of [1, 2]) {
      const order = cycleOrder(out.info.plan, round, cycle);
      assert.deepEqual(
        order.filter((_, k) => k % 2 === 0),
        ['tiny', 'tiny', 'tiny'],
        'the reference after every other server',
      );
      // A cycle after the first begins where the one before ended: with the reference, swept once for both.
      const swept = cycle === 1 ? order : order.slice(1);
      const inCycle = points.filter((p) => p.round === round && p.cycle === cycle).map((p) => `${p.server}@${p.load}`);
      assert.deepEqual(
        inCycle,
        swept.flatMap((s) => [`${s}@1`, `${s}@3`]),
        `round ${round}, cycle ${cycle}`,
      );
    }
  }
  assert.deepEqual([...new Set(points.map((p) => p.round))], [1, 2], 'round 1, then round 2');
  assert.deepEqual(await processesRunning(SERVE_SCRIPT), []);
});

test('a run/1 folder (rounds named `repeat`) is still read, reported and resumed: its plan is the closed sweep alone', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'old');
  const made = await runExperiment({
    input: { servers: ['tiny'], loads: [1, 2], requests: 40, serverCpuShare: 0, rounds: 1, memory: false },
    out: dir,
    catalog: testCatalog,
    trial: testTrial,
  });
  // Written back as eventbench 0.1 wrote it: run/1 with plan.repeat, point/1 lines with repeat, and only one point.
  const { rounds, cycles: _c, referenceEvery: _e, reference: _r, serverCpuShareFrom: _f, ...plan } = made.info.plan;
  const { phases: _phases, ...info } = made.info;
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...info, schema: 'eventbench.run/1', plan: { ...plan, repeat: rounds } }));
  const old = ({ round, cycle: _c, visit: _v, session: _s, ...p }: Point) =>
    JSON.stringify({ ...p, schema: 'eventbench.point/1', repeat: round });
  writeFileSync(join(dir, 'points.jsonl'), `${old(made.points[0]!)}\n`);
  const read = readRun(dir);
  assert.equal(read.info.plan.rounds, 1);
  assert.deepEqual(read.info.phases, [{ phase: 'closed' }]);
  assert.equal(read.points[0]!.round, 1);
  const { buildModel, readReportRun } = await import('../src/report/index.js');
  assert.equal(buildModel(readReportRun(dir)).servers[0]!.server, 'tiny');
  const resumed = await runExperiment({ input: {}, resume: dir, catalog: testCatalog, trial: testTrial });
  assert.deepEqual(
    resumed.points.map((p) => `${p.load}#${p.round}`),
    ['1#1', '2#1'],
    'only the missing point is measured',
  );
  assert.equal(readRun(dir).info.schema, RUN_SCHEMA, 'run.json is rewritten as run/4; its point/1 line stays readable');
});
