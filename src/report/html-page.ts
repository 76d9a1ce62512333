// The parts of a self-contained HTML page (styles inline, nothing fetched, readable on a laptop and on a phone):
// the page around its parts, tables with their layout, lists, escaping. Pure: text in, text out. The report
// (html.ts) and the memory experiment's own page (memory.ts) are each made of these.
import { visible, type Table } from './tables.js';

export function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

// Tables fit the column at a laptop's width (long cells wrap: model, flags); on a phone a wide table scrolls in
// its own box, its key column (the server) held in place, and the page itself never scrolls sideways. A figure is
// shown at the size it was drawn (its text at the drawn size), shrunk only to fit the column; Figure 2 is drawn
// as wide as the column.
const STYLE = `
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5b5b60; --rule: #dcdce0; --warn: #9a3412; --warnbg: #fff4e5; --rank: 2.6rem; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #fafafa; }
main { max-width: 75rem; margin: 0 auto; padding: 1rem 1rem 3rem; background: #fff; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 0.25rem; line-height: 1.25; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 0.5rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.25rem; }
p.sub, figcaption, .note { color: var(--muted); }
ul { padding-left: 1.2rem; }
ul.glance li { margin: 0.25rem 0; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
table { border-collapse: separate; border-spacing: 0; font-size: 0.9rem; min-width: 100%; overflow-wrap: normal; }
th, td {
  padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; white-space: nowrap;
  background: #fff;
}
th { background: #f3f3f5; font-weight: 600; white-space: normal; vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { white-space: normal; min-width: 7rem; }
td.flag { color: var(--warn); white-space: normal; min-width: 8rem; }
th.rank, td.rank { width: var(--rank); min-width: var(--rank); max-width: var(--rank); }
.key { position: sticky; left: 0; z-index: 1; }
.rank + .key { left: var(--rank); }
th.key { z-index: 2; }
tr.group-start > td { border-top: 2px solid #a8a8b0; }
figure { margin: 1.5rem 0; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 34rem), 1fr)); column-gap: 1.5rem; }
.figs figure { margin: 1rem 0; min-width: 0; }
figure svg { display: block; width: auto; height: auto; max-width: 100%; }
figure .narrow { display: none; }
figure .narrow svg { width: 100%; }
figure h3 { font-size: 1rem; margin: 0 0 0.4rem; }
figcaption { font-size: 0.9rem; margin-top: 0.4rem; }
dl.env { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.2rem 1rem; margin: 0; }
dl.env dt { font-weight: 600; }
dl.env dd { margin: 0; }
ul.warnings li { color: var(--warn); }
.banner { background: var(--warnbg); color: var(--warn); padding: 0.5rem 0.75rem; border-radius: 4px; }
details summary { cursor: pointer; margin: 1rem 0 0.5rem; font-weight: 600; }
code { font-size: 0.9em; background: #f3f3f5; padding: 0 0.2em; border-radius: 3px; }
@media (max-width: 40rem) {
  figure .wide { display: none; }
  figure .narrow { display: block; }
  body { font-size: 15px; }
  main { padding: 0.75rem 0.6rem 2rem; }
  dl.env { grid-template-columns: minmax(0, 1fr); }
  dl.env dd { margin-bottom: 0.4rem; }
  /* On a phone the table scrolls anyway: one line a row reads better than cells wrapped three deep. */
  td.wrap, td.flag { white-space: nowrap; }
}
`;

export interface TableLayout {
  /** Columns whose cells wrap (long text: a model, flags); the flag column is also coloured. */
  wrap?: string[];
  flags?: string;
  /** Leading columns held in place when the table scrolls sideways: the rank and the server, or the server. */
  key?: string[];
  /** Rows that open a new group (a tie group of the ranking): a heavier rule above them. */
  groupStarts?: (row: number) => boolean;
}

export function htmlTable(t: Table, layout: TableLayout = {}): string {
  const vis = t.columns;
  const cls = (i: number, head: boolean) => {
    const name = vis[i]!;
    const out: string[] = [];
    if (t.numeric[i]) out.push('num');
    if (name === '#') out.push('rank');
    if (layout.key?.includes(name)) out.push('key');
    if (!head && layout.wrap?.includes(name)) out.push('wrap');
    return out;
  };
  const attr = (c: string[]) => (c.length ? ` class="${c.join(' ')}"` : '');
  const head = vis.map((c, i) => `<th${attr(cls(i, true))} scope="col">${escapeHtml(c)}</th>`).join('');
  const body = t.rows
    .map(
      (r, n) =>
        `<tr${layout.groupStarts?.(n) ? ' class="group-start"' : ''}>${visible(r)
          .map((c, i) => {
            const classes = cls(i, false);
            if (vis[i] === layout.flags && c.text !== '—') classes.push('flag');
            return `<td${attr(classes)}>${escapeHtml(c.text)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table data-table="${t.name}">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

export const list = (items: string[], cls = ''): string =>
  `<ul${cls ? ` class="${cls}"` : ''}>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;

/** The page around the parts: self-contained, nothing fetched (the CSP forbids it). */
export function page(title: string, parts: readonly string[], style = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}${style}</style>
</head>
<body>
<main>
${parts.join('\n')}
</main>
</body>
</html>
`;
}
