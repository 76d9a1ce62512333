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
import { CHROMIUM, firstScreen, OVERFLOWS, withBrowser } from './helpers/browser.js';
import { needs } from './helpers/optional.js';
import { defaultRun, EVERY_SERVER, realisticRun, writeMemoryOf, writeMemoryRun, writeRun } from './helpers/results.js';

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
    // The size as drawn (set on the text or inherited from the root), scaled as the drawing is shown.
    return { widthPx, columnPx, legendPx: parseFloat(getComputedStyle(label).fontSize) * widthPx / Number(svg.getAttribute('width')) };
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

test('23 servers: every column visible at 1280 px; at 390 px tables scroll in their box, the server column held', { skip }, async (t) => {
  const { run, points } = defaultRun();
  const dir = await writeRun(run, points);
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

const VERDICT = /^(confirmed|refuted|not decided at this precision|not in this run|not measured in this run)$/;

test('27 servers, with memory and distributions: the answer, the chart and the claims on the first screen; a page short and light', {
  skip,
}, async (t) => {
  const { run, points } = defaultRun(EVERY_SERVER);
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeMemoryOf(dir, EVERY_SERVER);
  const { htmlPath } = await writeReport(dir);
  const bytes = (await stat(htmlPath)).size;
  assert.ok(bytes <= 600 * 1024, `report.html is ${Math.round(bytes / 1024)} KB, at most 600 KB`);
  await withBrowser(async (context) => {
    for (const [name, viewport] of VIEWPORTS) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
      const first = await firstScreen(page);
      t.diagnostic(
        `${name}: page ${first.heightPx} px; answer to ${first.answerPx}, chart to ${first.chartPx}, claims to ${first.claims.map((c) => c.bottomPx).join(', ')} px`,
      );
      assert.equal(await page.locator('#ranking-chart .rc-plot').count(), EVERY_SERVER.length, `${name}: a row a server in the chart`);
      assert.equal(await page.locator('#ranking-chart .rc-dot').count(), EVERY_SERVER.length - 2, `${name}: a dot a ranked server`);
      assert.deepEqual(await overflows(page, name === 'phone'), [], `${name}: nothing overflows`);
      if (name === 'laptop') {
        assert.ok(first.heightPx <= 9000, `laptop: the page is ${first.heightPx} px tall, at most 9,000`);
        assert.ok(
          first.ratio !== null && first.answerPx <= 1400,
          `laptop: a ratio with its interval (${first.ratio}) in the answer, which ends at ${first.answerPx} px`,
        );
        assert.ok(first.chartPx <= 1400, `laptop: the ranking chart ends at ${first.chartPx} px`);
        const seen = first.claims.filter((c) => c.bottomPx <= 1400);
        assert.ok(seen.length >= 6, `laptop: ${seen.length} claims in the first 1,400 px`);
        for (const c of first.claims) assert.match(c.verdict, VERDICT);
      } else {
        assert.ok(first.heightPx <= 14000, `phone: the page is ${first.heightPx} px tall, at most 14,000`);
        assert.ok(first.leadPx <= 900, `phone: the answer's first sentence ends at ${first.leadPx} px`);
      }
      await page.close();
    }
  });
});
