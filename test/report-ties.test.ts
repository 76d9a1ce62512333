// Tie groups on synthetic intervals: ranks that never decrease down the table, groups in which every pair
// overlaps, as few groups as the overlaps allow, and the chains said once; the glance names the fastest group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Interval } from '../src/core/intervals.js';
import { overlaps } from '../src/core/intervals.js';
import { tieGroups } from '../src/report/ties.js';
import { glance } from '../src/report/text.js';
import type { ReportModel } from '../src/report/model.js';
import type { ServerSummary } from '../src/analysis/summary.js';
import { seededRandom } from '../src/core/random.js';

const iv = (lo: number, hi: number, value = (lo + hi) / 2): Interval => ({ value, lo, hi });

test('a chain a ~ b ~ c with a, c apart: two groups, ranks 1=, 1=, 3, the overlap b ~ c named as a chain', () => {
  const t = tieGroups([iv(0, 2), iv(1, 3), iv(2.5, 4)]);
  assert.deepEqual(t.members, [[0, 1], [2]]);
  assert.deepEqual(t.group, [1, 1, 2]);
  assert.deepEqual(t.rank, [1, 1, 3]);
  assert.deepEqual(t.chains, [[1, 2]]);
});

test('intervals apart rank 1, 2, 3; intervals that all overlap share rank 1; a [?] interval ties with its neighbours', () => {
  assert.deepEqual(tieGroups([iv(0, 1), iv(2, 3), iv(4, 5)]).rank, [1, 2, 3]);
  assert.deepEqual(tieGroups([iv(0, 1), iv(2, 3), iv(4, 5)]).chains, []);
  assert.deepEqual(tieGroups([iv(0, 3), iv(1, 4), iv(2, 5)]).rank, [1, 1, 1]);
  const unknown = tieGroups([iv(0, 1), { value: 1.5, lo: 0, hi: Infinity }, iv(3, 4)]);
  assert.deepEqual(unknown.members, [[0, 1], [2]]);
  assert.deepEqual(unknown.chains, [[1, 2]], 'it overlaps the next group too: a chain');
  assert.deepEqual(tieGroups([]).members, []);
});

/** The fewest runs of consecutive, pairwise-overlapping intervals, by brute force (dynamic programming). */
function fewestGroups(xs: Interval[]): number {
  const best = [0];
  for (let j = 1; j <= xs.length; j++) {
    best[j] = Infinity;
    for (let i = 0; i < j; i++) {
      const run = xs.slice(i, j);
      if (run.every((a) => run.every((b) => overlaps(a, b)))) best[j] = Math.min(best[j]!, best[i]! + 1);
    }
  }
  return best[xs.length]!;
}

test('on 500 random tables: ranks never decrease, every group overlaps pairwise, and no cut makes fewer groups', () => {
  const random = seededRandom(18);
  for (let n = 0; n < 500; n++) {
    const size = 1 + Math.floor(random() * 12);
    const xs = Array.from({ length: size }, () => {
      const value = random() * 10;
      return iv(value - random() * 2, value + random() * 2, value);
    }).sort((a, b) => a.value - b.value);
    const t = tieGroups(xs);
    for (let i = 1; i < size; i++) assert.ok(t.rank[i]! >= t.rank[i - 1]!, `ranks ${t.rank.join(',')}`);
    for (const m of t.members) for (const a of m) for (const b of m) assert.ok(overlaps(xs[a]!, xs[b]!));
    assert.equal(t.members.length, fewestGroups(xs));
    assert.equal(t.members.flat().length, size);
    for (const [a, b] of t.chains) assert.ok(t.group[a] !== t.group[b] && overlaps(xs[a]!, xs[b]!));
  }
});

/** A ranked server for the glance: slope, implied rate, rank and group. */
function summary(server: string, slope: number, rank: number, group: number): ServerSummary {
  return {
    server,
    family: 'native',
    loads: [],
    notMeasured: [],
    latencyFit: { slope, intercept: 1, r: 0.999, n: 5 } as ServerSummary['latencyFit'],
    impliedRps: 1000 / slope,
    slopeCi: null,
    ratio: iv(slope, slope),
    components: null,
    rank,
    group,
    tiedWith: [],
    requests: 1,
    errors: 0,
    flags: [],
  };
}

test('the glance names the fastest group, not one of its members, and says once that overlaps chain', () => {
  const servers = [
    summary('native-st', 0.07, 1, 1),
    summary('native-epoll', 0.069, 1, 1),
    summary('h2o', 0.074, 1, 1),
    summary('nginx', 0.089, 4, 2),
    summary('native-fork', 0.874, 5, 3),
  ];
  const model = {
    servers,
    run: { state: 'finished' },
    plan: { cycles: 1 },
    ratioReference: { server: 'lighttpd', why: '' },
    ties: { groups: [['native-st', 'native-epoll', 'h2o'], ['nginx'], ['native-fork']], chains: [['h2o', 'nginx']] },
  } as unknown as ReportModel;
  const lines = glance(model);
  assert.match(
    lines[0]!,
    new RegExp(
      '^Fastest: native-st, native-epoll, h2o, tied ' +
        '\\(their 95% intervals of the ratio to lighttpd overlap\\): ' +
        '0\\.069 to 0\\.074 ms per client, about 13,514 to 14,493 requests/s',
    ),
  );
  assert.match(lines[1]!, /^Slowest: native-fork \(native\): 0\.874 ms per client/);
  const ties = lines.filter((l) => l.startsWith('Ties'));
  assert.equal(ties.length, 1);
  assert.match(ties[0]!, /in 3 groups down the ranking.*: native-st = native-epoll = h2o\. Overlaps also chain across groups/);
  assert.match(ties[0]!, /\(1 pair, such as h2o and nginx\)/);
});

test('a whole run whose servers have intervals of every width: ranks never decrease down the table, groups are consecutive', async (t) => {
  const { point, runInfo, writeRun } = await import('./helpers/results.js');
  const { buildModel, readReportRun } = await import('../src/report/index.js');
  const { rm } = await import('node:fs/promises');
  const random = seededRandom(23);
  const names = ['lighttpd', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'];
  const points = names.flatMap((server, s) =>
    [10, 100, 250, 500, 1000].flatMap((load) =>
      [1, 2, 3].map((round) => {
        // Slopes close together, scatter from 1% to 30%: wide intervals beside narrow ones, as in a real run.
        const slope = 0.07 + 0.01 * s;
        const scatter = 0.01 + (0.3 * ((s * 7) % 5)) / 5;
        return point({ server, family: 'native', load, round, meanLatencyMs: (0.5 + slope * load) * (1 + scatter * (random() - 0.5)) });
      }),
    ),
  );
  const run = runInfo(names, [10, 100, 250, 500, 1000]);
  run.plan = { ...run.plan, rounds: 3 };
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = buildModel(readReportRun(dir));
  const ranks = model.servers.map((s) => s.rank!);
  assert.ok(
    ranks.every((r, i) => i === 0 || r >= ranks[i - 1]!),
    `ranks down the table: ${ranks.join(', ')}`,
  );
  const groups = model.servers.map((s) => s.group!);
  assert.ok(
    groups.every((g, i) => i === 0 || g === groups[i - 1]! || g === groups[i - 1]! + 1),
    `groups: ${groups.join(', ')}`,
  );
  assert.deepEqual(
    model.ties.groups.flat(),
    model.servers.map((s) => s.server),
  );
  const groupCount = model.ties.groups.length;
  assert.ok(groupCount < names.length && groupCount > 2, `some servers tied, not all: ${JSON.stringify(model.ties.groups)}`);
});
