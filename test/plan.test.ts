import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  resolvePlan,
  pairedSweeps,
  planSweeps,
  roundOrder,
  pointDurationS,
  RUN_DEFAULTS,
  QUICK_DEFAULTS,
  SHARPEN_DEFAULTS,
  maxLoadHere,
} from '../src/sweep/plan.js';
import { pointTrim } from '../src/sweep/session.js';
import { closedLoadFlags } from '../src/load/options.js';
import { DEFAULT_TRANSPORT } from '../src/load/transport.js';
import type { ServerModel } from '../src/servers/registry.js';
import { testCatalog } from './helpers/runner.js';

const missing: ServerModel = {
  ...testCatalog[0]!,
  name: 'absent',
  available: async () => ({ ok: false, reason: 'absent is not installed', hint: 'apt-get install absent' }),
};
const catalog = [...testCatalog, missing];
const plan = (input: Parameters<typeof resolvePlan>[0]) => resolvePlan(input, undefined, catalog);

test('defaults: every model that can run, the paper range in three loads, two rounds of one cycle, skipped ones said why', async () => {
  const r = await plan({});
  assert.deepEqual(
    r.plan.servers,
    testCatalog.map((m) => m.name),
  );
  assert.deepEqual(r.skipped, [{ server: 'absent', reason: 'absent is not installed (apt-get install absent)' }]);
  assert.ok(r.plan.loads.length >= 3 && r.plan.loads.length <= 12);
  assert.equal(r.plan.rounds, 2);
  assert.equal(r.plan.cycles, 1);
  assert.equal(r.plan.referenceEvery, 4);
  assert.equal(r.plan.serverCpuShareFrom, 'auto', 'the quota is chosen from the calibration');
  assert.equal(r.plan.throttlePeriodMs, 10);
  assert.equal(typeof r.plan.seed, 'number');
  assert.ok(r.plan.loads[0]! <= 10);
  assert.equal(r.plan.loads.at(-1), 1000);
  assert.equal(r.plan.durationS, RUN_DEFAULTS.durationS);
  assert.equal(r.plan.serverCpuShare, 0.25);
  const q = await plan({ quick: true });
  assert.deepEqual(q.plan.loads, QUICK_DEFAULTS.loads);
  assert.equal(q.plan.durationS, QUICK_DEFAULTS.durationS);
  // A cycle sweeps every server, the reference first, then again after every 4 others and last: 7 others, 3 reference sweeps.
  const perCycle = testCatalog.length - 1 + 1 + Math.ceil((testCatalog.length - 1) / 4);
  assert.equal(pairedSweeps(q.plan).length, perCycle, 'one round of one cycle');
  assert.equal(pairedSweeps(r.plan).length, 2 * perCycle);
  assert.equal(pointTrim(r.plan, 1), 1);
  assert.equal(pointTrim(r.plan, 5000), 1000);
});

test('bad input is refused with one clear line naming the field, the value and the limit', async () => {
  const cases: [Parameters<typeof resolvePlan>[0], RegExp][] = [
    [{ servers: ['tiny', 'nginxx'] }, /^--servers: got "nginxx", is not a server model; expected one of tiny, /],
    [{ servers: ['absent'] }, /^--servers: got "absent", none of these can run here; absent: absent is not installed/],
    [{ loads: [0] }, /^--loads: got 0, each load must be a whole number of at least 1/],
    [{ loads: [maxLoadHere().max + 1] }, /^--loads: got \d+, the most this host allows is \d+, set by /],
    [{ serverCpus: '9' }, /^--server-cpus: got "9", CPU 9 does not exist here/],
    [{ rounds: 0 }, /^--repeat: got 0, the limit is 1 to 100/],
    [{ pageBytes: 10 }, /^--page-bytes: got 10, the limit is \d+ to \d+/],
    [{ serverCpuShare: 2 }, /^--server-cpu-share: got 2, the limit is 0 to 1/],
    [{ loads: [1, 50], requests: 20 }, /^--requests: got 20, must be at least the largest load \(50\)/],
    [{ throttlePeriodMs: 0.5 }, /^--throttle-period-ms: got 0.5, the limit is 1 to 1000/],
    [{ seed: -1 }, /^--seed: got -1, the limit is 0 to 2147483647/],
    [{ engine: 'wrk' as never }, /^--engine: got "wrk", expected one of eventbench, ab/],
    [{ transport: 'uv' as never }, /^--transport: got "uv", expected one of auto, epoll, tcp_wrap, net/],
    [{ transport: 'epoll', engine: 'ab' }, /^--transport: got "epoll", is the eventbench engine's connection layer/],
  ];
  for (const [input, message] of cases) await assert.rejects(plan(input), { code: 'EB_USAGE', message }, JSON.stringify(input));
});

test("the client's transport is in the plan, the default's name when none is asked, and goes to every point's client", async () => {
  assert.equal((await plan({})).plan.transport, DEFAULT_TRANSPORT);
  const epoll = (await plan({ transport: 'epoll' })).plan;
  assert.equal(epoll.transport, 'epoll');
  assert.equal((await plan({ engine: 'ab' })).plan.transport, undefined, 'ab has no transport');
  const args = { concurrency: 10, requests: 100, timeoutS: 1, trim: 0, engine: 'eventbench' as const };
  assert.deepEqual(closedLoadFlags({ ...args, transport: 'epoll' }).slice(-2), ['--transport', 'epoll']);
  assert.ok(!closedLoadFlags(args).includes('--transport'), 'an older plan without one leaves the client its default');
});

test('the default plan asks ±10% of every ratio within 10 minutes; --repeat and --quick measure exactly their rounds', async () => {
  const d = (await plan({})).plan;
  assert.equal(d.precision, SHARPEN_DEFAULTS.precision);
  assert.equal(d.budgetS, SHARPEN_DEFAULTS.budgetS);
  assert.equal(d.reference, 'tiny', 'lighttpd, native-epoll, events, else the first server, unless asked');
  for (const fixed of [{ rounds: 3 }, { quick: true }]) {
    const p = (await plan(fixed)).plan;
    assert.equal(p.precision, undefined, JSON.stringify(fixed));
    assert.equal(p.budgetS, undefined, JSON.stringify(fixed));
  }
  const asked = (await plan({ rounds: 5, precision: 0.05 })).plan;
  assert.deepEqual([asked.rounds, asked.precision, asked.budgetS], [5, 0.05, SHARPEN_DEFAULTS.budgetS]);
  const budget = (await plan({ quick: true, budgetS: 90, reference: 'tiny-tree' })).plan;
  assert.deepEqual([budget.precision, budget.budgetS, budget.reference], [SHARPEN_DEFAULTS.precision, 90, 'tiny-tree']);
});

test('bad --precision, --budget and --reference are refused with one line each', async () => {
  const { parseRunArgs } = await import('../src/cli/commands/run.js');
  const cases: [string[], RegExp][] = [
    [['--precision', '0.2%'], /^--precision: got "0\.2%", the limit is 1% to 100%; e\.g\. --precision 5% or --precision 0\.05$/],
    [['--precision', '5'], /^--precision: got "5", the limit is 1% to 100% \(a bare number is a fraction\); e\.g\. --precision 5%/],
    [['--precision', 'tight'], /^--precision: got "tight", expected a share such as 5% or 0\.05$/],
    [['--budget', '10x'], /^--budget: got "10x", expected a time such as 90s, 10m, 1h or a number of seconds; e\.g\. --budget 10m$/],
    [['--budget', '0s'], /^--budget: got "0s", the limit is 1s to 24h; e\.g\. --budget 10m$/],
    [['--budget', '2d'], /^--budget: got "2d", expected a time such as 90s/],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseRunArgs(argv), { code: 'EB_USAGE', message }, argv.join(' '));
  for (const [raw, share] of [
    ['5%', 0.05],
    ['0.05', 0.05],
    ['12.5%', 0.125],
  ] as const) {
    assert.equal(parseRunArgs(['--precision', raw]).input.precision, share);
  }
  for (const [raw, s] of [
    ['90s', 90],
    ['10m', 600],
    ['1h', 3600],
    ['45', 45],
    ['1.5m', 90],
  ] as const) {
    assert.equal(parseRunArgs(['--budget', raw]).input.budgetS, s);
  }
  // The library checks the same ranges for callers that skip the command line.
  await assert.rejects(plan({ precision: 2 }), { code: 'EB_USAGE', message: /^--precision: got 2, the limit is 0\.01 to 1$/ });
  await assert.rejects(plan({ budgetS: 0 }), { code: 'EB_USAGE', message: /^--budget: got 0, the limit is 1 to 86400$/ });
  await assert.rejects(plan({ servers: ['tiny'], reference: 'tiny-tree' }), {
    code: 'EB_USAGE',
    message: /^--reference: got "tiny-tree", is not a server of this run; expected one of tiny; add it to --servers/,
  });
  await assert.rejects(plan({ reference: 'absent' }), {
    code: 'EB_USAGE',
    message: /^--reference: got "absent", cannot run here: absent is not installed \(apt-get install absent\);/,
  });
});

test('sharing a CPU between server and client is allowed with a warning', async () => {
  const r = await plan({ serverCpus: '0', clientCpus: '0' });
  assert.match(r.warnings.join('\n'), /share CPU\(s\) 0/);
});

test('high-load points are lengthened so 8 waves of load requests fit, at most 3 s or 5× the plan', async () => {
  const { plan: p } = await plan({ durationS: 1 });
  assert.equal(pointDurationS(p, 1000), 1, 'no throughput known yet');
  assert.equal(pointDurationS(p, 100, 5000), 1, 'a fast server needs no more');
  assert.equal(pointDurationS(p, 1000, 4000), 2);
  assert.equal(pointDurationS(p, 1000, 100), 5, 'capped');
  const { plan: d } = await plan({});
  assert.equal(pointDurationS(d, 1000, 4000), 2, 'the default 0.4 s points are lengthened to their 8 waves');
  assert.equal(pointDurationS(d, 1000, 1000), 3, '... up to 3 s, as the 0.6 s points before them');
  const { maxPointS: _, ...old } = d;
  assert.equal(pointDurationS(old, 1000, 1000), 2, 'a run before maxPointS: 5 × its points');
  const { plan: quick } = await plan({ quick: true });
  assert.equal(pointDurationS(quick, 300, 100), quick.durationS, '--quick points stay short');
  const { plan: counted } = await plan({ requests: 5000 });
  assert.equal(pointDurationS(counted, 1000, 100), undefined, 'count-bound points stay count-bound');
});

test('rounds: every server once per round, in an order shuffled per round and reproducible from the seed', async () => {
  const servers = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const base = { ...(await plan({})).plan, servers, rounds: 4, seed: 1234 };
  const sweeps = planSweeps(base);
  assert.equal(sweeps.length, 4 * servers.length);
  for (let round = 1; round <= 4; round++) {
    const order = sweeps.filter((s) => s.round === round).map((s) => s.server);
    assert.deepEqual([...order].sort(), servers, `round ${round} runs every server once`);
    assert.deepEqual(order, roundOrder(base, round));
  }
  assert.deepEqual(planSweeps({ ...base }), sweeps, 'the same seed gives the same order');
  const orders = new Set([1, 2, 3, 4].map((r) => roundOrder(base, r).join()));
  assert.ok(orders.size >= 3, `rounds are shuffled differently: ${[...orders].join(' | ')}`);
  assert.notDeepEqual(roundOrder({ ...base, seed: 99 }, 1), roundOrder(base, 1), 'another seed, another order');
  assert.deepEqual(sweeps[0]!.steps, base.loads, 'each sweep covers every load, ascending');
});

test('--resume refuses the flags it does not take, naming each as typed (regression: -n 5 was silently ignored)', async () => {
  const { parseRunArgs } = await import('../src/cli/commands/run.js');
  assert.throws(() => parseRunArgs(['--resume', 'r', '-n', '5', '--loads', '1,2']), {
    code: 'EB_USAGE',
    message: /^--resume: got "r", takes its plan from the folder, so it refuses --requests \(-n\), --loads; drop them/,
  });
  assert.deepEqual(parseRunArgs(['--resume', 'r', '--no-report']), { input: { quick: false }, resume: 'r', report: false, user: [] });
  // Ranges are the plan's: the command line checks only the form.
  assert.throws(() => parseRunArgs(['--backlog', 'x']), { code: 'EB_USAGE', message: /--backlog: got "x", expected a whole number/ });
  assert.equal(parseRunArgs(['--backlog', '70000']).input.backlog, 70000);
});
