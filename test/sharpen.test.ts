// Issue 19: rounds added where the uncertainty is. The choice is pure: from one run's points so far, which servers
// the next added round sharpens (the widest ratio intervals first, beside the reference), how many, and when none
// is added any more (every server meets the precision, or the next round does not fit the time left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ratioPrecision, type RatioPrecision } from '../src/analysis/ratios.js';
import {
  ADDED_ROUND_SERVERS,
  chooseSharpened,
  MIN_NARROWING,
  narrowing,
  nextAddedRound,
  type NextRoundInput,
} from '../src/sweep/sharpen.js';
import { roundOrder } from '../src/sweep/plan.js';
import type { Sweep } from '../src/sweep/engine.js';
import { point, roundsRun } from './helpers/results.js';

/** Servers whose process effects (one factor per round) are known: the wider the factors, the wider the interval. */
function run() {
  const { info, points } = roundsRun([
    { server: 'lighttpd', slopeMs: 0.1, factors: [1, 1.02, 0.99] },
    { server: 'steady', slopeMs: 0.2, factors: [1, 1.01, 0.99] },
    { server: 'wobbly', slopeMs: 0.2, factors: [0.9, 1.12, 1] },
    { server: 'wild', slopeMs: 0.3, factors: [0.75, 1.35, 1] },
    { server: 'mild', slopeMs: 0.15, factors: [0.95, 1.06, 1] },
    { server: 'fair', slopeMs: 0.25, factors: [0.93, 1.08, 1] },
  ]);
  // Measured in one round so far: no second process, an unbounded interval. And a server with no slope at all.
  const at = (server: string, load: number, round: number, meanLatencyMs: number) =>
    point({ server, family: 'typescript', load, round, meanLatencyMs });
  points.push(...[10, 100, 250, 500, 1000].map((load) => at('late', load, 1, 1 + 0.15 * load)));
  points.push(...[1, 2, 3].flatMap((round) => [10, 1000].map((load) => at('flat', load, round, 5))));
  info.plan.servers.push('late', 'flat');
  info.plan = { ...info.plan, precision: 0.1, budgetS: 600, seed: 42 };
  return { plan: info.plan, points };
}

test('the allocation picks the widest interval first, at most four a round, never one that meets the precision or has no ratio', () => {
  const { plan, points } = run();
  const precision = ratioPrecision(points, plan, 'lighttpd');
  const width = Object.fromEntries(precision.map((p) => [p.server, p.halfWidth]));
  assert.equal(width.late, Infinity);
  assert.equal(width.flat, null, 'no positive slope, no ratio');
  assert.ok(width.steady! < 0.1 && width.wild! > width.wobbly! && width.wobbly! > width.mild!, JSON.stringify(width));
  const widerThanAsked = precision.filter((p) => p.halfWidth !== null && p.halfWidth > 0.1).map((p) => p.server);
  assert.ok(widerThanAsked.length > ADDED_ROUND_SERVERS, `${widerThanAsked} should fill a round and more`);

  const chosen = chooseSharpened(precision, 0.1, () => true).map((p) => p.server);
  assert.equal(chosen.length, ADDED_ROUND_SERVERS);
  assert.deepEqual(chosen, widerThanAsked.slice(0, ADDED_ROUND_SERVERS), 'widest first: the unbounded one, then the widest');
  assert.deepEqual(chosen.slice(0, 2), ['late', 'wild']);
  assert.ok(!chosen.includes('steady') && !chosen.includes('flat'));
  // Shuffled input: the same choice.
  assert.deepEqual(
    chooseSharpened([...precision].reverse(), 0.1, () => true).map((p) => p.server),
    chosen,
  );
  // A wide server that does not fit leaves room for a narrower, cheaper one.
  const cheap = chooseSharpened(precision, 0.1, (servers) => !servers.includes('wild'), 2).map((p) => p.server);
  assert.deepEqual(cheap, ['late', 'wobbly']);
  // Everything meets a precision of ±90% but the unbounded one.
  assert.deepEqual(
    chooseSharpened(precision, 0.9, () => true).map((p) => p.server),
    ['late'],
  );
});

/** The next round's inputs: every server runnable, a flat price of 5 s a sweep. */
const next = (o: Partial<NextRoundInput> & Pick<NextRoundInput, 'plan' | 'points'>) =>
  nextAddedRound({
    added: [],
    servers: o.plan.servers,
    leftS: 100,
    priceS: (sweeps: readonly Sweep[]) => 5 * sweeps.length,
    ...o,
  });

test('the next added round: the reference beside the widest, numbered on from the planned rounds, in the seeded order', () => {
  const { plan, points } = run();
  const r = next({ plan, points });
  assert.ok('round' in r);
  const { round } = r.round;
  assert.equal(round, plan.rounds + 1);
  assert.equal(r.round.reference, 'lighttpd');
  assert.deepEqual(
    r.round.sharpening.map((s) => s.server),
    ['late', 'wild', 'wobbly', 'fair'],
  );
  assert.equal(r.round.sharpening[0]!.halfWidth, null, 'unbounded: no second round with the reference');
  assert.deepEqual([...r.round.servers].sort(), ['fair', 'late', 'lighttpd', 'wild', 'wobbly']);
  // Seeded as a planned round is: the plan's seed and the round's number, over its servers in plan order.
  assert.deepEqual(
    r.round.servers,
    roundOrder(
      plan,
      round,
      plan.servers.filter((s) => r.round.servers.includes(s)),
    ),
  );
  assert.equal(r.priceS, 25);
  // After an added round, the next is numbered on from it.
  const again = next({ plan, points, added: [r.round] });
  assert.ok('round' in again && again.round.round === round + 1);
  // The time left holds the reference and one server: the widest.
  const tight = next({ plan, points, leftS: 12 });
  assert.ok('round' in tight);
  assert.deepEqual(
    tight.round.sharpening.map((s) => s.server),
    ['late'],
  );
});

test('no round is added once every ratio meets the precision, or when the next does not fit; the outcome says who reached it', () => {
  const { plan, points } = run();
  const full = next({ plan, points, leftS: 8 });
  assert.ok('stopped' in full);
  assert.match(full.stopped, /^the next round \(lighttpd and \w+, priced 10 s\) does not fit in the 8 s left of the budget$/);
  assert.deepEqual(full.outcome!.reached.sort(), ['steady']);
  assert.deepEqual(full.outcome!.missed.map((m) => m.server).sort(), ['fair', 'late', 'mild', 'wild', 'wobbly']);
  assert.equal(full.outcome!.missed.find((m) => m.server === 'late')!.halfWidth, null);
  assert.deepEqual(full.outcome!.noRatio, ['flat']);
  assert.equal(full.outcome!.reference, 'lighttpd');

  const withoutLate = points.filter((p) => p.server !== 'late');
  const met = next({ plan: { ...plan, precision: 0.9 }, points: withoutLate });
  assert.ok('stopped' in met);
  assert.equal(met.stopped, 'every ratio to lighttpd is within ±90%');
  assert.equal(met.outcome!.missed.length, 0);

  const gone = next({ plan, points, servers: plan.servers.filter((s) => s !== 'lighttpd') });
  assert.ok('stopped' in gone && /the reference, lighttpd, can no longer run here/.test(gone.stopped));
  // The reference asked for (run --reference) is the one every added round measures.
  const asked = next({ plan: { ...plan, reference: 'steady' }, points });
  assert.ok('round' in asked && asked.round.reference === 'steady' && asked.round.servers.includes('steady'));
});

/** A server's ratio precision in the paired design, from a known process and cycle variance and cycles per process. */
function pairedPrecision(server: string, processVariance: number, cycleVariance: number, perProcess: number[]): RatioPrecision {
  const estimate = {
    mean: 0,
    variance: 0,
    df: 12,
    processes: perProcess.length,
    cycles: perProcess.reduce((a, n) => a + n, 0),
    perProcess,
    cycleVariance,
    processVariance,
    processFrom: 'pooled' as const,
    cycleVarianceUsed: cycleVariance,
    cycleFrom: 'moderated' as const,
  };
  const processes = perProcess.map((_, g) => `${g + 1}.1`);
  return { server, rounds: estimate.cycles, ratio: { value: 1, lo: 0.7, hi: 1.3 }, halfWidth: 0.3, estimate, processes };
}

test('one more visit narrows by what it adds: a cycle where the cycles scatter, a fresh process where the processes do', () => {
  // A V8 server, two processes of four or five cycles, a fresh process varying ±14% and a cycle ±14%: a cycle more
  // of process 2 narrows it by under 1%, a third process by about 10%.
  const v8 = pairedPrecision('events', 0.02, 0.02, [4, 5]);
  assert.ok(narrowing(v8, '2.1') < 0.01, `a cycle: ${narrowing(v8, '2.1')}`);
  assert.ok(narrowing(v8, null) > 0.08, `a process: ${narrowing(v8, null)}`);
  assert.ok(narrowing(v8, '2.1') < MIN_NARROWING, 'too little to be worth a visit');
  // A C server in one cycle a process, its cycles scattering more than its processes: a cycle narrows it too.
  const c = pairedPrecision('native-epoll', 0.002, 0.01, [1, 1]);
  assert.ok(narrowing(c, '2.1') > 0.1, `a cycle: ${narrowing(c, '2.1')}`);
  // A process it has no visit in is a fresh one; an unbounded interval gains everything; no ratio gains nothing.
  assert.equal(narrowing(c, '3.1'), narrowing(c, null));
  assert.equal(narrowing({ ...c, halfWidth: Infinity }, '2.1'), 1);
  assert.equal(narrowing({ ...c, halfWidth: null, ratio: null }, '2.1'), 0);
});
