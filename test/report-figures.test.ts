// What the figures draw: a point that failed, served nothing, or served too few requests for a rate is no value,
// never a 0, and the caption names it; a tail that would flatten the p99 figure is clipped with its servers named;
// lines without a dot at every corner, and drawings lightened of what a page does not show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { buildModel, readReportRun } from '../src/report/index.js';
import { figures, MARK } from '../src/report/figures/index.js';
import { lighten } from '../src/report/figures/render.js';
import { glance } from '../src/report/text.js';
import { rankingTable } from '../src/report/tables.js';
import { point, runInfo, writeRun } from './helpers/results.js';
import type { Point } from '../src/results/schema.js';

const LOADS = [100, 200, 300, 400];

async function failingRun(t: { after(fn: () => Promise<void>): void }) {
  const points: Point[] = [];
  for (const [s, slope] of [
    ['native-epoll', 0.05],
    ['nginx', 0.06],
    ['events', 0.1],
  ] as const) {
    for (const load of LOADS) points.push(point({ server: s, family: 'native', load, meanLatencyMs: 1 + slope * load }));
  }
  // threads: 10 responses all started at once at l=100 (no rate), every request timed out at l=200, died at l=300.
  points.push(point({ server: 'threads', family: 'typescript', load: 100, meanLatencyMs: 4000, throughputRps: 0 }));
  points.push(point({ server: 'threads', family: 'typescript', load: 200, meanLatencyMs: 1, servedNothing: true }));
  const died = { failed: 'the server died (exit code 137)', stopped: 'the server failed' };
  points.push(point({ server: 'threads', family: 'typescript', load: 300, meanLatencyMs: 1, ...died }));
  const dir = await writeRun(runInfo(['native-epoll', 'nginx', 'events', 'threads'], LOADS), points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  return buildModel(readReportRun(dir));
}

/** The values a figure's layers draw for one server (by its legend key's start). */
function drawn(figure: ReturnType<typeof figures>[number], server: string): { load: number; y: number | null }[] {
  const layers = (figure.spec as unknown as { layer: { data?: { values?: Record<string, unknown>[] } }[] }).layer;
  return layers
    .flatMap((l) => l.data?.values ?? [])
    .filter((v) => typeof v.key === 'string' && (v.key === server || v.key.startsWith(`${server}:`)))
    .map((v) => ({ load: v.load as number, y: (v.y ?? v.lo ?? null) as number | null }));
}

test('a failing server draws no zero: no value at the loads it failed or served nothing, none where it had no rate', async (t) => {
  const model = await failingRun(t);
  const threads = model.servers.find((s) => s.server === 'threads')!;
  assert.deepEqual(
    threads.loads.map((lp) => [lp.load, lp.throughputRps]),
    [[100, null]],
  );
  assert.deepEqual(threads.notMeasured, [
    { load: 200, why: 'served nothing' },
    { load: 300, why: 'failed' },
  ]);
  assert.equal(threads.errors, 200, 'the timeouts of the point that served nothing still count');

  const byName = new Map(figures(model).map((f) => [f.name, f]));
  for (const [name, figure] of byName) {
    for (const v of drawn(figure, 'threads')) {
      assert.notEqual(v.y, 0, `${name} draws threads at 0 at l=${v.load}`);
      assert.ok(v.load === undefined || v.load === 100, `${name} draws threads at l=${v.load}`);
    }
  }
  assert.deepEqual(drawn(byName.get('fig3-throughput')!, 'threads'), [], 'no rate at l=100: nothing drawn');
  assert.equal(drawn(byName.get('fig4-p99')!, 'threads').length, 1);
  for (const name of ['fig2-serving-time', 'fig3-throughput', 'fig4-p99']) {
    const said = /Not drawn, as they hold no value \(never as 0\): threads at l=300 \(failed\); threads at l=200 \(served nothing\)/;
    assert.match(byName.get(name)!.caption, said, name);
  }
  assert.match(byName.get('fig3-throughput')!.caption, /threads at l=100 \(too few responses for a rate/);
  assert.match(glance(model).join('\n'), /Served nothing \(no value, drawn nowhere\): threads at l=200/);
  const row = rankingTable(model).rows.find((r) => r.some((c) => c.text === 'threads'))!;
  assert.ok(
    row.some((c) => /served-nothing/.test(c.text)),
    'the flag is in the ranking',
  );
});

test('a tail of seconds does not flatten the p99 figure: its axis stops and the servers above are named', async (t) => {
  const model = await failingRun(t);
  const p99 = figures(model).find((f) => f.name === 'fig4-p99')!;
  assert.match(p99.caption, /The axis stops at \d+ ms so that the other lines stay readable; threads runs off the top/);
  type Layer = { name?: string; encoding: { y: { scale?: { domain?: number[] } } } };
  const layer = (p99.spec as unknown as { layer: Layer[] }).layer.find((l) => l.name === MARK.data)!;
  const top = layer.encoding.y.scale!.domain![1]!;
  assert.ok(top > 1.8 * (1 + 0.1 * 400) && top < 1.8 * 4000, `top ${top}`);
});

test('a drawing as light as the eye allows: no ARIA on the marks, tenths of a pixel, the font once, the tested classes kept', async () => {
  const raw =
    '<svg xmlns="http://www.w3.org/2000/svg" class="marks" width="10" height="10"><g class="mark-group role-frame root" role="graphics-object" aria-roledescription="group mark container">' +
    '<path class="background" aria-hidden="true" d="M0,0h0v0h0Z" pointer-events="none"/>' +
    '<g class="mark-text role-legend-label" pointer-events="none"><text text-anchor="start" transform="translate(17.123456,10.55)" font-family="system-ui, sans-serif" font-size="12px" fill="#000" opacity="1">native-st 0.070 [0.060–0.081]</text></g>' +
    '<g class="mark-line role-mark serverlines_marks"><path aria-label="load: 100; y: 99.123" d="M1.23456,2.5L3.14159,4" stroke="#4e79a7"/></g>' +
    '<text font-family="system-ui, sans-serif" font-size="15px">title</text></g></svg>';
  assert.equal(
    lighten(raw),
    '<svg font-size="12px" font-family="system-ui, sans-serif" xmlns="http://www.w3.org/2000/svg" class="marks" width="10" height="10"><g>' +
      '<g class="role-legend-label"><text transform="translate(17.1,10.6)" fill="#000">native-st 0.070 [0.060–0.081]</text></g>' +
      '<g class="serverlines_marks"><path d="M1.2,2.5L3.1,4" stroke="#4e79a7"/></g>' +
      '<text font-size="15px">title</text></g></svg>',
  );
});

test('lines without a dot at every corner; a server with a single value keeps its dot, drawn once', async (t) => {
  const model = await failingRun(t);
  const p99 = figures(model).find((f) => f.name === 'fig4-p99')!;
  type Layer = { name?: string; mark: { type: string; point?: unknown }; data: { values: { key: string }[] } };
  const layers = (p99.spec as unknown as { layer: Layer[] }).layer;
  const line = layers.find((l) => l.name === MARK.data)!;
  assert.equal(line.mark.type, 'line');
  assert.equal(line.mark.point, undefined, 'no dot at every corner');
  const dots = layers.filter((l) => l.mark.type === 'point');
  assert.deepEqual(
    dots.flatMap((l) => l.data.values.map((v) => v.key)),
    ['threads'],
    'threads has one value (l=100): its dot, and no line',
  );
  assert.ok(!line.data.values.some((v) => v.key === 'threads'));
});
