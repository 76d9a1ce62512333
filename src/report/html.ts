// The HTML report: one self-contained page (styles and SVG figures inline, nothing fetched), readable on a laptop
// and on a phone. Pure: model and rendered figures in, a string out.
import { openLoopTable } from './open-loop.js';
import type { ReportModel } from './model.js';
import type { Figure } from './figures.js';
import { visible, paperTable, pointsTable, rankingTable, type Table } from './tables.js';
import { environmentRows, glance, typescriptGap } from './text.js';
import { comparisonCells, runtimeComparison } from './runtimes.js';
import { POINT_FLAGS } from '../results/verdict.js';
import { memoryClaim, memoryMethod, memoryTable } from './memory.js';
import type { MemoryRun } from '../experiments/memory.js';

export interface RenderedFigure {
  figure: Figure;
  /** Drawn for a laptop's column (also the .svg file), and for a phone held upright. */
  svg: string;
  narrowSvg: string;
}

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
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.25rem; }
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

function htmlTable(t: Table, layout: TableLayout = {}): string {
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

function figureHtml(f: RenderedFigure): string {
  // Strip the XML prolog if any: the SVG sits inline in the HTML. CSS shows one of the two drawings.
  const inline = (svg: string) => svg.replace(/^<\?xml[^>]*>\s*/, '');
  return `<figure id="${f.figure.name}" data-figure="${f.figure.name}">\n<div class="wide">${inline(f.svg)}</div>\n<div class="narrow"><h3>${escapeHtml(f.figure.title)}</h3>${inline(f.narrowSvg)}</div>\n<figcaption>${escapeHtml(f.figure.caption)}</figcaption>\n</figure>`;
}

/** What each kind of point flag seen in this run means (src/sweep/verdict.ts), one line each. */
function flagsExplained(model: ReportModel): string {
  const seen = new Set(model.servers.flatMap((s) => s.flags.map((f) => f.kind)));
  const lines = POINT_FLAGS.filter((f) => seen.has(f.kind)).map((f) => `${f.label} (${f.kind}): ${f.caption}.`);
  if (lines.length === 0) return '';
  return `<p>What the flags mean (a flagged point is shown, and left out of every fit):</p>${list(lines, 'flags note')}`;
}

const list = (items: string[], cls = ''): string =>
  `<ul${cls ? ` class="${cls}"` : ''}>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;

/** The figures whose names start with a prefix, as HTML: a section places its figures by prefix. */
type Figures = (prefix: string) => string;

export function renderHtml(model: ReportModel, rendered: readonly RenderedFigure[]): string {
  const fig: Figures = (prefix) =>
    rendered
      .filter((f) => f.figure.name.startsWith(prefix))
      .map(figureHtml)
      .join('\n');
  const title = `Are events fast? eventbench run ${model.run.id}`;
  // The page reads top to bottom: the answer, then the paper's view, then what lies beyond it, then the record.
  const sections = [
    headHtml(model, title),
    rankingHtml(model),
    openLoopHtml(model, fig),
    paperHtml(model, fig),
    beyondHtml(model, fig),
    recordHtml(model),
  ];
  return page(title, sections.flat());
}

/** Title, what was run on what, whether the run is over, and the answers at a glance. */
function headHtml(model: ReportModel, title: string): string[] {
  const parts: string[] = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="sub">${escapeHtml(`${model.servers.length} servers, offered loads ${model.plan.loads.join(', ')}; ${model.environment.cpuModel}, Linux ${model.environment.kernel}. After Kerneis & Chroboczek, "Are events fast?" (2009).`)}</p>`,
  ];
  if (model.run.state !== 'finished')
    parts.push(`<p class="banner">${escapeHtml(`This run is ${model.run.state}: the report shows the points measured so far.`)}</p>`);
  parts.push('<h2>At a glance</h2>', list(glance(model), 'glance'));
  return parts;
}

/** The ranking table, a heavier rule between tie groups, then every server's flags and what they mean. */
function rankingHtml(model: ReportModel): string[] {
  const ranking = rankingTable(model);
  const groupStarts = (n: number) => n > 0 && model.servers[n]!.group !== null && model.servers[n]!.group !== model.servers[n - 1]!.group;
  const parts = [
    `<h2>${escapeHtml(ranking.title)}</h2>`,
    `<p>${escapeHtml(`${model.ratioReference.why} ${RANKING_CONVENTION}`)}</p>`,
    htmlTable(ranking, { key: ['#', 'server'], wrap: ['model'], flags: 'flags', groupStarts }),
  ];
  const flagged = model.servers.filter((s) => s.flags.length > 0);
  if (flagged.length > 0)
    parts.push(
      list(
        flagged.flatMap((s) => s.flags.map((f) => `${s.server}: ${f.text}`)),
        'flags note',
      ),
      flagsExplained(model),
    );
  return parts;
}

/** The open-loop experiment's figure and table, when the run has one. */
function openLoopHtml(model: ReportModel, fig: Figures): string[] {
  const openTable = openLoopTable(model);
  if (!openTable) return [];
  return [
    '<h2>Open loop: latency against offered rate</h2>',
    fig('fig6'),
    `<h3>${escapeHtml(openTable.title)}</h3>`,
    htmlTable(openTable, { key: ['server'], flags: 'points left out' }),
  ];
}

/** The paper's figures redrawn, the runtimes compared, and the paper's table beside today's. */
function paperHtml(model: ReportModel, fig: Figures): string[] {
  const paper = paperTable(model);
  const paperWhy =
    `${model.reference.why} Slopes on machines of different speed are compared through their ratio to the reference; ` +
    'ranks are by slope, 1 = fastest.';
  return [
    "<h2>The paper's figures, today</h2>",
    fig('fig1'),
    fig('fig2'),
    runtimesHtml(model),
    fig('fig-runtimes'),
    `<h2>${escapeHtml(paper.title)}</h2>`,
    `<p>${escapeHtml(paperWhy)}</p>`,
    htmlTable(paper, { key: ['paper row'] }),
    ...typescriptGap(model).map((l) => `<p>${escapeHtml(l)}</p>`),
  ];
}

/** What the paper did not measure: throughput, tail, memory under load, distributions, fairness, memory per connection. */
function beyondHtml(model: ReportModel, fig: Figures): string[] {
  const distributions = fig('fig7') + fig('fig8');
  return [
    '<h2>Throughput, tail latency and peak memory under load</h2>',
    fig('fig3'),
    fig('fig4'),
    fig('fig5'),
    '<h2>Beyond the paper: latency distributions and fairness</h2>',
    distributions ||
      '<p class="note">These results hold no per-client counts or latency distributions (they were measured before eventbench.load/3, ' +
        'or with --engine ab): a new run shows them here.</p>',
    memoryHtml(model, fig('fig-memory')),
  ];
}

/** The record: every point, the environment, what was skipped, the runner's warnings and the report's notes. */
function recordHtml(model: ReportModel): string[] {
  const points = htmlTable(pointsTable(model), { key: ['server'], flags: 'flags' });
  const parts = [
    '<details><summary>Every point (repeats averaged)</summary>',
    points,
    '</details>',
    '<h2>Environment</h2>',
    `<dl class="env">${environmentRows(model)
      .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
      .join('')}</dl>`,
  ];
  if (model.skipped.length > 0) parts.push('<h2>Skipped servers</h2>', list(model.skipped.map((s) => `${s.server}: ${s.reason}`)));
  parts.push(
    '<h2>Warnings</h2>',
    model.warnings.length > 0 ? list(model.warnings, 'warnings') : '<p class="note">The runner recorded no warning.</p>',
  );
  if (model.notes.length > 0) parts.push('<h2>Notes on this report</h2>', list(model.notes));
  return parts;
}

/** How the ranking's ranks and ties read (the README says the same). */
export const RANKING_CONVENTION =
  "Down the table, servers are cut into the fewest groups in which every pair's 95% intervals overlap (a " +
  'heavier rule between groups); a group shares one rank (=), one more than the servers above it (1=, 1=, 3, 4=), so ranks never ' +
  'decrease down the table.';

/** The memory experiment's section: its table, claim and figure from memory.json, or how to measure it. */
function memoryHtml(model: ReportModel, figure: string): string {
  const head = '<h2 id="memory">Memory per connection</h2>';
  const run = model.memory;
  if (!run) {
    return (
      `${head}\n<p class="note">This run folder holds no memory.json. Memory per connection comes from the idle-connection ` +
      'experiment only (a closed loop holds too few connections at once to price one): <code>eventbench run</code> measures it as a ' +
      'phase of its own unless given <code>--no-memory</code>, and <code>eventbench memory --out DIR</code> measures it into the run ' +
      'folder DIR; <code>eventbench report DIR</code> then shows it here.</p>'
    );
  }
  const table = htmlTable(memoryTable(run), { key: ['server'], wrap: ['bytes/connection', 'kernel bytes/connection', 'stopped'] });
  const claim = `<p><strong>${escapeHtml(memoryClaim(run).text)}</strong></p>`;
  return `${head}\n${claim}\n<p>${escapeHtml(memoryMethod(run))}</p>\n${table}\n${figure}`;
}

/** memory.html: the memory experiment on a page of its own (`eventbench memory`, `eventbench report DIR`). */
export function memoryPageHtml(run: MemoryRun, svg: string): string {
  const title = 'eventbench: memory per connection';
  const body = [
    '<h1>Memory per connection</h1>',
    `<p><strong>${escapeHtml(memoryClaim(run).text)}</strong></p>`,
    `<p>${escapeHtml(`${memoryMethod(run)} ${run.environment.kernel}, ${run.environment.cpuModel}.`)}</p>`,
    htmlTable(memoryTable(run), { key: ['server'], wrap: ['bytes/connection', 'kernel bytes/connection', 'stopped'] }),
    `<figure>${svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>Server memory against idle connections held; the slope of each line is ` +
      'its cost per connection.</figcaption></figure>',
  ];
  return page(title, body);
}

/** The page around the parts: self-contained, nothing fetched (the CSP forbids it). */
function page(title: string, parts: readonly string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${parts.join('\n')}
</main>
</body>
</html>
`;
}

/** The runtime × model table (src/report/runtimes.ts), or nothing for a Node-only run. */
function runtimesHtml(model: ReportModel): string {
  const c = runtimeComparison(model);
  if (!c) return '';
  const { columns, rows } = comparisonCells(c, model.ratioReference.server);
  const head = columns.map((h, i) => `<th class="${i ? 'num' : 'key'}" scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((x, i) => `<td class="${i ? 'num' : 'key'}">${escapeHtml(x)}</td>`).join('')}</tr>`).join('\n');
  return `<h2>Runtimes × models</h2>\n<p>${escapeHtml(`Each TypeScript model's slope under each runtime, ms per client (smaller is faster), and its ratio to ${model.ratioReference.server ?? 'the reference'}.`)}</p>\n<div class="scroll"><table data-table="runtimes">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>\n${list(c.fastest)}`;
}
