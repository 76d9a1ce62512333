// The picture of the report in README.md: the first screen of a run's report.html at 1280 px, taken in Debian's own
// Chromium, headless, with a fresh profile removed afterwards, then made small with pngquant where it is installed
// (`apt-get install pngquant`: about 55 KB instead of 180). Retake it when the report changes (the report writes
// into the run folder, so render a copy):
//   npm run build && cp -r RUN /tmp/run && node bin/eventbench.js report /tmp/run
//   node scripts/report-screenshot.mjs /tmp/run/report.html docs/report.png
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/report-screenshot.mjs REPORT.html OUT.png');
  process.exit(2);
}
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'];
const profile = await mkdtemp(path.join(os.tmpdir(), 'eventbench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args,
  viewport: { width: 1280, height: 800 },
});
try {
  const page = await context.newPage();
  await page.goto(pathToFileURL(path.resolve(html)).href, { waitUntil: 'load' });
  await page.screenshot({ path: png, fullPage: false });
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}
const small = spawnSync('pngquant', ['--quality', '60-85', '--speed', '1', '--force', '--output', png, '--', png]);
if (small.error) console.error('pngquant is not installed: the picture is left as Chromium took it');
console.log(png);
