// The report's runtime × model table: cells by model and runtime, the fastest runtime per model, and nothing at
// all for a Node-only run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportModel } from '../src/report/model.js';
import type { ServerSummary } from '../src/analysis/summary.js';
import { cellOf, comparisonCells, runtimeComparison, runtimeTable, runtimesMarkdown } from '../src/report/runtimes.js';
import { runtimeFigures } from '../src/report/figures/index.js';

/** A server with slope and ratio; `spread` widens both into intervals of ± that fraction. */
function summary(server: string, slope: number | null, ratio: number | null, spread = 0): ServerSummary {
  const around = (v: number) => ({ value: v, lo: v * (1 - spread), hi: v * (1 + spread) });
  return {
    server,
    family: 'typescript',
    loads: [],
    notMeasured: [],
    latencyFit: slope === null ? null : ({ slope, intercept: 1, r: 0.999 } as ServerSummary['latencyFit']),
    impliedRps: slope ? 1000 / slope : null,
    slopeCi: slope === null || spread === 0 ? null : around(slope),
    ratio: ratio === null ? null : around(ratio),
    components: null,
    rank: null,
    group: null,
    tiedWith: [],
    requests: 1,
    errors: 0,
    flags: [],
  };
}

function model(servers: ServerSummary[]): ReportModel {
  return {
    servers,
    plan: { runtimes: { node: '20.0.0', bun: '1.4.5' } },
    ratioReference: { server: 'nginx', why: '' },
  } as unknown as ReportModel;
}

test("cells: events@bun is events under bun, bun-serve sits on the runtime's own row", () => {
  assert.deepEqual(cellOf('events@bun'), { model: 'events', runtime: 'bun' });
  assert.deepEqual(cellOf('events'), { model: 'events', runtime: 'node' });
  assert.deepEqual(cellOf('bun-serve'), { model: "the runtime's own server", runtime: 'bun' });
});

test('the table gives each slope and ratio, and names the fastest runtime for each model', () => {
  const m = model([
    summary('events', 0.2, 1.5),
    summary('events@bun', 0.25, 1.9),
    summary('events@deno', 0.15, 1.1),
    summary('async', 0.3, 2.2),
    summary('bun-serve', 0.1, 0.8),
  ]);
  const c = runtimeComparison(m)!;
  assert.deepEqual(c.runtimes, ['node', 'bun', 'deno']);
  const { columns, rows } = comparisonCells(c, 'nginx');
  assert.deepEqual(columns, ['model', 'node: ms/client (÷ nginx)', 'bun: ms/client (÷ nginx)', 'deno: ms/client (÷ nginx)']);
  assert.deepEqual(rows[0], ['events', '0.200 (1.50×)', '0.250 (1.90×)', '0.150 (1.10×)']);
  assert.deepEqual(rows[1], ['async', '0.300 (2.20×)', '', '']);
  assert.deepEqual(c.fastest, ['events: fastest under deno (0.150 ms/client; node 0.200, bun 0.250)']);
  assert.match(
    runtimesMarkdown(m).join('\n'),
    /## Runtimes × models[\s\S]*Versions: node 20\.0\.0, bun 1\.4\.5[\s\S]*\| events \| 0\.200 \(1\.50×\) \|/,
  );
  assert.equal(runtimeFigures(m, 'wide').length, 1);
});

test('intervals in the cells; runtimes whose ratio intervals overlap the fastest are called tied, not ranked', () => {
  const m = model([
    summary('events', 0.2, 1.5, 0.1),
    summary('events@bun', 0.3, 2.2, 0.1),
    summary('events@deno', 0.19, 1.4, 0.1),
    summary('async', 0.3, 2.2, 0.05),
    summary('async@bun', 0.4, 3.0, 0.05),
  ]);
  const c = runtimeComparison(m)!;
  const { rows } = comparisonCells(c, 'nginx');
  assert.deepEqual(rows[0], [
    'events',
    '0.200 [0.180–0.220] (1.50× [1.35–1.65])',
    '0.300 [0.270–0.330] (2.20× [1.98–2.42])',
    '0.190 [0.171–0.209] (1.40× [1.26–1.54])',
  ]);
  assert.deepEqual(c.fastest, [
    'events: deno and node tied, their ratio intervals overlap (0.190 ms/client; node 0.200, bun 0.300)',
    'async: fastest under node (0.300 ms/client; bun 0.400)',
  ]);
});

test('a Node-only run has no runtime table and no figure', () => {
  const m = model([summary('events', 0.2, 1.5), summary('async', 0.3, 2)]);
  assert.equal(runtimeComparison(m), null);
  assert.deepEqual(runtimesMarkdown(m), []);
  assert.deepEqual(runtimeFigures(m, 'wide'), []);
});

test("the bench's table: req/s and ratio per runtime, notes, fastest runtime per model", () => {
  const text = runtimeTable(
    [
      { server: 'events', rps: 5000, ratio: 0.62, note: '' },
      { server: 'events@deno', rps: 6500, ratio: 0.8, note: '' },
      { server: 'threads@bun', note: 'failed: server exited' },
    ],
    '÷ nginx',
  );
  assert.match(text, /^events +5000 \(0\.62×\) +6500 \(0\.80×\)$/m);
  assert.match(text, /threads@bun: failed: server exited/);
  assert.match(text, /fastest for events: deno/);
});
