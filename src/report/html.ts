// The HTML report: one self-contained page (styles and SVG figures inline, nothing fetched), readable on a laptop
// and on a phone. Pure: model and rendered figures in, a string out.
import { openLoopTable } from './open-loop.js';
import type { ReportModel } from './model.js';
import type { Figure } from './figures.js';
import { visible, paperTable, pointsTable, rankingTable, type Table } from './tables.js';
import { environmentRows, glance } from './text.js';
import { comparisonCells, runtimeComparison } from './runtimes.js';
import { POINT_FLAGS } from '../sweep/verdict.js';

export interface RenderedFigure {
  figure: Figure;
  /** Drawn for a laptop's column (also the .svg file), and for a phone held upright. */
  svg: string;
  narrowSvg: string;
}

export function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const STYLE = `
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5b5b60; --rule: #dcdce0; --warn: #9a3412; --warnbg: #fff4e5; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #fafafa; }
main { max-width: 75rem; margin: 0 auto; padding: 1rem 1rem 3rem; background: #fff; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 0.25rem; line-height: 1.25; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.25rem; }
p.sub, figcaption, .note { color: var(--muted); }
ul.glance { padding-left: 1.2rem; }
ul.glance li { margin: 0.25rem 0; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: 0.9rem; min-width: 100%; }
th, td { padding: 0.3rem 0.55rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; white-space: nowrap; }
th { background: #f3f3f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.flag { color: var(--warn); }
figure { margin: 1.5rem 0; }
figure svg { display: block; width: 100%; height: auto; max-width: 100%; }
figure .narrow { display: none; }
figure .wide svg { max-width: 56rem; }
figure h3 { font-size: 1rem; margin: 0 0 0.4rem; }
td.flag { white-space: normal; min-width: 9rem; }
figcaption { font-size: 0.9rem; margin-top: 0.4rem; }
dl.env { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0; }
dl.env dt { font-weight: 600; }
dl.env dd { margin: 0; overflow-wrap: anywhere; }
ul.warnings li { color: var(--warn); }
.banner { background: var(--warnbg); color: var(--warn); padding: 0.5rem 0.75rem; border-radius: 4px; }
details summary { cursor: pointer; margin: 1rem 0 0.5rem; font-weight: 600; }
@media (max-width: 40rem) {
  figure .wide { display: none; }
  figure .narrow { display: block; }
  body { font-size: 15px; }
  main { padding: 0.75rem 0.6rem 2rem; }
  dl.env { grid-template-columns: 1fr; }
  dl.env dd { margin-bottom: 0.4rem; }
}
`;

function htmlTable(t: Table, flagColumn?: number): string {
  const head = t.columns.map((c, i) => `<th${t.numeric[i] ? ' class="num"' : ''} scope="col">${escapeHtml(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${visible(r).map((c, i) => {
    const cls = t.numeric[i] ? 'num' : i === flagColumn && c.text !== '—' ? 'flag' : '';
    return `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(c.text)}</td>`;
  }).join('')}</tr>`).join('\n');
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

const list = (items: string[], cls = ''): string => `<ul${cls ? ` class="${cls}"` : ''}>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;

export function renderHtml(model: ReportModel, rendered: readonly RenderedFigure[]): string {
  const fig = (prefix: string) => rendered.filter((f) => f.figure.name.startsWith(prefix)).map(figureHtml).join('\n');
  const title = `Are events fast? eventbench run ${model.run.id}`;
  const flagged = model.servers.filter((s) => s.flags.length > 0);
  const parts: string[] = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="sub">${escapeHtml(`${model.servers.length} servers, offered loads ${model.plan.loads.join(', ')}; ${model.environment.cpuModel}, Linux ${model.environment.kernel}. After Kerneis & Chroboczek, "Are events fast?" (2009).`)}</p>`,
  ];
  if (model.run.state !== 'finished') parts.push(`<p class="banner">${escapeHtml(`This run is ${model.run.state}: the report shows the points measured so far.`)}</p>`);
  parts.push('<h2>At a glance</h2>', list(glance(model), 'glance'));
  const ranking = rankingTable(model);
  parts.push(`<h2>${escapeHtml(ranking.title)}</h2>`, `<p>${escapeHtml(`${model.ratioReference.why} A rank shared (=) means the 95% intervals overlap: those servers are tied.`)}</p>`, htmlTable(ranking, ranking.columns.indexOf('flags')));
  const notes = flagged.flatMap((s) => s.flags.map((f) => `${s.server}: ${f.text}`));
  if (flagged.length > 0) parts.push(list(notes, 'flags note'), flagsExplained(model));
  const openTable = openLoopTable(model);
  if (openTable) parts.push('<h2>Open loop: latency against offered rate</h2>', fig('fig6'), `<h3>${escapeHtml(openTable.title)}</h3>`, htmlTable(openTable, openTable.columns.indexOf('points left out')));
  parts.push('<h2>The paper\'s figures, today</h2>', fig('fig1'), fig('fig2'));
  parts.push(runtimesHtml(model), fig('fig-runtimes'));
  const paper = paperTable(model);
  parts.push(`<h2>${escapeHtml(paper.title)}</h2>`, `<p>${escapeHtml(`${model.reference.why} Slopes on machines of different speed are compared through their ratio to the reference; ranks are by slope, 1 = fastest.`)}</p>`, htmlTable(paper));
  parts.push('<h2>Throughput, tail latency and memory</h2>', fig('fig3'), fig('fig4'));
  const memory = fig('fig5');
  parts.push(memory || '<p class="note">No server memory was sampled in this run, so bytes per connection cannot be shown.</p>');
  parts.push('<details><summary>Every point (repeats averaged)</summary>', htmlTable(pointsTable(model)), '</details>');
  parts.push('<h2>Environment</h2>', `<dl class="env">${environmentRows(model).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`);
  if (model.skipped.length > 0) parts.push('<h2>Skipped servers</h2>', list(model.skipped.map((s) => `${s.server}: ${s.reason}`)));
  parts.push('<h2>Warnings</h2>', model.warnings.length > 0 ? list(model.warnings, 'warnings') : '<p class="note">The runner recorded no warning.</p>');
  if (model.notes.length > 0) parts.push('<h2>Notes on this report</h2>', list(model.notes));
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
  const head = columns.map((h, i) => `<th${i ? ' class="num"' : ''} scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((x, i) => `<td${i ? ' class="num"' : ''}>${escapeHtml(x)}</td>`).join('')}</tr>`).join('\n');
  return `<h2>Runtimes × models</h2>\n<p>${escapeHtml(`Each TypeScript model's slope under each runtime, ms per client (smaller is faster), and its ratio to ${model.ratioReference.server ?? 'the reference'}.`)}</p>\n<div class="scroll"><table data-table="runtimes">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>\n${list(c.fastest)}`;
}
