// The HTML report opened in a real headless Chromium (Debian's), as a reader would: no console errors, no
// network, Figures 1 and 2 drawn with one line per server, and readable on a laptop and on a phone: nothing
// overflows its container (at 1280 px every column of every table is visible; at 390 px a wide table scrolls in its
// own box with the server column held in place), Figure 2 spans the column with a legend of 11 px or more, and the
// memory experiment has its section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { writeReport } from '../src/report/index.js';
import { MARK } from '../src/report/figures/index.js';
import { CHROMIUM, OVERFLOWS, withBrowser } from './helpers/browser.js';
import { needs } from './helpers/optional.js';
import { point, realisticRun, runInfo, writeMemoryRun, writeRun } from './helpers/results.js';
import type { Family, Point } from '../src/results/schema.js';

/** Screenshots are kept here to be looked at: the last run's laptop and phone views. */
export const SCREENSHOT_DIR = os.tmpdir();

const skip = needs('chromium', existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM}`);
const VIEWPORTS = [
  ['laptop', { width: 1280, height: 900 }],
  ['phone', { width: 390, height: 844 }],
] as const;

/** Opens every <details> (the table of points) and lists what overflows; at a laptop's width no box may scroll. */
async function overflows(page: Page, phone: boolean): Promise<string[]> {
  await page.evaluate('for (const d of document.querySelectorAll("details")) d.open = true');
  return (await page.evaluate(`(${OVERFLOWS})(${phone})`)) as string[];
}

/** Figure 2's drawing as shown: its width, the column's, and its legend's font size as rendered (px). */
async function figure2(page: Page): Promise<{ widthPx: number; columnPx: number; legendPx: number }> {
  return (await page.evaluate(`(() => {
    const svg = document.querySelector('#fig2-serving-time .wide svg');
    const label = svg.querySelector('.role-legend-label text');
    const widthPx = svg.getBoundingClientRect().width;
    const main = document.querySelector('main');
    const columnPx = main.clientWidth - parseFloat(getComputedStyle(main).paddingLeft) - parseFloat(getComputedStyle(main).paddingRight);
    return { widthPx, columnPx, legendPx: parseFloat(label.getAttribute('font-size')) * widthPx / Number(svg.getAttribute('width')) };
  })()`)) as { widthPx: number; columnPx: number; legendPx: number };
}

test('report.html opens in Chromium with no error, both figures drawn, one line per server, nothing overflowing', { skip }, async (t) => {
  const r = realisticRun();
  const dir = await writeRun(r.run, r.points, r.tail);
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeMemoryRun(dir);
  const { htmlPath, svgPaths } = await writeReport(dir);
  assert.equal(htmlPath, path.join(dir, 'report.html'));
  assert.deepEqual(
    svgPaths.map((p) => path.basename(p)),
    [
      'fig1-measured-load.svg',
      'fig2-serving-time.svg',
      'fig3-throughput.svg',
      'fig4-p99.svg',
      'fig5-memory.svg',
      'fig7-latency-cdf.svg',
      'fig8-fairness.svg',
      'fig-memory.svg',
    ],
  );
  for (const p of svgPaths) assert.match(await readFile(p, 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  for (const f of ['memory.md', 'memory.html']) assert.ok(existsSync(path.join(dir, f)), `${f} is re-rendered beside memory.json`);

  const html = await readFile(htmlPath, 'utf8');
  // Self-contained: nothing to fetch (the CSP would also block it, and report it as a console error).
  assert.doesNotMatch(html, /\s(src|href)="(?!#)/);
  assert.doesNotMatch(html, /<(script|link|img|iframe)\b/);
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique across the inline figures');

  const servers = r.lines.length;
  await withBrowser(async (context) => {
    const problems: string[] = [];
    const requests: string[] = [];
    context.on('request', (req) => {
      if (!req.url().startsWith('file:')) requests.push(req.url());
    });
    for (const [name, viewport] of VIEWPORTS) {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${name} console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`${name} page error: ${e.message}`));
      await page.setViewportSize(viewport);
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });

      const shown = name === 'laptop' ? '.wide' : '.narrow';
      const count = (figure: string, mark: string) => page.locator(`#${figure} ${shown} g.${mark}_marks path`).count();
      assert.equal(await count('fig1-measured-load', MARK.data), servers, `${name}: Figure 1 has a line per server`);
      assert.equal(await count('fig2-serving-time', MARK.fit), servers, `${name}: Figure 2 has a fitted line per server`);
      assert.ok((await count('fig7-latency-cdf', MARK.data)) >= servers - 1, `${name}: the CDF has a line per server measured at its load`);
      for (const figure of ['fig1-measured-load', 'fig2-serving-time', 'fig-memory']) {
        assert.ok(await page.locator(`#${figure} ${shown} svg`).isVisible(), `${name}: ${figure} is visible`);
        assert.ok(
          !(await page.locator(`#${figure} ${name === 'laptop' ? '.narrow' : '.wide'} svg`).isVisible()),
          `${name}: one drawing of ${figure}`,
        );
      }
      const legend = await page.locator(`#fig2-serving-time ${shown} .role-legend-label`).allTextContents();
      assert.equal(legend.length, servers);
      assert.ok(
        legend.every((l) => /ms\/client.*r \d\.\d{4}.*req\/s/.test(l)),
        `${name}: the legend gives slope, intercept, r and req/s: ${legend[0]}`,
      );
      assert.equal(await page.locator('table[data-table="ranking"] tbody tr').count(), servers);
      // The memory experiment: its table (a row per server) and its figure, on this page.
      assert.ok(await page.locator('#memory').isVisible(), `${name}: the memory section is there`);
      assert.equal(await page.locator('table[data-table="memory"] tbody tr').count(), 4);
      assert.match((await page.locator('table[data-table="memory"]').textContent()) ?? '', /not measurable here/);
      assert.deepEqual(await overflows(page, name === 'phone'), [], `${name}: nothing overflows`);
      if (name === 'laptop') {
        const f2 = await figure2(page);
        assert.ok(f2.widthPx >= 0.9 * f2.columnPx, `Figure 2 spans the column: ${f2.widthPx} of ${f2.columnPx} px`);
        assert.ok(f2.legendPx >= 11, `Figure 2's legend is legible: ${f2.legendPx.toFixed(1)} px`);
      }

      const shot = path.join(SCREENSHOT_DIR, `eventbench-report-${name}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok((await stat(shot)).size > 50_000, `${name}: screenshot ${shot} has content`);
      t.diagnostic(`screenshot: ${shot}`);
      await page.close();
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [], 'the page fetched nothing');
  });
});

/** The default run's 23 servers, with the flags that made its ranking table run off the page. */
const DEFAULT_SERVERS: [string, Family, string?][] = [
  ['events', 'typescript', 'thttpd'],
  ['events-uv', 'typescript', 'thttpd'],
  ['async', 'typescript', 'CPC'],
  ['async-compiled', 'typescript', 'CPC'],
  ['coroutines', 'typescript', 'ST'],
  ['threads', 'typescript', 'NPTL'],
  ['thread-pool', 'typescript', 'Apache'],
  ['processes', 'typescript', 'fork'],
  ['process-pool', 'typescript', 'Apache'],
  ['node-http', 'typescript'],
  ['bun-serve', 'typescript'],
  ['deno-serve', 'typescript'],
  ['native-fork', 'native', 'fork'],
  ['native-pthreads', 'native', 'NPTL'],
  ['native-pth', 'native', 'Pth'],
  ['native-st', 'native', 'ST'],
  ['native-epoll', 'native'],
  ['apache-prefork', 'production', 'Apache'],
  ['apache-worker', 'production', 'Apache'],
  ['apache-event', 'production'],
  ['lighttpd', 'production', 'lighttpd'],
  ['nginx', 'production', 'thttpd'],
  ['h2o', 'production', 'Polipo'],
];

function defaultRun(): Point[] {
  const points: Point[] = [];
  const loads = [10, 100, 250, 500, 1000];
  DEFAULT_SERVERS.forEach(([server, family, paperRow], i) => {
    for (const load of loads) {
      for (const round of [1, 2, 3]) {
        const base = { server, family, ...(paperRow ? { paperRow } : {}), load, round };
        if (server === 'threads' || server === 'processes') {
          if (load === 10) points.push(point({ ...base, meanLatencyMs: 4000, throughputRps: 0 }));
          const stopped = 'errors were 100.0% of requests, past the cap of 5.0% at load 100';
          if (load === 100 && round === 1) points.push(point({ ...base, meanLatencyMs: 1, servedNothing: true, stopped }));
          continue;
        }
        const wiggle = 1 + 0.04 * Math.sin(3.1 * i + 1.7 * round + load);
        points.push(
          point({
            ...base,
            meanLatencyMs: (0.3 + (0.07 + 0.02 * i) * load) * wiggle,
            peakRssBytes: 2e6 + 1e4 * load,
            ...(server === 'bun-serve' && load === 1000 ? { listenOverflows: 6354, errors: 12 } : {}),
          }),
        );
      }
    }
  });
  return points;
}

test('23 servers: every column visible at 1280 px; at 390 px tables scroll in their box, the server column held', { skip }, async (t) => {
  const run = runInfo(
    DEFAULT_SERVERS.map(([s]) => s),
    [10, 100, 250, 500, 1000],
  );
  run.plan = { ...run.plan, rounds: 3, durationS: 0.6, requests: 30_000 };
  const dir = await writeRun(run, defaultRun());
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { htmlPath } = await writeReport(dir);
  await withBrowser(async (context) => {
    for (const [name, viewport] of VIEWPORTS) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
      assert.deepEqual(await overflows(page, name === 'phone'), [], `${name}: nothing overflows`);
      // No memory.json in this folder: the section says how to measure it.
      assert.match((await page.locator('#memory + p').textContent()) ?? '', /eventbench memory --out DIR/);
      const cells = await page.locator('table[data-table="ranking"] tbody tr td:first-child').allTextContents();
      const ranks = cells.map((x) => parseInt(x, 10)).filter((x) => !Number.isNaN(x));
      assert.ok(
        ranks.every((r, i) => i === 0 || r >= ranks[i - 1]!),
        `ranks read down the table: ${ranks.join(', ')}`,
      );
      if (name === 'phone') {
        // Scrolled sideways, the ranking keeps its rank and server columns where they were.
        const box = page.locator('table[data-table="ranking"]').locator('..');
        const server = page.locator('table[data-table="ranking"] tbody tr:first-child td:nth-child(2)');
        const before = (await server.boundingBox())!.x;
        await box.evaluate((el) => {
          el.scrollLeft = 400;
        });
        assert.ok((await box.evaluate((el) => el.scrollLeft)) > 0, 'the ranking scrolls in its box on a phone');
        assert.ok(Math.abs((await server.boundingBox())!.x - before) < 1, 'the server column stays in place');
      }
      await page.close();
    }
  });
});
