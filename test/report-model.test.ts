import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildModel, readReportRun } from '../src/report/index.js';
import { knownRatio, ratioPrecision } from '../src/analysis/ratios.js';
import { environmentRows, glance } from '../src/report/text.js';
import { ResultsError } from '../src/report/read.js';
import { POINTS_FILE } from '../src/results/schema.js';
import { exactRun } from './helpers/exact.js';
import { point, realisticRun, roundsRun, runInfo, writeRun } from './helpers/results.js';

const close = (got: number | null | undefined, want: number, eps = 1e-9) =>
  assert.ok(got !== null && got !== undefined && Math.abs(got - want) <= eps, `got ${got}, want ${want}`);

test("the model fits each server, applies Little's law, leaves client-bound points out and ranks by slope", async (t) => {
  const { run, points } = exactRun();
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = buildModel(readReportRun(dir));
  assert.deepEqual(
    model.servers.map((s) => s.server),
    ['native-st', 'lighttpd', 'threads'],
  );
  const [st, , threads] = model.servers;
  close(st!.latencyFit!.slope, 0.2);
  close(st!.latencyFit!.intercept, 1);
  close(st!.impliedRps, 5000, 1e-6);
  close(threads!.latencyFit!.slope, 0.5);
  close(threads!.latencyFit!.intercept, 0);
  assert.equal(threads!.latencyFit!.n, 3);
  assert.deepEqual(
    threads!.loads.map((lp) => [lp.load, lp.clientBound, lp.inFit]),
    [
      [100, false, true],
      [200, false, true],
      [300, false, true],
      [400, true, false],
    ],
  );
  assert.deepEqual(
    threads!.flags.map((f) => f.kind),
    ['client-bound'],
  );
  assert.equal(threads!.errors, 40);
  assert.equal(model.reference.server, 'lighttpd');
  assert.equal(model.run.state, 'finished');
  const nptl = model.comparison.find((c) => c.row === 'NPTL')!;
  close(nptl.ratio, 2);
  close(nptl.paperRatio, 0.281 / 0.242);
  assert.equal(nptl.rankNow, 3);
});

test('without lighttpd the reference falls back to the fastest event server, and says so', async (t) => {
  const { run, points } = exactRun(false);
  points.push(
    ...[100, 200, 300].map((l) => point({ server: 'nginx', family: 'production', paperRow: 'thttpd', load: l, meanLatencyMs: 0.4 * l })),
  );
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = buildModel(readReportRun(dir));
  assert.equal(model.reference.server, 'nginx');
  assert.equal(model.reference.row, 'thttpd');
  assert.match(model.notes.join('\n'), /lighttpd is not in this run.*fastest event server here, nginx/);
  close(model.comparison.find((c) => c.row === 'thttpd')!.paperRatio, 1);
  close(model.comparison.find((c) => c.row === 'ST')!.ratio, 0.5);
});

test('repeats are averaged; stopped, failed and overflowing servers are flagged; a partial last line is skipped', async (t) => {
  const r = realisticRun();
  const dir = await writeRun(r.run, r.points, r.tail);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stored = readReportRun(dir);
  assert.equal(stored.points.length, r.points.length);
  assert.match(stored.notes[0]!, /last line of points\.jsonl is incomplete/);
  const model = buildModel(stored);
  assert.equal(model.run.state, 'in progress');
  const events = model.servers.find((s) => s.server === 'events')!;
  const at100 = events.loads[0]!;
  const both = r.points.filter((p) => p.server === 'events' && p.load === 100).map((p) => p.result!.latencyMs.mean);
  assert.equal(at100.repeats, 2);
  close(at100.meanLatencyMs, (both[0]! + both[1]!) / 2);
  close(at100.meanLatencyMaxMs - at100.meanLatencyMinMs, Math.abs(both[0]! - both[1]!));
  const kinds = (name: string) => model.servers.find((s) => s.server === name)!.flags.map((f) => f.kind);
  assert.deepEqual(kinds('apache-prefork'), ['accept-queue', 'stopped']);
  assert.deepEqual(kinds('processes'), ['failed', 'stopped']);
  assert.deepEqual(kinds('threads'), ['client-bound']);
  // Each server's slope is recovered from its wiggled line within 2%.
  for (const line of r.lines) {
    const s = model.servers.find((x) => x.server === line.server)!;
    assert.ok(Math.abs(s.latencyFit!.slope / line.slopeMs - 1) < 0.02, `${line.server}: ${s.latencyFit!.slope} vs ${line.slopeMs}`);
  }
});

test('damaged, foreign or empty folders are refused with one clear message', async (t) => {
  const { run, points } = exactRun();
  const good = JSON.stringify(points[0]);
  const cases: [string, string, RegExp][] = [
    ['a bad line before the last', `${good}\n{"schema":\n${good}\n`, /line 2 is not valid JSON; only the last line may be incomplete/],
    [
      'another point schema',
      `${JSON.stringify({ ...points[0], schema: 'eventbench.point/9' })}\n`,
      /line 1: schema is "eventbench\.point\/9", this eventbench reads "eventbench\.point\/2" and "eventbench\.point\/1"/,
    ],
    ['no points yet', '', /holds no results yet/],
  ];
  for (const [name, text, message] of cases) {
    const dir = await writeRun(run, []);
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, POINTS_FILE), text);
    assert.throws(
      () => readReportRun(dir),
      (err: unknown) => err instanceof ResultsError && err.code === 'EB_RESULTS' && message.test(err.message),
      name,
    );
  }
  const foreign = await writeRun({ ...runInfo(['x'], [1]), schema: 'eventbench.run/0' as never }, points);
  t.after(() => rm(foreign, { recursive: true, force: true }));
  const reads = 'this eventbench reads "eventbench.run/4" and "eventbench.run/3" and "eventbench.run/2" and "eventbench.run/1"';
  assert.throws(
    () => readReportRun(foreign),
    (e: Error) => e.message.includes(`schema is "eventbench.run/0", ${reads}`),
  );
  assert.throws(
    () => readReportRun(path.join(foreign, 'nope')),
    (err: unknown) => (err as { code?: string }).code === 'EB_USAGE',
  );
});

test('a slope that is not positive is flagged and not ranked; a fit on two loads is flagged', async (t) => {
  const loads = [1, 100, 300];
  const points = [
    point({ server: 'steady', family: 'typescript', load: 1, meanLatencyMs: 1 }),
    point({ server: 'steady', family: 'typescript', load: 100, meanLatencyMs: 20 }),
    point({ server: 'steady', family: 'typescript', load: 300, meanLatencyMs: 60 }),
    point({ server: 'two-points', family: 'typescript', load: 1, meanLatencyMs: 50 }),
    point({ server: 'two-points', family: 'typescript', load: 100, meanLatencyMs: 20 }),
    point({ server: 'two-points', family: 'typescript', load: 300, meanLatencyMs: 0, failed: 'crashed' }),
    point({ server: 'rising-two', family: 'typescript', load: 1, meanLatencyMs: 1 }),
    point({ server: 'rising-two', family: 'typescript', load: 100, meanLatencyMs: 500 }),
  ];
  const dir = await writeRun(runInfo(['two-points', 'steady', 'rising-two'], loads), points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = buildModel(readReportRun(dir));
  assert.deepEqual(
    model.servers.map((s) => s.server),
    ['steady', 'rising-two', 'two-points'],
  );
  const falling = model.servers.find((s) => s.server === 'two-points')!;
  assert.ok(
    falling.flags.some((f) => f.kind === 'fit' && /not positive: not ranked/.test(f.text)),
    JSON.stringify(falling.flags),
  );
  const rising = model.servers.find((s) => s.server === 'rising-two')!;
  assert.ok(rising.flags.some((f) => f.kind === 'fit' && /2 loads only/.test(f.text)));
  assert.doesNotMatch(glance(model).join('\n'), /(Fastest|Slowest): two-points/);
});

/**
 * Three rounds of servers on lines (1 ms + slope·l), each round's process scaling all its points by its factor and
 * each point wiggled by ±1%; the reference is lighttpd at 0.1 ms/client.
 */

test('rank only what is known: "X is 2× Y" where the paired ratio excludes 1, nothing where it holds 1', () => {
  const { stored } = roundsRun([
    { server: 'lighttpd', slopeMs: 0.1, factors: [1, 1.1, 0.95] },
    { server: 'fast', slopeMs: 0.05, factors: [1.02, 1.1, 0.97] },
    { server: 'near', slopeMs: 0.102, factors: [0.97, 1.12, 0.96] },
  ]);
  const model = buildModel(stored);
  const by = (name: string) => model.servers.find((s) => s.server === name)!;
  const known = knownRatio(by('lighttpd'), by('fast'))!;
  assert.equal(known.faster, 'fast');
  assert.equal(known.slower, 'lighttpd');
  assert.ok(known.times.lo > 1 && Math.abs(known.times.value - 2) < 0.1, JSON.stringify(known.times));
  // Either order gives the same statement.
  assert.deepEqual(knownRatio(by('fast'), by('lighttpd'))!.faster, 'fast');
  assert.ok(Math.abs(knownRatio(by('fast'), by('lighttpd'))!.times.value - known.times.value) < 1e-9);
  assert.equal(knownRatio(by('lighttpd'), by('near')), null, '2% apart with ±5% processes: not told apart');
  // The model shows each server's spread by level.
  const c = by('near').components!;
  assert.equal(c.rounds, 3);
  assert.ok(c.processRsd! > 0.03 && c.pointRsd! < 0.02, JSON.stringify(c));
});

test("the runner's view: every server's ratio half-width to the reference from the points so far, widest first", () => {
  const { info, points, stored } = roundsRun([
    { server: 'lighttpd', slopeMs: 0.1, factors: [1, 1.05, 0.98] },
    { server: 'steady', slopeMs: 0.2, factors: [1, 1.05, 0.98] },
    { server: 'wobbly', slopeMs: 0.2, factors: [0.8, 1.3, 1] },
    { server: 'flagged', slopeMs: 0.3, factors: [1, 1.06, 0.97], flagAt: { load: 1000, round: 2 } },
  ]);
  // A server measured in one round so far: no second process, no bound.
  const late = (load: number) => point({ server: 'late', family: 'typescript', load, round: 1, meanLatencyMs: 1 + 0.15 * load });
  points.push(...[10, 100, 250].map(late));
  const got = ratioPrecision(points, info.plan, 'lighttpd');
  assert.deepEqual(
    got.map((p) => p.server),
    ['late', 'wobbly', 'flagged', 'steady'],
  );
  assert.equal(got[0]!.halfWidth, Infinity);
  assert.deepEqual(
    got.map((p) => p.rounds),
    [1, 3, 3, 3],
  );
  assert.ok(got[1]!.halfWidth! > 0.2 && got[3]!.halfWidth! < 0.05, JSON.stringify(got.map((p) => p.halfWidth)));
  // The same intervals as the report's, flagged points left out alike.
  const model = buildModel(stored);
  for (const p of got.filter((x) => x.server !== 'late')) {
    assert.deepEqual(p.ratio, model.servers.find((s) => s.server === p.server)!.ratio);
  }
});

test('a run that asked a precision: the glance and the flags name who missed it; "slowest is N× the fastest" only where known', () => {
  const { stored, info } = roundsRun([
    { server: 'lighttpd', slopeMs: 0.1, factors: [1, 1.02, 0.99] },
    { server: 'fast', slopeMs: 0.05, factors: [1, 1.01, 0.99] },
    { server: 'wobbly', slopeMs: 0.2, factors: [0.8, 1.25, 1] },
    { server: 'slow', slopeMs: 0.8, factors: [1.01, 1, 0.99] },
  ]);
  info.plan = { ...info.plan, precision: 0.1, budgetS: 600 };
  info.addedRounds = [{ round: 4, servers: ['wobbly', 'lighttpd'], reference: 'lighttpd', sharpening: [] }];
  info.overBudget = { byS: 12.3, why: 'validity first: the 3 planned rounds run whole' };
  const model = buildModel(stored);
  const lines = glance(model);
  const precision = lines.find((l) => l.startsWith('Precision: '))!;
  assert.match(precision, /^Precision: ±10% asked of every ratio to lighttpd \(run --precision\), after 3 planned round\(s\) and 1 added/);
  assert.match(precision, /: reached by 2 of 3; not reached by wobbly ±\d+%\.$/);
  const wobbly = model.servers.find((s) => s.server === 'wobbly')!;
  const imprecise = wobbly.flags.find((f) => f.kind === 'imprecise')!.text;
  assert.match(imprecise, /^ratio to lighttpd ±\d+% after 3 round\(s\) with it, wider than the ±10% asked/);
  assert.ok(model.servers.filter((s) => s.server !== 'wobbly').every((s) => !s.flags.some((f) => f.kind === 'imprecise')));
  const budget = 'Budget: 600 s asked (run --budget); the run passed it by 12 s: validity first: the 3 planned rounds run whole.';
  assert.ok(lines.includes(budget), lines.join('\n'));
  // slow ÷ fast is known (its interval, rounds paired, lies above 1): said with that interval.
  const slowest = lines.find((l) => l.startsWith('Slowest: '))!;
  assert.match(slowest, /, 1[56]\.\d× \[1[4-7]\.\d–1[5-8]\.\d\] the fastest's slope \(95% interval, rounds paired\)\.$/);
  const loads = environmentRows(model).find(([k]) => k === 'loads')![1];
  assert.match(loads, /3 rounds and 1 added for the widest intervals \(±10% asked of every ratio to lighttpd, budget 600 s\)/);
});
