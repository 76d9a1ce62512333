// The report's page as a reader meets it, for a real run folder: renders report.html for a copy of DIR (the run
// folder is not written), opens it in Debian's Chromium at 1280 and 390 px and says where the answer, the ranking
// chart and the paper's claims end, how tall the page is and how heavy the file, against issue 31's limits (at
// 1280 px a ratio with its interval, the chart and six claims in the first 1,400 px; at 390 px the answer's first
// sentence in the first 900; at most 9,000 and 14,000 px tall; at most 600 KB). A layout, not a timing: it needs
// no quiet machine. Usage: npm run build && node dist/bench/report-page.js DIR
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../src/report/index.js';
import { firstScreen, withBrowser } from '../test/helpers/browser.js';

const LIMITS = { laptop: { width: 1280, height: 900, pagePx: 9000 }, phone: { width: 390, height: 844, pagePx: 14000 } } as const;

async function main(dir: string): Promise<boolean> {
  const copy = await mkdtemp(path.join(os.tmpdir(), 'eventbench-report-page-'));
  try {
    await cp(dir, copy, { recursive: true });
    const { htmlPath } = await writeReport(copy);
    const kb = Math.round((await stat(htmlPath)).size / 1024);
    const lines = [`${dir}: report.html ${kb} KB (at most 600)`];
    let ok = kb <= 600;
    await withBrowser(async (context) => {
      for (const [name, l] of Object.entries(LIMITS)) {
        const page = await context.newPage();
        await page.setViewportSize({ width: l.width, height: l.height });
        await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
        const f = await firstScreen(page);
        const claims = f.claims.map((c) => `${c.bottomPx}`).join(', ');
        lines.push(
          `${name} ${l.width} px: page ${f.heightPx} px (at most ${l.pagePx}); answer to ${f.answerPx} (its first sentence to ${f.leadPx}), ` +
            `ratio "${f.ratio}"; chart to ${f.chartPx}; claims end at ${claims}`,
        );
        ok &&= f.heightPx <= l.pagePx && f.ratio !== null;
        ok &&=
          name === 'laptop'
            ? f.answerPx <= 1400 && f.chartPx <= 1400 && f.claims.filter((c) => c.bottomPx <= 1400).length >= 6
            : f.leadPx <= 900;
        await page.close();
      }
    });
    console.log([...lines, ok ? 'within the limits' : 'OUTSIDE the limits'].join('\n'));
    return ok;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node dist/bench/report-page.js DIR (a run folder)');
  process.exitCode = 2;
} else {
  process.exitCode = (await main(dir)) ? 0 : 1;
}
