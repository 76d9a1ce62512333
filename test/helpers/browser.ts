// Opens pages in Debian's own Chromium (never a downloaded browser), headless, with a fresh profile that is
// removed afterwards, and no background traffic to anywhere.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Runs `use` with a browser context, and always closes the browser and removes its profile. */
export async function withBrowser<T>(use: (context: BrowserContext) => Promise<T>, viewport = { width: 1280, height: 900 }): Promise<T> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'eventbench-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  try {
    return await use(context);
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * What overflows its container on the page now, one line each naming the element: an element wider than its
 * parent (past either edge) unless the parent scrolls it (overflow-x auto or scroll: a wide table in its box); with
 * `scrolling: false`, a box that would have to scroll counts too (every column visible). The page itself must not
 * scroll sideways. SVG drawings are checked as a whole, not shape by shape.
 */
export const OVERFLOWS = `(scrolling) => {
  const name = (el) => {
    const id = el.id ? '#' + el.id : '';
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    const tagged = el.dataset && (el.dataset.table || el.dataset.figure) ? el : el.querySelector('[data-table], [data-figure]');
    const data = tagged ? '[' + (tagged.dataset.table || tagged.dataset.figure) + ']' : '';
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return el.tagName.toLowerCase() + id + cls + data + (text ? ' "' + text + '"' : '');
  };
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    out.push('the page scrolls sideways: ' + root.scrollWidth + ' px wide in a ' + root.clientWidth + ' px window');
  }
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const parent = el.parentElement;
    if (!parent || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(parent);
    const scroller = style.overflowX === 'auto' || style.overflowX === 'scroll';
    if (scroller) {
      if (!scrolling && parent.scrollWidth > parent.clientWidth + 1) {
        out.push(name(parent) + ' needs to scroll: ' + parent.scrollWidth + ' px of content in ' + parent.clientWidth + ' px');
      }
      continue;
    }
    const r = el.getBoundingClientRect();
    const p = parent.getBoundingClientRect();
    const left = p.left + parseFloat(style.borderLeftWidth) - 1;
    const right = p.right - parseFloat(style.borderRightWidth) + 1;
    if (r.right > right || r.left < left) {
      const where = Math.round(r.left) + '..' + Math.round(r.right) + ' px in ' + Math.round(left) + '..' + Math.round(right);
      out.push(name(el) + ' overflows ' + name(parent) + ': ' + where);
    }
  }
  return [...new Set(out)];
}`;

/** Where the report's first parts end on its page, px from the top, and how tall the page is (report.html's). */
export interface FirstScreen {
  heightPx: number;
  /** The answer, and its first sentence. */
  answerPx: number;
  leadPx: number;
  /** The first ratio with its interval said in the answer ("1.6× [1.4–1.8]" or "1.6× ±12%"), or null. */
  ratio: string | null;
  /** The ranking chart. */
  chartPx: number;
  /** Each claim's row, in order, with the verdict it shows. */
  claims: { verdict: string; bottomPx: number }[];
}

export async function firstScreen(page: Page): Promise<FirstScreen> {
  return (await page.evaluate(`(() => {
    const bottom = (el) => el ? Math.round(el.getBoundingClientRect().bottom + scrollY) : Infinity;
    const answer = document.querySelector('[data-answer]');
    const ratio = ((answer ? answer.textContent : '').match(/\\d+(\\.\\d+)?× (\\[\\d+(\\.\\d+)?–\\d+(\\.\\d+)?\\]|±\\d+%)/) || [null])[0];
    const claims = [...document.querySelectorAll('table[data-table="claims"] tr[data-claim]')].map((tr) => ({
      verdict: tr.querySelector('td.verdict strong').textContent, bottomPx: bottom(tr) }));
    return { heightPx: document.documentElement.scrollHeight, answerPx: bottom(answer), leadPx: bottom(answer && answer.querySelector('p')),
      ratio, chartPx: bottom(document.querySelector('#ranking-chart .rc')), claims };
  })()`)) as FirstScreen;
}
