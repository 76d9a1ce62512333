// The paired design's intervals on synthetic runs with known answers: the machine's speed drifts slowly (±40% over
// minutes), each process has a speed of its own, each point scatters; the 95% ratio intervals must hold the truth
// at least 90% of the time, and be narrower than the same visits read without pairing in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedServers, visitSlopes } from '../src/analysis/paired.js';
import { applyPaired } from '../src/analysis/ratios.js';
import { summarise } from '../src/analysis/summary.js';
import { familyPools, nestedEstimate, nestedInterval } from '../src/core/nested.js';
import { seededRandom, shuffled } from '../src/core/random.js';
import type { Family, Plan, Point, VisitRecord } from '../src/results/schema.js';
import { POINT_SCHEMA, VISIT_SCHEMA } from '../src/results/schema.js';
import { halfWidth } from '../src/core/intervals.js';
import { fQuantile } from '../src/core/distributions.js';
import type { LoadResult } from '../src/load/types.js';

const LOADS = [10, 250, 1000];
const plan = { serverCpuShare: 0.25, throttlePeriodMs: 10, cycles: 4, rounds: 2, referenceEvery: 4 } as unknown as Plan;

/** A normal draw from a uniform generator (Box–Muller). */
const normal = (random: () => number) => () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

interface World {
  servers: { name: string; family: Family; slope: number }[];
  reference: string;
  /** The machine's speed factor at time t (s): slow, ±40% over minutes. */
  drift: (t: number) => number;
  processRsd: Record<string, number>;
  pointRsd: number;
}

function world(seed: number): World {
  const random = seededRandom(seed);
  const phase = random() * 2 * Math.PI;
  const servers = [
    { name: 'ref', family: 'native' as Family, slope: 0.2 },
    ...Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, family: 'native' as Family, slope: 0.2 * (0.8 + 2 * random()) })),
    ...Array.from({ length: 5 }, (_, i) => ({ name: `ts${i}`, family: 'typescript' as Family, slope: 0.2 * (1 + 2 * random()) })),
  ];
  return {
    servers,
    reference: 'ref',
    // ±40% over a period of four to six minutes, plus a faster wobble of ±10% over about a minute.
    drift: (t) => Math.exp(0.34 * Math.sin(phase + (2 * Math.PI * t) / (240 + 120 * (seed % 3))) + 0.1 * Math.sin(phase * 3 + t / 9)),
    processRsd: { native: 0.03, typescript: 0.08 },
    pointRsd: 0.05,
  };
}

const result = (_load: number, meanMs: number): LoadResult =>
  ({
    requests: 1000,
    requestsCompleted: 1000,
    errors: { total: 0 },
    latencyMs: { mean: meanMs, max: meanMs, percentiles: {} },
    throughputRps: 1000,
  }) as unknown as LoadResult;

/** A paired run of `w`: rounds of fresh processes, cycles of visits with the reference every k others. */
function simulate(w: World, seed: number, rounds = 2, cycles = 4, k = 4): { points: Point[]; visits: VisitRecord[] } {
  const random = seededRandom(seed);
  const gauss = normal(random);
  const points: Point[] = [];
  const visits: VisitRecord[] = [];
  let t = 0;
  let visit = 0;
  const others = w.servers.filter((s) => s.name !== w.reference).map((s) => s.name);
  for (let round = 1; round <= rounds; round++) {
    const speed = new Map(w.servers.map((s) => [s.name, Math.exp(w.processRsd[s.family]! * gauss())]));
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const order = shuffled(others, seed * 31 + round * 7 + cycle);
      const withRef = order.flatMap((s, i) => (i % k === 0 ? [w.reference, s] : [s])).concat(w.reference);
      for (const name of withRef) {
        const s = w.servers.find((x) => x.name === name)!;
        visit += 1;
        const startMs = t * 1000;
        for (const load of LOADS) {
          const slope = (s.slope * speed.get(name)!) / w.drift(t);
          const meanMs = (1 + slope * load) * Math.exp(w.pointRsd * gauss());
          points.push({
            schema: POINT_SCHEMA,
            server: name,
            family: s.family,
            load,
            round,
            cycle,
            visit,
            status: 'ok',
            startedAt: new Date(t * 1000).toISOString(),
            result: result(load, meanMs),
            flags: [],
          });
          t += 1;
        }
        visits.push({
          schema: VISIT_SCHEMA,
          kind: 'visit',
          server: name,
          round,
          cycle,
          visit,
          session: 1,
          startMs,
          endMs: t * 1000,
          cpuStartS: {},
          cpuEndS: {},
          requests: 3000,
        });
      }
    }
    t += 60; // a new round's start and warm-ups
  }
  return { points, visits };
}

/** The same visits read without pairing in time: each visit's slope over the reference's mean over its whole round. */
function unpaired(points: Point[], visits: VisitRecord[], server: string, reference: string, family: Family) {
  const { slopes } = visitSlopes(points, visits, plan);
  const nestOf = (name: string) => {
    const rounds = [...new Set(slopes.map((s) => s.round))];
    return rounds.map((r) => {
      const ref = slopes.filter((s) => s.server === reference && s.round === r).map((s) => Math.log(s.slope));
      const refMean = ref.reduce((a, b) => a + b, 0) / ref.length;
      return slopes.filter((s) => s.server === name && s.round === r).map((s) => Math.log(s.slope) - refMean);
    });
  };
  const peers = [...new Set(slopes.filter((s) => s.family === family && s.server !== reference).map((s) => s.server))];
  const est = nestedEstimate(nestOf(server), familyPools(peers.filter((p) => p !== server).map(nestOf)))!;
  return nestedInterval(est);
}

/** Runs 60 simulated worlds of `design` and checks coverage ≥ 90% and paired narrower than unpaired. */
function coverageOf(t: { diagnostic(m: string): void }, design: { rounds: number; cycles: number }) {
  let inside = 0;
  let total = 0;
  const widths = { paired: [] as number[], unpaired: [] as number[] };
  for (let sim = 1; sim <= 60; sim++) {
    const w = world(sim);
    const { points, visits } = simulate(w, sim, design.rounds, design.cycles);
    const ref = w.servers.find((s) => s.name === w.reference)!;
    for (const est of pairedServers(points, visits, plan, w.reference)) {
      if (est.server === w.reference) continue;
      const truth = w.servers.find((s) => s.name === est.server)!.slope / ref.slope;
      const r = est.ratio!;
      total += 1;
      if (r.lo <= truth && truth <= r.hi) inside += 1;
      widths.paired.push(halfWidth(r));
      widths.unpaired.push(halfWidth(unpaired(points, visits, est.server, w.reference, est.family)));
    }
  }
  const coverage = inside / total;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [p, u] = [median(widths.paired), median(widths.unpaired)];
  t.diagnostic(
    `coverage ${(coverage * 100).toFixed(1)}% of ${total}; median half-width paired ±${(p * 100).toFixed(1)}%, unpaired ±${(u * 100).toFixed(1)}%`,
  );
  assert.ok(coverage >= 0.9, `coverage ${(coverage * 100).toFixed(1)}% of ${total} intervals`);
  assert.ok(p < u, `paired median half-width ${(p * 100).toFixed(1)}% against unpaired ${(u * 100).toFixed(1)}%`);
}

test('paired in time, the 95% ratio intervals hold the truth at least 90% of the time, under a drifting machine', (t) => {
  coverageOf(t, { rounds: 2, cycles: 4 });
});

test('so they do with one sweep of each server per process, the cycle variance then the family pool alone', (t) => {
  coverageOf(t, { rounds: 2, cycles: 1 });
});

test('F quantiles match the tables, so that a server beyond its family pool is told at 1%', () => {
  for (const [p, d1, d2, table] of [
    [0.99, 1, 10, 10.044],
    [0.99, 1, 30, 7.562],
    [0.99, 3, 20, 4.938],
    [0.99, 1, 3, 34.116],
    [0.95, 1, 20, 4.351],
  ] as const) {
    assert.ok(Math.abs(fQuantile(p, d1, d2) - table) < 2e-3, `F(${p}; ${d1}, ${d2}) ${fQuantile(p, d1, d2)} against ${table}`);
  }
});

test('a server whose cycles scatter far beyond its family keeps its own variance, and a wide interval', () => {
  const calm = [
    [0.01, -0.01, 0.0],
    [0.02, 0.0, 0.01],
  ];
  const family = [calm, calm.map((g) => g.map((x) => x + 0.005)), calm.map((g) => g.map((x) => -x))];
  const wild = [
    [0.5, -0.5, 0.1],
    [0.4, -0.3, 0.0],
  ];
  const e = nestedEstimate(wild, familyPools(family))!;
  assert.equal(e.cycleFrom, 'own');
  const one = nestedEstimate(calm, familyPools(family.slice(1)))!;
  assert.equal(one.cycleFrom, 'moderated');
  assert.ok(halfWidth(nestedInterval(e)) > 10 * halfWidth(nestedInterval(one)));
});

test('with no drift, no process spread and no scatter, the ratio is exact and its interval a point', () => {
  const w = { ...world(3), drift: () => 1, processRsd: { native: 0, typescript: 0 }, pointRsd: 0 };
  const { points, visits } = simulate(w, 3);
  const ref = w.servers[0]!;
  for (const est of pairedServers(points, visits, plan, 'ref')) {
    const truth = w.servers.find((s) => s.name === est.server)!.slope / ref.slope;
    assert.ok(Math.abs(est.ratio!.value - truth) < 1e-6, `${est.server}: ${est.ratio!.value} against ${truth}`);
    assert.ok(est.ratio!.hi - est.ratio!.lo < 1e-6, `${est.server}: ${est.ratio!.lo}–${est.ratio!.hi}`);
  }
});

/** A point at every load of each visit, of the same slope (1 ms + 0.1 ms a client): what differs is the visits' CPU. */
const pointsOfVisits = (visits: readonly VisitRecord[]): Point[] =>
  visits.flatMap((v) =>
    v.kind !== 'visit'
      ? []
      : LOADS.map((load) => ({
          schema: POINT_SCHEMA,
          server: v.server,
          family: 'native' as Family,
          load,
          round: 1,
          cycle: v.cycle,
          visit: v.visit,
          status: 'ok' as const,
          startedAt: new Date(v.startMs).toISOString(),
          result: result(load, 1 + 0.1 * load),
          flags: [],
        })),
  );

test('work done between sweeps is charged to the sweep before it, less the idle rate read far from any sweep', () => {
  // One server, swept twice 60 s apart: 1 CPU s in each sweep, 0.5 s in the 10 s after each (a deferred collection),
  // then idle at 0.001 CPU s per s; the reference is swept at the start, between and at the end.
  const mk = (server: string, visit: number, startMs: number, endMs: number, cpu: Record<string, [number, number]>): VisitRecord => ({
    schema: VISIT_SCHEMA,
    kind: 'visit',
    server,
    round: 1,
    cycle: visit,
    visit,
    session: 1,
    startMs,
    endMs,
    cpuStartS: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v[0]])),
    cpuEndS: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v[1]])),
    requests: 1000,
  });
  const idle = 0.001 / 1000; // CPU s per ms
  // Server a: sweep 1 at 0–3 s (cpu 0→1), deferred 0.5 by 13 s, idle to 60 s; sweep 2 at 60–63 s; round ends at 123 s.
  const aAt = (ms: number) => {
    if (ms <= 3000) return ms / 3000;
    if (ms <= 13000) return 1 + (0.5 * (ms - 3000)) / 10000;
    if (ms <= 60000) return 1.5 + idle * (ms - 13000);
    if (ms <= 63000) return 1.5 + idle * 47000 + (ms - 60000) / 3000;
    if (ms <= 73000) return 2.5 + idle * 47000 + (0.5 * (ms - 63000)) / 10000;
    return 3 + idle * 47000 + idle * (ms - 73000);
  };
  const visits: VisitRecord[] = [
    mk('a', 1, 0, 3000, { a: [aAt(0), aAt(3000)] }),
    mk('ref', 2, 30000, 33000, { a: [aAt(30000), aAt(33000)] }),
    mk('ref', 3, 45000, 48000, { a: [aAt(45000), aAt(48000)] }),
    mk('a', 4, 60000, 63000, { a: [aAt(60000), aAt(63000)] }),
    mk('ref', 5, 100000, 103000, { a: [aAt(100000), aAt(103000)] }),
    { schema: VISIT_SCHEMA, kind: 'round-end', round: 1, session: 1, atMs: 123000, cpuS: { a: aAt(123000) } },
  ];
  const points = pointsOfVisits(visits);
  const { slopes } = visitSlopes(points, visits, plan);
  const a = slopes.filter((s) => s.server === 'a');
  assert.equal(a.length, 2);
  for (const s of a) {
    assert.ok(Math.abs(s.cpuS! - 1) < 1e-9, `cpu in the sweep ${s.cpuS}`);
    assert.ok(Math.abs(s.deferredS! - 0.5) < 0.01, `deferred ${s.deferredS}, the idle rate taken off`);
    assert.ok(Math.abs(s.slope / s.measuredSlope - 1.5) < 0.01, `charged ${s.slope / s.measuredSlope}× its measured slope`);
  }
  const est = pairedServers(points, visits, plan, 'ref').find((e) => e.server === 'a')!;
  assert.ok(Math.abs(est.deferredShare! - 0.5) < 0.01, `deferred share ${est.deferredShare}`);
  assert.equal(est.idleKnown, true);
  // The report's row: the slope shown is the charged one, and so is the rate it implies (1000 / slope).
  const rows = ['ref', 'a'].map((server) =>
    summarise(
      server,
      points.filter((p) => p.server === server),
      plan,
    ),
  );
  applyPaired(rows, points, visits, plan, 'ref');
  const row = rows[1]!;
  assert.ok(
    Math.abs(row.slopeCi!.value / row.latencyFit!.slope - 1.5) < 0.01,
    `shown ${row.slopeCi!.value}, points ${row.latencyFit!.slope}`,
  );
  assert.ok(Math.abs(row.impliedRps! * row.slopeCi!.value - 1000) < 1e-6, `implied ${row.impliedRps} for a slope of ${row.slopeCi!.value}`);
});

test("a later visit's warm-up at the full core is neither its points' cost nor work deferred by the visit before it", () => {
  // Server a: sweep 1 at 0–3 s (1 CPU s); idle (no deferred work) to 60 s; at 60 s a warm-up of 2 CPU s to 61 s,
  // then sweep 2's points, 1 CPU s to 63 s; the round ends at 123 s. The reference is swept between.
  const visit = (
    server: string,
    n: number,
    startMs: number,
    endMs: number,
    cpu: [number, number],
    warmed?: [number, number],
  ): VisitRecord => ({
    schema: VISIT_SCHEMA,
    kind: 'visit',
    server,
    round: 1,
    cycle: n,
    visit: n,
    session: 1,
    startMs,
    endMs,
    cpuStartS: { a: cpu[0] },
    cpuEndS: { a: cpu[1] },
    ...(warmed ? { warmedMs: warmed[0], cpuWarmedS: { a: warmed[1] } } : {}),
    requests: 1000,
  });
  const visits: VisitRecord[] = [
    visit('a', 1, 0, 3000, [0, 1]),
    visit('ref', 2, 30000, 33000, [1, 1]),
    visit('a', 3, 60000, 63000, [1, 4], [61000, 3]),
    visit('ref', 4, 90000, 93000, [4, 4]),
    { schema: VISIT_SCHEMA, kind: 'round-end', round: 1, session: 1, atMs: 123000, cpuS: { a: 4 } },
  ];
  const points = pointsOfVisits(visits);
  const a = visitSlopes(points, visits, plan).slopes.filter((s) => s.server === 'a');
  assert.deepEqual(
    a.map((s) => [s.cpuS, s.deferredS]),
    [
      [1, 0],
      [1, 0],
    ],
  );
});
