// The ranking as a chart (src/report/ranking-chart.ts): a 1-2-5 log axis around every bound, a row a server grouped
// by concurrency model, the dot at its ratio and the bar over its interval, hollow where points were flagged, a
// bar that fades where it has no bound, and a reason where a server has no ratio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { buildModel, readReportRun } from '../src/report/index.js';
import { logAxis, rankingChartHtml } from '../src/report/ranking-chart.js';
import { defaultRun, writeRun } from './helpers/results.js';

test('the log axis: 1-2-5 ticks from at or below the lowest value to at or above the highest, 1 always on it', () => {
  const axis = logAxis([0.78, 0.55, 1.11, 9.89, 12.68, 0, Infinity]);
  assert.deepEqual(axis.ticks, [0.5, 1, 2, 5, 10, 20]);
  assert.equal(axis.at(0.5), 0);
  assert.equal(axis.at(20), 1);
  assert.ok(Math.abs(axis.at(1) - Math.log(2) / Math.log(40)) < 1e-12);
  assert.equal(axis.at(100), 1, 'clamped at the ends');
  assert.deepEqual(logAxis([2.5, 3]).ticks, [1, 2, 5], 'the reference 1 is always on the axis');
});

test('a row a server, grouped by model, fastest model first; hollow where flagged; why where there is no ratio', async (t) => {
  const { run, points } = defaultRun();
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = buildModel(readReportRun(dir));
  // bun-serve had a point flagged client-bound and left out of its fit; the accept queue's overflows leave none out.
  model.servers.find((s) => s.server === 'bun-serve')!.flags.push({ kind: 'client-bound', text: 'client-bound at l=1000' });
  const html = rankingChartHtml(model);
  const rows = [...html.matchAll(/<span class="rc-plot[^"]*"[^>]*?(?: data-server="([^"]+)")?[^>]*>(.*?)<\/span><span class="rc-num/g)];
  assert.equal(rows.length, model.servers.length, 'a row a server');
  const kinds = [...html.matchAll(/<span class="rc-kind" style="grid-row:span (\d+)">([^<]+)<\/span>/g)].map((m) => [m[2], Number(m[1])]);
  assert.equal(kinds[0]![0], 'events', 'the model of the fastest server comes first');
  assert.equal(
    kinds.reduce((a, k) => a + (k[1] as number), 0),
    model.servers.length,
    'every server sits under its model',
  );
  // threads and processes were stopped after serving nothing: a row that says so, no dot.
  assert.equal((html.match(/stopped by the stop rules: not ranked/g) ?? []).length, 2);
  assert.equal((html.match(/class="rc-dot/g) ?? []).length, model.servers.length - 2);
  assert.equal((html.match(/rc-flagged/g) ?? []).length, 1, 'only the flagged server is hollow');
  assert.match(html, /data-server="bun-serve"[^>]*><i class="rc-bar[^"]*"[^>]*><\/i><i class="rc-dot rc-flagged"/);
  assert.match(html, /<figcaption>Each server's time per request over lighttpd's/);
});

test('an interval with no bound fades off the axis; nothing ranked, no chart', async (t) => {
  const { run, points } = defaultRun();
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = buildModel(readReportRun(dir));
  const lighttpd = model.servers.find((s) => s.server === 'lighttpd')!;
  const nginx = model.servers.find((s) => s.server === 'nginx')!;
  nginx.ratio = { value: nginx.ratio!.value, lo: 0, hi: Infinity };
  assert.match(rankingChartHtml(model), /data-server="nginx"[^>]*><i class="rc-bar rc-open-lo rc-open-hi" style="--lo:0;--hi:1"/);
  for (const s of model.servers) s.ratio = null;
  assert.equal(rankingChartHtml(model), '');
  assert.ok(lighttpd);
});
