// The HTML report opened in a real headless Chromium (Debian's), as a reader would: no console errors, no
// network, Figures 1 and 2 drawn with one line per server, readable on a laptop and on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../src/report/index.js';
import { MARK } from '../src/report/figures.js';
import { CHROMIUM, withBrowser } from './helpers/browser.js';
import { needs } from './helpers/optional.js';
import { realisticRun, writeRun } from './helpers/results.js';

/** Screenshots are kept here to be looked at: the last run's laptop and phone views. */
export const SCREENSHOT_DIR = os.tmpdir();

test('report.html opens in Chromium with no error, both figures drawn, one line per server', { skip: needs('chromium', existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM}`) }, async (t) => {
  const r = realisticRun();
  const dir = await writeRun(r.run, r.points, r.tail);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { htmlPath, svgPaths } = await writeReport(dir);
  assert.equal(htmlPath, path.join(dir, 'report.html'));
  assert.deepEqual(svgPaths.map((p) => path.basename(p)), ['fig1-measured-load.svg', 'fig2-serving-time.svg', 'fig3-throughput.svg', 'fig4-p99.svg', 'fig5-memory.svg']);
  for (const p of svgPaths) assert.match(await readFile(p, 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);

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
    context.on('request', (req) => { if (!req.url().startsWith('file:')) requests.push(req.url()); });
    for (const [name, viewport] of [['laptop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
      const page = await context.newPage();
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${name} console ${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`${name} page error: ${e.message}`));
      await page.setViewportSize(viewport);
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });

      const shown = name === 'laptop' ? '.wide' : '.narrow';
      const count = (figure: string, mark: string) => page.locator(`#${figure} ${shown} g.${mark}_marks path`).count();
      assert.equal(await count('fig1-measured-load', MARK.data), servers, `${name}: Figure 1 has a line per server`);
      assert.equal(await count('fig2-serving-time', MARK.fit), servers, `${name}: Figure 2 has a fitted line per server`);
      for (const figure of ['fig1-measured-load', 'fig2-serving-time']) {
        assert.ok(await page.locator(`#${figure} ${shown} svg`).isVisible(), `${name}: ${figure} is visible`);
        assert.ok(!(await page.locator(`#${figure} ${name === 'laptop' ? '.narrow' : '.wide'} svg`).isVisible()), `${name}: one drawing of ${figure}`);
      }
      const legend = await page.locator(`#fig2-serving-time ${shown} .role-legend-label`).allTextContents();
      assert.equal(legend.length, servers);
      assert.ok(legend.every((l) => /ms\/client.*r \d\.\d{4}.*req\/s/.test(l)), `${name}: the legend gives slope, intercept, r and req/s: ${legend[0]}`);
      assert.equal(await page.locator('table[data-table="ranking"] tbody tr').count(), servers);
      // Readable on a phone: the page itself never scrolls sideways (wide tables scroll inside their box).
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      assert.ok(overflow <= 0, `${name}: page overflows sideways by ${overflow}px`);

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
